// Restarts of the queue backend under a streaming mirror and a write load: a Redis without persistence (it comes
// back empty, every queued job gone) and the catalog Postgres when it holds the queue. Both run on throwaway servers
// of our own. Each ends with source ≡ target and a clean source after DROP MIRROR.
import { uniqueName } from '../../support/services.ts'
import { startPgCluster } from './pg-cluster.ts'
import { startRedisServer } from './redis-server.ts'
import { createDatabase, createRig, dropAndCheck, type Rig } from './rig.ts'
import {
  compareTables,
  lastBatchId,
  newFigures,
  setupMirror,
  startLoad,
  waitForBatches,
  type Figures,
} from './scenario-kit.ts'

const SEED_ROWS = 20_000

/**
 * Redis is killed and started empty `restarts` times while the mirror streams; after each, pgmirror is also
 * SIGKILLed and started again, so the mirror can only go on if pgmirror re-creates the job Redis lost.
 */
export async function redisRestart(opts: { restarts: number; seed: number }): Promise<Figures> {
  const f = newFigures('Redis queue restarted empty (no persistence), then pgmirror restarted')
  const mirror = uniqueName('rds')
  const redis = await startRedisServer()
  let rig: Rig | undefined
  try {
    rig = await createRig({ env: { REDIS_URL: redis.url, PGMIRROR_REDIS_PREFIX: uniqueName('rel') } })
    await setupMirror(rig, { mirror, rows: SEED_ROWS })
    const load = startLoad(rig, opts.seed, SEED_ROWS + 1, SEED_ROWS)
    for (let i = 0; i < opts.restarts; i++) {
      await waitForBatches(rig, mirror, await lastBatchId(rig, mirror), 1)
      await redis.restart()
      f.faults++
      if ((await redis.keyCount()) > 50) throw new Error('the restarted Redis was expected to start empty')
      // The process that runs the mirror still holds it in memory: streaming goes on.
      await waitForBatches(rig, mirror, await lastBatchId(rig, mirror), 2)
      // Now that process dies: only a job re-created from the catalog can bring the mirror back.
      await rig.server.kill()
      await rig.restart()
      f.faults++
      await waitForBatches(rig, mirror, await lastBatchId(rig, mirror), 2, 60_000)
      f.trials++
    }
    await load.stop()
    await compareTables(rig, f)
    await dropAndCheck(rig, mirror)
    return f
  } finally {
    await rig?.close()
    await redis.destroy()
  }
}

/**
 * The catalog Postgres, which also holds the job queue, is restarted `restarts` times while the mirror streams.
 * pgmirror keeps running; the mirror must go on by itself.
 */
export async function catalogRestart(opts: { restarts: number; seed: number }): Promise<Figures> {
  const f = newFigures('catalog Postgres (and its job queue) restarted mid-stream')
  const mirror = uniqueName('ctr')
  const cluster = await startPgCluster('catalog')
  let rig: Rig | undefined
  try {
    rig = await createRig({ catalog: await createDatabase('cat', cluster) })
    await setupMirror(rig, { mirror, rows: SEED_ROWS })
    const load = startLoad(rig, opts.seed, SEED_ROWS + 1, SEED_ROWS)
    for (let i = 0; i < opts.restarts; i++) {
      await waitForBatches(rig, mirror, await lastBatchId(rig, mirror), 1)
      await cluster.restart()
      f.faults++
      await waitForBatches(rig, mirror, await lastBatchId(rig, mirror), 2, 90_000)
      f.trials++
    }
    await load.stop()
    await compareTables(rig, f)
    await dropAndCheck(rig, mirror)
    return f
  } finally {
    await rig?.close()
    await cluster.destroy()
  }
}
