// Benchmark 1: initial snapshot of one ~100 B/row table into an empty target database of the same cluster,
// pgmirror (CREATE MIRROR … initial_snapshot_only, timed until STATUS_COMPLETED) against
// `psql -c "COPY … TO STDOUT" | psql -c "COPY … FROM STDIN"` into the same table layout. Also pgmirror's peak RSS.
//
//   node --import tsx bench/snapshot.ts            (BENCH_ROWS=1000000,2000000 by default; BENCH_QUICK=1: 50000)
import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { assertSameRows, createDatabase, dropDatabases, query, type TestDatabase } from './harness/pg.ts'
import { logEvents, peerSql, startMirrorServer, type MirrorServer } from './harness/pgmirror.ts'
import { backendsOf, cleanRun, CpuTracker, MemorySampler, waitForQuietMachine } from './harness/procs.ts'
import { WaitSampler } from './harness/waits.ts'
import { CopyWatcher } from './harness/copy-watch.ts'
import {
  commandLine,
  envInt,
  envIntList,
  machine,
  mb,
  publish,
  quick,
  ratio,
  runIfMain,
  seconds,
  table,
} from './harness/report.ts'
import { COLS, createSourceTable, createTargetTable, fillRows, TABLE } from './harness/workload.ts'

const FULL_SIZES = [1_000_000, 2_000_000]
const WORKERS = envInt('BENCH_SNAPSHOT_WORKERS', 4)

/** One timed copy, either contestant. */
export interface CopyRun {
  readonly ms: number
  /** CPU seconds per process group. */
  readonly cpu: Map<string, number>
  /** Per backend group, the most frequent wait events. */
  readonly waits: Map<string, string>
  /** CPU seconds every process on the machine used during the run (ours included). */
  readonly machineS: number
  /** CPU seconds of processes that were not part of the run (someone else's load). */
  readonly foreignS: number
}

export interface PgmirrorRun extends CopyRun {
  readonly partitions: number
  readonly idleHwmMb: number
  readonly peakHwmMb: number
  /**
   * ms from CREATE MIRROR: setup done, first partition read started, first and last partition done; the mean
   * time one partition took (read start → committed), and how many were in flight on average.
   */
  readonly phases: {
    setup: number
    firstCopy: number
    firstPartition: number
    lastPartition: number
    partitionMs: number
    inFlight: number
  }
}

export interface SnapshotResult {
  readonly rows: number
  readonly tableMb: number
  readonly baseline: readonly CopyRun[]
  readonly pgmirror: readonly PgmirrorRun[]
}

/** The baseline: two psql processes joined by a pipe, timed by bash (wall, user, sys of both psql). */
async function copyPipe(src: TestDatabase, dst: TestDatabase): Promise<{ ms: number; psqlCpu: number }> {
  const script = `TIMEFORMAT='%U %S'; time (psql -X -q -v ON_ERROR_STOP=1 "$SRC" -c "COPY ${TABLE} (${COLS}) TO STDOUT" | psql -X -q -v ON_ERROR_STOP=1 "$DST" -c "COPY ${TABLE} (${COLS}) FROM STDIN")`
  const t0 = performance.now()
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn('bash', ['-c', script], {
      env: { ...process.env, SRC: src.url, DST: dst.url },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (c: Buffer) => (err += c.toString()))
    child.on('exit', (c) => resolve({ code: c, stderr: err }))
  })
  const ms = performance.now() - t0
  if (code !== 0) throw new Error(`COPY pipeline failed (${code}): ${stderr}`)
  const [user, sys] = stderr.trim().split('\n').at(-1)!.split(' ').map(Number)
  return { ms, psqlCpu: (user ?? 0) + (sys ?? 0) }
}

const labels = (src: TestDatabase, dst: TestDatabase) => ({
  [src.name]: 'source backends',
  [dst.name]: 'target backends',
})

async function baseline(src: TestDatabase, rows: number): Promise<CopyRun> {
  const dst = await createDatabase('snap_base')
  try {
    await query(dst.url, createTargetTable())
    const cpu = new CpuTracker(backendsOf(labels(src, dst)))
    const waits = new WaitSampler(labels(src, dst))
    await waitForQuietMachine()
    await Promise.all([cpu.start(), waits.start()])
    const { ms, psqlCpu } = await copyPipe(src, dst)
    const [{ cpu: used, machineS, foreignS }, waited] = await Promise.all([cpu.stop(), waits.stop()])
    used.set('psql ×2', psqlCpu)
    const n = (await query(dst.url, `SELECT count(*)::int AS n FROM ${TABLE}`)).rows[0]?.n
    if (Number(n) !== rows) throw new Error(`baseline copied ${n} rows, expected ${rows}`)
    return { ms, cpu: used, waits: waited, machineS, foreignS: Math.max(0, foreignS - psqlCpu) }
  } finally {
    await dropDatabases(dst)
  }
}

