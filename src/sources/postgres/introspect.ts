import type pg from 'pg'
import { PgMirrorError } from '../../errors.ts'
import { tableKey } from '../../model/record.ts'
import type { ColumnSchema, TableName, TableSchema } from '../../model/record.ts'
import { quoteTable } from './quote.ts'

type Queryable = Pick<pg.ClientBase, 'query'>
type Text = string | null

const RELATIONS_SQL = `
SELECT w.ord::int AS ord, c.oid::int8 AS oid, c.relkind, c.relreplident
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS w(s, t, ord)
LEFT JOIN pg_namespace n ON n.nspname = w.s
LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.t
ORDER BY w.ord`

// Generated columns are left out: pgoutput does not publish them (PG < 18), and the snapshot must match the stream.
const COLUMNS_SQL = `
SELECT a.attrelid::int8 AS relid, a.attname, a.atttypid::int8 AS typid, a.atttypmod,
       format_type(a.atttypid, a.atttypmod) AS typname, a.attnotnull,
       (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = a.atttypid) AS labels
FROM pg_attribute a
WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
ORDER BY a.attrelid, a.attnum`

const KEYS_SQL = `
SELECT i.indrelid::int8 AS relid, i.indisprimary, i.indisreplident, a.attname
FROM pg_index i
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = ANY($1::oid[]) AND (i.indisprimary OR i.indisreplident)
ORDER BY i.indrelid, i.indexrelid, k.ord`

/** Parses a one-dimensional text[] literal (`{a,"b c","d\\"e"}`) as the raw-text client returns it. */
export function parseTextArray(lit: string): string[] {
  const out: string[] = []
  let i = 1
  while (i < lit.length - 1) {
    let v = ''
    if (lit[i] === '"') {
      i++
      while (lit[i] !== '"') {
        if (lit[i] === '\\') i++
        v += lit[i++]
      }
      i++
    } else {
      while (i < lit.length - 1 && lit[i] !== ',') v += lit[i++]
    }
    out.push(v)
    i++
  }
  return out
}

const isReplicaIdentity = (c: string): c is TableSchema['replicaIdentity'] =>
  c === 'd' || c === 'f' || c === 'i' || c === 'n'

/**
 * Reads the current schema of each table: columns in attnum order with `format_type` names, nullability, the key
 * (replica identity index when REPLICA IDENTITY USING INDEX, else the primary key, in key order) and the replica
 * identity. Keyed by `tableKey`. Missing tables fail with 42P01 and views or foreign tables with 0A000.
 */
export async function describeTables(
  client: Queryable,
  tables: readonly TableName[],
): Promise<Map<string, TableSchema>> {
  const out = new Map<string, TableSchema>()
  if (tables.length === 0) return out
  const rels = await client.query<{ ord: string; oid: Text; relkind: Text; relreplident: Text }>(
    RELATIONS_SQL,
    [tables.map((t) => t.schema), tables.map((t) => t.table)],
  )
  const byOid = new Map<string, { name: TableName; ident: TableSchema['replicaIdentity'] }>()
  for (const r of rels.rows) {
    const name = tables[Number(r.ord) - 1] as TableName
    if (r.oid === null) {
      throw new PgMirrorError('undefined_table', `relation "${tableKey(name)}" does not exist`)
    }
    if (r.relkind !== 'r' && r.relkind !== 'p') {
      throw new PgMirrorError('feature_not_supported', `"${tableKey(name)}" is not a table`, {
        hint: 'only ordinary and partitioned tables can be mirrored',
      })
    }
    const ident = r.relreplident ?? ''
    if (!isReplicaIdentity(ident))
      throw new PgMirrorError('internal_error', `unknown replica identity "${ident}"`)
    byOid.set(r.oid, { name, ident })
  }
  const oids = [...byOid.keys()]
  const cols = await client.query<{
    relid: string
    attname: string
    typid: string
    atttypmod: string
    typname: string
    attnotnull: string
    labels: string | null
  }>(COLUMNS_SQL, [oids])
  const keys = await client.query<{
    relid: string
    indisprimary: string
    indisreplident: string
    attname: string
  }>(KEYS_SQL, [oids])
  const columns = new Map<string, ColumnSchema[]>()
  for (const c of cols.rows) {
    const list = columns.get(c.relid) ?? []
    list.push({
      name: c.attname,
      typeOid: Number(c.typid),
      typeName: c.typname,
      typeMod: Number(c.atttypmod),
      nullable: c.attnotnull !== 't',
      ...(c.labels !== null ? { enumLabels: parseTextArray(c.labels) } : {}),
    })
    columns.set(c.relid, list)
  }
  for (const [oid, { name, ident }] of byOid) {
    const useReplIdentIndex = ident === 'i'
    const primaryKey = keys.rows
      .filter(
        (k) => k.relid === oid && (useReplIdentIndex ? k.indisreplident === 't' : k.indisprimary === 't'),
      )
      .map((k) => k.attname)
    out.set(tableKey(name), { name, columns: columns.get(oid) ?? [], primaryKey, replicaIdentity: ident })
  }
  return out
}

