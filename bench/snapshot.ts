// Benchmark 1: initial snapshot of one ~100 B/row table into an empty target database of the same cluster,
// pgmirror (CREATE MIRROR … initial_snapshot_only, timed until STATUS_COMPLETED) against
// `psql -c "COPY … TO STDOUT" | psql -c "COPY … FROM STDIN"` into the same table layout. Also pgmirror's peak RSS.
//
//   node --import tsx bench/snapshot.ts            (BENCH_ROWS=1000000,2000000 by default; BENCH_QUICK=1: 50000)
import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { assertSameRows, createDatabase, dropDatabases, query, type TestDatabase } from './harness/pg.ts'
import { logEvents, peerSql, startMirrorServer, type MirrorServer } from './harness/pgmirror.ts'
import { backendsOf, CpuTracker, MemorySampler } from './harness/procs.ts'
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

export interface SnapshotResult {
  readonly rows: number
  readonly tableMb: number
  readonly partitions: number
  readonly baselineMs: number
  readonly baselineCpu: Map<string, number>
  readonly pgmirrorMs: number
  readonly pgmirrorCpu: Map<string, number>
  readonly idleHwmMb: number
  readonly peakHwmMb: number
  /** ms from CREATE MIRROR: setup done, first and last partition done, status seen COMPLETED. */
  readonly phases: { setup: number; firstPartition: number; lastPartition: number; completed: number }
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

async function baseline(src: TestDatabase, rows: number): Promise<{ ms: number; cpu: Map<string, number> }> {
  const dst = await createDatabase('snap_base')
  try {
    await query(dst.url, createTargetTable())
    const cpu = new CpuTracker(backendsOf({ [src.name]: 'source backends', [dst.name]: 'target backends' }))
    await cpu.start()
    const { ms, psqlCpu } = await copyPipe(src, dst)
    const used = (await cpu.stop()).cpu
    used.set('psql ×2', psqlCpu)
    const n = (await query(dst.url, `SELECT count(*)::int AS n FROM ${TABLE}`)).rows[0]?.n
    if (Number(n) !== rows) throw new Error(`baseline copied ${n} rows, expected ${rows}`)
    return { ms, cpu: used }
  } finally {
    await dropDatabases(dst)
  }
}

async function viaPgmirror(
  src: TestDatabase,
  rows: number,
): Promise<Omit<SnapshotResult, 'rows' | 'tableMb' | 'baselineMs' | 'baselineCpu'>> {
  const dst = await createDatabase('snap_dst')
  let server: MirrorServer | undefined
  try {
    server = await startMirrorServer()
    await server.sql(peerSql('src', src))
    await server.sql(peerSql('dst', dst))
    const mem = new MemorySampler(server.pid).start()
    const idleHwmMb = mem.sample()?.hwm ?? NaN
    const cpu = new CpuTracker(backendsOf({ [src.name]: 'source backends', [dst.name]: 'target backends' }), [
      { pid: server.pid, label: 'pgmirror (node)' },
    ])
    await cpu.start()
    const started = Date.now()
    const t0 = performance.now()
    await server.sql(`CREATE MIRROR snap FROM src TO dst WITH TABLE MAPPING (${TABLE}:${TABLE})
      WITH (initial_snapshot_only = true, snapshot_num_rows_per_partition = ${envInt('BENCH_PARTITION_ROWS', 250_000)},
            snapshot_max_parallel_workers = ${envInt('BENCH_SNAPSHOT_WORKERS', 4)})`)
    await server.waitForStatus('snap', 'STATUS_COMPLETED')
    const pgmirrorMs = performance.now() - t0
    const pgmirrorCpu = (await cpu.stop()).cpu
    const peakHwmMb = mem.stop().hwmMb

    const parts = await query<{ n: string; first: string; last: string; rows: string }>(
      server.catalog.url,
      `SELECT count(*)::text AS n, (extract(epoch FROM min(done_at)) * 1000)::bigint::text AS first,
              (extract(epoch FROM max(done_at)) * 1000)::bigint::text AS last, sum(rows)::text AS rows
       FROM snapshot_partitions`,
    )
    const p = parts.rows[0]!
    if (Number(p.rows) !== rows) throw new Error(`pgmirror recorded ${p.rows} rows copied, expected ${rows}`)
    const setupAt = logEvents(server, /^mirror setup done$/)[0]?.time ?? NaN
    console.log(`  pgmirror: ${await assertSameRows(src.url, dst.url, TABLE, COLS)} on both sides`)
    return {
      partitions: Number(p.n),
      pgmirrorMs,
      pgmirrorCpu,
      idleHwmMb,
      peakHwmMb,
      phases: {
        setup: setupAt - started,
        firstPartition: Number(p.first) - started,
        lastPartition: Number(p.last) - started,
        completed: pgmirrorMs,
      },
    }
  } finally {
    await server?.close()
    await dropDatabases(dst)
  }
}

export async function runOne(rows: number): Promise<SnapshotResult> {
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
    console.log(`  baseline: psql COPY pipe…`)
    const base = await baseline(src, rows)
    console.log(`  baseline: ${seconds(base.ms)} s`)
    console.log(`  pgmirror: CREATE MIRROR … initial_snapshot_only…`)
    const mine = await viaPgmirror(src, rows)
    console.log(`  pgmirror: ${seconds(mine.pgmirrorMs)} s, peak RSS ${mb(mine.peakHwmMb)} MB`)
    return {
      rows,
      tableMb: Number(size.rows[0]?.mb ?? NaN),
      baselineMs: base.ms,
      baselineCpu: base.cpu,
      ...mine,
    }
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

export function render(results: readonly SnapshotResult[], when: Date, host: string): string {
  const main = table(
    [
      'rows',
      'table MB',
      'psql COPY pipe s',
      'pgmirror s',
      'speed vs COPY pipe',
      'pgmirror rows/s',
      'partitions',
      'pgmirror RSS idle / peak MB',
    ],
    results.map((r) => [
      r.rows.toLocaleString('en-US'),
      r.tableMb.toFixed(0),
      seconds(r.baselineMs),
      seconds(r.pgmirrorMs),
      ratio(r.baselineMs / r.pgmirrorMs),
      Math.round(r.rows / (r.pgmirrorMs / 1000)).toLocaleString('en-US'),
      r.partitions,
      `${mb(r.idleHwmMb)} / ${mb(r.peakHwmMb)}`,
    ]),
  )
  const phases = table(
    ['rows', 'setup done', 'first partition done', 'last partition done', 'STATUS_COMPLETED seen'],
    results.map((r) => [
      r.rows.toLocaleString('en-US'),
      seconds(r.phases.setup),
      seconds(r.phases.firstPartition),
      seconds(r.phases.lastPartition),
      seconds(r.phases.completed),
    ]),
  )
  const cpu = table(
    ['rows', 'run', 'wall s', 'CPU seconds by process (2 cores = 2 CPU-s per wall-s)'],
    results.flatMap((r) => [
      [r.rows.toLocaleString('en-US'), 'psql COPY pipe', seconds(r.baselineMs), cpuText(r.baselineCpu)],
      [r.rows.toLocaleString('en-US'), 'pgmirror', seconds(r.pgmirrorMs), cpuText(r.pgmirrorCpu)],
    ]),
  )
  return [
    `### Results: snapshot (generated ${when.toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
    '',
    `Machine: ${host}.`,
    '',
    `Command: \`${commandLine('snapshot.ts')}\``,
    '',
    main,
    '',
    'Timeline of the pgmirror run, seconds after CREATE MIRROR was sent:',
    '',
    phases,
    '',
    cpu,
  ].join('\n')
}

export async function main(): Promise<SnapshotResult[]> {
  const sizes = envIntList('BENCH_ROWS', quick ? [50_000] : FULL_SIZES)
  const results: SnapshotResult[] = []
  for (const rows of sizes) results.push(await runOne(rows))
  const full = sizes.join() === FULL_SIZES.join() && process.env.BENCH_PARTITION_ROWS === undefined
  publish('snapshot', render(results, new Date(), await machine()), full)
  return results
}

runIfMain(import.meta.url, main)
