// Benchmark 3: end-to-end lag at a steady insert rate. Each source row carries clock_timestamp() from its insert;
// a poller on the target (every BENCH_LAG_POLL_MS) records when each row became visible there, and lag is
// arrival − inserted_at, both read from the same cluster clock. pgmirror runs at sync_interval = 1 (the floor:
// the option takes whole seconds ≥ 1) with several max_batch_size settings; native logical replication is the
// baseline.
//
//   node --import tsx bench/lag.ts     (BENCH_LAG_RATE=5000 rows/s, BENCH_LAG_SECONDS=30; BENCH_QUICK=1: 5 s)
import { performance } from 'node:perf_hooks'
import { connect, createDatabase, dropDatabases, query, type TestDatabase } from './harness/pg.ts'
import { peerSql, startMirrorServer, type MirrorServer } from './harness/pgmirror.ts'
import { cleanRun, CpuTracker, waitForQuietMachine } from './harness/procs.ts'
import {
  commandLine,
  envInt,
  envIntList,
  machine,
  percentile,
  publish,
  quick,
  ratio,
  runIfMain,
  table,
} from './harness/report.ts'

const LAG_TABLE = 'public.bench_lag'
const SOURCE_DDL = `CREATE TABLE ${LAG_TABLE} (id bigserial PRIMARY KEY,
  inserted_at timestamptz NOT NULL DEFAULT clock_timestamp(), payload text NOT NULL)`
const TARGET_DDL = `CREATE TABLE ${LAG_TABLE} (id bigint PRIMARY KEY, inserted_at timestamptz NOT NULL,
  payload text NOT NULL, "_PEERDB_SYNCED_AT" timestamptz DEFAULT now())`
const SUB = 'bench_lag_sub'
const PAYLOAD = 'x'.repeat(60)
const FULL = { rate: 5000, seconds: 30 }

export interface LagPhase {
  readonly name: string
  readonly produced: number
  readonly rate: number
  /** Visible on the target − inserted_at, ms, ascending (rows after the warm-up only). */
  readonly seen: number[]
  /** _PEERDB_SYNCED_AT (start of the applying transaction) − inserted_at, ms, ascending. */
  readonly synced: number[]
  readonly cpu: Map<string, number>
  readonly machineS: number
  readonly foreignS: number
  readonly wallS: number
}

interface PhaseOptions {
  readonly name: string
  readonly src: TestDatabase
  readonly dst: TestDatabase
  readonly rate: number
  readonly seconds: number
  readonly warmupS: number
  readonly cooldownS: number
  readonly pollMs: number
  readonly pgmirrorPid?: number
}

