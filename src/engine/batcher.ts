/**
 * Forms CDC batches from whole transactions (pure). A batch closes when it holds at least `maxBatchSize` changes
 * (checked only between transactions, so a transaction is never split) or when `syncIntervalMs` has passed since
 * its first change arrived.
 */
import type { Lsn } from '../model/lsn.ts'
import type { ChangeRecord } from '../model/record.ts'

export interface PendingBatch {
  readonly records: readonly ChangeRecord[]
  /** Commit-end LSN of the last transaction: the checkpoint and the LSN to confirm. */
  readonly endLsn: Lsn
  /** Commit LSN of the first transaction. */
  readonly startLsn: Lsn
  readonly firstAt: number
  readonly lastCommitTime: string
}

export class Batcher {
  private records: ChangeRecord[] = []
  private endLsn: Lsn = 0n
  private startLsn: Lsn = 0n
  private firstAt = 0
  private lastCommitTime = ''

  constructor(
    private maxBatchSize: number,
    private syncIntervalMs: number,
  ) {}

  configure(maxBatchSize: number, syncIntervalMs: number): void {
    this.maxBatchSize = maxBatchSize
    this.syncIntervalMs = syncIntervalMs
  }

  get size(): number {
    return this.records.length
  }

  /** Adds a transaction's (already filtered) changes; an empty one still moves the end LSN if a batch is open. */
  add(
    tx: {
      readonly changes: readonly ChangeRecord[]
      readonly commitLsn: Lsn
      readonly endLsn: Lsn
      readonly commitTime: string
    },
    now: number,
  ): void {
    if (tx.changes.length === 0 && this.records.length === 0) return
    if (this.records.length === 0) {
      this.firstAt = now
      this.startLsn = tx.commitLsn
    }
    for (const c of tx.changes) this.records.push(c)
    this.endLsn = tx.endLsn
    this.lastCommitTime = tx.commitTime
  }

  /** Whether the open batch must be written now. */
  due(now: number): boolean {
    if (this.records.length === 0) return false
    return this.records.length >= this.maxBatchSize || now - this.firstAt >= this.syncIntervalMs
  }

  /** Milliseconds until the open batch is due by time; undefined when nothing is pending. */
  msUntilDue(now: number): number | undefined {
    if (this.records.length === 0) return undefined
    return Math.max(0, this.firstAt + this.syncIntervalMs - now)
  }

  take(): PendingBatch | undefined {
    if (this.records.length === 0) return undefined
    const b: PendingBatch = {
      records: this.records,
      endLsn: this.endLsn,
      startLsn: this.startLsn,
      firstAt: this.firstAt,
      lastCommitTime: this.lastCommitTime,
    }
    this.records = []
    return b
  }
}
