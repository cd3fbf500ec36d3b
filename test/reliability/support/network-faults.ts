// Faults between pgmirror and its databases while a write load runs on the source: the target Postgres restarted,
// the walsender killed, and a proxy that drops and stalls connections. Each ends with source ≡ target and a DROP
// MIRROR that must leave nothing behind on the source. The CI tests run them small; `npm run chaos` runs them long.
import { startTcpProxy } from '../../support/tcp-proxy.ts'
import { uniqueName, waitFor } from '../../support/services.ts'
import { startPgCluster } from './pg-cluster.ts'
import { prng } from './prng.ts'
import { createDatabase, createRig, dropAndCheck, logEvents, type Rig } from './rig.ts'
import {
  compareTables,
  lastBatchId,
  newFigures,
  setupMirror,
  startLoad,
  waitForBatches,
  waitForWrites,
  type Figures,
} from './scenario-kit.ts'

const SEED_ROWS = 20_000

/**
 * The target cluster (a throwaway one of our own) is stopped and started again mid-stream, `restarts` times. While it
 * is down SHOW MIRROR must show the write error and the log must show retries with growing attempt numbers; once it
 * is back the mirror must catch up.
 */
export async function targetRestart(opts: { restarts: number; seed: number }): Promise<Figures> {
  const f = newFigures('target Postgres restarted mid-stream')
  const mirror = uniqueName('trs')
  const cluster = await startPgCluster('target')
  let rig: Rig | undefined
  try {
    rig = await createRig({ target: await createDatabase('dst', cluster) })
    await setupMirror(rig, { mirror, rows: SEED_ROWS })
    const load = startLoad(rig, opts.seed, SEED_ROWS + 1, SEED_ROWS)
    for (let i = 0; i < opts.restarts; i++) {
      await waitForBatches(rig, mirror, await lastBatchId(rig, mirror), 1)
      const logged = rig.allLogs().length
      await cluster.stop()
      f.faults++
      const r = rig
      // The mirror keeps trying with backoff, and says why in its status.
      await waitFor(
        () =>
          logEvents(r.allLogs().slice(logged)).some(
            (e) => e.msg === 'batch write failed; retrying' && Number(e.attempt) >= 1,
          ),
        { timeoutMs: 60_000, intervalMs: 100, message: 'a second failed attempt to write a batch' },
      )
      const shown = await rig.show(mirror)
      if (!shown.last_error?.includes('writing batch')) {
        throw new Error(
          `SHOW MIRROR did not show the write error while the target was down: ${shown.last_error}`,
        )
      }
      await cluster.start()
      await waitForBatches(rig, mirror, await lastBatchId(rig, mirror), 1)
      const after = await rig.show(mirror)
      if (after.last_error !== null) throw new Error(`last_error stayed after recovery: ${after.last_error}`)
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

/**
 * The walsender of the mirror's slot is terminated `kills` times mid-stream; the stream must reconnect and resume
 * from its checkpoint. Then the mirror is paused: its retained WAL must grow, in bytes, until it is resumed.
 */
export async function walsenderKill(opts: { kills: number; seed: number }): Promise<Figures> {
  const f = newFigures('walsender terminated mid-stream; paused mirror retains WAL')
  const mirror = uniqueName('wsk')
  const slot = `pgmirror_slot_${mirror}`
  const rig = await createRig()
  try {
    await setupMirror(rig, { mirror, rows: SEED_ROWS })
    const load = startLoad(rig, opts.seed, SEED_ROWS + 1, SEED_ROWS)
    for (let i = 0; i < opts.kills; i++) {
      const before = await waitForBatches(rig, mirror, await lastBatchId(rig, mirror), 1)
      const pid = await waitFor(
        async () =>
          (await rig.src(`SELECT active_pid FROM pg_replication_slots WHERE slot_name = '${slot}'`)).rows[0]
            ?.active_pid as string | null,
        { timeoutMs: 60_000, intervalMs: 50, message: 'the slot to be active' },
      )
      const killed = await rig.src(
        `SELECT pg_terminate_backend(active_pid) AS ok FROM pg_replication_slots WHERE slot_name = '${slot}'`,
      )
      if (killed.rows[0]?.ok !== 't') throw new Error(`could not terminate walsender ${pid}`)
      f.faults++
      // A new walsender, and batches flowing through it.
      await waitFor(
        async () => {
          const r = await rig.src(`SELECT active_pid FROM pg_replication_slots WHERE slot_name = '${slot}'`)
          const now = r.rows[0]?.active_pid as string | null
          return now !== null && now !== pid
        },
        { timeoutMs: 60_000, intervalMs: 50, message: 'the stream to reconnect' },
      )
      await waitForBatches(rig, mirror, before, 2)
      f.trials++
    }
    await pausedMirrorRetainsWal(rig, mirror, () => waitForWrites(load, 20))
    f.trials++
    await load.stop()
    await compareTables(rig, f)
    await dropAndCheck(rig, mirror)
    return f
  } finally {
    await rig.close()
  }
}

/** PAUSE: the retained WAL shown by SHOW MIRROR grows with the writes, in bytes; RESUME streams again. */
async function pausedMirrorRetainsWal(
  rig: Rig,
  mirror: string,
  moreWrites: () => Promise<void>,
): Promise<void> {
  await rig.sql(`PAUSE MIRROR ${mirror}`)
  await rig.waitForStatus(mirror, 'STATUS_PAUSED')
  const a = await rig.show(mirror)
  await moreWrites()
  const b = await rig.show(mirror)
  if (!/^\d+$/.test(a.retained_wal_bytes ?? '') || !/^\d+$/.test(b.retained_wal_bytes ?? '')) {
    throw new Error(
      `retained_wal_bytes is not a byte count: ${a.retained_wal_bytes}, ${b.retained_wal_bytes}`,
    )
  }
  if (!(BigInt(b.retained_wal_bytes!) > BigInt(a.retained_wal_bytes!))) {
    throw new Error(
      `retained WAL did not grow while paused: ${a.retained_wal_bytes} → ${b.retained_wal_bytes}`,
    )
  }
  await rig.sql(`RESUME MIRROR ${mirror}`)
  await rig.waitForStatus(mirror, 'STATUS_RUNNING')
  await waitForBatches(rig, mirror, await lastBatchId(rig, mirror), 1)
}

/**
 * pgmirror reaches both databases through proxies of our own, which drop every connection or stall all traffic,
 * `faults` times in random order, during the snapshot and while streaming. Nothing may be lost or doubled.
 */
export async function proxyFaults(opts: { faults: number; seed: number }): Promise<Figures> {
  const f = newFigures('TCP proxy drops and stalls connections to source and target')
  const mirror = uniqueName('prx')
  const rnd = prng(opts.seed)
  const rig = await createRig()
  const src = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(rig.source.url).port) })
  const dst = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(rig.target.url).port) })
  try {
    await setupMirror(rig, {
      mirror,
      rows: SEED_ROWS,
      sourcePort: src.port,
      targetPort: dst.port,
      options: 'snapshot_num_rows_per_partition = 2000, snapshot_max_parallel_workers = 2',
      waitRunning: false,
    })
    // One fault during the snapshot, when partitions are being copied.
    await waitFor(
      async () =>
        Number((await rig.cat('SELECT max(partitions_done) AS n FROM mirror_tables')).rows[0]?.n ?? 0) >= 1,
      { timeoutMs: 60_000, intervalMs: 50, message: 'a first snapshot partition' },
    )
    src.dropAll()
    dst.dropAll()
    f.faults++
    await rig.waitForStatus(mirror, 'STATUS_RUNNING', 120_000)
    const load = startLoad(rig, opts.seed, SEED_ROWS + 1, SEED_ROWS)
    for (let i = 0; i < opts.faults; i++) {
      await waitForBatches(rig, mirror, await lastBatchId(rig, mirror), 1)
      const proxies = rnd.pick([[src], [dst], [src, dst]])
      if (rnd.chance(0.5)) {
        for (const p of proxies) p.dropAll()
      } else {
        for (const p of proxies) p.stall()
        await waitForWrites(load, rnd.between(5, 40))
        for (const p of proxies) p.resume()
      }
      f.faults++
      f.trials++
    }
    await waitForBatches(rig, mirror, await lastBatchId(rig, mirror), 1)
    await load.stop()
    await compareTables(rig, f)
    await dropAndCheck(rig, mirror)
    f.notes.push(`${src.accepted} source and ${dst.accepted} target connections through the proxies`)
    return f
  } finally {
    await rig.close()
    await Promise.all([src.close(), dst.close()])
  }
}