async function viaPgmirror(src: TestDatabase, rows: number): Promise<PgmirrorRun> {
  const dst = await createDatabase('snap_dst')
  let server: MirrorServer | undefined
  try {
    server = await startMirrorServer()
    await server.sql(peerSql('src', src))
    await server.sql(peerSql('dst', dst))
    const mem = new MemorySampler(server.pid).start()
    const idleHwmMb = mem.sample()?.hwm ?? NaN
    const dbs = { ...labels(src, dst), [server.catalog.name]: 'catalog backends' }
    const cpu = new CpuTracker(backendsOf(dbs), [{ pid: server.pid, label: 'pgmirror (node)' }])
    const waits = new WaitSampler(dbs)
    const copies = new CopyWatcher(src.name)
    await waitForQuietMachine()
    await Promise.all([cpu.start(), waits.start(), copies.start()])
    const started = Date.now()
    const t0 = performance.now()
    await server.sql(`CREATE MIRROR snap FROM src TO dst WITH TABLE MAPPING (${TABLE}:${TABLE})
      WITH (initial_snapshot_only = true, snapshot_num_rows_per_partition = ${envInt('BENCH_PARTITION_ROWS', 250_000)},
            snapshot_max_parallel_workers = ${WORKERS})`)
    await server.waitForStatus('snap', 'STATUS_COMPLETED')
    const ms = performance.now() - t0
    const [{ cpu: used, machineS, foreignS }, waited, starts] = await Promise.all([
      cpu.stop(),
      waits.stop(),
      copies.stop(),
    ])
    const peakHwmMb = mem.stop().hwmMb

    const parts = await query<{ block: string; done: string; rows: string }>(
      server.catalog.url,
      `SELECT start_block::text AS block, (extract(epoch FROM done_at) * 1000)::float8::text AS done, rows::text
       FROM snapshot_partitions ORDER BY partition_index`,
    )
    const copied = parts.rows.reduce((n, r) => n + Number(r.rows), 0)
    if (copied !== rows) throw new Error(`pgmirror recorded ${copied} rows copied, expected ${rows}`)
    const done = parts.rows.map((r) => Number(r.done))
    const begun = parts.rows.map((r) => starts.get(Number(r.block)) ?? NaN)
    const busyMs = parts.rows.reduce((sum, _, i) => sum + ((done[i] ?? NaN) - (begun[i] ?? NaN)), 0)
    const setupAt = logEvents(server, /^mirror setup done$/)[0]?.time ?? NaN
    console.log(`  pgmirror: ${await assertSameRows(src.url, dst.url, TABLE, COLS)} on both sides`)
    return {
      ms,
      cpu: used,
      waits: waited,
      machineS,
      foreignS,
      partitions: parts.rows.length,
      idleHwmMb,
      peakHwmMb,
      phases: {
        setup: setupAt - started,
        firstCopy: Math.min(...begun) - started,
        firstPartition: Math.min(...done) - started,
        lastPartition: Math.max(...done) - started,
        partitionMs: busyMs / parts.rows.length,
        inFlight: busyMs / (Math.max(...done) - Math.min(...begun)),
      },
    }
  } finally {
    await server?.close()
    await dropDatabases(dst)
  }
}

const noise = (r: CopyRun): number => r.foreignS / (r.ms / 1000)

/** The run with the median time (the lower middle one for an even count). */
export function median<T extends { readonly ms: number }>(runs: readonly T[]): T {
  const sorted = [...runs].sort((a, b) => a.ms - b.ms)
  return sorted[Math.floor((sorted.length - 1) / 2)] as T
}

export async function runOne(rows: number, repeats: number): Promise<SnapshotResult> {
  const src = await createDatabase('snap_src')
  try {
    console.log(`snapshot, ${rows} rows: loading the source…`)
    await query(src.url, createSourceTable())
    await fillRows((sql) => query(src.url, sql), rows)
    // Frozen, analyzed and read once, so neither contestant pays for hint bits or a cold cache.
    await query(src.url, `VACUUM (FREEZE, ANALYZE) ${TABLE}`)
    await query(src.url, `SELECT count(*) FROM ${TABLE}`)
    const size = await query<{ mb: string }>(
      src.url,
      `SELECT (pg_table_size('${TABLE}') / 1048576.0)::text AS mb`,
    )
    const baselineRuns: CopyRun[] = []
    const pgmirrorRuns: PgmirrorRun[] = []
    // Alternating, so drift in the machine (other load, cache, checkpoints) hits both alike.
    for (let i = 1; i <= repeats; i++) {
      const base = await cleanRun('psql COPY pipe', () => baseline(src, rows), noise)
      baselineRuns.push(base)
      console.log(`  [${i}/${repeats}] psql COPY pipe: ${seconds(base.ms)} s`)
      const mine = await cleanRun('pgmirror', () => viaPgmirror(src, rows), noise)
      pgmirrorRuns.push(mine)
      console.log(`  [${i}/${repeats}] pgmirror: ${seconds(mine.ms)} s, peak RSS ${mb(mine.peakHwmMb)} MB`)
    }
    return { rows, tableMb: Number(size.rows[0]?.mb ?? NaN), baseline: baselineRuns, pgmirror: pgmirrorRuns }
  } finally {
    await dropDatabases(src)
  }
}

