// ClickHouse benchmark 3: which insert format the sink should use. The same rows (Postgres text, as the source
// delivers them) are encoded in-process and inserted over HTTP as RowBinary (pgmirror's encoder), TabSeparated and
// JSONEachRow; each is timed (encode + insert) and read back to check that every value arrived exact.
//
//   node --import tsx bench/clickhouse-formats.ts     (BENCH_CH_FORMAT_ROWS=500000 by default; BENCH_QUICK=1: 50000)
import { Readable } from 'node:stream'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { createClient, type ClickHouseClient } from '@clickhouse/client'
import type { Value } from '../src/model/record.ts'
import { insertRowBinary } from '../src/sinks/clickhouse/client-io.ts'
import { createTableSql } from '../src/sinks/clickhouse/ddl.ts'
import { RowWriter } from '../src/sinks/clickhouse/row-binary.ts'
import { writeRow } from '../src/sinks/clickhouse/row-encoder.ts'
import { dialectFor, parseServerVersion } from '../src/sinks/clickhouse/server-version.ts'
import { resolveTarget, snapshotColumns, type ChTarget } from '../src/sinks/clickhouse/target.ts'
import { envInt, machine, publish, quick, table } from './harness/report.ts'

const CH_URL = process.env.PGMIRROR_TEST_CLICKHOUSE_URL ?? 'http://127.0.0.1:18123'
const FULL_ROWS = 500_000
const COLUMNS: [string, string][] = [
  ['id', 'bigint'],
  ['qty', 'integer'],
  ['amount', 'numeric(12,2)'],
  ['note', 'text'],
  ['created_at', 'timestamp with time zone'],
  ['active', 'boolean'],
  ['ratio', 'double precision'],
]

/** Rows as the source delivers them: Postgres text. `ratio` is a random double in shortest round-trip form. */
function makeRows(n: number): Value[][] {
  const rows: Value[][] = []
  const f = new Float64Array(1)
  const bits = new BigUint64Array(f.buffer)
  for (let i = 1; i <= n; i++) {
    do
      bits[0] =
        (BigInt(Math.floor(Math.random() * 2 ** 32)) << 32n) | BigInt(Math.floor(Math.random() * 2 ** 32))
    while (!Number.isFinite(f[0]!))
    rows.push([
      String(i),
      String((i * 7919) % 100000),
      `${Math.floor(i / 7) % 100000}.${String(i % 100).padStart(2, '0')}`,
      `note ${i} ${'abcdefghij'.repeat(3)}`.slice(0, 40),
      '2024-01-01 00:00:00+00',
      i % 3 === 0 ? 't' : 'f',
      String(f[0]),
    ])
  }
  return rows
}

