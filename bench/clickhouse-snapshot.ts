// ClickHouse benchmark 1: initial snapshot of the benchmark table (≈ 100 B/row) into ClickHouse.
// pgmirror (CREATE MIRROR … initial_snapshot_only, timed until STATUS_COMPLETED) against
// `psql -c "COPY … TO STDOUT" | clickhouse-client --query "INSERT INTO … FORMAT TSV"` into a table of exactly the
// layout pgmirror creates, in the same run, contestants alternating. Both targets are then compared.
//
//   node --import tsx bench/clickhouse-snapshot.ts     (BENCH_CH_ROWS=2000000 by default; BENCH_QUICK=1: 50000)
import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { createClient, type ClickHouseClient } from '@clickhouse/client'
import { createTableSql } from '../src/sinks/clickhouse/ddl.ts'
import { dialectFor, parseServerVersion, type Dialect } from '../src/sinks/clickhouse/server-version.ts'
import { resolveTarget } from '../src/sinks/clickhouse/target.ts'
import { createDatabase, dropDatabases, query, type TestDatabase } from './harness/pg.ts'
import { peerSql, startMirrorServer, type MirrorServer } from './harness/pgmirror.ts'
import {
  backendsOf,
  CpuTracker,
  memoryMb,
  pidsNamed,
  waitForQuietMachine,
  type CpuReport,
} from './harness/procs.ts'
import {
  commandLine,
  envInt,
  machine,
  mb,
  publish,
  quick,
  ratio,
  runIfMain,
  seconds,
  table,
} from './harness/report.ts'
import { createSourceTable, fillRows, TABLE } from './harness/workload.ts'

export const CH_URL = process.env.PGMIRROR_TEST_CLICKHOUSE_URL ?? 'http://127.0.0.1:18123'
const CH_NATIVE_PORT = process.env.PGMIRROR_TEST_CLICKHOUSE_NATIVE_PORT ?? '19000'
const FULL_ROWS = 2_000_000
const WORKERS = envInt('BENCH_SNAPSHOT_WORKERS', 4)
const PARTITION_ROWS = envInt('BENCH_PARTITION_ROWS', 250_000)

/**
 * The two tables measured: the benchmark table, which ClickHouse reads exactly as TabSeparated (pgmirror's fast
 * path), and the same rows plus a float8 column, which pgmirror converts to RowBinary (18.16 reads float text
 * inexactly, so floats never go as text; the baseline's TSV float column shows that).
 */
interface Variant {
  readonly name: string
  readonly table: string
  readonly path: string
  /** The columns as the source introspection reports them (for the sink's own DDL). */
  readonly columns: readonly (readonly [string, string])[]
}

export const BASE_COLUMNS = [
  ['id', 'bigint'],
  ['qty', 'integer'],
  ['amount', 'numeric(12,2)'],
  ['note', 'text'],
  ['created_at', 'timestamp with time zone'],
  ['active', 'boolean'],
] as const

const VARIANTS: readonly Variant[] = [
  { name: 'benchmark table', table: TABLE, path: 'TabSeparated', columns: BASE_COLUMNS },
  {
    name: 'benchmark table + float8 column',
    table: `${TABLE}_f`,
    path: 'RowBinary',
    columns: [...BASE_COLUMNS, ['ratio', 'double precision']],
  },
]

const schemaOf = (v: Variant) => ({
  name: { schema: 'public', table: v.table.split('.')[1]! },
  columns: v.columns.map(([name, typeName]) => ({
    name,
    typeName,
    typeOid: 0,
    typeMod: -1,
    nullable: false,
  })),
  primaryKey: ['id'],
  replicaIdentity: 'd' as const,
})

export const chPeerSql = (name: string, database: string): string => {
  const u = new URL(CH_URL)
  return `CREATE PEER ${name} FROM CLICKHOUSE WITH (host = '${u.hostname}', port = ${u.port}, user = 'default', password = '', database = '${database}')`
}

