import type pg from 'pg'
import { PgMirrorError } from '../../errors.ts'
import { parseLsn } from '../../model/lsn.ts'
import type { Lsn } from '../../model/lsn.ts'
import type { PostgresConfig } from '../../model/peer.ts'
import type { TableName } from '../../model/record.ts'
import type { SlotInfo } from '../source.ts'
import { openClient } from './connect.ts'
import { quoteIdent, quoteTable } from './quote.ts'

type Queryable = Pick<pg.ClientBase, 'query'>

/** Postgres accepts only these characters in slot names, and at most NAMEDATALEN - 1 bytes. */
const SLOT_NAME = /^[a-z0-9_]{1,63}$/

export function validateSlotName(name: string): void {
  if (!SLOT_NAME.test(name)) {
    throw new PgMirrorError('invalid_parameter_value', `replication slot name "${name}" is invalid`, {
      hint: 'slot names may contain only lower case letters, digits and underscores, at most 63 characters',
      field: 'replication_slot_name',
    })
  }
}

/** The names pgmirror uses when the mirror does not name its own slot and publication. */
export function defaultObjectNames(mirror: string): {
  readonly slotName: string
  readonly publicationName: string
} {
  const slotName = `pgmirror_slot_${mirror}`
  validateSlotName(slotName)
  return { slotName, publicationName: `pgmirror_pub_${mirror}` }
}

/**
 * Creates the publication, or adds the tables it lacks when it exists (idempotent). With
 * publish_via_partition_root, changes to partitions arrive under the partitioned table's name.
 */
export async function ensurePublication(
  client: Queryable,
  publicationName: string,
  tables: readonly TableName[],
): Promise<void> {
  const existing = await client.query<{ puballtables: string }>(
    'SELECT puballtables FROM pg_publication WHERE pubname = $1',
    [publicationName],
  )
  const pub = existing.rows[0]
  if (!pub) {
    const list = tables.length > 0 ? ` FOR TABLE ${tables.map(quoteTable).join(', ')}` : ''
    await client.query(
      `CREATE PUBLICATION ${quoteIdent(publicationName)}${list} WITH (publish_via_partition_root = true)`,
    )
    return
  }
  if (pub.puballtables === 't') return
  await addTablesToPublication(client, publicationName, tables)
}

/** Adds the tables not yet in the publication; a no-op for those already there. */
export async function addTablesToPublication(
  client: Queryable,
  publicationName: string,
  tables: readonly TableName[],
): Promise<void> {
  const present = await client.query<{ schemaname: string; tablename: string }>(
    'SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1',
    [publicationName],
  )
  const have = new Set(present.rows.map((r) => `${r.schemaname}\0${r.tablename}`))
  const missing = tables.filter((t) => !have.has(`${t.schema}\0${t.table}`))
  if (missing.length === 0) return
  await client.query(
    `ALTER PUBLICATION ${quoteIdent(publicationName)} ADD TABLE ${missing.map(quoteTable).join(', ')}`,
  )
}

export interface CreatedSlot {
  readonly slotName: string
  /** Changes committed at or after this LSN are streamed; everything before it is in the snapshot. */
  readonly consistentPoint: Lsn
  /** Name to pass to SET TRANSACTION SNAPSHOT; valid only until release(). Absent without exportSnapshot. */
  readonly snapshotName: string | undefined
  /** Closes the replication connection, which ends the exported snapshot. Idempotent. */
  release(): Promise<void>
}

/**
 * Creates a logical pgoutput slot on a replication connection. With `exportSnapshot` the connection stays open
 * and idle (the snapshot lives exactly as long) until release(); partition readers import the snapshot meanwhile.
 * Not idempotent: an existing slot fails with 42710, because its consistent point is gone and a fresh snapshot
 * would not line up with it.
 */
