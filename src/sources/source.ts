/**
 * What the engine needs from a database it replicates out of. One implementation today: `postgres/postgres-source.ts`.
 *
 * The data-safety order the engine follows (ARCHITECTURE.md, "Contracts"):
 *   stream event → sink.writeBatch (durable) → checkpoint saved → `ChangeStream.confirm(endLsn)`.
 * Nothing in a Source moves the slot on its own: only `confirm` does.
 */
import type { Readable } from 'node:stream'
import type { Lsn } from '../model/lsn.ts'
import type { ChangeRecord, TableName, TableSchema } from '../model/record.ts'

/** A relation as the change stream describes it (sent before its first change, and again after DDL). */
export interface RelationInfo {
  readonly relationOid: number
  readonly table: TableName
  readonly replicaIdentity: TableSchema['replicaIdentity']
  readonly columns: readonly {
    readonly name: string
    readonly typeOid: number
    readonly typeMod: number
    /** Part of the replica identity (the key the server sends for updates and deletes). */
    readonly isKey: boolean
  }[]
}

export interface TransactionEvent {
  readonly kind: 'transaction'
  /** LSN of the commit record; equal to `commitLsn` on every change. */
  readonly commitLsn: Lsn
  /** End of the commit record: the LSN to `confirm` once this transaction is durable downstream. */
  readonly endLsn: Lsn
  readonly xid: number
  /** ISO-8601 UTC with microseconds, e.g. `2024-05-01T12:00:00.123456Z`. */
  readonly commitTime: string
  /** In server order; `seq` runs 0, 1, 2, … within the transaction. May be empty. */
  readonly changes: readonly ChangeRecord[]
}

export type StreamEvent =
  | TransactionEvent
  /**
   * The server has decoded up to `serverWalEnd` and every transaction committed before it has already been
   * yielded. Only emitted between transactions. When nothing yielded before it is still unconfirmed, the engine
   * may `confirm(serverWalEnd)` so an idle slot does not hold WAL forever.
   */
  | { readonly kind: 'keepalive'; readonly serverWalEnd: Lsn }
  /** Yielded before the first transaction that uses the relation, and again when its shape changes. */
  | { readonly kind: 'relation'; readonly relation: RelationInfo }

/**
 * A running change stream on one slot. Iterate it once; events come in commit order and a transaction is always
 * whole. Reading slower than the server writes applies backpressure (the socket is paused), while status
 * updates keep going out on a timer so the server never times the connection out.
 * Iteration throws a PgMirrorError when the connection fails; it ends quietly after stop().
 */
export interface ChangeStream extends AsyncIterable<StreamEvent> {
  /**
   * Tells the server everything up to `lsn` is durable downstream, so the slot may release that WAL. Sends a
   * status update at once. Monotonic: a smaller LSN than already confirmed is ignored. Call it only after the
   * checkpoint covering `lsn` has been saved.
   */
  confirm(lsn: Lsn): void
  /** The highest LSN passed to confirm (0 before the first call). */
  readonly confirmedLsn: Lsn
  /** Closes the replication connection; idempotent. The slot becomes inactive shortly after. */
  stop(): Promise<void>
}

/** Heap blocks `[startBlock, endBlock)`; `endBlock` undefined = to the end of the table, whatever its size then. */
export interface SnapshotPartition {
  readonly index: number
  readonly startBlock: number
  readonly endBlock: number | undefined
}

export interface SnapshotPlan {
  readonly partitions: readonly SnapshotPartition[]
  readonly estimatedRows: number
}

/** `binary` is Postgres' COPY binary format (fast path into a Postgres sink); `text` is one line per row. */
export type CopyFormat = 'binary' | 'text'

export interface PartitionRead {
  /** The COPY output; consume it to the end, then call finish(). */
  readonly stream: Readable
  /** Ends the read (commit, or close the connection after a failure or an early stop); rethrows a copy error. */
  finish(): Promise<void>
}

