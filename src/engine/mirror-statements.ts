/**
 * The SQL face of the mirror commands: CREATE/DROP/PAUSE/RESUME/RESYNC/ALTER MIRROR and SHOW MIRROR(S).
 */
import { PgMirrorError } from '../errors.ts'
import type { Statement } from '../sql/ast.ts'
import { validateMirrorOptionChanges, validateMirrorOptions } from '../sql/mirror-options.ts'
import { optionRecord } from '../sql/option-values.ts'
import { toTableMappings } from '../sql/table-mappings.ts'
import type { FieldDescription, ResultWriter } from '../wire/session.ts'
import {
  addTablesToMirror,
  alterMirrorSet,
  createMirror,
  dropMirror,
  mirrorStatus,
  pauseMirror,
  resumeMirror,
  resyncMirror,
} from './commands/mirrors.ts'
import { pauseNotice } from './alerting/checks.ts'
import type { EngineContext } from './context.ts'

type MirrorStatement = Extract<
  Statement,
  {
    kind:
      | 'create_mirror'
      | 'drop_mirror'
      | 'pause_mirror'
      | 'resume_mirror'
      | 'resync_mirror'
      | 'alter_mirror_add_tables'
      | 'alter_mirror_set'
      | 'show_mirror'
      | 'show_mirrors'
  }
>

const TEXT = 25
const INT8 = 20
const JSONB = 3802
const TSTZ = 1184

const SHOW_MIRROR_FIELDS: readonly FieldDescription[] = [
  { name: 'name', typeOid: TEXT },
  { name: 'status', typeOid: TEXT },
  { name: 'source', typeOid: TEXT },
  { name: 'destination', typeOid: TEXT },
  { name: 'slot_name', typeOid: TEXT },
  { name: 'last_synced_lsn', typeOid: TEXT },
  { name: 'retained_wal_bytes', typeOid: INT8 },
  { name: 'lag_seconds', typeOid: 701 },
  { name: 'last_batch_id', typeOid: INT8 },
  { name: 'last_batch_at', typeOid: TSTZ },
  { name: 'rows_synced', typeOid: INT8 },
  { name: 'last_error', typeOid: TEXT },
  { name: 'last_error_at', typeOid: TSTZ },
  { name: 'tables', typeOid: JSONB },
  { name: 'warning', typeOid: TEXT },
]

const SHOW_MIRRORS_FIELDS: readonly FieldDescription[] = [
  { name: 'name', typeOid: TEXT },
  { name: 'status', typeOid: TEXT },
  { name: 'source', typeOid: TEXT },
  { name: 'destination', typeOid: TEXT },
  { name: 'rows_synced', typeOid: INT8 },
  { name: 'last_batch_at', typeOid: TSTZ },
  { name: 'last_error', typeOid: TEXT },
]

export function mirrorStatementFields(stmt: MirrorStatement): readonly FieldDescription[] | null {
  if (stmt.kind === 'show_mirror') return SHOW_MIRROR_FIELDS
  if (stmt.kind === 'show_mirrors') return SHOW_MIRRORS_FIELDS
  return null
}

/** What PAUSE MIRROR tells: the slot stays and keeps WAL, and how much it holds now (when the source answers). */
async function pauseNoticeFor(ctx: EngineContext, name: string): Promise<string> {
  const m = await ctx.mirrors.get(name)
  let retained: bigint | undefined
  if (m.slotName) {
    try {
      const src = ctx.connectors.source(await ctx.peers.get(m.sourcePeer))
      try {
        retained = (await src.slotInfo(m.slotName)).retainedWalBytes
      } finally {
        await src.close()
      }
    } catch {
      retained = undefined
    }
  }
  return pauseNotice(m.name, m.slotName, retained)
}

const notFoundOk = async (ifExists: boolean, name: string, out: ResultWriter, fn: () => Promise<unknown>) => {
  try {
    await fn()
    return true
  } catch (e) {
    if (ifExists && e instanceof PgMirrorError && e.kind === 'undefined_object') {
      out.notice({ message: `mirror "${name}" does not exist, skipping` })
      return false
    }
    throw e
  }
}

export async function mirrorStatementCommand(
  ctx: EngineContext,
  stmt: MirrorStatement,
  out: ResultWriter,
  opts: { sendColumns: boolean; signal: AbortSignal },
): Promise<void> {
  switch (stmt.kind) {
    case 'create_mirror': {
      const r = await createMirror(ctx, {
        name: stmt.name,
        source: stmt.source,
        destination: stmt.destination,
        mappings: toTableMappings(stmt.mappings),
        options: validateMirrorOptions(optionRecord(stmt.options), 'sql'),
        mode: stmt.ifNotExists ? 'if-not-exists' : 'create',
      })
      for (const n of r.notices) out.notice({ message: n })
      out.complete('CREATE MIRROR')
      return
    }
    case 'drop_mirror': {
      const r = await dropMirror(ctx, stmt.name, stmt.ifExists)
      for (const n of r.notices) out.notice({ message: n })
      out.complete('DROP MIRROR')
      return
    }
    case 'pause_mirror':
      if (await notFoundOk(stmt.ifExists, stmt.name, out, () => pauseMirror(ctx, stmt.name))) {
        out.notice({ message: await pauseNoticeFor(ctx, stmt.name) })
      }
      out.complete('PAUSE MIRROR')
      return
    case 'resume_mirror':
      await notFoundOk(stmt.ifExists, stmt.name, out, () => resumeMirror(ctx, stmt.name))
      out.complete('RESUME MIRROR')
      return
    case 'resync_mirror':
      await notFoundOk(stmt.ifExists, stmt.name, out, () => resyncMirror(ctx, stmt.name))
      out.complete('RESYNC MIRROR')
      return
    case 'alter_mirror_add_tables':
      await addTablesToMirror(ctx, stmt.name, toTableMappings(stmt.mappings))
      out.complete('ALTER MIRROR')
      return
    case 'alter_mirror_set':
      await alterMirrorSet(ctx, stmt.name, validateMirrorOptionChanges(optionRecord(stmt.options), 'sql'))
      out.complete('ALTER MIRROR')
      return
    case 'show_mirror': {
      const s = await mirrorStatus(ctx, stmt.name)
      if (opts.sendColumns) out.columns(SHOW_MIRROR_FIELDS)
      out.row([
        s.name,
        s.status,
        s.source,
        s.destination,
        s.slotName,
        s.lastSyncedLsn,
        s.retainedWalBytes,
        s.lagSeconds === null ? null : String(s.lagSeconds),
        s.lastBatchId,
        s.lastBatchAt,
        s.rowsSynced,
        s.lastError,
        s.lastErrorAt,
        JSON.stringify(s.tables),
        s.warning,
      ])
      out.complete('SHOW')
      return
    }
    case 'show_mirrors': {
      const all = await ctx.mirrors.list()
      if (opts.sendColumns) out.columns(SHOW_MIRRORS_FIELDS)
      for (const m of all) {
        out.row([
          m.name,
          m.status,
          m.sourcePeer,
          m.destinationPeer,
          m.rowsSynced.toString(),
          m.lastBatchAt,
          m.lastError,
        ])
      }
      out.complete(`SHOW ${all.length}`)
      return
    }
  }
}
