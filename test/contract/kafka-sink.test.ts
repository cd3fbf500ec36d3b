// The Kafka sink against the Kafka-protocol broker of `scripts/services.sh` (librdkafka's mock cluster). The shared
// table contract (sink-contract.ts) reads targets back as tables, which a log is not; this file checks the same
// promises in a log's terms, by consuming the topics: every event, in order per key, exact JSON values, snapshot
// partitions, checkpoints and their replay rule, resync and teardown bookkeeping, errors.
// Each test uses topics and a mirror name of its own; topics are auto-created by the broker with 4 partitions.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import { PgMirrorError } from '../../src/errors.ts'
import { parseLsn } from '../../src/model/lsn.ts'
import type { KafkaConfig } from '../../src/model/peer.ts'
import type { Row, Value } from '../../src/model/record.ts'
import { createKafkaSink, type KafkaSinkOptions } from '../../src/sinks/kafka/kafka-sink.ts'
import { readTopic } from '../../src/sinks/kafka/topic-reader.ts'
import type { Sink, SinkTable } from '../../src/sinks/sink.ts'
import { kafkaBrokers, uniqueName } from '../support/services.ts'
import {
  column,
  copyText,
  MATRIX_COLUMNS,
  MATRIX_ROWS,
  RecordMaker,
  rowOf,
  sinkTable,
  tableMap,
} from './sink-contract.ts'

const cfg = (extra: Partial<KafkaConfig> = {}): KafkaConfig => ({
  servers: kafkaBrokers(),
  disable_tls: true,
  ...extra,
})

const SIMPLE = [
  column('id', 'bigint', 20, { nullable: false }),
  column('name', 'text', 25),
  column('amount', 'numeric(12,2)', 1700),
]

interface Event {
  readonly partition: number
  readonly key: unknown
  /** The parsed value; null for a tombstone. */
  readonly value: Record<string, unknown> | null
  readonly raw: string | null
}

const client = new Kafka({ clientId: 'pgmirror-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING })

/** Every event of the topic, in offset order within each partition. */
async function consume(topic: string): Promise<Event[]> {
  const out: Event[] = []
  await readTopic(client, topic, (partition, m) => {
    const raw = m.value === null ? null : m.value.toString('utf8')
    out.push({
      partition,
      key: m.key === null ? null : JSON.parse(m.key.toString('utf8')),
      value: raw === null ? null : (JSON.parse(raw) as Record<string, unknown>),
      raw,
    })
  })
  return out
}

/** op and `after` (or `before` for deletes) per key, in the order the key's partition holds them. */
function historyByKey(events: readonly Event[]): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const e of events) {
    const k = JSON.stringify(e.key)
    const v = e.value
    const entry =
      v === null ? 'tombstone' : `${v.op as string} ${JSON.stringify(v.op === 'd' ? v.before : v.after)}`
    out.set(k, [...(out.get(k) ?? []), entry])
  }
  return out
}

const settings = (mirror: string) => ({ mirror, syncedAtColumn: '', softDeleteColumn: undefined })

async function withSink(
  body: (sink: Sink, mirror: string) => Promise<void>,
  opts: KafkaSinkOptions & { config?: Partial<KafkaConfig> } = {},
): Promise<void> {
  const mirror = uniqueName('kc')
  const sink = createKafkaSink(cfg(opts.config), settings(mirror), { notice: () => undefined, ...opts })
  try {
    await body(sink, mirror)
  } finally {
    await sink.close()
  }
}

