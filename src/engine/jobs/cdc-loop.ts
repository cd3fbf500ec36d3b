/**
 * Streaming for one mirror: read the slot, batch whole transactions, write each batch durably, then save the
 * checkpoint and only then confirm the LSN to the slot (ARCHITECTURE.md contract 1). It returns when the mirror
 * leaves STATUS_RUNNING (pause, drop, resync, tables added) after writing what it holds, and throws when the
 * source stream fails (the caller reconnects from the last checkpoint).
 */
import type { MirrorRow, TableCounts } from '../../catalog/mirror-store.ts'
import { toPgMirrorError } from '../../errors.ts'
import type { Lsn } from '../../model/lsn.ts'
import { tableKey, type ChangeRecord, type Row } from '../../model/record.ts'
import type { Sink, SinkTable } from '../../sinks/sink.ts'
import type { ChangeStream, Source, StreamEvent } from '../../sources/source.ts'
import { Batcher, type PendingBatch } from '../batcher.ts'
import type { EngineContext } from '../context.ts'
import { backoffMs, describeSinkTables, sleep } from './job-context.ts'

const STATUS_POLL_MS = 1000
const IDLE_CONFIRM_MS = 5000

/** The row itself when it carries only replicated columns (the common case), else a copy without the others. */
function project(row: Row, keep: ReadonlySet<string>): Row {
  let all = true
  for (const k in row) {
    if (!keep.has(k)) {
      all = false
      break
    }
  }
  if (all) return row
  const out: Record<string, Row[string]> = {}
  for (const k in row) if (keep.has(k)) out[k] = row[k]!
  return out
}

/** Replicated column names per table, computed once per SinkTable rather than once per change. */
const keepSets = new WeakMap<SinkTable, ReadonlySet<string>>()
function keepOf(t: SinkTable): ReadonlySet<string> {
  let keep = keepSets.get(t)
  if (keep === undefined) {
    keep = new Set(t.schema.columns.map((col) => col.name))
    keepSets.set(t, keep)
  }
  return keep
}

/**
 * Keeps only mapped tables and replicated columns. Pure: a change that needs no trimming is passed on as it is,
 * so the usual case (no excluded columns) copies nothing.
 */
export function filterChanges(
  changes: readonly ChangeRecord[],
  tables: ReadonlyMap<string, SinkTable>,
): ChangeRecord[] {
  const out: ChangeRecord[] = []
  // Changes of one table mostly follow each other and share their TableName object.
  let lastName: ChangeRecord['table'] | undefined
  let lastTable: SinkTable | undefined
  for (const c of changes) {
    if (c.table !== lastName) {
      lastName = c.table
      lastTable = tables.get(tableKey(c.table))
    }
    const t = lastTable
    if (!t) continue
    const keep = keepOf(t)
    switch (c.kind) {
      case 'insert': {
        const row = project(c.row, keep)
        out.push(row === c.row ? c : { ...c, row })
        break
      }
      case 'update': {
        const row = project(c.row, keep)
        const old = c.old && project(c.old, keep)
        const toast = c.unchangedToast.every((n) => keep.has(n))
          ? c.unchangedToast
          : c.unchangedToast.filter((n) => keep.has(n))
        out.push(
          row === c.row && old === c.old && toast === c.unchangedToast
            ? c
            : { ...c, row, old, unchangedToast: toast },
        )
        break
      }
      case 'delete': {
        const old = project(c.old, keep)
        out.push(old === c.old ? c : { ...c, old })
        break
      }
      case 'truncate':
        out.push(c)
        break
    }
  }
  return out
}

/** Inserts, updates and deletes per table, for the batch's progress counters. */
function countByTable(records: readonly ChangeRecord[]): Map<string, TableCounts> {
  const m = new Map<string, { inserts: number; updates: number; deletes: number }>()
  let lastName: ChangeRecord['table'] | undefined
  let c: { inserts: number; updates: number; deletes: number } | undefined
  for (const r of records) {
    if (r.table !== lastName || c === undefined) {
      lastName = r.table
      const k = tableKey(r.table)
      c = m.get(k)
      if (c === undefined) {
        c = { inserts: 0, updates: 0, deletes: 0 }
        m.set(k, c)
      }
    }
    if (r.kind === 'insert') c.inserts++
    else if (r.kind === 'update') c.updates++
    else if (r.kind === 'delete') c.deletes++
  }
  return m
}