/**
 * The connection holding the slot's exported snapshot is cut mid-snapshot (its walsender terminated): the rest of
 * the snapshot must go on under a fresh snapshot and the mirror reach RUNNING with source ≡ target.
 */
export async function snapshotHolderKilled(opts: { seed: number }): Promise<Figures> {
  const f = newFigures('connection holding the exported snapshot cut mid-snapshot')
  const mirror = uniqueName('shk')
  const rig = await createRig()
  try {
    await setupMirror(rig, {
      mirror,
      rows: SEED_ROWS,
      options: 'snapshot_num_rows_per_partition = 1000, snapshot_max_parallel_workers = 1',
      waitRunning: false,
    })
    await waitFor(
      async () =>
        Number((await rig.cat('SELECT max(partitions_done) AS n FROM mirror_tables')).rows[0]?.n ?? 0) >= 2,
      { timeoutMs: 60_000, intervalMs: 50, message: 'two snapshot partitions' },
    )
    const killed = await rig.src(
      `SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity
       WHERE datname = current_database() AND backend_type = 'walsender' AND application_name LIKE 'pgmirror%'`,
    )
    if (killed.rows[0]?.n === '0') throw new Error('no walsender held the snapshot')
    f.faults++
    const load = startLoad(rig, opts.seed, SEED_ROWS + 1, SEED_ROWS)
    await rig.waitForStatus(mirror, 'STATUS_RUNNING', 120_000)
    await waitForBatches(rig, mirror, await lastBatchId(rig, mirror), 1)
    f.trials++
    await load.stop()
    await compareTables(rig, f)
    await dropAndCheck(rig, mirror)
    return f
  } finally {
    await rig.close()
  }
}

