import type pg from 'pg'
import { PgMirrorError, q } from '../errors.ts'
import { formatLsn, parseLsn, type Lsn } from '../model/lsn.ts'
import type { MirrorOptions, TableMapping } from '../model/mirror.ts'

export interface MirrorSpec {
  readonly mappings: readonly TableMapping[]
  readonly options: MirrorOptions
}

export interface MirrorRow {
  readonly id: number
  readonly name: string
  readonly sourcePeer: string
  readonly destinationPeer: string
  readonly status: string
  readonly spec: MirrorSpec
  readonly generation: number
  readonly slotName: string | null
  readonly publicationName: string | null
  readonly ownsSlot: boolean
  readonly ownsPublication: boolean
  readonly consistentLsn: Lsn | null
  readonly snapshotName: string | null
  readonly snapshotRecovered: boolean
  /** A resync is loading shadow tables that replace the targets when its snapshot completes. */
  readonly resyncPending: boolean
  readonly lastSyncedLsn: Lsn | null
  readonly lastBatchId: bigint
  readonly lastBatchAt: string | null
  readonly lastCommitTime: string | null
  readonly rowsSynced: bigint
  readonly lastError: string | null
  readonly lastErrorAt: string | null
  readonly createdAt: string
  readonly updatedAt: string
}

export interface MirrorTableRow {
  readonly sourceTable: string
  readonly destinationTable: string
  readonly snapshotState: 'pending' | 'running' | 'done' | 'skipped'
  readonly partitionsTotal: number
  readonly partitionsDone: number
  readonly rowsCopied: bigint
  readonly inserts: bigint
  readonly updates: bigint
  readonly deletes: bigint
}

export interface PartitionRow {
  readonly sourceTable: string
  readonly index: number
  readonly startBlock: number
  readonly endBlock: number | undefined
  readonly state: 'pending' | 'done'
}

export interface TableCounts {
  readonly inserts: number
  readonly updates: number
  readonly deletes: number
}

type Db = pg.Pool | pg.ClientBase

const SELECT_MIRROR = `
  SELECT m.id, m.name, s.name AS source_peer, d.name AS destination_peer, m.status, m.spec, m.generation,
         m.slot_name, m.publication_name, m.owns_slot, m.owns_publication, m.consistent_lsn::text AS consistent_lsn,
         m.snapshot_name, m.snapshot_recovered, m.resync_pending, m.last_synced_lsn::text AS last_synced_lsn,
         m.last_batch_id::text AS last_batch_id, m.last_batch_at::text AS last_batch_at,
         m.last_commit_time::text AS last_commit_time, m.rows_synced::text AS rows_synced, m.last_error,
         m.last_error_at::text AS last_error_at, m.created_at::text AS created_at, m.updated_at::text AS updated_at
  FROM mirrors m JOIN peers s ON s.id = m.source_peer_id JOIN peers d ON d.id = m.destination_peer_id`