/** Inserts `rate` rows a second for `seconds`, in a statement every 10 ms; resolves with the rows inserted. */
async function produce(
  src: TestDatabase,
  rate: number,
  seconds: number,
): Promise<{ rows: number; ms: number }> {
  const c = await connect(src.url)
  try {
    let rows = 0
    const t0 = performance.now()
    while (true) {
      const elapsed = performance.now() - t0
      if (elapsed >= seconds * 1000) break
      const due = Math.floor((elapsed / 1000) * rate) - rows
      if (due > 0) {
        await c.query(`INSERT INTO ${LAG_TABLE} (payload) SELECT $1 FROM generate_series(1, $2)`, [
          PAYLOAD,
          due,
        ])
        rows += due
      }
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    return { rows, ms: performance.now() - t0 }
  } finally {
    await c.end()
  }
}

async function runPhase(o: PhaseOptions): Promise<LagPhase> {
  await waitForQuietMachine()
  const startId = Number(
    (await query(o.src.url, `SELECT coalesce(max(id), 0)::text AS m FROM ${LAG_TABLE}`)).rows[0]!.m,
  )
  // Only rows inserted in the steady middle count: not while the pipeline warms up, and not the last
  // cool-down seconds, whose final partial batch waits for sync_interval because the stream stops, not because
  // of the steady rate being measured.
  const window = (
    await query<{ from: string; to: string }>(
      o.src.url,
      `SELECT (clock_timestamp() + $1 * interval '1 second')::text AS from,
              (clock_timestamp() + $2 * interval '1 second')::text AS to`,
      [o.warmupS, o.seconds],
    )
  ).rows[0]!
  const cpu = new CpuTracker(
    async () => [],
    o.pgmirrorPid === undefined ? [] : [{ pid: o.pgmirrorPid, label: 'pgmirror (node)' }],
  )
  await cpu.start()
  const seen: number[] = []
  const synced: number[] = []
  let lastId = startId
  let received = 0
  let producing = true
  let target = Infinity
  const observer = await connect(o.dst.url)
  const observe = (async () => {
    const deadline = () => (producing ? Infinity : performance.now() + 60_000)
    let until = Infinity
    while (true) {
      const r = await observer.query<{ id: string; seen: string; synced: string | null; counted: boolean }>(
        `SELECT id, (extract(epoch FROM clock_timestamp() - inserted_at) * 1000)::float8::text AS seen,
                (extract(epoch FROM "_PEERDB_SYNCED_AT" - inserted_at) * 1000)::float8::text AS synced,
                inserted_at BETWEEN $2::timestamptz AND $3::timestamptz AS counted
         FROM ${LAG_TABLE} WHERE id > $1 ORDER BY id`,
        [lastId, window.from, window.to],
      )
      for (const row of r.rows) {
        received++
        lastId = Number(row.id)
        if (String(row.counted) !== 'true' && String(row.counted) !== 't') continue
        seen.push(Number(row.seen))
        if (row.synced !== null) synced.push(Number(row.synced))
      }
      if (!producing && until === Infinity) until = deadline()
      if (!producing && lastId >= target) return
      if (performance.now() > until)
        throw new Error(`${o.name}: rows stopped arriving at id ${lastId} of ${target}`)
      await new Promise((resolve) => setTimeout(resolve, o.pollMs))
    }
  })()
  const made = await produce(o.src, o.rate, o.seconds + o.cooldownS)
  target = startId + made.rows
  producing = false
  try {
    await observe
  } finally {
    await observer.end()
  }
  const used = await cpu.stop()
  const inSource = (
    await query(o.src.url, `SELECT count(*)::int AS n FROM ${LAG_TABLE} WHERE id > $1`, [startId])
  ).rows[0]!.n
  if (received !== made.rows)
    throw new Error(`${o.name}: ${made.rows} rows inserted (${inSource} in the source), ${received} arrived`)
  const asc = (a: number, b: number) => a - b
  return {
    name: o.name,
    produced: made.rows,
    rate: made.rows / (made.ms / 1000),
    seen: seen.sort(asc),
    synced: synced.sort(asc),
    cpu: used.cpu,
    machineS: used.machineS,
    foreignS: used.foreignS,
    wallS: used.wallS,
  }
}

const noise = (p: LagPhase): number => p.foreignS / p.wallS

/** What the gateway answers to a sub-second sync_interval: the floor, in the gateway's own words. */
async function subSecondAnswer(server: MirrorServer): Promise<string> {
  const answers: string[] = []
  for (const v of ['0', '0.5']) {
    try {
      await server.sql(`ALTER MIRROR lag SET (sync_interval = ${v})`)
      answers.push(`sync_interval = ${v}: accepted`)
    } catch (e) {
      const err = e as { code?: string; message?: string }
      answers.push(`sync_interval = ${v}: ERROR ${err.code} ${err.message}`)
    }
  }
  return answers.join('; ')
}

export async function main(): Promise<LagPhase[]> {
  const rate = envInt('BENCH_LAG_RATE', FULL.rate)
  const secs = envInt('BENCH_LAG_SECONDS', quick ? 5 : FULL.seconds)
  const pollMs = envInt('BENCH_LAG_POLL_MS', 10)
  const batchSizes = envIntList('BENCH_LAG_BATCH_SIZES', [100_000, 1000, 250])
  const warmupS = Math.min(2, secs / 5)
  const cooldownS = 2
  const common = { rate, seconds: secs, warmupS, cooldownS, pollMs }
  const nsrc = await createDatabase('lag_nsrc')
  const ndst = await createDatabase('lag_ndst')
  const src = await createDatabase('lag_src')
  const dst = await createDatabase('lag_dst')
  let server: MirrorServer | undefined
  let subscribed = false
  const phases: LagPhase[] = []
  try {
    // Native logical replication, subscription enabled and idle before the phase starts.
    const u = new URL(nsrc.url)
    await query(nsrc.url, SOURCE_DDL)
    await query(ndst.url, TARGET_DDL)
    await query(nsrc.url, `CREATE PUBLICATION ${SUB} FOR TABLE ${LAG_TABLE}`)
    await query(nsrc.url, `SELECT pg_create_logical_replication_slot('${SUB}_${nsrc.name}', 'pgoutput')`)
    await query(
      ndst.url,
      `CREATE SUBSCRIPTION ${SUB} CONNECTION 'host=${u.hostname} port=${u.port} user=${decodeURIComponent(u.username)} dbname=${nsrc.name}'
       PUBLICATION ${SUB} WITH (create_slot = false, slot_name = '${SUB}_${nsrc.name}', copy_data = false)`,
    )
    subscribed = true
    console.log(`lag: native subscription, ${rate} rows/s for ${secs} s…`)
    const native = { ...common, name: 'native logical replication', src: nsrc, dst: ndst }
    phases.push(await cleanRun(native.name, () => runPhase(native), noise))

    await query(src.url, SOURCE_DDL)
    server = await startMirrorServer()
    await server.sql(peerSql('src', src))
    await server.sql(peerSql('dst', dst))
    await server.sql(`CREATE MIRROR lag FROM src TO dst WITH TABLE MAPPING (${LAG_TABLE}:${LAG_TABLE})
      WITH (do_initial_copy = false, sync_interval = 1, max_batch_size = ${batchSizes[0] ?? 100_000})`)
    await server.waitForStatus('lag', 'STATUS_RUNNING', 120_000)
    const floor = await subSecondAnswer(server)
    for (const size of batchSizes) {
      await server.sql(`ALTER MIRROR lag SET (max_batch_size = ${size}, sync_interval = 1)`)
      // The stream picks up option changes at its next status check, once a second.
      await new Promise((resolve) => setTimeout(resolve, 2000))
      const name = `pgmirror, sync_interval = 1, max_batch_size = ${size}`
      console.log(`lag: ${name}…`)
      const phase = { ...common, name, src, dst, pgmirrorPid: server.pid }
      phases.push(await cleanRun(name, () => runPhase(phase), noise))
    }
    await report(phases, floor, common)
    return phases
  } finally {
    if (server) {
      await server.sql('DROP MIRROR IF EXISTS lag').catch(() => undefined)
      await server.close()
    }
    if (subscribed) {
      await query(ndst.url, `ALTER SUBSCRIPTION ${SUB} DISABLE`).catch(() => undefined)
      await query(ndst.url, `ALTER SUBSCRIPTION ${SUB} SET (slot_name = NONE)`).catch(() => undefined)
      await query(ndst.url, `DROP SUBSCRIPTION ${SUB}`).catch(() => undefined)
    }
    await dropDatabases(nsrc, ndst, src, dst)
  }
}

const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '–')