export interface SlotInfo {
  readonly exists: boolean
  readonly active: boolean
  readonly activePid: number | undefined
  readonly confirmedFlushLsn: Lsn | undefined
  readonly restartLsn: Lsn | undefined
  /** Bytes of WAL the slot holds back: current WAL position minus restart_lsn. */
  readonly retainedWalBytes: bigint | undefined
  /** `reserved`, `extended`, `unreserved` or `lost` (pg_replication_slots.wal_status). */
  readonly walStatus: string | undefined
}

export interface ReplicationObjects {
  readonly slotName: string
  readonly publicationName: string
}

export interface SetupResult extends ReplicationObjects {
  /** Changes committed from here on are streamed; everything before is in the snapshot. Start streaming here. */
  readonly consistentPoint: Lsn
  /** For readPartition; valid until release(). Absent when setup was asked not to export one. */
  readonly snapshotName: string | undefined
  /** Closes the connection holding the exported snapshot. Call after the last partition read; idempotent. */
  release(): Promise<void>
}

/** A snapshot exported outside the slot (after a crash lost the slot's, or for tables added later). */
export interface ExportedSnapshot {
  readonly snapshotName: string
  /** Ends the transaction that keeps the snapshot alive; idempotent. */
  release(): Promise<void>
}

export interface Source {
  /** Checks server version, wal_level and replication privilege. Read-only; call before setup. */
  validate(): Promise<void>
  /** Current schemas, keyed by `tableKey`. Read-only. Fails with 42P01 for a missing table. */
  describeTables(tables: readonly TableName[]): Promise<Map<string, TableSchema>>
  /** Throws 55000 for a table that cannot be replicated (no key and not REPLICA IDENTITY FULL). Pure. */
  ensurePullable(schemas: Iterable<TableSchema>): void
  /**
   * Creates (or completes) the publication, then creates the slot. The publication part is idempotent; the slot
   * is not (42710 if it exists), since a new snapshot cannot line up with an old slot. With exportSnapshot the
   * process must keep the result alive until every partition read has started its transaction.
   */
  setup(
    objects: ReplicationObjects,
    tables: readonly TableName[],
    opts: { readonly exportSnapshot: boolean },
  ): Promise<SetupResult>
  /**
   * Exports a fresh snapshot on a connection of its own. Reads under it are consistent with each other but not
   * with the slot's consistent point: the engine then loads with upserts and replays the slot from its checkpoint.
   */
  exportSnapshot(): Promise<ExportedSnapshot>
  /** Adds tables to an existing publication (table addition to a running mirror). Idempotent. */
  addTables(publicationName: string, tables: readonly TableName[]): Promise<void>
  /** Splits a table into CTID block ranges of about rowsPerPartition rows. Read-only; deterministic for a given size. */
  planSnapshot(table: TableName, opts: { readonly rowsPerPartition: number }): Promise<SnapshotPlan>
  /**
   * Streams one partition under the exported snapshot, on a connection of its own. Re-running a partition
   * reads the same rows as long as the snapshot is alive (without one, it reads the current state).
   */
  readPartition(
    table: TableName,
    columns: readonly string[],
    partition: SnapshotPartition,
    opts: { readonly snapshotName?: string | undefined; readonly format?: CopyFormat },
  ): Promise<PartitionRead>
  /**
   * Starts streaming from `startLsn` (the last confirmed checkpoint's LSN, or the slot's consistent point; 0
   * means "where the slot is"). Transactions whose commit precedes the slot's confirmed position are not resent.
   * Resolves once the server has accepted START_REPLICATION. One stream per slot at a time (55006 otherwise).
   */
  stream(objects: ReplicationObjects, startLsn: Lsn): Promise<ChangeStream>
  slotInfo(slotName: string): Promise<SlotInfo>
  /** Drops the slot and the publication. Idempotent; waits briefly for a stopping reader, never kills one. */
  teardown(objects: ReplicationObjects): Promise<void>
  /** Closes the metadata connection. Streams and partition reads have their own and must be finished first. */
  close(): Promise<void>
}
