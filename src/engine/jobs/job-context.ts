import type { MirrorRow } from '../../catalog/mirror-store.ts'
import { PgMirrorError, q } from '../../errors.ts'
import type { TableMapping } from '../../model/mirror.ts'
import { tableKey, type TableSchema } from '../../model/record.ts'
import type { Sink, SinkSettings, SinkTable } from '../../sinks/sink.ts'
import type { Source } from '../../sources/source.ts'
import type { EngineContext } from '../context.ts'

export const sinkSettings = (m: MirrorRow): SinkSettings => ({
  mirror: m.name,
  syncedAtColumn: m.spec.options.synced_at_col_name,
  softDeleteColumn: m.spec.options.soft_delete ? m.spec.options.soft_delete_col_name : undefined,
})

export async function openSource(ctx: EngineContext, m: MirrorRow): Promise<Source> {
  return ctx.connectors.source(await ctx.peers.get(m.sourcePeer))
}

export async function openSink(ctx: EngineContext, m: MirrorRow): Promise<Sink> {
  return ctx.connectors.sink(await ctx.peers.get(m.destinationPeer), sinkSettings(m))
}

/** The target's view of a mapped table: the source schema minus excluded columns. */
export function sinkTableFor(mapping: TableMapping, schema: TableSchema): SinkTable {
  const excluded = new Set(mapping.exclude)
  return {
    source: mapping.source,
    destination: mapping.destination,
    schema: { ...schema, columns: schema.columns.filter((c) => !excluded.has(c.name)) },
    ordering: mapping.columns,
  }
}

export async function describeSinkTables(
  source: Source,
  mappings: readonly TableMapping[],
): Promise<Map<string, SinkTable>> {
  const schemas = await source.describeTables(mappings.map((m) => m.source))
  const out = new Map<string, SinkTable>()
  for (const m of mappings) {
    const s = schemas.get(tableKey(m.source))
    if (!s) throw new PgMirrorError('undefined_table', `relation ${q(tableKey(m.source))} does not exist`)
    out.set(tableKey(m.source), sinkTableFor(m, s))
  }
  return out
}

/** Where a resync loads a table before it replaces the target (same schema, `_resync` suffix). */
export const shadowTable = (t: SinkTable): SinkTable => ({ ...t, destination: `${t.destination}_resync` })

/** The table the snapshot loads: the shadow during a resync on a sink that can swap, else the target itself. */
export const snapshotTarget = (m: MirrorRow, sink: Sink, t: SinkTable): SinkTable =>
  m.resyncPending && sink.swapTables ? shadowTable(t) : t

/** Resolves after ms, or at once when the signal aborts. */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })

/** 1 s, 2 s, 4 s … capped at 30 s. */
export const backoffMs = (attempt: number): number => Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5))