export async function runCdc(
  ctx: EngineContext,
  initial: MirrorRow,
  source: Source,
  sink: Sink,
  signal: AbortSignal,
): Promise<void> {
  let m = initial
  const log = ctx.log.child({ mirror: m.name })
  const tables = await describeSinkTables(source, m.spec.mappings)
  const cp = await sink.lastCheckpoint()
  let batchId = cp?.batchId ?? 0n
  const startLsn: Lsn = cp?.lsn ?? m.consistentLsn ?? 0n
  const objects = { slotName: m.slotName!, publicationName: m.publicationName! }
  const stream: ChangeStream = await source.stream(objects, startLsn)
  log.info({ startLsn: startLsn.toString(16), batchId: batchId.toString() }, 'streaming started')
  const batcher = new Batcher(m.spec.options.max_batch_size, m.spec.options.sync_interval * 1000)
  const it = stream[Symbol.asyncIterator]()
  let next: Promise<IteratorResult<StreamEvent>> | undefined
  let lastStatusCheck = Date.now()
  let lastIdleSave = 0
  let idleLsn: Lsn | undefined

  // One batch is written while the next one fills, so reading the slot and writing the target overlap. Batches
  // are still written one at a time and in order, and each is confirmed only after its own write.
  let inflight: Promise<void> = Promise.resolve()
  let writing = 0

  const write = async (pending: PendingBatch, id: bigint): Promise<void> => {
    const batch = {
      mirror: m.name,
      batchId: id,
      records: pending.records,
      schemaChanges: [],
      endLsn: pending.endLsn,
    }
    const startedAt = new Date()
    for (let attempt = 0; ; attempt++) {
      try {
        await sink.writeBatch(batch, tables)
        break
      } catch (e) {
        const err = toPgMirrorError(e)
        log.warn({ err: err.message, batchId: id.toString(), attempt }, 'batch write failed; retrying')
        await ctx.mirrors
          .setError(m.id, `writing batch ${id} to the target failed: ${err.message}`)
          .catch(() => undefined)
        if (signal.aborted) throw err
        await sleep(backoffMs(attempt), signal)
      }
    }
    await ctx.mirrors.recordBatch(m.id, {
      batchId: id,
      startLsn: pending.startLsn,
      endLsn: pending.endLsn,
      rows: pending.records.length,
      startedAt,
      lastCommitTime: pending.lastCommitTime,
      counts: countByTable(pending.records),
    })
    stream.confirm(pending.endLsn)
  }

  /**
   * Hands the open batch to the writer. `wait`: return only when every batch so far is written (before a status
   * change, a schema change or the end). Otherwise return once the previous batch is written, while this one is.
   */
  const flush = async (wait = true): Promise<void> => {
    const pending: PendingBatch | undefined = batcher.take()
    if (pending) {
      await inflight
      batchId += 1n
      const id = batchId
      writing++
      const p = write(pending, id).finally(() => writing--)
      p.catch(() => undefined) // observed here; the error surfaces at the next await of `inflight`
      inflight = p
    }
    if (wait) await inflight
  }

  const applyRelation = async (relTable: { schema: string; table: string }, names: readonly string[]) => {
    const key = tableKey(relTable)
    const known = tables.get(key)
    if (!known) return
    const mapping = m.spec.mappings.find((x) => tableKey(x.source) === key)
    const excluded = new Set(mapping?.exclude ?? [])
    const have = new Set(known.schema.columns.map((c) => c.name))
    if (!names.some((n) => !have.has(n) && !excluded.has(n))) return
    await flush()
    const fresh = await describeSinkTables(source, mapping ? [mapping] : [])
    const t = fresh.get(key)
    if (!t) return
    await sink.applySchemaChange(t)
    tables.set(key, t)
    log.info({ table: key }, 'added columns replicated to the target')
  }

  try {
    while (true) {
      const now = Date.now()
      if (now - lastStatusCheck >= STATUS_POLL_MS) {
        lastStatusCheck = now
        const fresh = await ctx.mirrors.find(m.name)
        if (!fresh || fresh.status !== 'STATUS_RUNNING' || fresh.generation !== m.generation) {
          await flush()
          return
        }
        m = fresh
        batcher.configure(m.spec.options.max_batch_size, m.spec.options.sync_interval * 1000)
      }
      if (signal.aborted) {
        await flush()
        return
      }
      if (batcher.due(now)) await flush(false)
      const wait = Math.min(batcher.msUntilDue(Date.now()) ?? STATUS_POLL_MS, STATUS_POLL_MS)
      next ??= it.next()
      let timer: NodeJS.Timeout | undefined
      const r = await Promise.race([
        next,
        new Promise<'tick'>((resolve) => {
          timer = setTimeout(() => resolve('tick'), wait)
        }),
      ]).finally(() => clearTimeout(timer))
      if (r === 'tick') continue
      next = undefined
      if (r.done) throw new Error('the replication stream ended')
      const ev = r.value
      switch (ev.kind) {
        case 'transaction': {
          const changes = filterChanges(ev.changes, tables)
          if (changes.length === 0 && batcher.size === 0 && writing === 0) {
            idleLsn = ev.endLsn
            break
          }
          batcher.add(
            { changes, commitLsn: ev.commitLsn, endLsn: ev.endLsn, commitTime: ev.commitTime },
            Date.now(),
          )
          if (batcher.due(Date.now())) await flush(false)
          break
        }
        case 'keepalive':
          if (batcher.size === 0 && writing === 0) idleLsn = ev.serverWalEnd
          break
        case 'relation':
          await applyRelation(
            ev.relation.table,
            ev.relation.columns.map((c) => c.name),
          )
          break
      }
      // Contract 5: an idle slot still advances, so a quiet mirror never holds WAL back.
      if (
        idleLsn !== undefined &&
        batcher.size === 0 &&
        writing === 0 &&
        Date.now() - lastIdleSave >= IDLE_CONFIRM_MS
      ) {
        stream.confirm(idleLsn)
        await ctx.mirrors.advanceIdle(m.id, idleLsn)
        lastIdleSave = Date.now()
        idleLsn = undefined
      }
    }
  } finally {
    // Never leave a write running behind us: a retry would start a second writer for the same batches.
    await inflight.catch(() => undefined)
    await stream.stop()
  }
}