async function report(
  phases: readonly LagPhase[],
  floor: string,
  o: { rate: number; seconds: number; pollMs: number; warmupS: number; cooldownS: number },
): Promise<void> {
  const native = phases[0]
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ')
  const rows = phases.map((p) => [
    p.name,
    Math.round(p.rate).toLocaleString('en-US'),
    ms(percentile(p.seen, 50)),
    ms(percentile(p.seen, 90)),
    ms(percentile(p.seen, 99)),
    ms(p.seen.at(-1) ?? NaN),
    native ? ratio(percentile(p.seen, 99) / percentile(native.seen, 99)) : '–',
    `${ms(percentile(p.synced, 50))} / ${ms(percentile(p.synced, 99))}`,
    p.machineS.toFixed(1),
    p.foreignS.toFixed(1),
    p.cpu.get('pgmirror (node)')?.toFixed(1) ?? '–',
  ])
  const body = [
    `### Results: end-to-end lag (generated ${when} UTC)`,
    '',
    `Machine: ${await machine()}.`,
    '',
    `Command: \`${commandLine()}\`. Each row of the table: ${o.rate} inserts/s (one INSERT every ` +
      `10 ms) for ${o.seconds + o.cooldownS} s; counted are the rows inserted from ${o.warmupS} s to ` +
      `${o.seconds} s (steady state: not the warm-up, and not the last ${o.cooldownS} s, whose final partial ` +
      `batch waits for sync_interval only because the stream stops). The target is polled every ` +
      `${o.pollMs} ms, so "visible" is late by up to one poll plus the poll's own query time; "synced-at" is ` +
      'the target column set by now() in the applying transaction (its start).',
    '',
    table(
      [
        'run',
        'rows/s achieved',
        'visible p50 ms',
        'p90 ms',
        'p99 ms',
        'max ms',
        'p99 ÷ native p99',
        'synced-at p50 / p99 ms',
        'machine CPU-s',
        "others' load CPU-s",
        'pgmirror CPU-s',
      ],
      rows,
    ),
    '',
    `Sub-second sync_interval: ${floor}.`,
  ].join('\n')
  publish(
    'lag',
    body,
    o.rate === FULL.rate && o.seconds === FULL.seconds && process.env.BENCH_LAG_BATCH_SIZES === undefined,
  )
}

runIfMain(import.meta.url, main)