/**
 * The target is reached through a proxy that stalls while a batch is being written, then drops the connection:
 * the pooled client breaks while it is checked out. pgmirror must survive it (`rounds` times) and catch up.
 */
export async function targetDroppedMidBatch(opts: { rounds: number; seed: number }): Promise<Figures> {
  const f = newFigures('target connection broken while a batch is being written')
  const mirror = uniqueName('tdm')
  const rig = await createRig()
  const dst = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(rig.target.url).port) })
  try {
    await setupMirror(rig, { mirror, rows: SEED_ROWS, targetPort: dst.port })
    const load = startLoad(rig, opts.seed, SEED_ROWS + 1, SEED_ROWS)
    for (let i = 0; i < opts.rounds; i++) {
      await waitForBatches(rig, mirror, await lastBatchId(rig, mirror), 1)
      dst.stall()
      // Long enough for the next batch (sync_interval = 1 s) to be sent into the stalled connection.
      await waitForWrites(load, 60)
      dst.dropAll()
      dst.resume()
      f.faults++
      await waitForBatches(rig, mirror, await lastBatchId(rig, mirror), 1)
      f.trials++
    }
    await load.stop()
    await compareTables(rig, f)
    await dropAndCheck(rig, mirror)
    return f
  } finally {
    await rig.close()
    await dst.close()
  }
}
