/**
 * Target tables: the resolved shape of a mapping on the target, creating it, accepting a compatible existing one,
 * and adding columns that appeared on the source.
 */
import { PgMirrorError, q } from '../../errors.ts'
import type { TableName, TableSchema } from '../../model/record.ts'
import type { SinkSettings, SinkTable } from '../sink.ts'
import { DDL_LOCK_SQL, type Queryable } from './bookkeeping.ts'
import { parseDestination, quoteIdent, quoteQualified, typeSql } from './quote.ts'

export interface Target {
  readonly name: TableName
  /** `"schema"."table"`: the SQL name, and the destination id stored in the bookkeeping tables. */
  readonly sql: string
  /** `schema.table`, for messages. */
  readonly display: string
  readonly schema: TableSchema
  readonly columns: readonly string[]
  readonly primaryKey: readonly string[]
  readonly syncedAt: string | undefined
  readonly softDelete: string | undefined
}

export function resolveTarget(table: SinkTable, settings: SinkSettings): Target {
  const name = parseDestination(table.destination)
  const columns = table.schema.columns.map((c) => c.name)
  const syncedAt = settings.syncedAtColumn === '' ? undefined : settings.syncedAtColumn
  const softDelete = settings.softDeleteColumn === '' ? undefined : settings.softDeleteColumn
  for (const extra of [syncedAt, softDelete]) {
    if (extra !== undefined && columns.includes(extra))
      throw new PgMirrorError(
        'invalid_parameter_value',
        `column "${extra}" of table "${name.schema}.${name.table}" is replicated from the source and cannot also be the synced-at or soft-delete column`,
        { hint: 'choose another synced_at_col_name / soft_delete_col_name' },
      )
  }
  if (syncedAt !== undefined && syncedAt === softDelete)
    throw new PgMirrorError(
      'invalid_parameter_value',
      `synced-at and soft-delete columns are both "${syncedAt}"`,
    )
  return {
    name,
    sql: quoteQualified(name),
    display: `${name.schema}.${name.table}`,
    schema: table.schema,
    columns,
    primaryKey: table.schema.primaryKey,
    syncedAt,
    softDelete,
  }
}

const incompatible = (t: Target, why: string): PgMirrorError =>
  new PgMirrorError(
    'object_not_in_prerequisite_state',
    `target table ${q(t.display)} is not compatible: ${why}`,
    {
      hint: 'drop or rename the target table, or map the source table to another destination',
    },
  )

/** Creates the source's enum types that the target lacks (same name, same labels in the same order). */
async function createEnums(client: Queryable, t: Target): Promise<void> {
  for (const c of t.schema.columns) {
    if (!c.enumLabels) continue
    const exists = await client.query('SELECT to_regtype($1) IS NOT NULL AS ok', [c.typeName])
    if (exists.rows[0]?.ok === true || exists.rows[0]?.ok === 't') continue
    const labels = c.enumLabels.map((l) => `'${l.replace(/'/g, "''")}'`).join(', ')
    // typeName is format_type's output: already a quoted, possibly schema-qualified SQL name.
    await client.query(`CREATE TYPE ${c.typeName} AS ENUM (${labels})`)
  }
}

/** Refuses (0A000) a source type the target does not have, before any DDL uses its name. */
async function checkTypes(client: Queryable, t: Target): Promise<void> {
  await createEnums(client, t)
  const res = await client.query<{ i: string }>(
    'SELECT t.i FROM unnest($1::text[]) WITH ORDINALITY AS t(name, i) WHERE to_regtype(t.name) IS NULL ORDER BY t.i',
    [t.schema.columns.map((c) => c.typeName)],
  )
  const first = res.rows[0]
  if (first === undefined) return
  const col = t.schema.columns[Number(first.i) - 1]
  throw new PgMirrorError(
    'feature_not_supported',
    `type "${col?.typeName}" of column "${col?.name}" does not exist on the target`,
    {
      hint: 'pgmirror creates enum types itself, but not domains or composite types: create it on the target first',
    },
  )
}

const columnDef = (c: TableSchema['columns'][number]): string =>
  `${quoteIdent(c.name)} ${typeSql(c.typeName)}${c.nullable ? '' : ' NOT NULL'}`

/** The synced-at and soft-delete columns this target has on top of the replicated ones: [name, definition]. */
const extraColumns = (t: Target): [string, string][] =>
  [
    ...(t.syncedAt !== undefined
      ? [[t.syncedAt, `${quoteIdent(t.syncedAt)} timestamptz DEFAULT now()`]]
      : []),
    ...(t.softDelete !== undefined
      ? [[t.softDelete, `${quoteIdent(t.softDelete)} boolean DEFAULT false`]]
      : []),
  ] as [string, string][]