export interface SourceInfo {
  readonly walLevel: string
  readonly isSuperuser: boolean
  /** REPLICATION attribute, or membership in a cloud provider's replication role (rds_replication). */
  readonly hasReplication: boolean
  readonly serverVersionNum: number
}

const SOURCE_SQL = `
SELECT current_setting('wal_level') AS wal_level, r.rolsuper,
       r.rolreplication OR EXISTS (
         SELECT 1 FROM pg_roles g WHERE g.rolname = 'rds_replication' AND pg_has_role(r.oid, g.oid, 'member')
       ) AS replication,
       current_setting('server_version_num') AS version
FROM pg_roles r WHERE r.rolname = current_user`

export async function checkSource(client: Queryable): Promise<SourceInfo> {
  const res = await client.query<{
    wal_level: string
    rolsuper: string
    replication: string
    version: string
  }>(SOURCE_SQL)
  const row = res.rows[0]
  if (!row) throw new PgMirrorError('internal_error', 'current user not found in pg_roles')
  return {
    walLevel: row.wal_level,
    isSuperuser: row.rolsuper === 't',
    hasReplication: row.replication === 't',
    serverVersionNum: Number(row.version),
  }
}

/** Minimum server: 13 is the first with publish_via_partition_root. */
export const MIN_SERVER_VERSION = 130000

/** Throws the first reason this server cannot be a CDC source; pure so each rule is unit-tested. */
export function validateSourceInfo(info: SourceInfo): void {
  if (info.serverVersionNum < MIN_SERVER_VERSION) {
    throw new PgMirrorError(
      'feature_not_supported',
      `postgres server version ${info.serverVersionNum} is not supported as a source`,
      { hint: 'pgmirror needs PostgreSQL 13 or later' },
    )
  }
  if (info.walLevel !== 'logical') {
    throw new PgMirrorError(
      'object_not_in_prerequisite_state',
      `logical decoding requires wal_level "logical"`,
      {
        detail: `wal_level is "${info.walLevel}"`,
        hint: 'run ALTER SYSTEM SET wal_level = logical and restart the server',
      },
    )
  }
  if (!info.isSuperuser && !info.hasReplication) {
    throw new PgMirrorError(
      'insufficient_privilege',
      'must be superuser or replication role to use replication slots',
      {
        hint: 'run ALTER ROLE <user> WITH REPLICATION on the source',
      },
    )
  }
}

/**
 * Fails with 55000 when a table cannot be replicated: updates and deletes need a key to be applied on the target,
 * so a table needs a primary key (or identity index) or REPLICA IDENTITY FULL, and never REPLICA IDENTITY NOTHING.
 */
export function ensurePullable(schemas: Iterable<TableSchema>): void {
  for (const s of schemas) {
    const name = tableKey(s.name)
    const alter = `ALTER TABLE ${quoteTable(s.name)} REPLICA IDENTITY FULL`
    if (s.replicaIdentity === 'n') {
      throw new PgMirrorError(
        'object_not_in_prerequisite_state',
        `table "${name}" has REPLICA IDENTITY NOTHING`,
        {
          hint: `updates and deletes cannot be replicated; run ${alter} (or DEFAULT with a primary key)`,
        },
      )
    }
    if (s.primaryKey.length === 0 && s.replicaIdentity !== 'f') {
      throw new PgMirrorError(
        'object_not_in_prerequisite_state',
        `table "${name}" has no primary key and its replica identity is not FULL`,
        { hint: `add a primary key, or run ${alter}` },
      )
    }
  }
}
