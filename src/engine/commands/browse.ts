/**
 * Browsing a Postgres peer: its schemas, tables, columns, publications and replication slots, as the UI's mirror
 * form and slot pages need them. Read-only; each call opens one short connection with the peer's own settings.
 */
import type pg from 'pg'
import { PgMirrorError, q } from '../../errors.ts'
import type { PostgresConfig } from '../../model/peer.ts'
import { openClient } from '../../sources/postgres/connect.ts'
import type { EngineContext } from '../context.ts'
import { defaultSlotName } from './mirrors.ts'

async function withPeer<T>(
  ctx: EngineContext,
  peerName: string,
  fn: (client: pg.Client, cfg: PostgresConfig) => Promise<T>,
): Promise<T> {
  const peer = await ctx.peers.get(peerName)
  if (peer.type !== 'POSTGRES') {
    throw new PgMirrorError(
      'feature_not_supported',
      `peer ${q(peerName)} is a ${peer.type.toLowerCase()} peer; only postgres peers can be browsed`,
    )
  }
  const client = await openClient(peer.config, { applicationName: 'pgmirror_browse' })
  try {
    return await fn(client, peer.config)
  } finally {
    await client.end().catch(() => undefined)
  }
}

const USER_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'`

export async function listSchemas(ctx: EngineContext, peerName: string): Promise<string[]> {
  return withPeer(ctx, peerName, async (c) => {
    const r = await c.query<{ nspname: string }>(
      `SELECT n.nspname FROM pg_namespace n WHERE ${USER_SCHEMAS} AND has_schema_privilege(n.oid, 'USAGE')
       ORDER BY 1`,
    )
    return r.rows.map((x) => x.nspname)
  })
}

export interface TableInfo {
  readonly tableName: string
  /** A mirror can replicate its updates and deletes: a primary key, or REPLICA IDENTITY FULL. */
  readonly canMirror: boolean
  /** Human-readable total size, e.g. `16 kB`. */
  readonly tableSize: string
  readonly isReplicaIdentityFull: boolean
  readonly hasPrimaryKey: boolean
}

/**
 * Ordinary and partitioned tables of a schema (partitions themselves are hidden: the parent is what is mirrored).
 * With `cdcEnabled` false every table can be mirrored, as a copy without change streaming would need.
 */
export async function listTables(
  ctx: EngineContext,
  peerName: string,
  schema: string,
  cdcEnabled: boolean,
): Promise<TableInfo[]> {
  return withPeer(ctx, peerName, async (c) => {
    const r = await c.query<{ relname: string; size: string; replident: string; has_pk: string }>(
      `SELECT c.relname, pg_size_pretty(pg_total_relation_size(c.oid)) AS size, c.relreplident AS replident,
              EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)::text AS has_pk
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       ORDER BY c.relname`,
      [schema],
    )
    return r.rows.map((x) => {
      const hasPrimaryKey = x.has_pk === 'true'
      const full = x.replident === 'f'
      return {
        tableName: x.relname,
        canMirror: !cdcEnabled || (x.replident !== 'n' && (hasPrimaryKey || full)),
        tableSize: x.size,
        isReplicaIdentityFull: full,
        hasPrimaryKey,
      }
    })
  })
}

/** Every table of every user schema as `schema.table`. */
export async function listAllTables(ctx: EngineContext, peerName: string): Promise<string[]> {
  return withPeer(ctx, peerName, async (c) => {
    const r = await c.query<{ name: string }>(
      `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE ${USER_SCHEMAS} AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY n.nspname, c.relname`,
    )
    return r.rows.map((x) => x.name)
  })
}

export interface ColumnInfo {
  readonly name: string
  /** As Postgres spells it, e.g. `character varying(20)`. */
  readonly type: string
  readonly isKey: boolean
  /** PeerDB's portable type name (QValueKind), e.g. `int64`, `string`, `timestamptz`. */
  readonly qkind: string
  readonly isReplicaIdentity: boolean
}

/** PeerDB's QValueKind for a Postgres base type; anything without an exact match travels as text. */
const QKINDS: Readonly<Record<string, string>> = {
  int2: 'int16',
  int4: 'int32',
  int8: 'int64',
  oid: 'uint32',
  float4: 'float32',
  float8: 'float64',
  numeric: 'numeric',
  bool: 'boolean',
  text: 'string',
  varchar: 'string',
  bpchar: 'string',
  name: 'string',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
  date: 'date',
  time: 'time',
  timetz: 'timetz',
  interval: 'interval',
  bytea: 'bytes',
  json: 'json',
  jsonb: 'jsonb',
  uuid: 'uuid',
  inet: 'inet',
  cidr: 'cidr',
  macaddr: 'macaddr',
  point: 'point',
  hstore: 'hstore',
  geometry: 'geometry',
  geography: 'geography',
}

