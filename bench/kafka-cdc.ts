// Benchmark: CDC into Kafka. About 1M row changes (50 % inserts, 35 % updates, 15 % deletes, in transactions of
// BENCH_CDC_TX_SIZE changes) are made on the source while a Postgres → Kafka mirror is PAUSED; the mirror is then
// timed from RESUME MIRROR until the topic holds one event per change (the sum of its partitions' end offsets,
// every message acknowledged with acks=-1). A second measurement drives the Kafka sink alone with the same number
// of synthetic insert records, which shows the sink's own ceiling without Postgres decoding.
//
//   node --import tsx bench/kafka-cdc.ts     (BENCH_CDC_CHANGES=1000000 by default; BENCH_QUICK=1: 50000)
//   BENCH_KAFKA_COMPRESSION=gzip             the peer's compression option
import { performance } from 'node:perf_hooks'
import { Kafka, logLevel } from 'kafkajs'
import type { ChangeRecord, RecordBatch } from '../src/model/record.ts'
import { createKafkaSink } from '../src/sinks/kafka/kafka-sink.ts'
import type { SinkTable } from '../src/sinks/sink.ts'
import { kafkaBrokers, uniqueName } from '../test/support/services.ts'
import { createDatabase, dropDatabases, query } from './harness/pg.ts'
import { peerSql, startMirrorServer, type MirrorServer } from './harness/pgmirror.ts'
import { backendsOf, CpuTracker, MemorySampler, waitForQuietMachine } from './harness/procs.ts'
import {
  commandLine,
  envInt,
  machine,
  mb,
  publish,
  quick,
  runIfMain,
  seconds,
  table,
} from './harness/report.ts'
import {
  changesSql,
  createSourceTable,
  fillRows,
  insertMarker,
  planChanges,
  planTotal,
  TABLE,
  type ChangePlan,
} from './harness/workload.ts'

const FULL_CHANGES = 1_000_000
const GOAL = 50_000

interface KafkaCdcResult {
  readonly plan: ChangePlan
  readonly events: number
  readonly compression: string
  readonly maxBatchSize: number
  readonly produceMs: number
  /** RESUME → every event acknowledged on the topic. */
  readonly catchUpMs: number
  /** First batch started → every event on the topic: the streaming rate without reconnect and checkpoint read. */
  readonly streamMs: number
  readonly firstBatchAt: number
  readonly batches: number
  readonly duplicates: number
  readonly cpu: Map<string, number>
  readonly machineS: number
  readonly peakHwmMb: number
  readonly sinkOnly: { readonly rows: number; readonly ms: number; readonly cpuS: number }
}

/** Sum of the topic's end offsets: how many messages the brokers acknowledged. */
async function topicEnd(admin: ReturnType<Kafka['admin']>, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic)
  return offsets.reduce((n, o) => n + Number(o.high), 0)
}

