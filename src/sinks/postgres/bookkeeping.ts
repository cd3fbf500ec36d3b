/**
 * The sink's own tables on the target, in one schema (`_pgmirror` unless the peer sets metadata_schema):
 * - checkpoints: per mirror, the last applied batch id and its end LSN, written in the batch's own transaction,
 *   so "rows applied" and "checkpoint moved" can never disagree;
 * - snapshot_partitions: per mirror, destination and partition, the rows loaded, written in the COPY's transaction.
 */
import type pg from 'pg'
import { formatLsn, parseLsn } from '../../model/lsn.ts'
import type { Checkpoint } from '../../model/record.ts'
import { quoteIdent } from './quote.ts'

export type Queryable = Pick<pg.ClientBase, 'query'>

/** Serialises our DDL across sinks sharing a target (CREATE … IF NOT EXISTS still races on the catalog). */
export const DDL_LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtextextended('pgmirror:target-ddl', 0))`

/** Serialises writers of one key (a mirror's batches, one snapshot partition) for the transaction's lifetime. */
export const lockKey = (client: Queryable, key: string): Promise<unknown> =>
  client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`pgmirror:${key}`])

export class Bookkeeping {
  readonly checkpoints: string
  readonly partitions: string

  constructor(
    readonly schema: string,
    readonly mirror: string,
  ) {
    this.checkpoints = `${quoteIdent(schema)}.checkpoints`
    this.partitions = `${quoteIdent(schema)}.snapshot_partitions`
  }

  async create(client: Queryable): Promise<void> {
    await client.query('BEGIN')
    try {
      await client.query(DDL_LOCK_SQL)
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.schema)}`)
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.checkpoints} (
           mirror text PRIMARY KEY,
           batch_id bigint NOT NULL,
           lsn pg_lsn NOT NULL,
           updated_at timestamptz)`,
      )
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.partitions} (
           mirror text,
           destination text,
           partition_id text,
           rows bigint,
           done_at timestamptz,
           PRIMARY KEY (mirror, destination, partition_id))`,
      )
      await client.query('COMMIT')
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw e
    }
  }

  /** Inside a batch transaction: the stored checkpoint, with the row locked until commit. */
  async lockedCheckpoint(client: Queryable): Promise<Checkpoint | undefined> {
    await lockKey(client, `batch:${this.mirror}`)
    const res = await client.query<{ batch_id: string; lsn: string }>(
      `SELECT batch_id, lsn::text AS lsn FROM ${this.checkpoints} WHERE mirror = $1 FOR UPDATE`,
      [this.mirror],
    )
    const row = res.rows[0]
    return row === undefined ? undefined : { batchId: BigInt(row.batch_id), lsn: parseLsn(row.lsn) }
  }

  async saveCheckpoint(client: Queryable, cp: Checkpoint): Promise<void> {
    await client.query(
      `INSERT INTO ${this.checkpoints} (mirror, batch_id, lsn, updated_at) VALUES ($1, $2, $3::pg_lsn, now())
       ON CONFLICT (mirror) DO UPDATE SET batch_id = EXCLUDED.batch_id, lsn = EXCLUDED.lsn, updated_at = now()`,
      [this.mirror, cp.batchId.toString(), formatLsn(cp.lsn)],
    )
  }

  async lastCheckpoint(client: Queryable): Promise<Checkpoint | undefined> {
    const res = await client.query<{ batch_id: string; lsn: string }>(
      `SELECT batch_id, lsn::text AS lsn FROM ${this.checkpoints} WHERE mirror = $1`,
      [this.mirror],
    )
    const row = res.rows[0]
    return row === undefined ? undefined : { batchId: BigInt(row.batch_id), lsn: parseLsn(row.lsn) }
  }

  /** Inside a partition transaction: the rows recorded for it, after waiting out any concurrent writer. */
  async lockedPartitionRows(
    client: Queryable,
    destination: string,
    partitionId: string,
  ): Promise<number | undefined> {
    await lockKey(client, `partition:${this.mirror}:${destination}:${partitionId}`)
    const res = await client.query<{ rows: string }>(
      `SELECT rows FROM ${this.partitions} WHERE mirror = $1 AND destination = $2 AND partition_id = $3`,
      [this.mirror, destination, partitionId],
    )
    const row = res.rows[0]
    return row === undefined ? undefined : Number(row.rows)
  }

  async recordPartition(
    client: Queryable,
    destination: string,
    partitionId: string,
    rows: number,
  ): Promise<void> {
    await client.query(
      `INSERT INTO ${this.partitions} (mirror, destination, partition_id, rows, done_at) VALUES ($1, $2, $3, $4, now())`,
      [this.mirror, destination, partitionId, rows],
    )
  }

  async donePartitions(client: Queryable, destination: string): Promise<Set<string>> {
    const res = await client.query<{ partition_id: string }>(
      `SELECT partition_id FROM ${this.partitions} WHERE mirror = $1 AND destination = $2`,
      [this.mirror, destination],
    )
    return new Set(res.rows.map((r) => r.partition_id))
  }

  /** Forgets the partitions of these destinations and the mirror's checkpoint; the caller owns the transaction. */
  async forgetTables(client: Queryable, destinations: readonly string[]): Promise<void> {
    await client.query(`DELETE FROM ${this.partitions} WHERE mirror = $1 AND destination = ANY($2::text[])`, [
      this.mirror,
      destinations,
    ])
    await client.query(`DELETE FROM ${this.checkpoints} WHERE mirror = $1`, [this.mirror])
  }

  async forget(client: Queryable): Promise<void> {
    await client.query('BEGIN')
    try {
      await client.query(`DELETE FROM ${this.checkpoints} WHERE mirror = $1`, [this.mirror])
      await client.query(`DELETE FROM ${this.partitions} WHERE mirror = $1`, [this.mirror])
      await client.query('COMMIT')
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw e
    }
  }
}