export async function chDatabase(): Promise<{ db: string; client: ClickHouseClient }> {
  const db = `bench_ch_${Date.now().toString(36)}`
  const client = createClient({ url: CH_URL, request_timeout: 60_000 })
  await client.command({ query: `CREATE DATABASE ${db}` })
  return { db, client }
}

export async function chScalar(client: ClickHouseClient, sql: string): Promise<string> {
  const rs = await client.query({ query: sql, format: 'TabSeparated' })
  return (await rs.text()).trim()
}

/** The same digest over both tables (floats aside): equal digests mean the same rows (FINAL, live rows only). */
const digestSql = (db: string, t: string) =>
  `SELECT count(), sum(id), sum(qty), sum(amount), sum(cityHash64(note)), sum(cityHash64(created_at)), sum(active)
   FROM ${db}.${t} FINAL WHERE _peerdb_is_deleted = 0`

/**
 * The baseline: psql into clickhouse-client through a pipe. Booleans leave Postgres as 0/1 (TSV into UInt8).
 * Returns the wall time and the CPU seconds of psql and clickhouse-client together (bash's `time`).
 */
async function copyPipe(
  src: TestDatabase,
  v: Variant,
  db: string,
  t: string,
): Promise<{ ms: number; clientCpu: number }> {
  const cols = v.columns.map(([c]) => c)
  const select = cols.map((c) => (c === 'active' ? 'active::int' : c)).join(', ')
  const script = `set -o pipefail; TIMEFORMAT='%U %S'; time (psql -X -q -v ON_ERROR_STOP=1 "$SRC" -c "COPY (SELECT ${select} FROM ${v.table}) TO STDOUT" | clickhouse-client --port ${CH_NATIVE_PORT} --query "INSERT INTO ${db}.${t} (${cols.join(', ')}) FORMAT TSV")`
  const t0 = performance.now()
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn('bash', ['-c', script], {
      env: { ...process.env, SRC: src.url },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (c: Buffer) => (err += c.toString()))
    child.on('exit', (c) => resolve({ code: c, stderr: err }))
  })
  const ms = performance.now() - t0
  if (code !== 0) throw new Error(`psql | clickhouse-client failed (${code}): ${stderr}`)
  const [user, sys] = stderr.trim().split('\n').at(-1)!.split(' ').map(Number)
  return { ms, clientCpu: (user ?? 0) + (sys ?? 0) }
}

async function pgmirrorCopy(server: MirrorServer, v: Variant, name: string, t: string): Promise<number> {
  const t0 = performance.now()
  await server.sql(`CREATE MIRROR ${name} FROM src TO ch WITH TABLE MAPPING (${v.table}:${t})
    WITH (initial_snapshot_only = true, snapshot_num_rows_per_partition = ${PARTITION_ROWS},
          snapshot_max_parallel_workers = ${WORKERS})`)
  await server.waitForStatus(name, 'STATUS_COMPLETED')
  return performance.now() - t0
}

/** The index of the median value (the upper middle one for an even count). */
const medianAt = (xs: readonly number[]): number =>
  [...xs.keys()].sort((a, b) => xs[a]! - xs[b]!)[Math.floor(xs.length / 2)]!

const cpuText = (cpu: ReadonlyMap<string, number>): string =>
  [...cpu]
    .filter(([, s]) => s >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([label, s]) => `${label} ${s.toFixed(1)}`)
    .join(', ')

const cpuRow = (name: string, ms: number, r: CpuReport): (string | number)[] => [
  name,
  seconds(ms),
  r.machineS.toFixed(1),
  r.foreignS.toFixed(1),
  (r.machineS - r.foreignS).toFixed(1),
  cpuText(r.cpu),
]

