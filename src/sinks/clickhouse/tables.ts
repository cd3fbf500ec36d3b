/**
 * Target tables on the server: creating them, accepting compatible existing ones (error 55000 naming the
 * mismatch), and adding columns that appeared on the source.
 */
import type { ClickHouseClient } from '@clickhouse/client'
import { PgMirrorError, q } from '../../errors.ts'
import { queryRows } from './client-io.ts'
import { addColumnSql, addExtraColumnSql, createTableSql, extraColumnDefs } from './ddl.ts'
import { mutate } from './mutations.ts'
import { quoteIdent, quoteString } from './quote.ts'
import { VERSION_COLUMN, type ChTarget } from './target.ts'

interface ColumnInfo {
  readonly type: string
  readonly sorting: boolean
}

const incompatible = (t: ChTarget, why: string): PgMirrorError =>
  new PgMirrorError(
    'object_not_in_prerequisite_state',
    `target table ${q(t.display)} is not compatible: ${why}`,
    { hint: 'drop or rename the target table, or map the source table to another destination' },
  )

async function existingColumns(client: ClickHouseClient, t: ChTarget): Promise<Map<string, ColumnInfo>> {
  const rows = await queryRows<{ name: string; type: string; sorting: number }>(
    client,
    `SELECT name, type, is_in_sorting_key AS sorting FROM system.columns
     WHERE database = ${quoteString(t.database)} AND table = ${quoteString(t.table)}`,
  )
  return new Map(rows.map((r) => [r.name, { type: r.type, sorting: Number(r.sorting) === 1 }]))
}

async function tableEngine(client: ClickHouseClient, t: ChTarget): Promise<string | undefined> {
  const rows = await queryRows<{ engine: string }>(
    client,
    `SELECT engine FROM system.tables WHERE database = ${quoteString(t.database)} AND name = ${quoteString(t.table)}`,
  )
  return rows[0]?.engine
}

export async function tableExists(client: ClickHouseClient, t: ChTarget): Promise<boolean> {
  return (await tableEngine(client, t)) !== undefined
}

/** Adds the pgmirror columns an existing table lacks (synced-at, null-array marker). */
async function addExtras(
  client: ClickHouseClient,
  t: ChTarget,
  have: Map<string, ColumnInfo>,
): Promise<void> {
  for (const [name, def] of extraColumnDefs(t)) {
    if (!have.has(name)) await alterAdd(client, t, [addExtraColumnSql(t, def)])
  }
}

/** Runs ADD COLUMN statements; a concurrent writer that added the same column first is not an error. */
async function alterAdd(client: ClickHouseClient, t: ChTarget, statements: readonly string[]): Promise<void> {
  try {
    for (const sql of statements) await client.command({ query: sql })
  } catch (e) {
    if (!/already exists/i.test((e as Error).message)) throw e
  }
}

async function checkExisting(client: ClickHouseClient, t: ChTarget, engine: string): Promise<void> {
  if (!engine.startsWith('ReplacingMergeTree'))
    throw incompatible(t, `its engine is ${engine}, expected ReplacingMergeTree`)
  const have = await existingColumns(client, t)
  for (const c of t.columns) {
    const info = have.get(c.name)
    if (info === undefined) throw incompatible(t, `column "${c.name}" is missing`)
    if (info.type !== c.type.sql)
      throw incompatible(t, `column "${c.name}" is ${info.type}, expected ${c.type.sql}`)
  }
  for (const [name, type] of [
    [VERSION_COLUMN, 'UInt64'],
    [t.isDeleted, 'UInt8'],
  ] as const) {
    const info = have.get(name)
    if (info?.type !== type) throw incompatible(t, `it has no ${type} column "${name}"`)
  }
  const sorting = [...have].filter(([, info]) => info.sorting).map(([name]) => name)
  if (sorting.length !== t.orderBy.length || !t.orderBy.every((c) => sorting.includes(c)))
    throw incompatible(
      t,
      `it is ordered by (${sorting.map(q).join(', ')}), expected (${t.orderBy.map(q).join(', ')})`,
    )
  await addExtras(client, t, have)
}

/** Creates the table, or checks that the existing one can take this mapping's rows. Idempotent. */
export async function ensureTable(client: ClickHouseClient, t: ChTarget): Promise<void> {
  const db = await queryRows<{ name: string }>(
    client,
    `SELECT name FROM system.databases WHERE name = ${quoteString(t.database)}`,
  )
  if (db.length === 0)
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteIdent(t.database)}` })
  const engine = await tableEngine(client, t)
  if (engine !== undefined) return checkExisting(client, t, engine)
  await client.command({ query: createTableSql(t) })
  // A concurrent creator may have won with another shape; check what is there now.
  await checkExisting(client, t, (await tableEngine(client, t)) ?? '')
}

/**
 * Adds the replicated columns the target lacks; columns already present are left alone. Rows already there have
 * no value for a new column, as on a Postgres target: a scalar reads NULL, and a new nullable array column is
 * added to their null-array marker (one mutation over the table, awaited), so it reads NULL rather than [].
 */
export async function addMissingColumns(client: ClickHouseClient, t: ChTarget): Promise<void> {
  const have = await existingColumns(client, t)
  if (have.size === 0)
    throw new PgMirrorError('undefined_table', `target table ${q(t.display)} does not exist`)
  await addExtras(client, t, have)
  const added = t.columns.filter((c) => !have.has(c.name))
  for (const c of added) await alterAdd(client, t, addColumnSql(t, c))
  const arrays = added.filter((c) => c.type.array && c.type.nullable).map((c) => quoteString(c.name))
  if (t.nullArrays && arrays.length > 0) {
    const marker = quoteIdent(t.nullArrays)
    await mutate(
      client,
      t.database,
      t.table,
      `UPDATE ${marker} = arrayConcat(${marker}, [${arrays.join(', ')}]) WHERE 1`,
    )
  }
}

/**
 * Replaces `to` by the freshly loaded `from` (a resync's shadow table) with one RENAME of both, then drops the old
 * table. RENAME works on every server version (EXCHANGE TABLES needs an Atomic database). A missing `from` means
 * an earlier run already swapped it, so a retry after a crash is a no-op.
 */
export async function swapTable(client: ClickHouseClient, from: ChTarget, to: ChTarget): Promise<void> {
  if (from.database !== to.database)
    throw new PgMirrorError(
      'internal_error',
      `cannot swap tables across databases (${from.display}, ${to.display})`,
    )
  if (!(await tableExists(client, from))) return
  if (!(await tableExists(client, to))) {
    await client.command({ query: `RENAME TABLE ${from.sql} TO ${to.sql}` })
    return
  }
  const old = `${quoteIdent(to.database)}.${quoteIdent(`${to.table}_pgmirror_old`)}`
  await client.command({ query: `DROP TABLE IF EXISTS ${old}` })
  await client.command({ query: `RENAME TABLE ${to.sql} TO ${old}, ${from.sql} TO ${to.sql}` })
  await client.command({ query: `DROP TABLE ${old}` })
}