const cpuText = (cpu: Map<string, number>): string =>
  [...cpu]
    .filter(([, s]) => s >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([label, s]) => `${label} ${s.toFixed(1)}`)
    .join(', ')

const waitText = (waits: Map<string, string>): string =>
  [...waits].map(([label, w]) => `${label}: ${w}`).join('; ')

const times = (runs: readonly CopyRun[]): string => runs.map((r) => seconds(r.ms)).join(', ')

export function render(
  results: readonly SnapshotResult[],
  when: Date,
  host: string,
  workers: number,
): string {
  const rowsText = (r: SnapshotResult) => r.rows.toLocaleString('en-US')
  const main = table(
    [
      'rows',
      'table MB',
      'psql COPY pipe s (median)',
      'pgmirror s (median)',
      'pgmirror speed vs COPY pipe',
      'pgmirror rows/s',
      'CPU-s used: pipe / pgmirror',
      'partitions',
      'pgmirror RSS idle / peak MB',
    ],
    results.map((r) => {
      const b = median(r.baseline)
      const m = median(r.pgmirror)
      return [
        rowsText(r),
        r.tableMb.toFixed(0),
        seconds(b.ms),
        seconds(m.ms),
        ratio(b.ms / m.ms),
        Math.round(r.rows / (m.ms / 1000)).toLocaleString('en-US'),
        `${(b.machineS - b.foreignS).toFixed(1)} / ${(m.machineS - m.foreignS).toFixed(1)}`,
        m.partitions,
        `${mb(Math.max(...r.pgmirror.map((x) => x.idleHwmMb)))} / ${mb(Math.max(...r.pgmirror.map((x) => x.peakHwmMb)))}`,
      ]
    }),
  )
  const raw = table(
    ['rows', 'psql COPY pipe runs s', 'pgmirror runs s'],
    results.map((r) => [rowsText(r), times(r.baseline), times(r.pgmirror)]),
  )
  const phases = table(
    [
      'rows',
      'setup done',
      'first COPY started',
      'first partition done',
      'last partition done',
      'STATUS_COMPLETED seen',
      'mean partition s',
      'partitions in flight (mean)',
    ],
    results.map((r) => {
      const m = median(r.pgmirror)
      return [
        rowsText(r),
        seconds(m.phases.setup),
        seconds(m.phases.firstCopy),
        seconds(m.phases.firstPartition),
        seconds(m.phases.lastPartition),
        seconds(m.ms),
        seconds(m.phases.partitionMs),
        m.phases.inFlight.toFixed(1),
      ]
    }),
  )
  const cpu = table(
    [
      'rows',
      'run (median)',
      'wall s',
      'machine CPU-s (all processes)',
      "of which others' load",
      'CPU seconds by process group',
      'backend states sampled (pg_stat_activity)',
    ],
    results.flatMap((r) => {
      const b = median(r.baseline)
      const m = median(r.pgmirror)
      return [
        [
          rowsText(r),
          'psql COPY pipe',
          seconds(b.ms),
          b.machineS.toFixed(1),
          b.foreignS.toFixed(1),
          cpuText(b.cpu),
          waitText(b.waits),
        ],
        [
          rowsText(r),
          'pgmirror',
          seconds(m.ms),
          m.machineS.toFixed(1),
          m.foreignS.toFixed(1),
          cpuText(m.cpu),
          waitText(m.waits),
        ],
      ]
    }),
  )
  return [
    `### Results: snapshot (generated ${when.toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
    '',
    `Machine: ${host}.`,
    '',
    `Command: \`${commandLine()}\` (snapshot_max_parallel_workers = ${workers}).`,
    '',
    main,
    '',
    'Every run, in order (the two contestants alternate):',
    '',
    raw,
    '',
    'Timeline of the median pgmirror run, seconds after CREATE MIRROR was sent:',
    '',
    phases,
    '',
    'CPU (2 cores = at most 2 CPU-seconds per wall second) and what the backends were doing:',
    '',
    cpu,
  ].join('\n')
}

export async function main(): Promise<SnapshotResult[]> {
  const sizes = envIntList('BENCH_ROWS', quick ? [50_000] : FULL_SIZES)
  const repeats = envInt('BENCH_REPEATS', quick ? 1 : 3)
  const results: SnapshotResult[] = []
  for (const rows of sizes) results.push(await runOne(rows, repeats))
  const full =
    sizes.join() === FULL_SIZES.join() &&
    process.env.BENCH_PARTITION_ROWS === undefined &&
    process.env.BENCH_SNAPSHOT_WORKERS === undefined
  publish('snapshot', render(results, new Date(), await machine(), WORKERS), full)
  return results
}

runIfMain(import.meta.url, main)
