/**
 * The DDL the sink runs, as pure builders for both server dialects (server-version.ts).
 *
 * Target tables are ReplacingMergeTree tables versioned by `_peerdb_version`: snapshot rows carry 0 and every
 * change carries its transaction's commit LSN, so any change supersedes the snapshot and a replay writes the very
 * same rows again. Reads take the current state with `SELECT … FROM t FINAL WHERE _peerdb_is_deleted = 0`.
 * Modern servers also get the delete flag as the engine's `is_deleted` argument (unless the mirror keeps deleted
 * rows with soft delete, which must stay visible under FINAL).
 */
import { quoteIdent, quoteList, quoteString } from './quote.ts'
import type { Dialect } from './server-version.ts'
import { VERSION_COLUMN, type ChColumn, type ChTarget } from './target.ts'

export const CHECKPOINTS_TABLE = '_pgmirror_checkpoints'
export const PARTITIONS_TABLE = '_pgmirror_snapshot_partitions'

const NULL_ARRAYS_COMMENT =
  'names of the array columns that are NULL in this row (ClickHouse arrays cannot be NULL; they read as [])'

export const columnDef = (c: ChColumn): string =>
  `${quoteIdent(c.name)} ${c.type.sql} COMMENT ${quoteString(c.pgType)}`

const syncedAtType = (d: Dialect): string =>
  d === 'modern' ? 'DateTime64(9) DEFAULT now64(9)' : 'DateTime DEFAULT now()'

/** The columns pgmirror adds to every target table: [name, definition]. */
export function extraColumnDefs(t: ChTarget): [string, string][] {
  const defs: [string, string][] = []
  if (t.nullArrays)
    defs.push([
      t.nullArrays,
      `${quoteIdent(t.nullArrays)} Array(String) COMMENT ${quoteString(NULL_ARRAYS_COMMENT)}`,
    ])
  if (t.syncedAt) defs.push([t.syncedAt, `${quoteIdent(t.syncedAt)} ${syncedAtType(t.dialect)}`])
  defs.push([t.isDeleted, `${quoteIdent(t.isDeleted)} UInt8 DEFAULT 0`])
  defs.push([VERSION_COLUMN, `${quoteIdent(VERSION_COLUMN)} UInt64 DEFAULT 0`])
  return defs
}

export function engineSql(t: ChTarget): string {
  const args = [quoteIdent(VERSION_COLUMN)]
  if (t.dialect === 'modern' && !t.softDelete) args.push(quoteIdent(t.isDeleted))
  return `ReplacingMergeTree(${args.join(', ')})`
}

export function createTableSql(t: ChTarget): string {
  const defs = [...t.columns.map(columnDef), ...extraColumnDefs(t).map(([, def]) => def)]
  return `CREATE TABLE IF NOT EXISTS ${t.sql} (\n  ${defs.join(',\n  ')}\n) ENGINE = ${engineSql(t)} ORDER BY (${quoteList(t.orderBy)})`
}

/**
 * Adding a column that appeared on the source. 18.16 has no ADD COLUMN … IF NOT EXISTS (the caller checks
 * system.columns first) and drops a COMMENT given in ADD COLUMN, hence the separate COMMENT COLUMN.
 */
export function addColumnSql(t: ChTarget, c: ChColumn): string[] {
  return [
    `ALTER TABLE ${t.sql} ADD COLUMN ${quoteIdent(c.name)} ${c.type.sql}`,
    `ALTER TABLE ${t.sql} COMMENT COLUMN ${quoteIdent(c.name)} ${quoteString(c.pgType)}`,
  ]
}

export const addExtraColumnSql = (t: ChTarget, def: string): string =>
  `ALTER TABLE ${t.sql} ADD COLUMN ${def}`

export function bookkeepingSql(database: string): string[] {
  const db = quoteIdent(database)
  return [
    `CREATE TABLE IF NOT EXISTS ${db}.${quoteIdent(CHECKPOINTS_TABLE)} (
       mirror String, batch_id UInt64, lsn UInt64, updated_at DateTime DEFAULT now()
     ) ENGINE = ReplacingMergeTree(batch_id) ORDER BY mirror`,
    `CREATE TABLE IF NOT EXISTS ${db}.${quoteIdent(PARTITIONS_TABLE)} (
       mirror String, destination String, partition_id String, rows UInt64, done_at DateTime DEFAULT now()
     ) ENGINE = ReplacingMergeTree ORDER BY (mirror, destination, partition_id)`,
  ]
}
