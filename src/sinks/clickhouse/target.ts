/**
 * A mapped table as it lives in ClickHouse: where it is, its columns with their types and codecs, and the columns
 * that order and identify its rows. Pure: a SinkTable in, the resolved target out.
 *
 * - Identity: the columns that name one source row, i.e. the primary key, or the mapping's ordering columns for a
 *   REPLICA IDENTITY FULL table without one. A table with neither is refused: ReplacingMergeTree needs a key.
 * - ORDER BY: the mapping's ordering columns (by their `ordering` number), then every key column not among them,
 *   so two source rows never collapse into one; without ordering columns, the primary key.
 * - Added columns: the version, the delete flag (PeerDB's `_peerdb_is_deleted`, or the soft-delete column when
 *   the mirror keeps deleted rows), the synced-at column, and `_pgmirror_null_arrays` when a nullable array column
 *   exists: ClickHouse has no Nullable(Array), so a NULL array is stored as [] and its column name listed there.
 */
import { PgMirrorError } from '../../errors.ts'
import type { SinkSettings, SinkTable } from '../sink.ts'
import { quoteIdent } from './quote.ts'
import type { Dialect } from './server-version.ts'
import { mapType, type ChType } from './type-map.ts'
import { columnCodec, type ColumnCodec } from './value-codec.ts'

export const VERSION_COLUMN = '_peerdb_version'
export const IS_DELETED_COLUMN = '_peerdb_is_deleted'
export const NULL_ARRAYS_COLUMN = '_pgmirror_null_arrays'

export interface ChColumn {
  readonly name: string
  /** The source's `format_type` name, kept as the column comment. */
  readonly pgType: string
  readonly type: ChType
  readonly codec: ColumnCodec
}

export interface ChTarget {
  readonly database: string
  readonly table: string
  /** `` `db`.`table` `` */
  readonly sql: string
  /** `db.table`, for messages and as the destination id in the bookkeeping tables. */
  readonly display: string
  readonly dialect: Dialect
  /** The replicated columns, in source order. */
  readonly columns: readonly ChColumn[]
  readonly identity: readonly string[]
  readonly orderBy: readonly string[]
  /** ORDER BY holds columns outside the identity, so an update can move a row to another sort key. */
  readonly movable: boolean
  readonly isDeleted: string
  /** Deleted rows stay visible (soft delete): the delete flag is the user's column, not the engine's. */
  readonly softDelete: boolean
  readonly syncedAt: string | undefined
  readonly nullArrays: string | undefined
}

/** `db.table`, or `table` in the peer's database. A database name containing a dot is not supported. */
export function parseDestination(destination: string, defaultDatabase: string): [string, string] {
  const dot = destination.indexOf('.')
  return dot < 0 ? [defaultDatabase, destination] : [destination.slice(0, dot), destination.slice(dot + 1)]
}

export function resolveTarget(
  table: SinkTable,
  settings: SinkSettings,
  dialect: Dialect,
  defaultDatabase: string,
): ChTarget {
  const [database, name] = parseDestination(table.destination, defaultDatabase)
  const display = `${database}.${name}`
  const source = table.schema.columns
  const names = source.map((c) => c.name)
  const ordering = [...table.ordering].sort((a, b) => a.ordering - b.ordering).map((o) => o.name)
  for (const o of ordering) {
    if (!names.includes(o))
      throw new PgMirrorError(
        'invalid_parameter_value',
        `ordering column "${o}" of table "${display}" is not a replicated column`,
      )
  }
  const pk = table.schema.primaryKey
  const identity = pk.length > 0 ? pk : ordering
  if (identity.length === 0)
    throw new PgMirrorError(
      'feature_not_supported',
      `table "${table.source.schema}.${table.source.table}" has no primary key, which a clickhouse target needs`,
      {
        hint: 'add a primary key, or give the table mapping ordering columns that identify a row: {from: …, to: …, columns: [{name: c, ordering: 1}]}',
      },
    )
  const orderBy = [...ordering, ...pk.filter((k) => !ordering.includes(k))]
  const inOrder = new Set(orderBy)
  const columns = source.map((c): ChColumn => {
    const type = mapType(c.typeName, dialect, c.nullable && !inOrder.has(c.name))
    return { name: c.name, pgType: c.typeName, type, codec: columnCodec(type) }
  })
  const softDelete = settings.softDeleteColumn !== undefined && settings.softDeleteColumn !== ''
  const isDeleted = softDelete ? (settings.softDeleteColumn as string) : IS_DELETED_COLUMN
  const syncedAt = settings.syncedAtColumn === '' ? undefined : settings.syncedAtColumn
  const nullArrays = columns.some((c) => c.type.array && c.type.nullable) ? NULL_ARRAYS_COLUMN : undefined
  const extras = [VERSION_COLUMN, isDeleted, syncedAt, nullArrays].filter((x): x is string => !!x)
  for (const extra of extras) {
    if (names.includes(extra))
      throw new PgMirrorError(
        'invalid_parameter_value',
        `column "${extra}" of table "${display}" is replicated from the source and cannot also be a column pgmirror adds`,
        { hint: 'exclude the column, or choose another synced_at_col_name / soft_delete_col_name' },
      )
  }
  if (new Set(extras).size !== extras.length)
    throw new PgMirrorError(
      'invalid_parameter_value',
      `synced-at and soft-delete columns of table "${display}" clash with each other or with "${VERSION_COLUMN}"`,
    )
  return {
    database,
    table: name,
    sql: `${quoteIdent(database)}.${quoteIdent(name)}`,
    display,
    dialect,
    columns,
    identity,
    orderBy,
    movable: orderBy.some((c) => !identity.includes(c)),
    isDeleted,
    softDelete,
    syncedAt,
    nullArrays,
  }
}

/** The columns a snapshot partition writes: the replicated ones plus the null-array marker. */
export const snapshotColumns = (t: ChTarget): string[] => [
  ...t.columns.map((c) => c.name),
  ...(t.nullArrays ? [t.nullArrays] : []),
]

/** The columns a batch writes: the snapshot's plus version and delete flag (synced-at takes its default). */
export const batchColumns = (t: ChTarget): string[] => [...snapshotColumns(t), VERSION_COLUMN, t.isDeleted]