interface VariantResult {
  readonly base: number[]
  readonly ours: number[]
  /** CPU of each run, in the same order as the times. */
  readonly baseCpu: CpuReport[]
  readonly oursCpu: CpuReport[]
  /** Float values the baseline stored differently from the source (pgmirror's are compared exactly). */
  inexact: string
}

/** Runs one variant `repeats` times, contestants alternating, and checks both targets after every run. */
async function measure(
  v: Variant,
  ctx: { src: TestDatabase; server: MirrorServer; ch: { db: string; client: ClickHouseClient } },
  dialect: Dialect,
  rows: number,
  repeats: number,
): Promise<VariantResult> {
  const { src, server, ch } = ctx
  const out: VariantResult = { base: [], ours: [], baseCpu: [], oursCpu: [], inexact: '0' }
  const chServer = pidsNamed('clickhouse-serv').map((pid) => ({ pid, label: 'clickhouse-server' }))
  const tracker = (fixed: readonly { pid: number; label: string }[]) =>
    new CpuTracker(backendsOf({ [src.name]: 'source backends', [server.catalog.name]: 'catalog backends' }), [
      ...chServer,
      ...fixed,
    ])
  const floats = v.columns.some(([c]) => c === 'ratio')
  for (let i = 0; i < repeats; i++) {
    const tag = `${v.path.toLowerCase()}_${i}`
    const baseTable = `base_${tag}`
    const target = resolveTarget(
      { source: schemaOf(v).name, destination: baseTable, schema: schemaOf(v), ordering: [] },
      { mirror: 'bench', syncedAtColumn: '_PEERDB_SYNCED_AT', softDeleteColumn: undefined },
      dialect,
      ch.db,
    )
    await ch.client.command({ query: createTableSql(target) })
    await waitForQuietMachine()
    const baseCpu = tracker([])
    await baseCpu.start()
    const pipe = await copyPipe(src, v, ch.db, baseTable)
    const baseReport = await baseCpu.stop()
    baseReport.cpu.set('psql + clickhouse-client', pipe.clientCpu)
    out.base.push(pipe.ms)
    out.baseCpu.push({ ...baseReport, foreignS: Math.max(0, baseReport.foreignS - pipe.clientCpu) })
    await waitForQuietMachine()
    const oursCpu = tracker([{ pid: server.pid, label: 'pgmirror (node)' }])
    await oursCpu.start()
    out.ours.push(await pgmirrorCopy(server, v, `snap_${tag}`, `pgm_${tag}`))
    out.oursCpu.push(await oursCpu.stop())
    const [a, b] = await Promise.all([
      chScalar(ch.client, digestSql(ch.db, baseTable)),
      chScalar(ch.client, digestSql(ch.db, `pgm_${tag}`)),
    ])
    if (a !== b || !a.startsWith(`${rows}\t`))
      throw new Error(`targets differ:\n  baseline ${a}\n  pgmirror ${b}`)
    if (floats) {
      // id / 7 is exactly the source's value (IEEE division on both sides): pgmirror must match it everywhere.
      const ours = await chScalar(ch.client, `SELECT count() FROM ${ch.db}.pgm_${tag} WHERE ratio != id / 7`)
      if (ours !== '0') throw new Error(`pgmirror stored ${ours} float values inexactly`)
      out.inexact = await chScalar(
        ch.client,
        `SELECT count() FROM ${ch.db}.${baseTable} WHERE ratio != id / 7`,
      )
    }
    console.log(
      `  ${v.name}, run ${i + 1}: baseline ${seconds(out.base[i]!)} s, pgmirror ${seconds(out.ours[i]!)} s (targets equal)`,
    )
    await ch.client.command({ query: `DROP TABLE ${ch.db}.${baseTable}` })
    await ch.client.command({ query: `DROP TABLE ${ch.db}.pgm_${tag}` })
  }
  return out
}

