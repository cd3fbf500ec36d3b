/**
 * The Sink contract: what every target (Postgres, ClickHouse, Kafka) implements. Adding a sink is this checklist.
 *
 * Data-safety rules every implementation keeps (ARCHITECTURE.md, "Contracts that keep data safe"):
 * - writeBatch resolves only when the batch is durable on the target, and it is idempotent: a batch whose end LSN
 *   the stored checkpoint covers is skipped (the LSN decides, not the batch id: after a crash the same id may
 *   name a longer batch), and replaying a batch that was already applied changes nothing (Postgres: checkpoint in the same transaction as the rows;
 *   ClickHouse: versions derived from (commit LSN, seq) so a replay writes identical rows; Kafka: at-least-once).
 * - writeSnapshotPartition is idempotent per (table, partition): a retried partition never leaves duplicates.
 * - Values are Postgres text end to end; a sink never routes one through a JS Number or Date.
 */
import type { Readable } from 'node:stream'
import type { Checkpoint, RecordBatch, TableName, TableSchema } from '../model/record.ts'
import type { ColumnOrdering } from '../model/mirror.ts'

export interface SinkTable {
  readonly source: TableName
  /** As given in the mapping: `schema.table` / `table` for databases, the topic for Kafka. */
  readonly destination: string
  /** The source schema with excluded columns already removed. */
  readonly schema: TableSchema
  /** ClickHouse ORDER BY override (the mapping's `columns`); empty = the primary key. */
  readonly ordering: readonly ColumnOrdering[]
}

export interface SinkSettings {
  readonly mirror: string
  /** Empty string: no synced-at column. */
  readonly syncedAtColumn: string
  /** undefined: deletes remove rows; set: deletes set this boolean column to true. */
  readonly softDeleteColumn: string | undefined
}

export interface SnapshotPartitionInput {
  readonly table: SinkTable
  /** Deterministic id, e.g. `3` or `3/of/12`; the sink records it as done in the same step as the rows. */
  readonly partitionId: string
  /** COPY TO STDOUT output of the table's columns (schema.columns order). */
  readonly data: Readable
  readonly format: 'binary' | 'text'
  /**
   * `copy`: the target holds no row of this partition yet (plain bulk load).
   * `upsert`: rows may already be present (recovery under a fresh snapshot): existing keys are left alone and
   * the stream replayed from the slot afterwards sets the final values.
   */
  readonly mode: 'copy' | 'upsert'
}

export interface Sink {
  /** The COPY format this sink loads snapshots from: binary for Postgres, text for sinks that parse rows. */
  readonly snapshotFormat: 'binary' | 'text'
  /** Creates the target tables, or accepts existing compatible ones (error 55000 naming the mismatch). Idempotent. */
  ensureTables(tables: readonly SinkTable[]): Promise<void>
  /** Whether the sink already holds rows for this table (a snapshot into a non-empty table is refused). */
  hasRows(table: SinkTable): Promise<boolean>
  /** Partition ids already written for this table (survives crashes: stored with the rows where possible). */
  donePartitions(table: SinkTable): Promise<ReadonlySet<string>>
  /** Loads one partition; resolves with the row count once durable. See SnapshotPartitionInput for idempotency. */
  writeSnapshotPartition(input: SnapshotPartitionInput): Promise<{ rows: number }>
  /** Applies a batch durably and atomically with its checkpoint; a batch id at or below the stored one is skipped. */
  writeBatch(batch: RecordBatch, tables: ReadonlyMap<string, SinkTable>): Promise<void>
  /** The last checkpoint durably stored with the data, if any. */
  lastCheckpoint(): Promise<Checkpoint | undefined>
  /** Adds columns that appeared on the source (the new schema is the full table). Idempotent. */
  applySchemaChange(table: SinkTable): Promise<void>
  /** Empties the target tables and forgets their partitions and the checkpoint: a resync starts over. */
  resetTables(tables: readonly SinkTable[]): Promise<void>
  /**
   * Optional (resync): replaces each `to` table by its freshly loaded `from` table in one step, so readers see the
   * old rows until the new copy is complete. Sinks without it are resynced in place (emptied, then reloaded).
   */
  swapTables?(pairs: readonly { readonly from: SinkTable; readonly to: SinkTable }[]): Promise<void>
  /** Removes the sink's own bookkeeping for this mirror (never the user's target tables). */
  teardown(): Promise<void>
  close(): Promise<void>
}