describe('Kafka sink against the mock broker', () => {
  it('ensureTables accepts new and existing topics and refuses names Kafka would', async () => {
    await withSink(async (sink) => {
      const t = sinkTable(uniqueName('kt_ensure'), SIMPLE, ['id'])
      await sink.ensureTables([t])
      await sink.ensureTables([t])
      assert.equal(await sink.hasRows(t), false)
      assert.deepEqual([...(await sink.donePartitions(t))], [])
      await assert.rejects(sink.ensureTables([sinkTable('bad topic!', SIMPLE, ['id'])]), (e: unknown) => {
        assert.ok(e instanceof PgMirrorError)
        assert.equal(e.sqlState, '22023')
        assert.match(e.message, /invalid kafka topic name "bad topic!"/)
        return true
      })
    })
  })

  it('streams a snapshot partition as "r" events keyed by the primary key, and records it', async () => {
    await withSink(async (sink, mirror) => {
      const t = sinkTable(uniqueName('kt_snap'), SIMPLE, ['id'])
      await sink.ensureTables([t])
      const rows: Value[][] = Array.from({ length: 3000 }, (_, i) => [
        String(i + 1),
        i % 7 === 0 ? null : `n\t${i}`,
        `${i}.50`,
      ])
      const write = (partitionId: string, data: Value[][], mode: 'copy' | 'upsert' = 'copy') =>
        sink.writeSnapshotPartition({ table: t, partitionId, data: copyText(data), format: 'text', mode })
      assert.deepEqual(await write('1/0', rows), { rows: 3000 })
      assert.deepEqual([...(await sink.donePartitions(t))], ['1/0'])
      // Recovery mode skips a partition that already reached the topic; a new one is sent.
      assert.deepEqual(await write('1/0', [['99999', 'again', '0.00']], 'upsert'), { rows: 3000 })
      assert.deepEqual(await write('1/1', [['4000', 'four', '4.00']], 'upsert'), { rows: 1 })
      const fresh = createKafkaSink(cfg(), settings(mirror))
      try {
        assert.deepEqual([...(await fresh.donePartitions(t))].sort(), ['1/0', '1/1'])
      } finally {
        await fresh.close()
      }

      const events = await consume(t.destination)
      assert.equal(events.length, 3001)
      const byId = new Map(events.map((e) => [(e.value?.after as Row).id, e]))
      assert.equal(byId.size, 3001, 'each row exactly once')
      assert.equal(byId.has('99999'), false)
      const e7 = byId.get('8')!
      assert.deepEqual(e7.key, { id: '8' })
      assert.deepEqual(e7.value, {
        op: 'r',
        before: null,
        after: { id: '8', name: null, amount: '7.50' },
        source: { lsn: null, seq: null, xid: null, commit_time: null, schema: 'src', table: t.destination },
        synced_at: e7.value?.synced_at,
      })
      assert.match(String(e7.value?.synced_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
      assert.equal((byId.get('2')!.value?.after as Row).name, 'n\t1')
      assert.equal(new Set(events.map((e) => e.partition)).size, 4, 'keys spread over the partitions')
    })
  })

  it('writes inserts, updates and deletes in commit order per key, then the checkpoint', async () => {
    await withSink(async (sink, mirror) => {
      const t = sinkTable(uniqueName('kt_batch'), SIMPLE, ['id'])
      await sink.ensureTables([t])
      assert.equal(await sink.lastCheckpoint(), undefined)
      const m = new RecordMaker(t)
      const tables = tableMap(t)
      const first = [
        ...Array.from({ length: 500 }, (_, i) => m.insert({ id: String(i), name: 'a', amount: '1.00' })),
        m.update({ id: '1', name: 'a2', amount: '1.10' }),
        m.update({ id: '1', name: 'a3', amount: '1.20' }),
        m.delete({ id: '2' }),
      ]
      await sink.writeBatch(m.batch(mirror, 1n, first), tables)
      await sink.writeBatch(
        m.batch(
          mirror,
          2n,
          [
            m.insert({ id: '2', name: 'back', amount: null }),
            m.update({ id: '3000', name: 'moved', amount: '3.00' }, { id: '3' }),
            m.update({ id: '1', name: 'a4', amount: '1.30' }),
          ],
          0x16_b374_d848n,
        ),
        tables,
      )
      const fresh = createKafkaSink(cfg(), settings(mirror))
      try {
        assert.deepEqual(await fresh.lastCheckpoint(), { batchId: 2n, lsn: 0x16_b374_d848n })
      } finally {
        await fresh.close()
      }
      const events = await consume(t.destination)
      const h = historyByKey(events)
      const row = (id: string, name: string | null, amount: string | null) =>
        JSON.stringify({ id, name, amount })
      assert.deepEqual(h.get('{"id":"1"}'), [
        `c ${row('1', 'a', '1.00')}`,
        `u ${row('1', 'a2', '1.10')}`,
        `u ${row('1', 'a3', '1.20')}`,
        `u ${row('1', 'a4', '1.30')}`,
      ])
      assert.deepEqual(h.get('{"id":"2"}'), [
        `c ${row('2', 'a', '1.00')}`,
        `d {"id":"2"}`,
        `c ${row('2', 'back', null)}`,
      ])
      assert.deepEqual(h.get('{"id":"3"}'), [`c ${row('3', 'a', '1.00')}`, `d {"id":"3"}`])
      assert.deepEqual(h.get('{"id":"3000"}'), [`c ${row('3000', 'moved', '3.00')}`])
      assert.equal(events.length, 500 + 3 + 1 + 3)
      // Commit order inside each partition: the source positions never go backwards.
      for (const p of [0, 1, 2, 3]) {
        const lsns = events
          .filter((e) => e.partition === p)
          .map((e) => parseLsn((e.value?.source as { lsn: string }).lsn))
        assert.deepEqual(
          lsns,
          [...lsns].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      }
      const d = events.find((e) => e.value?.op === 'd')!
      assert.deepEqual(Object.keys(d.value!.source as object), [
        'lsn',
        'seq',
        'xid',
        'commit_time',
        'schema',
        'table',
      ])
    })
  })

  it('skips a batch the stored checkpoint covers (by LSN), also in a fresh sink', async () => {
    await withSink(async (sink, mirror) => {
      const t = sinkTable(uniqueName('kt_replay'), SIMPLE, ['id'])
      await sink.ensureTables([t])
      const m = new RecordMaker(t)
      const tables = tableMap(t)
      const first = m.batch(mirror, 1n, [m.insert({ id: '1', name: 'a', amount: '1.00' })])
      const second = m.batch(mirror, 2n, [m.update({ id: '1', name: 'b', amount: '2.00' })])
      await sink.writeBatch(first, tables)
      await sink.writeBatch(second, tables)
      await sink.writeBatch(first, tables)
      await sink.writeBatch(second, tables)
      const fresh = createKafkaSink(cfg(), settings(mirror))
      try {
        await fresh.writeBatch(
          m.batch(mirror, 2n, [m.insert({ id: '9', name: 'x', amount: null })], second.endLsn),
          tables,
        )
        // An empty batch still moves the checkpoint (idle progress).
        const idle = second.endLsn + 0x500n
        await fresh.writeBatch(m.batch(mirror, 3n, [], idle), tables)
        assert.deepEqual(await fresh.lastCheckpoint(), { batchId: 3n, lsn: idle })
      } finally {
        await fresh.close()
      }
      const events = await consume(t.destination)
      assert.deepEqual(
        events.map((e) => e.value?.op),
        ['c', 'u'],
      )
    })
  })

  it('every type of the matrix arrives as exact JSON, from a snapshot and from a batch', async () => {
    await withSink(async (sink, mirror) => {
      const snap = sinkTable(uniqueName('kt_types_snap'), MATRIX_COLUMNS, ['id'])
      const cdc = sinkTable(uniqueName('kt_types_cdc'), MATRIX_COLUMNS, ['id'])
      await sink.ensureTables([snap, cdc])
      await sink.writeSnapshotPartition({
        table: snap,
        partitionId: '0',
        data: copyText(MATRIX_ROWS.map((r) => [...r])),
        format: 'text',
        mode: 'copy',
      })
      const m = new RecordMaker(cdc)
      const rows = MATRIX_ROWS.map((r) => rowOf(MATRIX_COLUMNS, r))
      await sink.writeBatch(
        m.batch(
          mirror,
          1n,
          rows.map((r) => m.insert(r)),
        ),
        tableMap(cdc),
      )
      for (const topic of [snap.destination, cdc.destination]) {
        const events = await consume(topic)
        const after = new Map(events.map((e) => [String((e.value?.after as Row).id), e]))
        for (const want of MATRIX_JSON)
          assert.deepEqual(after.get(String(want.id))?.value?.after, want, `${topic} row ${String(want.id)}`)
        const raw1 = after.get('1')?.raw ?? ''
        // Digits exactly as Postgres printed them, not as a JS Number would reprint them.
        assert.ok(raw1.includes('"c_float8":1.7976931348623157e+308'), raw1)
        assert.ok(raw1.includes('"c_json":{"b":1,  "a":[1, 2.50]}'), raw1)
        assert.ok(raw1.includes('"c_num":"123456789012345.1234567890"'), raw1)
      }
    })
  })

  it('a truncate reaches every partition; tombstones follow deletes when enabled', async () => {
    await withSink(
      async (sink, mirror) => {
        const t = sinkTable(uniqueName('kt_trunc'), SIMPLE, ['id'])
        await sink.ensureTables([t])
        const m = new RecordMaker(t)
        await sink.writeBatch(
          m.batch(mirror, 1n, [
            m.insert({ id: '1', name: 'a', amount: null }),
            m.delete({ id: '1' }),
            m.truncate(),
          ]),
          tableMap(t),
        )
        const events = await consume(t.destination)
        const truncates = events.filter((e) => e.value?.op === 't')
        assert.deepEqual(truncates.map((e) => e.partition).sort(), [0, 1, 2, 3])
        assert.ok(truncates.every((e) => e.key === null))
        assert.deepEqual(historyByKey(events.filter((e) => e.key !== null)).get('{"id":"1"}'), [
          'c {"id":"1","name":"a","amount":null}',
          'd {"id":"1"}',
          'tombstone',
        ])
      },
      { tombstones: true },
    )
  })

  it('a table without a key keeps all its events on partition 0 in order', async () => {
    await withSink(async (sink, mirror) => {
      const t = sinkTable(uniqueName('kt_keyless'), SIMPLE, [])
      await sink.ensureTables([t])
      const m = new RecordMaker(t)
      const recs = Array.from({ length: 50 }, (_, i) => m.insert({ id: String(i), name: null, amount: null }))
      await sink.writeBatch(m.batch(mirror, 1n, recs), tableMap(t))
      const events = await consume(t.destination)
      assert.deepEqual(
        events.map((e) => [e.partition, e.key, (e.value?.after as Row).id]),
        recs.map((_, i) => [0, null, String(i)]),
      )
    })
  })

  it('gzip compression and small producer requests deliver the same events', async () => {
    await withSink(
      async (sink, mirror) => {
        const t = sinkTable(uniqueName('kt_gzip'), SIMPLE, ['id'])
        await sink.ensureTables([t])
        const m = new RecordMaker(t)
        const recs = Array.from({ length: 2000 }, (_, i) =>
          m.insert({ id: String(i), name: 'x'.repeat(100), amount: '1.00' }),
        )
        await sink.writeBatch(m.batch(mirror, 1n, recs), tableMap(t))
        const events = await consume(t.destination)
        assert.deepEqual(new Set(events.map((e) => (e.value?.after as Row).id)).size, 2000)
        assert.equal(events.length, 2000)
      },
      { config: { compression: 'gzip', max_record_batch_bytes: 20_000 }, maxMessagesPerSend: 77 },
    )
  })

  it('resetTables forgets checkpoint and partitions; teardown forgets the rest; other mirrors keep theirs', async () => {
    await withSink(async (sink, mirror) => {
      const a = sinkTable(uniqueName('kt_reset_a'), SIMPLE, ['id'])
      const b = sinkTable(uniqueName('kt_reset_b'), SIMPLE, ['id'])
      await sink.ensureTables([a, b])
      const other = createKafkaSink(cfg(), settings(uniqueName('kc_other')))
      try {
        const mo = new RecordMaker(a)
        await other.writeBatch(mo.batch('other', 4n, [], 0x44n), tableMap(a))
        for (const t of [a, b]) {
          await sink.writeSnapshotPartition({
            table: t,
            partitionId: '1/0',
            data: copyText([['1', null, null]]),
            format: 'text',
            mode: 'copy',
          })
        }
        const m = new RecordMaker(a)
        await sink.writeBatch(
          m.batch(mirror, 1n, [m.insert({ id: '2', name: null, amount: null })]),
          tableMap(a),
        )
        await sink.resetTables([a])
        assert.equal(await sink.lastCheckpoint(), undefined)
        assert.deepEqual([...(await sink.donePartitions(a))], [])
        assert.deepEqual([...(await sink.donePartitions(b))], ['1/0'])
        // After a reset batch ids start over.
        await sink.writeBatch(
          m.batch(mirror, 1n, [m.insert({ id: '3', name: null, amount: null })]),
          tableMap(a),
        )
        assert.equal((await sink.lastCheckpoint())?.batchId, 1n)
        await sink.teardown()
        assert.equal(await sink.lastCheckpoint(), undefined)
        assert.deepEqual([...(await sink.donePartitions(b))], [])
        assert.deepEqual(await other.lastCheckpoint(), { batchId: 4n, lsn: 0x44n })
        const events = await consume(a.destination)
        assert.deepEqual(
          events.map((e) => `${e.value?.op} ${(e.value?.after as Row).id}`).sort(),
          ['c 2', 'c 3', 'r 1'],
          'a log keeps its events through a reset',
        )
      } finally {
        await other.close()
      }
    })
  })

  it("a mirror's setup forgets what an earlier mirror of the same name left behind", async () => {
    await withSink(async (sink, mirror) => {
      const t = sinkTable(uniqueName('kt_stale'), SIMPLE, ['id'])
      await sink.ensureTables([t])
      await sink.writeSnapshotPartition({
        table: t,
        partitionId: '1/0',
        data: copyText([['1', null, null]]),
        format: 'text',
        mode: 'copy',
      })
      const m = new RecordMaker(t)
      await sink.writeBatch(
        m.batch(mirror, 9n, [m.insert({ id: '2', name: null, amount: null })], 0xfff000n),
        tableMap(t),
      )
      // The mirror is dropped without its teardown reaching the brokers; a new one of the same name is set up.
      const next = createKafkaSink(cfg(), settings(mirror))
      try {
        await next.ensureTables([t])
        assert.equal(await next.lastCheckpoint(), undefined)
        assert.deepEqual([...(await next.donePartitions(t))], [])
        // And a recovery-mode partition of the new mirror is sent, not skipped on the old marker.
        assert.deepEqual(
          await next.writeSnapshotPartition({
            table: t,
            partitionId: '1/0',
            data: copyText([['3', null, null]]),
            format: 'text',
            mode: 'upsert',
          }),
          { rows: 1 },
        )
      } finally {
        await next.close()
      }
      assert.deepEqual((await consume(t.destination)).map((e) => (e.value?.after as Row).id).sort(), [
        '1',
        '2',
        '3',
      ])
    })
  })

  it('falls back to a plain producer where idempotence is refused, and says so once per process', async () => {
    // A spelling of the broker list no other test uses, so this process has not met this "cluster" yet.
    const servers = kafkaBrokers().map((b) => b.replace(/^127\.0\.0\.1:/, 'localhost:'))
    const notices: string[] = []
    const t = sinkTable(uniqueName('kt_plain'), SIMPLE, ['id'])
    for (const mirror of [uniqueName('kc_plain'), uniqueName('kc_plain')]) {
      const sink = createKafkaSink({ servers, disable_tls: true }, settings(mirror), {
        notice: (m) => notices.push(m),
      })
      try {
        const m = new RecordMaker(t)
        await sink.writeBatch(
          m.batch(mirror, 1n, [m.insert({ id: '1', name: null, amount: null })]),
          tableMap(t),
        )
      } finally {
        await sink.close()
      }
    }
    assert.equal(notices.length, 1, notices.join('\n'))
    assert.match(notices[0] ?? '', /do not support idempotent producers; using a plain producer/)
    assert.equal((await consume(t.destination)).length, 2)
  })

  it('reports unreachable brokers as a retryable connection failure', async () => {
    const sink = createKafkaSink(
      { servers: ['127.0.0.1:1'], disable_tls: true },
      settings(uniqueName('kc_down')),
    )
    const t: SinkTable = sinkTable(uniqueName('kt_down'), SIMPLE, ['id'])
    const m = new RecordMaker(t)
    const started = Date.now()
    try {
      await assert.rejects(
        sink.writeBatch(m.batch('x', 1n, [m.insert({ id: '1', name: null, amount: null })]), tableMap(t)),
        (e: unknown) => {
          assert.ok(e instanceof PgMirrorError)
          assert.equal(e.kind, 'connection_failure')
          assert.equal(e.retryable, true)
          assert.match(e.message, /kafka brokers 127\.0\.0\.1:1/)
          return true
        },
      )
      assert.ok(Date.now() - started < 30_000, 'gives up within its retries')
    } finally {
      await sink.close()
    }
  })
})

/** MATRIX_ROWS as JSON, written by hand from the documented mapping (README.md, "Kafka target"). */
const MATRIX_JSON: readonly Record<string, unknown>[] = [
  {
    id: '1',
    c_int2: -32768,
    c_int4: 2147483647,
    c_int8: '-9223372036854775808',
    c_num: '123456789012345.1234567890',
    c_float8: 1.7976931348623157e308,
    c_text: 'tab\there\nnew line\\back\r\nZürich ✓ 😀 "q" \'s\' \\N',
    c_bytea: Buffer.from([0x00, 0xff, 0x5c, 0x0a, 0x0d, 0x09]).toString('base64'),
    c_bool: true,
    c_date: '2024-02-29',
    c_ts: '2024-05-01T12:34:56.123456',
    c_tstz: '2024-05-01T12:34:56.123456Z',
    c_interval: '1 year 2 mons 3 days 04:05:06.789',
    c_uuid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    c_json: { b: 1, a: [1, 2.5] },
    c_jsonb: { a: [1, 2.5], b: null, c: 'x\ty' },
    c_int_arr: [1, -2, 3],
    c_text_arr: ['a "q"', null, 'b,c', 'NULL', ''],
  },
  {
    id: '2',
    c_int2: 0,
    c_int4: 0,
    c_int8: '9223372036854775807',
    c_num: '-0.0000000001',
    c_float8: 'NaN',
    c_text: '',
    c_bytea: '',
    c_bool: false,
    c_date: '0001-01-01',
    c_ts: '1999-12-31T23:59:59.999999',
    c_tstz: '1970-01-01T00:00:00.000001Z',
    c_interval: '-00:00:00.000001',
    c_uuid: '00000000-0000-0000-0000-000000000000',
    c_json: [],
    c_jsonb: {},
    c_int_arr: [],
    c_text_arr: [],
  },
  {
    id: '3',
    c_int2: null,
    c_int4: null,
    c_int8: null,
    c_num: '0.0000000000',
    c_float8: 'Infinity',
    c_text: null,
    c_bytea: null,
    c_bool: null,
    c_date: null,
    c_ts: null,
    c_tstz: null,
    c_interval: null,
    c_uuid: null,
    c_json: null,
    c_jsonb: null,
    c_int_arr: [null],
    c_text_arr: [null],
  },
  {
    id: '4',
    ...Object.fromEntries(MATRIX_COLUMNS.slice(1).map((c) => [c.name, null])),
    c_float8: '-Infinity',
  },
]
