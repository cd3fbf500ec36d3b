// ClickHouse benchmark 2: CDC throughput into ClickHouse. A mirror copies the base rows, is paused, the source
// takes BENCH_CDC_CHANGES changes (50 % inserts, 35 % updates, 15 % deletes, in transactions of
// BENCH_CDC_TX_SIZE) and a marker row, then the mirror is resumed and timed until the marker is visible in
// `SELECT … FINAL`. The target is then compared with the source.
//
//   node --import tsx bench/clickhouse-cdc.ts     (BENCH_CDC_CHANGES=1000000 by default; BENCH_QUICK=1: 50000)
import { performance } from 'node:perf_hooks'
import { chDatabase, chPeerSql, chScalar } from './clickhouse-snapshot.ts'
import { createDatabase, dropDatabases, query, type TestDatabase } from './harness/pg.ts'
import { peerSql, startMirrorServer, type MirrorServer } from './harness/pgmirror.ts'
import { waitForQuietMachine } from './harness/procs.ts'
import { commandLine, envInt, machine, publish, quick, runIfMain, seconds, table } from './harness/report.ts'
import {
  changesSql,
  fillRows,
  insertMarker,
  MARKER_ID,
  planChanges,
  planTotal,
  createSourceTable,
  TABLE,
} from './harness/workload.ts'

const FULL_CHANGES = 1_000_000

export async function main(): Promise<void> {
  const changes = quick ? 50_000 : envInt('BENCH_CDC_CHANGES', FULL_CHANGES)
  const txSize = envInt('BENCH_CDC_TX_SIZE', 1000)
  const batch = envInt('BENCH_CDC_BATCH', 100_000)
  const plan = planChanges(changes, txSize)
  let src: TestDatabase | undefined
  let server: MirrorServer | undefined
  const ch = await chDatabase()
  try {
    src = await createDatabase('chcdc')
    await query(src.url, createSourceTable())
    await fillRows((sql) => query(src!.url, sql), plan.baseRows)
    await query(src.url, `VACUUM (FREEZE, ANALYZE) ${TABLE}`)
    server = await startMirrorServer()
    await server.sql(peerSql('src', src))
    await server.sql(chPeerSql('ch', ch.db))
    await server.sql(`CREATE MIRROR cdc FROM src TO ch WITH TABLE MAPPING (${TABLE}:rows)
      WITH (max_batch_size = ${batch}, sync_interval = 1)`)
    await server.waitForStatus('cdc', 'STATUS_RUNNING')
    await server.sql('PAUSE MIRROR cdc')
    await server.waitForStatus('cdc', 'STATUS_PAUSED')

    const w0 = performance.now()
    await query(src.url, changesSql(plan))
    await query(src.url, insertMarker())
    const produceMs = performance.now() - w0
    const total = planTotal(plan)

    await waitForQuietMachine()
    const t0 = performance.now()
    await server.sql('RESUME MIRROR cdc')
    const marker = `SELECT count() FROM ${ch.db}.rows FINAL WHERE id = ${MARKER_ID} AND _peerdb_is_deleted = 0`
    while ((await chScalar(ch.client, marker)) !== '1') await new Promise((r) => setTimeout(r, 50))
    const ms = performance.now() - t0

    const [a, b] = await Promise.all([
      query(src.url, `SELECT count(*) AS n, sum(id) AS i, sum(qty) AS q, sum(amount) AS a FROM ${TABLE}`),
      chScalar(
        ch.client,
        `SELECT count(), sum(id), sum(qty), sum(amount) FROM ${ch.db}.rows FINAL WHERE _peerdb_is_deleted = 0`,
      ),
    ])
    const want = Object.values(a.rows[0] ?? {}).join('\t')
    if (want !== b) throw new Error(`target differs from source:\n  source ${want}\n  target ${b}`)
    console.log(`  ${total} changes in ${seconds(ms)} s (target equal to source)`)

    const body = [
      `### ClickHouse: CDC catch-up, ${total.toLocaleString('en-US')} changes`,
      '',
      '```sh',
      commandLine(),
      '```',
      '',
      `${await machine()}. ${total.toLocaleString('en-US')} changes on ${plan.baseRows.toLocaleString('en-US')} base rows in ${plan.transactions} transactions of ${plan.insertsPerTx} inserts + ${plan.updatesPerTx} updates + ${plan.deletesPerTx} deletes (produced in ${seconds(produceMs)} s while the mirror was paused); max_batch_size = ${batch}, sync_interval = 1. Timed from RESUME MIRROR until the marker row is visible in \`SELECT … FINAL\`.`,
      '',
      table(
        ['', 'pgmirror → ClickHouse'],
        [
          ['catch-up s', seconds(ms)],
          ['changes/s', Math.round(total / (ms / 1000))],
        ],
      ),
    ].join('\n')
    publish('clickhouse-cdc', body, changes === FULL_CHANGES && !quick)
  } finally {
    await server?.close()
    await dropDatabases(src)
    await ch.client.command({ query: `DROP DATABASE IF EXISTS ${ch.db}` }).catch(() => undefined)
    await ch.client.close()
  }
}

runIfMain(import.meta.url, main)