async function waitForEvents(
  admin: ReturnType<Kafka['admin']>,
  topic: string,
  events: number,
  timeoutMs: number,
  what: () => string,
): Promise<number> {
  const deadline = Date.now() + timeoutMs
  while (true) {
    if ((await topicEnd(admin, topic).catch(() => 0)) >= events) return performance.now()
    if (Date.now() > deadline) throw new Error(`${events} events did not reach ${topic}: ${what()}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The Kafka sink alone: synthetic inserts of the benchmark's row shape, in batches of `batchSize`. */
async function sinkOnly(rows: number, batchSize: number, compression: 'none' | 'gzip') {
  const mirror = uniqueName('bench_sink')
  const columns = [
    { name: 'id', typeName: 'bigint', typeOid: 20 },
    { name: 'qty', typeName: 'integer', typeOid: 23 },
    { name: 'amount', typeName: 'numeric(12,2)', typeOid: 1700 },
    { name: 'note', typeName: 'text', typeOid: 25 },
    { name: 'created_at', typeName: 'timestamp with time zone', typeOid: 1184 },
    { name: 'active', typeName: 'boolean', typeOid: 16 },
  ].map((c) => ({ ...c, typeMod: -1, nullable: false }))
  const name = { schema: 'public', table: 'bench_rows' }
  const table: SinkTable = {
    source: name,
    destination: uniqueName('bench_sink'),
    schema: { name, columns, primaryKey: ['id'], replicaIdentity: 'd' },
    ordering: [],
  }
  const sink = createKafkaSink(
    { servers: kafkaBrokers(), disable_tls: true, compression },
    {
      mirror,
      syncedAtColumn: '',
      softDeleteColumn: undefined,
    },
  )
  try {
    await sink.ensureTables([table])
    const batches: RecordBatch[] = []
    for (let b = 0; b * batchSize < rows; b++) {
      const records: ChangeRecord[] = []
      for (let i = b * batchSize; i < Math.min(rows, (b + 1) * batchSize); i++) {
        records.push({
          kind: 'insert',
          table: name,
          commitLsn: BigInt(0x1000 + i),
          seq: 0,
          xid: i,
          commitTime: '2025-01-01T00:00:00.000000Z',
          row: {
            id: String(i),
            qty: String(i % 1000),
            amount: `${Math.floor(i / 100)}.${String(i % 100).padStart(2, '0')}`,
            note: 'f3b2a9c4e5d6f7a8b9c0d1e2f3a4b5c6d7e8f9a0',
            created_at: '2025-01-01 00:00:00.123+00',
            active: i % 3 === 0 ? 't' : 'f',
          },
        })
      }
      batches.push({
        mirror,
        batchId: BigInt(b + 1),
        records,
        schemaChanges: [],
        endLsn: BigInt(0x1000 + rows),
      })
    }
    await sink.lastCheckpoint()
    const tables = new Map([[`${name.schema}.${name.table}`, table]])
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    for (const batch of batches) await sink.writeBatch(batch, tables)
    const ms = performance.now() - t0
    const used = process.cpuUsage(cpu0)
    return { rows, ms, cpuS: (used.user + used.system) / 1e6 }
  } finally {
    await sink.teardown().catch(() => undefined)
    await sink.close()
  }
}

export async function main(): Promise<KafkaCdcResult> {
  const changes = envInt('BENCH_CDC_CHANGES', quick ? 50_000 : FULL_CHANGES)
  const txSize = envInt('BENCH_CDC_TX_SIZE', 1000)
  const maxBatchSize = envInt('BENCH_CDC_BATCH', 100_000)
  const timeoutMs = envInt('BENCH_TIMEOUT_MS', 1_800_000)
  const compression = process.env.BENCH_KAFKA_COMPRESSION === 'gzip' ? 'gzip' : 'none'
  const plan = planChanges(changes, txSize)
  const events = planTotal(plan) + 1
  const brokers = kafkaBrokers()
  const topic = uniqueName('bench_cdc')
  const src = await createDatabase('kafka_src')
  const admin = new Kafka({ clientId: 'pgmirror-bench', brokers, logLevel: logLevel.NOTHING }).admin()
  let server: MirrorServer | undefined
  try {
    await admin.connect()
    console.log(`kafka cdc: ${planTotal(plan)} changes on ${plan.baseRows} base rows, loading…`)
    await query(src.url, createSourceTable())
    await fillRows((sql) => query(src.url, sql), plan.baseRows)
    await query(src.url, `VACUUM (FREEZE, ANALYZE) ${TABLE}`)

    server = await startMirrorServer()
    await server.sql(peerSql('src', src))
    await server.sql(
      `CREATE PEER k FROM KAFKA WITH (servers = '${brokers.join(',')}', disable_tls = true, compression = '${compression}')`,
    )
    await server.sql(`CREATE MIRROR kcdc FROM src TO k WITH TABLE MAPPING (${TABLE}:${topic})
      WITH (do_initial_copy = false, max_batch_size = ${maxBatchSize}, sync_interval = 1)`)
    await server.waitForStatus('kcdc', 'STATUS_RUNNING', 120_000)
    await server.sql('PAUSE MIRROR kcdc')
    await server.waitForStatus('kcdc', 'STATUS_PAUSED', 120_000)

    console.log('  producing the changes…')
    const p0 = performance.now()
    await query(src.url, changesSql(plan))
    await query(src.url, insertMarker())
    const produceMs = performance.now() - p0
    await query(src.url, `VACUUM (ANALYZE) ${TABLE}`)
    console.log(`  ${seconds(produceMs)} s`)

    console.log('  pgmirror: RESUME MIRROR…')
    const mirror = server
    const mem = new MemorySampler(server.pid).start()
    const cpu = new CpuTracker(
      backendsOf({ [src.name]: 'source', [server.catalog.name]: 'catalog backends' }),
      [{ pid: server.pid, label: 'pgmirror (node)' }],
    )
    await waitForQuietMachine()
    await cpu.start()
    const resumedAt = Date.now()
    const t0 = performance.now()
    await mirror.sql('RESUME MIRROR kcdc')
    const done = await waitForEvents(admin, topic, events, timeoutMs, () =>
      mirror.process.logs().slice(-3000),
    )
    const catchUpMs = done - t0
    const used = await cpu.stop()
    const peakHwmMb = mem.stop().hwmMb
    const b = await query<{ n: string; first: string }>(
      server.catalog.url,
      `SELECT count(*)::text AS n, (extract(epoch FROM min(started_at)) * 1000)::bigint::text AS first
       FROM cdc_batches WHERE started_at >= to_timestamp($1 / 1000.0)`,
      [resumedAt],
    )
    const firstBatchAt = Number(b.rows[0]!.first) - resumedAt
    const duplicates = (await topicEnd(admin, topic)) - events
    console.log(`  pgmirror: ${seconds(catchUpMs)} s, ${duplicates} duplicates`)

    console.log('  the Kafka sink alone…')
    const alone = await sinkOnly(planTotal(plan), maxBatchSize, compression)
    console.log(`  ${seconds(alone.ms)} s`)
    return report({
      plan,
      events,
      compression,
      maxBatchSize,
      produceMs,
      catchUpMs,
      streamMs: catchUpMs - firstBatchAt,
      firstBatchAt,
      batches: Number(b.rows[0]!.n),
      duplicates,
      cpu: used.cpu,
      machineS: used.machineS,
      peakHwmMb,
      sinkOnly: alone,
    })
  } finally {
    if (server) {
      await server.sql('DROP MIRROR IF EXISTS kcdc').catch(() => undefined)
      await server.close()
    }
    await admin.disconnect().catch(() => undefined)
    await dropDatabases(src)
  }
}

const perSecond = (n: number, ms: number): string => Math.round(n / (ms / 1000)).toLocaleString('en-US')

async function report(r: KafkaCdcResult): Promise<KafkaCdcResult> {
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ')
  const cpuText = [...r.cpu]
    .filter(([, s]) => s >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([label, s]) => `${label} ${s.toFixed(1)}`)
    .join(', ')
  const body = [
    `### Results: CDC into Kafka (generated ${when} UTC)`,
    '',
    `Machine: ${await machine()}. Broker: librdkafka's mock cluster from \`scripts/services.sh\` (one broker, ` +
      `topic auto-created with 4 partitions, no idempotent producer, so pgmirror uses a plain one; acks=-1).`,
    '',
    `Command: \`${commandLine()}\`. ${(r.events - 1).toLocaleString('en-US')} changes on ` +
      `${r.plan.baseRows.toLocaleString('en-US')} base rows in ${r.plan.transactions} transactions of ` +
      `${r.plan.insertsPerTx} inserts + ${r.plan.updatesPerTx} updates + ${r.plan.deletesPerTx} deletes, made while ` +
      `the mirror was paused (${seconds(r.produceMs)} s); max_batch_size = ${r.maxBatchSize}, compression ` +
      `${r.compression}. Goal: ≥ ${GOAL.toLocaleString('en-US')} rows/s on this machine.`,
    '',
    table(
      ['measurement', 'seconds', 'rows/s'],
      [
        [
          'RESUME → every event acknowledged on the topic',
          seconds(r.catchUpMs),
          perSecond(r.events, r.catchUpMs),
        ],
        [
          'first batch started → every event acknowledged (streaming rate)',
          seconds(r.streamMs),
          perSecond(r.events, r.streamMs),
        ],
        [
          'the Kafka sink alone (synthetic inserts, same batch size)',
          seconds(r.sinkOnly.ms),
          perSecond(r.sinkOnly.rows, r.sinkOnly.ms),
        ],
      ],
    ),
    '',
    `pgmirror: ${r.batches} batches; first batch started ${seconds(r.firstBatchAt)} s after RESUME (reconnecting ` +
      `the slot and reading the checkpoint back from \`_pgmirror_checkpoints\`, which joins a consumer group); ` +
      `${r.duplicates} duplicate events; peak RSS ${mb(r.peakHwmMb)} MB; CPU seconds: ${cpuText}; machine ` +
      `${r.machineS.toFixed(1)} CPU-s in all. The sink alone used ${r.sinkOnly.cpuS.toFixed(1)} CPU-s of the ` +
      `benchmark process for ${r.sinkOnly.rows.toLocaleString('en-US')} events.`,
  ].join('\n')
  publish(
    'kafka-cdc',
    body,
    r.events - 1 === FULL_CHANGES &&
      process.env.BENCH_CDC_TX_SIZE === undefined &&
      process.env.BENCH_CDC_BATCH === undefined &&
      process.env.BENCH_KAFKA_COMPRESSION === undefined,
  )
  return r
}

runIfMain(import.meta.url, main)