export async function main(): Promise<void> {
  const rows = quick ? 50_000 : envInt('BENCH_CH_ROWS', FULL_ROWS)
  const repeats = envInt('BENCH_REPEATS', 3)
  let src: TestDatabase | undefined
  let server: MirrorServer | undefined
  const ch = await chDatabase()
  try {
    src = await createDatabase('chsnap')
    await query(src.url, createSourceTable())
    await fillRows((sql) => query(src!.url, sql), rows)
    // id / 7 in float8: the same double on both sides, and most of them need all 17 digits.
    await query(src.url, `CREATE TABLE ${TABLE}_f AS SELECT *, id / 7::float8 AS ratio FROM ${TABLE}`)
    await query(src.url, `ALTER TABLE ${TABLE}_f ADD PRIMARY KEY (id)`)
    for (const v of VARIANTS) await query(src.url, `VACUUM (FREEZE, ANALYZE) ${v.table}`)
    const version = await chScalar(ch.client, 'SELECT version()')
    const dialect = dialectFor(parseServerVersion(version))
    server = await startMirrorServer()
    await server.sql(peerSql('src', src))
    await server.sql(chPeerSql('ch', ch.db))
    const results: (string | number)[][] = []
    const cpuRows: (string | number)[][] = []
    const runs: string[] = []
    for (const v of VARIANTS) {
      const r = await measure(v, { src, server, ch }, dialect, rows, repeats)
      const bi = medianAt(r.base)
      const pi = medianAt(r.ours)
      const b = r.base[bi]!
      const p = r.ours[pi]!
      cpuRows.push(
        cpuRow(`${v.name}: psql \\| clickhouse-client`, b, r.baseCpu[bi]!),
        cpuRow(`${v.name}: pgmirror (${v.path})`, p, r.oursCpu[pi]!),
      )
      results.push(
        [
          `${v.name}: psql COPY TO \\| clickhouse-client INSERT … FORMAT TSV`,
          seconds(b),
          Math.round(rows / (b / 1000)),
          ratio(1),
          r.inexact,
        ],
        [`${v.name}: pgmirror (${v.path})`, seconds(p), Math.round(rows / (p / 1000)), ratio(b / p), '0'],
      )
      runs.push(`${v.name}: ${r.base.map((x, i) => `${seconds(x)} / ${seconds(r.ours[i]!)}`).join(', ')}`)
    }
    const hwm = memoryMb(server.pid)?.hwm ?? NaN
    const body = [
      `### ClickHouse: snapshot of ${rows.toLocaleString('en-US')} rows`,
      '',
      '```sh',
      commandLine(),
      '```',
      '',
      `${await machine()}; ClickHouse ${version} (HTTP for pgmirror, native protocol for clickhouse-client). pgmirror: ${WORKERS} partitions in parallel of ${PARTITION_ROWS.toLocaleString('en-US')} rows. Median of ${repeats} runs, contestants alternating; both targets compared after every run.`,
      '',
      table(
        ['contestant', 'seconds', 'rows/s', 'speed vs baseline', 'float values stored inexactly'],
        results,
      ),
      '',
      `pgmirror peak RSS: ${mb(hwm)} MB. Runs (baseline / pgmirror, s): ${runs.join('; ')}.`,
      '',
      "CPU of the median runs (2 cores = at most 2 CPU-seconds per wall second; ClickHouse is the shared services' server, so its CPU includes whatever else used it; others' load is the rest of the machine):",
      '',
      table(
        ['run', 'wall s', 'machine CPU-s', "others' load", 'CPU-s used', 'CPU seconds by process group'],
        cpuRows,
      ),
    ].join('\n')
    publish('clickhouse-snapshot', body, rows === FULL_ROWS && !quick)
  } finally {
    await server?.close()
    await dropDatabases(src)
    await ch.client.command({ query: `DROP DATABASE IF EXISTS ${ch.db}` }).catch(() => undefined)
    await ch.client.close()
  }
}

runIfMain(import.meta.url, main)
