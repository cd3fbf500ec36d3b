/**
 * Mirrors: what a CDC mirror copies (its table mappings) and how (its options).
 * Option keys are snake_case, the same names `CREATE MIRROR … WITH (…)` takes, so the catalog's JSON reads like the SQL.
 */

/** A source table. An unqualified name in SQL means schema `public`. */
export interface SourceTable {
  readonly schema: string
  readonly table: string
}

/** One column of a ClickHouse ORDER BY key, in `ordering` order (1 = first). */
export interface ColumnOrdering {
  readonly name: string
  readonly ordering: number
}

export interface TableMapping {
  readonly source: SourceTable
  /**
   * `schema.table` (or just `table`) on a database target, the topic name on Kafka. Name parts are already
   * normalised (unquoted parts lower-cased), joined with `.`.
   */
  readonly destination: string
  /** Source columns that are not replicated. */
  readonly exclude: readonly string[]
  /** Column used to split the initial snapshot into partitions (PeerDB's `key:`); chosen automatically when absent. */
  readonly partitionKey?: string
  readonly columns: readonly ColumnOrdering[]
}

export interface MirrorOptions {
  readonly do_initial_copy: boolean
  readonly initial_snapshot_only: boolean
  /** Absent: pgmirror creates and owns one named after the mirror. */
  readonly publication_name?: string
  /** Absent: pgmirror creates and owns one named after the mirror. */
  readonly replication_slot_name?: string
  readonly max_batch_size: number
  /** Seconds a batch may wait for more changes before it is written. */
  readonly sync_interval: number
  readonly snapshot_num_rows_per_partition: number
  readonly snapshot_max_parallel_workers: number
  readonly snapshot_num_tables_in_parallel: number
  /** Keep deleted rows on the target, flagged in `soft_delete_col_name`. */
  readonly soft_delete: boolean
  readonly soft_delete_col_name: string
  /** Empty string: no synced-at column. */
  readonly synced_at_col_name: string
  readonly resync: boolean
}

/** The options `ALTER MIRROR … SET (…)` may change on a live mirror. */
export type MirrorOptionChanges = Partial<
  Pick<
    MirrorOptions,
    | 'max_batch_size'
    | 'sync_interval'
    | 'snapshot_num_rows_per_partition'
    | 'snapshot_max_parallel_workers'
    | 'snapshot_num_tables_in_parallel'
  >
>