export async function createSlot(
  cfg: PostgresConfig,
  slotName: string,
  opts: { readonly exportSnapshot: boolean },
): Promise<CreatedSlot> {
  validateSlotName(slotName)
  // Slot creation waits for running transactions, and the exported snapshot keeps the session idle in a
  // transaction: neither may be cut short by timeouts the peer's user or database carries.
  const options = [
    cfg.options,
    '-c statement_timeout=0 -c lock_timeout=0 -c idle_in_transaction_session_timeout=0',
  ]
    .filter(Boolean)
    .join(' ')
  const client = await openClient({ ...cfg, options }, { replication: 'database' })
  try {
    const res = await client.query<{ consistent_point: string; snapshot_name: string | null }>(
      `CREATE_REPLICATION_SLOT ${quoteIdent(slotName)} LOGICAL pgoutput ${
        opts.exportSnapshot ? 'EXPORT_SNAPSHOT' : 'NOEXPORT_SNAPSHOT'
      }`,
    )
    const row = res.rows[0]
    if (!row) throw new PgMirrorError('internal_error', 'CREATE_REPLICATION_SLOT returned no row')
    let released = false
    const release = async (): Promise<void> => {
      if (released) return
      released = true
      await client.end()
    }
    if (!opts.exportSnapshot) await release()
    return {
      slotName,
      consistentPoint: parseLsn(row.consistent_point),
      snapshotName: row.snapshot_name ?? undefined,
      release,
    }
  } catch (e) {
    await client.end().catch(() => undefined)
    throw e
  }
}

const SLOT_SQL = `
SELECT active, active_pid, confirmed_flush_lsn::text, restart_lsn::text, wal_status,
       pg_wal_lsn_diff(
         CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END,
         restart_lsn)::text AS retained
FROM pg_replication_slots WHERE slot_name = $1`

export async function slotInfo(client: Queryable, slotName: string): Promise<SlotInfo> {
  const res = await client.query<{
    active: string
    active_pid: string | null
    confirmed_flush_lsn: string | null
    restart_lsn: string | null
    wal_status: string | null
    retained: string | null
  }>(SLOT_SQL, [slotName])
  const r = res.rows[0]
  if (!r) {
    const none = undefined
    return {
      exists: false,
      active: false,
      activePid: none,
      confirmedFlushLsn: none,
      restartLsn: none,
      retainedWalBytes: none,
      walStatus: none,
    }
  }
  return {
    exists: true,
    active: r.active === 't',
    activePid: r.active_pid === null ? undefined : Number(r.active_pid),
    confirmedFlushLsn: r.confirmed_flush_lsn === null ? undefined : parseLsn(r.confirmed_flush_lsn),
    restartLsn: r.restart_lsn === null ? undefined : parseLsn(r.restart_lsn),
    retainedWalBytes: r.retained === null ? undefined : BigInt(r.retained),
    walStatus: r.wal_status ?? undefined,
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Drops the slot and the publication; idempotent (missing objects are fine). A slot still held by a reader is
 * waited for until `waitMs`, then reported as 55000: the reader must be stopped first, never killed from here.
 */
export async function dropSlotAndPublication(
  client: Queryable,
  names: { readonly slotName: string; readonly publicationName: string },
  opts: { readonly waitMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.waitMs ?? 10_000)
  // An empty name means "not ours to drop" (a slot or publication the user supplied).
  for (; names.slotName !== '';) {
    const info = await slotInfo(client, names.slotName)
    if (!info.exists) break
    if (!info.active) {
      try {
        await client.query('SELECT pg_drop_replication_slot($1)', [names.slotName])
        break
      } catch (e) {
        const code = (e as { code?: string }).code
        // Lost a race: another drop (42704) or a reader attaching between our check and the drop (55006).
        if (code !== '42704' && code !== '55006') throw e
        continue
      }
    }
    if (Date.now() >= deadline) {
      throw new PgMirrorError(
        'object_not_in_prerequisite_state',
        `replication slot "${names.slotName}" is active for PID ${info.activePid ?? 'unknown'}`,
        { hint: 'stop the mirror reading from it before dropping it' },
      )
    }
    await sleep(100)
  }
  if (names.publicationName !== '')
    await client.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(names.publicationName)}`)
}
