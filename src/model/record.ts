import type { Lsn } from './lsn.ts'

/** Values travel as Postgres text (the output function's form) end to end: null is SQL NULL. */
export type Value = string | null

export interface TableName {
  readonly schema: string
  readonly table: string
}

export const tableKey = (t: TableName): string => `${t.schema}.${t.table}`

export interface ColumnSchema {
  readonly name: string
  readonly typeOid: number
  /** `format_type(atttypid, atttypmod)`, e.g. `numeric(10,2)`, `timestamp with time zone`, `text[]`. */
  readonly typeName: string
  readonly typeMod: number
  readonly nullable: boolean
  /** For an enum column: its labels in sort order, so a target can create the same type. */
  readonly enumLabels?: readonly string[]
}

export interface TableSchema {
  readonly name: TableName
  readonly columns: readonly ColumnSchema[]
  /** Primary key columns in key order; for REPLICA IDENTITY FULL tables without a key this is empty. */
  readonly primaryKey: readonly string[]
  readonly replicaIdentity: 'd' | 'f' | 'i' | 'n'
}

export type Row = Readonly<Record<string, Value>>

interface ChangeBase {
  readonly table: TableName
  /** Commit LSN of the transaction this change belongs to. */
  readonly commitLsn: Lsn
  /** Position of the change inside its transaction (0-based): (commitLsn, seq) totally orders changes. */
  readonly seq: number
  readonly xid: number
  /** Commit time as the ISO-8601 text Postgres would print, microseconds kept. */
  readonly commitTime: string
}

export type ChangeRecord =
  | (ChangeBase & { readonly kind: 'insert'; readonly row: Row })
  | (ChangeBase & {
      readonly kind: 'update'
      readonly row: Row
      /** Old key (key changed) or old full row (REPLICA IDENTITY FULL), when the server sent it. */
      readonly old: Row | undefined
      /** Columns whose value is an unchanged TOAST datum the server did not send. */
      readonly unchangedToast: readonly string[]
    })
  | (ChangeBase & { readonly kind: 'delete'; readonly old: Row })
  | (ChangeBase & { readonly kind: 'truncate' })

export interface RecordBatch {
  readonly mirror: string
  /** Strictly increasing per mirror: the sink's idempotency key. */
  readonly batchId: bigint
  readonly records: readonly ChangeRecord[]
  /** Relations seen in this batch whose schema differs from the last known one (added columns). */
  readonly schemaChanges: readonly TableSchema[]
  /** Commit-end LSN of the last complete transaction in the batch. */
  readonly endLsn: Lsn
}

export interface Checkpoint {
  readonly batchId: bigint
  readonly lsn: Lsn
}