const tsvEscape = (v: string): string =>
  v.replace(/[\\\t\n]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n' })[c]!)

function* tsvChunks(rows: readonly Value[][]): Generator<string> {
  let chunk = ''
  for (const r of rows) {
    chunk += `${r.map((v, i) => (v === null ? '\\N' : i === 5 ? (v === 't' ? '1' : '0') : tsvEscape(v))).join('\t')}\n`
    if (chunk.length > 1 << 20) {
      yield chunk
      chunk = ''
    }
  }
  if (chunk) yield chunk
}

function* jsonObjects(rows: readonly Value[][]): Generator<Record<string, unknown>> {
  // 18.16 refuses a Decimal given as a JSON string, so amount goes as a JSON number (as the env notes found).
  for (const r of rows)
    yield {
      id: r[0],
      qty: Number(r[1]),
      amount: Number(r[2]),
      note: r[3],
      created_at: r[4],
      active: r[5] === 't' ? 1 : 0,
      ratio: Number(r[6]),
    }
}

async function rowBinary(client: ClickHouseClient, t: ChTarget, rows: readonly Value[][]): Promise<void> {
  function* chunks(): Generator<Buffer> {
    const w = new RowWriter(1 << 20)
    for (const r of rows) {
      writeRow(w, t, r)
      if (w.length >= 1 << 20) yield w.take()
    }
    if (w.length > 0) yield w.take()
  }
  await insertRowBinary(client, t.sql, snapshotColumns(t), Readable.from(chunks()))
}

/** Values that did not arrive exact: amount compared as text, ratio by its bits. */
async function mismatches(
  client: ClickHouseClient,
  t: ChTarget,
  rows: readonly Value[][],
): Promise<[number, number]> {
  const rs = await client.query({
    query: `SELECT id, toString(amount), ratio FROM ${t.sql} ORDER BY id`,
    format: 'TabSeparated',
  })
  let amount = 0
  let ratio = 0
  for (const line of (await rs.text()).trim().split('\n')) {
    const [id, a, r] = line.split('\t') as [string, string, string]
    const src = rows[Number(id) - 1]!
    if (Number(a).toFixed(2) !== src[2]) amount++
    if (Number(r) !== Number(src[6])) ratio++
  }
  return [amount, ratio]
}

export async function main(): Promise<void> {
  const n = quick ? 50_000 : envInt('BENCH_CH_FORMAT_ROWS', FULL_ROWS)
  const repeats = envInt('BENCH_REPEATS', 3)
  const client = createClient({ url: CH_URL, request_timeout: 60_000 })
  const db = `bench_fmt_${Date.now().toString(36)}`
  await client.command({ query: `CREATE DATABASE ${db}` })
  try {
    const version = (
      await (await client.query({ query: 'SELECT version()', format: 'TabSeparated' })).text()
    ).trim()
    const dialect = dialectFor(parseServerVersion(version))
    const rows = makeRows(n)
    const schema = {
      name: { schema: 'public', table: 'f' },
      columns: COLUMNS.map(([name, typeName]) => ({
        name,
        typeName,
        typeOid: 0,
        typeMod: -1,
        nullable: false,
      })),
      primaryKey: ['id'],
      replicaIdentity: 'd' as const,
    }
    const formats: [string, (t: ChTarget) => Promise<unknown>][] = [
      ['RowBinary (pgmirror)', (t) => rowBinary(client, t, rows)],
      [
        'TabSeparated',
        (t) =>
          client.insert({
            table: t.sql,
            values: Readable.from(tsvChunks(rows), { objectMode: false }),
            format: 'TabSeparated',
            columns: snapshotColumns(t) as [string, ...string[]],
          }),
      ],
      [
        'JSONEachRow',
        (t) =>
          client.insert({ table: t.sql, values: Readable.from(jsonObjects(rows)), format: 'JSONEachRow' }),
      ],
    ]
    const results: (string | number)[][] = []
    for (const [name, insert] of formats) {
      const times: number[] = []
      let wrong: [number, number] = [0, 0]
      for (let i = 0; i < repeats; i++) {
        const t = resolveTarget(
          { source: schema.name, destination: `t_${results.length}_${i}`, schema, ordering: [] },
          { mirror: 'bench', syncedAtColumn: '', softDeleteColumn: undefined },
          dialect,
          db,
        )
        await client.command({ query: createTableSql(t) })
        const t0 = performance.now()
        await insert(t)
        times.push(performance.now() - t0)
        wrong = await mismatches(client, t, rows)
        await client.command({ query: `DROP TABLE ${t.sql}` })
      }
      const ms = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!
      results.push([name, (ms / 1000).toFixed(2), Math.round(n / (ms / 1000)), wrong[0], wrong[1]])
      console.log(
        `  ${name}: ${(ms / 1000).toFixed(2)} s, inexact amount ${wrong[0]}, inexact float ${wrong[1]}`,
      )
    }
    const body = [
      `### ClickHouse: insert formats, ${n.toLocaleString('en-US')} rows`,
      '',
      '```sh',
      'node --import tsx bench/clickhouse-formats.ts',
      '```',
      '',
      `${await machine()}; ClickHouse ${version}; one HTTP insert per run, encoding included; median of ${repeats}.`,
      '',
      table(['format', 'seconds', 'rows/s', 'inexact numeric(12,2)', 'inexact float8'], results),
    ].join('\n')
    publish('clickhouse-formats', body, n === FULL_ROWS && !quick)
  } finally {
    await client.command({ query: `DROP DATABASE IF EXISTS ${db}` }).catch(() => undefined)
    await client.close()
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1])
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e)
      process.exit(1)
    },
  )