async function createTable(client: Queryable, t: Target): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(t.name.schema)}`)
  const defs = [...t.schema.columns.map(columnDef), ...extraColumns(t).map(([, def]) => def)]
  if (t.primaryKey.length > 0) defs.push(`PRIMARY KEY (${t.primaryKey.map(quoteIdent).join(', ')})`)
  await client.query(`CREATE TABLE ${t.sql} (\n  ${defs.join(',\n  ')}\n)`)
}

/** Column name → format_type of an existing relation. */
async function existingColumns(client: Queryable, oid: string): Promise<Map<string, string>> {
  const res = await client.query<{ name: string; type: string }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
     WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped`,
    [oid],
  )
  return new Map(res.rows.map((r) => [r.name, r.type]))
}

async function checkExisting(client: Queryable, t: Target, oid: string): Promise<void> {
  const have = await existingColumns(client, oid)
  for (const c of t.schema.columns) {
    const type = have.get(c.name)
    if (type === undefined) throw incompatible(t, `column "${c.name}" is missing`)
    if (type !== c.typeName) throw incompatible(t, `column "${c.name}" is ${type}, source has ${c.typeName}`)
  }
  const syncedType = t.syncedAt === undefined ? undefined : have.get(t.syncedAt)
  if (syncedType !== undefined && !syncedType.startsWith('timestamp'))
    throw incompatible(
      t,
      `synced-at column "${t.syncedAt}" is ${syncedType}, expected timestamp with time zone`,
    )
  const softType = t.softDelete === undefined ? undefined : have.get(t.softDelete)
  if (softType !== undefined && softType !== 'boolean')
    throw incompatible(t, `soft-delete column "${t.softDelete}" is ${softType}, expected boolean`)
  if (t.primaryKey.length > 0) {
    // ON CONFLICT (key) needs a non-partial, non-deferrable unique index on exactly the key columns.
    const idx = await client.query<{ cols: string }>(
      `SELECT json_agg(a.attname::text)::text AS cols
       FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) AS k(attnum)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
       WHERE i.indrelid = $1::oid AND i.indisunique AND i.indimmediate AND i.indpred IS NULL AND i.indexprs IS NULL
       GROUP BY i.indexrelid`,
      [oid],
    )
    const want = [...t.primaryKey].sort().join('\0')
    if (!idx.rows.some((r) => (JSON.parse(r.cols) as string[]).sort().join('\0') === want))
      throw incompatible(t, `it has no primary key or unique index on (${t.primaryKey.map(q).join(', ')})`)
  }
  for (const [name, def] of extraColumns(t)) {
    if (!have.has(name)) await client.query(`ALTER TABLE ${t.sql} ADD COLUMN ${def}`)
  }
}

/** Creates the table or checks the existing one, under the DDL lock, in one transaction. */
export async function ensureTable(client: Queryable, t: Target): Promise<void> {
  await inTransaction(client, async () => {
    await client.query(DDL_LOCK_SQL)
    await checkTypes(client, t)
    const res = await client.query<{ oid: string; relkind: string }>(
      'SELECT c.oid, c.relkind FROM pg_class c WHERE c.oid = to_regclass($1)',
      [t.sql],
    )
    const rel = res.rows[0]
    if (rel === undefined) return createTable(client, t)
    if (rel.relkind !== 'r' && rel.relkind !== 'p') throw incompatible(t, 'it is not a table')
    return checkExisting(client, t, rel.oid)
  })
}

/**
 * Adds the schema's columns the target lacks, nullable (existing rows have no value for them). Columns already
 * present are left alone: ALTER TABLE would take an exclusive lock even for a no-op.
 */
export async function addMissingColumns(client: Queryable, t: Target): Promise<void> {
  await inTransaction(client, async () => {
    await client.query(DDL_LOCK_SQL)
    await checkTypes(client, t)
    const res = await client.query<{ oid: string | null }>('SELECT to_regclass($1)::oid AS oid', [t.sql])
    const oid = res.rows[0]?.oid
    if (oid === null || oid === undefined)
      throw new PgMirrorError('undefined_table', `target table ${q(t.display)} does not exist`)
    const have = await existingColumns(client, oid)
    for (const c of t.schema.columns) {
      if (!have.has(c.name))
        await client.query(`ALTER TABLE ${t.sql} ADD COLUMN ${quoteIdent(c.name)} ${typeSql(c.typeName)}`)
    }
  })
}

export async function tableExists(client: Queryable, t: Target): Promise<boolean> {
  const res = await client.query<{ has: string }>('SELECT to_regclass($1) IS NOT NULL AS has', [t.sql])
  return res.rows[0]?.has === 't'
}

export async function inTransaction<T>(client: Queryable, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN')
  try {
    const out = await fn()
    await client.query('COMMIT')
    return out
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw e
  }
}