const qkindOf = (typname: string): string =>
  typname.startsWith('_') ? `array_${qkindOf(typname.slice(1))}` : (QKINDS[typname] ?? 'string')

export async function listColumns(
  ctx: EngineContext,
  peerName: string,
  schema: string,
  table: string,
): Promise<ColumnInfo[]> {
  return withPeer(ctx, peerName, async (c) => {
    const rel = await c.query<{ oid: string; replident: string }>(
      `SELECT c.oid::text AS oid, c.relreplident AS replident FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
      [schema, table],
    )
    const t = rel.rows[0]
    if (!t) throw new PgMirrorError('undefined_table', `relation ${q(`${schema}.${table}`)} does not exist`)
    const r = await c.query<{
      attname: string
      type: string
      typname: string
      is_key: string
      is_ri: string
    }>(
      `SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, ty.typname,
              EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary
                      AND a.attnum = ANY (i.indkey))::text AS is_key,
              EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisreplident
                      AND a.attnum = ANY (i.indkey))::text AS is_ri
       FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
       WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [t.oid],
    )
    return r.rows.map((x) => {
      const isKey = x.is_key === 'true'
      const isReplicaIdentity =
        t.replident === 'f' || (t.replident === 'd' && isKey) || (t.replident === 'i' && x.is_ri === 'true')
      return { name: x.attname, type: x.type, isKey, qkind: qkindOf(x.typname), isReplicaIdentity }
    })
  })
}

export async function listPublications(ctx: EngineContext, peerName: string): Promise<string[]> {
  return withPeer(ctx, peerName, async (c) => {
    const r = await c.query<{ pubname: string }>('SELECT pubname FROM pg_publication ORDER BY 1')
    return r.rows.map((x) => x.pubname)
  })
}

export interface SlotInfo {
  readonly slotName: string
  readonly plugin: string | null
  readonly active: boolean
  readonly restartLsn: string | null
  readonly confirmedFlushLsn: string | null
  readonly currentLsn: string
  readonly walStatus: string | null
  /** WAL the slot holds back, in MiB (current LSN − restart LSN). */
  readonly lagInMb: number
  readonly restartToConfirmedMb: number
  readonly confirmedToCurrentMb: number
  /** True when a mirror in this catalog uses the slot. */
  readonly managed: boolean
}

const MIB = 1024 * 1024
const mb = (bytes: string | null) => (bytes === null ? 0 : Math.round((Number(bytes) / MIB) * 100) / 100)

/** The replication slots of the peer's database; `managedOnly` keeps those that this catalog's mirrors use. */
export async function listSlots(
  ctx: EngineContext,
  peerName: string,
  managedOnly: boolean,
): Promise<SlotInfo[]> {
  const mirrors = (await ctx.mirrors.list()).filter((m) => m.sourcePeer === peerName)
  const managed = new Set(mirrors.map((m) => m.slotName ?? defaultSlotName(m.name)))
  const slots = await withPeer(ctx, peerName, async (c) => {
    const r = await c.query<{
      slot_name: string
      plugin: string | null
      active: string
      restart_lsn: string | null
      confirmed_flush_lsn: string | null
      current_lsn: string
      wal_status: string | null
      lag: string | null
      restart_to_confirmed: string | null
      confirmed_to_current: string | null
    }>(
      `WITH cur AS (SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END AS lsn)
       SELECT s.slot_name, s.plugin, s.active::text AS active, s.restart_lsn::text AS restart_lsn,
              s.confirmed_flush_lsn::text AS confirmed_flush_lsn, cur.lsn::text AS current_lsn, s.wal_status,
              pg_wal_lsn_diff(cur.lsn, s.restart_lsn)::text AS lag,
              pg_wal_lsn_diff(s.confirmed_flush_lsn, s.restart_lsn)::text AS restart_to_confirmed,
              pg_wal_lsn_diff(cur.lsn, s.confirmed_flush_lsn)::text AS confirmed_to_current
       FROM pg_replication_slots s, cur WHERE s.database = current_database() ORDER BY s.slot_name`,
    )
    return r.rows
  })
  return slots
    .map((s) => ({
      slotName: s.slot_name,
      plugin: s.plugin,
      active: s.active === 'true',
      restartLsn: s.restart_lsn,
      confirmedFlushLsn: s.confirmed_flush_lsn,
      currentLsn: s.current_lsn,
      walStatus: s.wal_status,
      lagInMb: mb(s.lag),
      restartToConfirmedMb: mb(s.restart_to_confirmed),
      confirmedToCurrentMb: mb(s.confirmed_to_current),
      managed: managed.has(s.slot_name),
    }))
    .filter((s) => !managedOnly || s.managed)
}