/* eslint-disable @typescript-eslint/no-explicit-any -- rows come from the fixed SELECT above */
function toMirror(r: any): MirrorRow {
  return {
    id: r.id,
    name: r.name,
    sourcePeer: r.source_peer,
    destinationPeer: r.destination_peer,
    status: r.status,
    spec: r.spec,
    generation: r.generation,
    slotName: r.slot_name,
    publicationName: r.publication_name,
    ownsSlot: r.owns_slot,
    ownsPublication: r.owns_publication,
    consistentLsn: r.consistent_lsn ? parseLsn(r.consistent_lsn) : null,
    snapshotName: r.snapshot_name,
    snapshotRecovered: r.snapshot_recovered,
    resyncPending: r.resync_pending,
    lastSyncedLsn: r.last_synced_lsn ? parseLsn(r.last_synced_lsn) : null,
    lastBatchId: BigInt(r.last_batch_id),
    lastBatchAt: r.last_batch_at,
    lastCommitTime: r.last_commit_time,
    rowsSynced: BigInt(r.rows_synced),
    lastError: r.last_error,
    lastErrorAt: r.last_error_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** The only code that reads and writes mirrors, mirror_tables, snapshot_partitions and cdc_batches. */
export class MirrorStore {
  constructor(private readonly db: Db) {}

  async find(name: string): Promise<MirrorRow | undefined> {
    const r = await this.db.query(`${SELECT_MIRROR} WHERE m.name = $1`, [name])
    return r.rows[0] ? toMirror(r.rows[0]) : undefined
  }

  async get(name: string): Promise<MirrorRow> {
    const m = await this.find(name)
    if (!m) throw new PgMirrorError('undefined_object', `mirror ${q(name)} does not exist`)
    return m
  }

  async list(): Promise<MirrorRow[]> {
    const r = await this.db.query(`${SELECT_MIRROR} ORDER BY m.name`)
    return r.rows.map(toMirror)
  }

  async insert(
    name: string,
    sourcePeerId: number,
    destinationPeerId: number,
    spec: MirrorSpec,
    objects: { slotName: string; publicationName: string; ownsSlot: boolean; ownsPublication: boolean },
  ): Promise<number> {
    const r = await this.db.query<{ id: number }>(
      `INSERT INTO mirrors (name, source_peer_id, destination_peer_id, spec, slot_name, publication_name, owns_slot, owns_publication)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [
        name,
        sourcePeerId,
        destinationPeerId,
        spec,
        objects.slotName,
        objects.publicationName,
        objects.ownsSlot,
        objects.ownsPublication,
      ],
    )
    const id = r.rows[0]!.id
    await this.addTables(id, spec.mappings)
    return id
  }

  async addTables(id: number, mappings: readonly TableMapping[]): Promise<void> {
    for (const m of mappings) {
      await this.db.query(
        `INSERT INTO mirror_tables (mirror_id, source_table, destination_table) VALUES ($1, $2, $3)
         ON CONFLICT (mirror_id, source_table) DO NOTHING`,
        [id, `${m.source.schema}.${m.source.table}`, m.destination],
      )
    }
  }

  async setSpec(id: number, spec: MirrorSpec): Promise<void> {
    await this.db.query('UPDATE mirrors SET spec = $2, updated_at = now() WHERE id = $1', [id, spec])
  }

  /** Compare-and-set: moves the status only if it is still `from`; returns whether it moved. */
  async setStatus(id: number, to: string, from?: string): Promise<boolean> {
    const r =
      from === undefined
        ? await this.db.query('UPDATE mirrors SET status = $2, updated_at = now() WHERE id = $1', [id, to])
        : await this.db.query(
            'UPDATE mirrors SET status = $2, updated_at = now() WHERE id = $1 AND status = $3',
            [id, to, from],
          )
    return (r.rowCount ?? 0) > 0
  }

  async status(id: number): Promise<string | undefined> {
    const r = await this.db.query<{ status: string }>('SELECT status FROM mirrors WHERE id = $1', [id])
    return r.rows[0]?.status
  }

  async setupDone(id: number, consistentLsn: Lsn, snapshotName: string | undefined): Promise<void> {
    await this.db.query(
      `UPDATE mirrors SET consistent_lsn = $2, snapshot_name = $3, last_synced_lsn = NULL, updated_at = now() WHERE id = $1`,
      [id, formatLsn(consistentLsn), snapshotName ?? null],
    )
  }

  async setSnapshotName(id: number, snapshotName: string | null, recovered: boolean): Promise<void> {
    await this.db.query(
      'UPDATE mirrors SET snapshot_name = $2, snapshot_recovered = snapshot_recovered OR $3 WHERE id = $1',
      [id, snapshotName, recovered],
    )
  }

  async setError(id: number, message: string | null): Promise<void> {
    await this.db.query(
      `UPDATE mirrors SET last_error = $2, last_error_at = CASE WHEN $2::text IS NULL THEN last_error_at ELSE now() END
       WHERE id = $1`,
      [id, message],
    )
  }

  async newGeneration(id: number): Promise<void> {
    await this.db.query(
      `UPDATE mirrors SET generation = generation + 1, consistent_lsn = NULL, snapshot_name = NULL,
         snapshot_recovered = false, resync_pending = true, last_synced_lsn = NULL, last_batch_id = 0, rows_synced = 0, last_error = NULL,
         updated_at = now() WHERE id = $1`,
      [id],
    )
    await this.db.query(
      `UPDATE mirror_tables SET snapshot_state = 'pending', partitions_total = 0, partitions_done = 0, rows_copied = 0,
         inserts = 0, updates = 0, deletes = 0 WHERE mirror_id = $1`,
      [id],
    )
    await this.db.query('DELETE FROM cdc_batches WHERE mirror_id = $1', [id])
  }

  async resyncDone(id: number): Promise<void> {
    await this.db.query('UPDATE mirrors SET resync_pending = false WHERE id = $1', [id])
  }

  async tables(id: number): Promise<MirrorTableRow[]> {
    const r = await this.db.query(
      `SELECT source_table, destination_table, snapshot_state, partitions_total, partitions_done,
              rows_copied::text AS rows_copied, inserts::text AS inserts, updates::text AS updates, deletes::text AS deletes
       FROM mirror_tables WHERE mirror_id = $1 ORDER BY added_at, source_table`,
      [id],
    )
    return r.rows.map((x) => ({
      sourceTable: x.source_table,
      destinationTable: x.destination_table,
      snapshotState: x.snapshot_state,
      partitionsTotal: x.partitions_total,
      partitionsDone: x.partitions_done,
      rowsCopied: BigInt(x.rows_copied),
      inserts: BigInt(x.inserts),
      updates: BigInt(x.updates),
      deletes: BigInt(x.deletes),
    }))
  }

  async setTableSnapshotState(
    id: number,
    sourceTable: string,
    state: MirrorTableRow['snapshotState'],
  ): Promise<void> {
    await this.db.query(
      'UPDATE mirror_tables SET snapshot_state = $3 WHERE mirror_id = $1 AND source_table = $2',
      [id, sourceTable, state],
    )
  }

  /** Records the plan once per generation; a second call (after a restart) keeps the first plan. */
  async planPartitions(
    id: number,
    generation: number,
    sourceTable: string,
    parts: readonly { index: number; startBlock: number; endBlock: number | undefined }[],
  ): Promise<void> {
    const existing = await this.db.query(
      'SELECT 1 FROM snapshot_partitions WHERE mirror_id = $1 AND generation = $2 AND source_table = $3 LIMIT 1',
      [id, generation, sourceTable],
    )
    if ((existing.rowCount ?? 0) > 0) return
    for (const p of parts) {
      await this.db.query(
        `INSERT INTO snapshot_partitions (mirror_id, generation, source_table, partition_index, start_block, end_block)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
        [id, generation, sourceTable, p.index, p.startBlock, p.endBlock ?? null],
      )
    }
    await this.db.query(
      `UPDATE mirror_tables SET partitions_total = $3, snapshot_state = 'running' WHERE mirror_id = $1 AND source_table = $2`,
      [id, sourceTable, parts.length],
    )
  }

  async partitions(id: number, generation: number, sourceTable: string): Promise<PartitionRow[]> {
    const r = await this.db.query(
      `SELECT source_table, partition_index, start_block::text AS start_block, end_block::text AS end_block, state
       FROM snapshot_partitions WHERE mirror_id = $1 AND generation = $2 AND source_table = $3 ORDER BY partition_index`,
      [id, generation, sourceTable],
    )
    return r.rows.map((x) => ({
      sourceTable: x.source_table,
      index: x.partition_index,
      startBlock: Number(x.start_block),
      endBlock: x.end_block === null ? undefined : Number(x.end_block),
      state: x.state,
    }))
  }

  async partitionDone(
    id: number,
    generation: number,
    sourceTable: string,
    index: number,
    rows: number,
  ): Promise<void> {
    const r = await this.db.query(
      `UPDATE snapshot_partitions SET state = 'done', rows = $5, done_at = now()
       WHERE mirror_id = $1 AND generation = $2 AND source_table = $3 AND partition_index = $4 AND state <> 'done'`,
      [id, generation, sourceTable, index, rows],
    )
    if ((r.rowCount ?? 0) === 0) return
    await this.db.query(
      `UPDATE mirror_tables SET partitions_done = partitions_done + 1, rows_copied = rows_copied + $3
       WHERE mirror_id = $1 AND source_table = $2`,
      [id, sourceTable, rows],
    )
  }

  async recordBatch(
    id: number,
    b: {
      batchId: bigint
      startLsn: Lsn
      endLsn: Lsn
      rows: number
      startedAt: Date
      lastCommitTime: string | undefined
      counts: ReadonlyMap<string, TableCounts>
    },
  ): Promise<void> {
    await this.db.query(
      `INSERT INTO cdc_batches (mirror_id, batch_id, start_lsn, end_lsn, rows, started_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT DO NOTHING`,
      [id, b.batchId.toString(), formatLsn(b.startLsn), formatLsn(b.endLsn), b.rows, b.startedAt],
    )
    await this.db.query(
      `UPDATE mirrors SET last_synced_lsn = $2, last_batch_id = $3, last_batch_at = now(), rows_synced = rows_synced + $4,
         last_commit_time = COALESCE($5::timestamptz, last_commit_time), last_error = NULL WHERE id = $1`,
      [id, formatLsn(b.endLsn), b.batchId.toString(), b.rows, b.lastCommitTime ?? null],
    )
    for (const [table, c] of b.counts) {
      await this.db.query(
        `UPDATE mirror_tables SET inserts = inserts + $3, updates = updates + $4, deletes = deletes + $5
         WHERE mirror_id = $1 AND source_table = $2`,
        [id, table, c.inserts, c.updates, c.deletes],
      )
    }
  }

  /** Moves the synced position without a batch (idle slot advanced on a keepalive). */
  async advanceIdle(id: number, lsn: Lsn): Promise<void> {
    await this.db.query(
      `UPDATE mirrors SET last_synced_lsn = GREATEST(COALESCE(last_synced_lsn, '0/0'::pg_lsn), $2::pg_lsn) WHERE id = $1`,
      [id, formatLsn(lsn)],
    )
  }

  async batches(
    id: number,
    limit: number,
  ): Promise<
    {
      batchId: string
      startLsn: string
      endLsn: string
      rows: number
      startedAt: string
      finishedAt: string
    }[]
  > {
    const r = await this.db.query(
      `SELECT batch_id::text AS batch_id, start_lsn::text AS start_lsn, end_lsn::text AS end_lsn, rows,
              started_at::text AS started_at, finished_at::text AS finished_at
       FROM cdc_batches WHERE mirror_id = $1 ORDER BY batch_id DESC LIMIT $2`,
      [id, limit],
    )
    return r.rows.map((x) => ({
      batchId: x.batch_id,
      startLsn: x.start_lsn,
      endLsn: x.end_lsn,
      rows: x.rows,
      startedAt: x.started_at,
      finishedAt: x.finished_at,
    }))
  }

  async delete(id: number): Promise<void> {
    await this.db.query('DELETE FROM mirrors WHERE id = $1', [id])
  }
}
