// ClickHouse benchmark 2: CDC throughput into ClickHouse. A mirror copies the base rows, is paused, the source
// takes BENCH_CDC_CHANGES changes (50 % inserts, 35 % updates, 15 % deletes, in transactions of
// BENCH_CDC_TX_SIZE) and a marker row, then the mirror is resumed and timed until the marker is visible in
// `SELECT … FINAL`. The target is then compared with the source.
//
//   node --import tsx bench/clickhouse-cdc.ts     (BENCH_CDC_CHANGES=1000000 by default; BENCH_QUICK=1: 50000)
import { performance } from 'node:perf_hooks'
import type { ChangeRecord } from '../src/model/record.ts'
import { createClickhouseSink } from '../src/sinks/clickhouse/clickhouse-sink.ts'
import { BASE_COLUMNS, CH_URL, chDatabase, chPeerSql, chScalar } from './clickhouse-snapshot.ts'
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

/**
 * The sink alone: the same mix of changes as synthetic records (Postgres text, as the source delivers them),
 * written with writeBatch in batches of `batch`; returns the seconds it took.
 */
async function sinkAlone(db: string, total: number, batch: number): Promise<number> {
  const url = new URL(CH_URL)
  const sink = createClickhouseSink(
    { host: url.hostname, port: Number(url.port), user: 'default', password: '', database: db },
    { mirror: 'sink_alone', syncedAtColumn: '_PEERDB_SYNCED_AT', softDeleteColumn: undefined },
  )
  const name = { schema: 'public', table: 'bench_rows' }
  const table = {
    source: name,
    destination: 'sink_alone',
    ordering: [],
    schema: {
      name,
      columns: BASE_COLUMNS.map(([c, typeName]) => ({
        name: c,
        typeName,
        typeOid: 0,
        typeMod: -1,
        nullable: false,
      })),
      primaryKey: ['id'],
      replicaIdentity: 'd' as const,
    },
  }
  const row = (id: number, tag: string) => ({
    id: String(id),
    qty: String(id % 1000),
    amount: `${Math.floor(id / 100)}.${String(id % 100).padStart(2, '0')}`,
    note: `${tag}${id}`.padEnd(40, 'x'),
    created_at: '2025-01-01 00:00:00.001+00',
    active: id % 2 === 0 ? 't' : 'f',
  })
  try {
    await sink.ensureTables([table])
    const t0 = performance.now()
    let lsn = 0x1000n
    for (let done = 0, batchId = 1n; done < total; batchId++) {
      const records: ChangeRecord[] = []
      for (let i = 0; i < batch && done < total; i++, done++) {
        // 50 % inserts, 35 % updates of earlier rows, 15 % deletes, one change per transaction.
        const base = { table: name, commitLsn: (lsn += 0x40n), seq: 0, xid: done, commitTime: '' }
        const k = done % 20
        if (k < 10) records.push({ ...base, kind: 'insert', row: row(done, 'i') })
        else if (k < 17)
          records.push({
            ...base,
            kind: 'update',
            row: row(done - 10, 'u'),
            old: undefined,
            unchangedToast: [],
          })
        else records.push({ ...base, kind: 'delete', old: { id: String(done - 17) } })
      }
      await sink.writeBatch(
        { mirror: 'sink_alone', batchId, records, schemaChanges: [], endLsn: lsn },
        new Map([['public.bench_rows', table]]),
      )
    }
    return performance.now() - t0
  } finally {
    await sink.close()
  }
}

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
    await waitForQuietMachine()
    const aloneMs = await sinkAlone(ch.db, total, batch)
    console.log(`  the sink alone: ${total} changes in ${seconds(aloneMs)} s`)

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
        ['', 'seconds', 'changes/s'],
        [
          ['RESUME → marker row visible (catch-up)', seconds(ms), Math.round(total / (ms / 1000))],
          [
            'the ClickHouse sink alone (synthetic changes, same mix and batch size)',
            seconds(aloneMs),
            Math.round(total / (aloneMs / 1000)),
          ],
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
