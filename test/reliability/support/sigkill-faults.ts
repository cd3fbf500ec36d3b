// SIGKILL of the pgmirror process (gateway, API and worker in one) at random moments, while a write load runs on
// the source: during the snapshot (a new mirror per trial, killed after a random number of finished partitions) and
// while streaming (killed after a random number of batches). Every trial ends with source ≡ target. The long run
// (`npm run chaos`) does ≥ 20 trials per phase; test/e2e/cdc-crash.test.ts holds the single-kill CI version.
import { uniqueName, waitFor } from '../../support/services.ts'
import { prng } from './prng.ts'
import { createRig, dropAndCheck, peerSql } from './rig.ts'
import {
  compareTables,
  lastBatchId,
  LOAD_TABLE,
  newFigures,
  setupMirror,
  startLoad,
  waitForBatches,
  type Figures,
} from './scenario-kit.ts'
import { loadTableSql, seedRowsSql } from './write-load.ts'

const SNAPSHOT_ROWS = 60_000
const PARTITION_ROWS = 4_000

/** Each trial: a new mirror into a new target table, SIGKILL after 0…n-1 finished partitions, restart, compare. */
export async function sigkillDuringSnapshot(opts: { trials: number; seed: number }): Promise<Figures> {
  const f = newFigures('SIGKILL of pgmirror during the snapshot')
  const prefix = uniqueName('snap')
  const rnd = prng(opts.seed)
  const rig = await createRig()
  try {
    await rig.src(loadTableSql(LOAD_TABLE))
    await rig.src(seedRowsSql(LOAD_TABLE, 1, SNAPSHOT_ROWS))
    await rig.sql(peerSql('src', rig.source))
    await rig.sql(peerSql('dst', rig.target))
    const partitions = Math.ceil(SNAPSHOT_ROWS / PARTITION_ROWS)
    let nextId = SNAPSHOT_ROWS + 1
    for (let i = 0; i < opts.trials; i++) {
      const mirror = `${prefix}_${i}`
      const target = `public.load_${i}`
      const load = startLoad(rig, opts.seed + i, nextId, SNAPSHOT_ROWS, 20)
      await rig.sql(`CREATE MIRROR ${mirror} FROM src TO dst WITH TABLE MAPPING (${LOAD_TABLE}:${target})
        WITH (snapshot_num_rows_per_partition = ${PARTITION_ROWS}, snapshot_max_parallel_workers = 2,
              sync_interval = 1, max_batch_size = 2000)`)
      const killAfter = rnd.int(partitions)
      await waitFor(
        async () => {
          const r = await rig.cat(
            `SELECT coalesce(max(t.partitions_done), 0) AS n, max(m.status) AS status
             FROM mirrors m LEFT JOIN mirror_tables t ON t.mirror_id = m.id WHERE m.name = $1`,
            [mirror],
          )
          // A kill point past the end of the snapshot is a streaming kill: take the last chance instead.
          return Number(r.rows[0]?.n ?? 0) >= killAfter || r.rows[0]?.status === 'STATUS_RUNNING'
        },
        { timeoutMs: 120_000, intervalMs: 20, message: `${killAfter} partitions of ${mirror}` },
      )
      await rig.server.kill()
      f.faults++
      await rig.restart()
      await rig.waitForStatus(mirror, 'STATUS_RUNNING', 180_000)
      const txs = await load.stop()
      nextId += txs * 20 + 20
      await compareTables(rig, f, { target })
      await dropAndCheck(rig, mirror)
      f.trials++
      f.notes.push(`trial ${i}: killed after ${killAfter}/${partitions} partitions`)
    }
    return f
  } finally {
    await rig.close()
  }
}

/** One streaming mirror; each trial: SIGKILL after 1–6 batches, restart, wait for streaming, stop writes, compare. */
export async function sigkillDuringStreaming(opts: { trials: number; seed: number }): Promise<Figures> {
  const f = newFigures('SIGKILL of pgmirror while streaming')
  const mirror = uniqueName('strm')
  const rnd = prng(opts.seed)
  const rig = await createRig()
  try {
    await setupMirror(rig, { mirror, rows: 20_000 })
    let nextId = 20_001
    for (let i = 0; i < opts.trials; i++) {
      const load = startLoad(rig, opts.seed + i, nextId, 20_000, 50)
      const batches = rnd.between(1, 6)
      await waitForBatches(rig, mirror, await lastBatchId(rig, mirror), batches)
      await rig.server.kill()
      f.faults++
      await rig.restart()
      await waitForBatches(rig, mirror, await lastBatchId(rig, mirror), 2)
      const txs = await load.stop()
      nextId += txs * 20 + 20
      await compareTables(rig, f)
      f.trials++
      f.notes.push(`trial ${i}: killed after ${batches} batch(es)`)
    }
    await dropAndCheck(rig, mirror)
    return f
  } finally {
    await rig.close()
  }
}
