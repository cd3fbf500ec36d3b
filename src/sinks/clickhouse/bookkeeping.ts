/**
 * The sink's own tables in the peer's database, shared by every mirror writing there:
 * - `_pgmirror_checkpoints`: per mirror, the last batch id and its end LSN (ReplacingMergeTree keyed by mirror,
 *   version = batch id). It is written only after ClickHouse acknowledged the batch's rows: a crash in between
 *   replays the batch, whose rows carry the same versions and collapse with the first copy.
 * - `_pgmirror_snapshot_partitions`: per mirror, destination and partition, the rows loaded, written after the
 *   partition's insert was acknowledged. A partition retried before that re-inserts the same rows with version 0,
 *   which collapse too (ReplacingMergeTree keeps one row per ORDER BY key).
 * ClickHouse has no transactions, so forgetting rows is an ALTER … DELETE mutation, awaited until done (see
 * mutations.ts): a resync must never see the old checkpoint again.
 */
import type { ClickHouseClient } from '@clickhouse/client'
import type { Checkpoint } from '../../model/record.ts'
import { queryRows } from './client-io.ts'
import { bookkeepingSql, CHECKPOINTS_TABLE, PARTITIONS_TABLE } from './ddl.ts'
import { mutate } from './mutations.ts'
import { quoteIdent, quoteString } from './quote.ts'

export class Bookkeeping {
  private readonly checkpoints: string
  private readonly partitions: string
  private readonly mirrorLit: string

  constructor(
    private readonly client: ClickHouseClient,
    private readonly database: string,
    mirror: string,
  ) {
    this.checkpoints = `${quoteIdent(database)}.${quoteIdent(CHECKPOINTS_TABLE)}`
    this.partitions = `${quoteIdent(database)}.${quoteIdent(PARTITIONS_TABLE)}`
    this.mirrorLit = quoteString(mirror)
  }

  async create(): Promise<void> {
    for (const sql of bookkeepingSql(this.database)) await this.client.command({ query: sql })
  }

  /** The newest checkpoint; of two with one batch id (see writeBatch), the one that reaches further. */
  async lastCheckpoint(): Promise<Checkpoint | undefined> {
    const rows = await queryRows<{ batch_id: string; lsn: string }>(
      this.client,
      `SELECT toString(batch_id) AS batch_id, toString(lsn) AS lsn FROM ${this.checkpoints}
       WHERE mirror = ${this.mirrorLit} ORDER BY batch_id DESC, lsn DESC LIMIT 1`,
    )
    const row = rows[0]
    return row === undefined ? undefined : { batchId: BigInt(row.batch_id), lsn: BigInt(row.lsn) }
  }

  async saveCheckpoint(cp: Checkpoint): Promise<void> {
    await this.client.command({
      query: `INSERT INTO ${this.checkpoints} (mirror, batch_id, lsn) VALUES (${this.mirrorLit}, ${cp.batchId}, ${cp.lsn})`,
    })
  }

  async partitionRows(destination: string, partitionId: string): Promise<number | undefined> {
    const rows = await queryRows<{ rows: string }>(
      this.client,
      `SELECT toString(rows) AS rows FROM ${this.partitions}
       WHERE mirror = ${this.mirrorLit} AND destination = ${quoteString(destination)}
         AND partition_id = ${quoteString(partitionId)} LIMIT 1`,
    )
    return rows[0] === undefined ? undefined : Number(rows[0].rows)
  }

  async recordPartition(destination: string, partitionId: string, rows: number): Promise<void> {
    await this.client.command({
      query: `INSERT INTO ${this.partitions} (mirror, destination, partition_id, rows)
              VALUES (${this.mirrorLit}, ${quoteString(destination)}, ${quoteString(partitionId)}, ${rows})`,
    })
  }

  async donePartitions(destination: string): Promise<Set<string>> {
    const rows = await queryRows<{ partition_id: string }>(
      this.client,
      `SELECT DISTINCT partition_id FROM ${this.partitions}
       WHERE mirror = ${this.mirrorLit} AND destination = ${quoteString(destination)}`,
    )
    return new Set(rows.map((r) => r.partition_id))
  }

  /** Forgets the partitions of these destinations and the mirror's checkpoint. */
  async forgetTables(destinations: readonly string[]): Promise<void> {
    if (destinations.length > 0)
      await this.deleteWhere(
        PARTITIONS_TABLE,
        `mirror = ${this.mirrorLit} AND destination IN (${destinations.map(quoteString).join(', ')})`,
      )
    await this.deleteWhere(CHECKPOINTS_TABLE, `mirror = ${this.mirrorLit}`)
  }

  async forget(): Promise<void> {
    await this.deleteWhere(PARTITIONS_TABLE, `mirror = ${this.mirrorLit}`)
    await this.deleteWhere(CHECKPOINTS_TABLE, `mirror = ${this.mirrorLit}`)
  }

  private deleteWhere(table: string, where: string): Promise<void> {
    return mutate(this.client, this.database, table, `DELETE WHERE ${where}`)
  }
}
