// Postgres → Kafka end to end through the gateway, against the Kafka-protocol broker of `scripts/services.sh`:
// snapshot and changes consumed back from the topics and checked event by event, in order per key; the type
// matrix as JSON through the real source; a SIGKILL of pgmirror mid-stream with writes going on (every change at
// least once, duplicates counted); a broker outage shown in the mirror status.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import pg from 'pg'
import { readTopic } from '../../src/sinks/kafka/topic-reader.ts'
import { createMirrorFixture, peerSql, type MirrorFixture } from '../support/mirror-fixture.ts'
import { kafkaBrokers, uniqueName, waitFor } from '../support/services.ts'

interface Event {
  readonly partition: number
  readonly key: unknown
  readonly value: {
    op: string
    before: Record<string, unknown> | null
    after: Record<string, unknown> | null
    source: { lsn: string | null; seq: number | null }
    unchanged_toast?: string[]
  } | null
}

async function consume(brokers: string[], topic: string): Promise<Event[]> {
  const client = new Kafka({ clientId: 'pgmirror-e2e', brokers, logLevel: logLevel.NOTHING })
  const out: Event[] = []
  await readTopic(client, topic, (partition, m) =>
    out.push({
      partition,
      key: m.key === null ? null : JSON.parse(m.key.toString('utf8')),
      value: m.value === null ? null : JSON.parse(m.value.toString('utf8')),
    }),
  )
  return out
}

/** One line per event: op and the row it carries (`before` for deletes), plus unchanged TOAST columns. */
function entry(v: NonNullable<Event['value']>): string {
  const toast = v.unchanged_toast ? ` toast:${v.unchanged_toast.join(',')}` : ''
  return `${v.op} ${JSON.stringify(v.op === 'd' ? v.before : v.after)}${toast}`
}

/**
 * Per key, the events in partition order with repeats removed: a CDC event is identified by its source position
 * (lsn, seq), a snapshot row by its content. Also returns how many repeats there were.
 */
function dedupedHistories(events: readonly Event[]): {
  histories: Map<string, string[]>
  duplicates: number
} {
  const seen = new Set<string>()
  const histories = new Map<string, string[]>()
  let duplicates = 0
  for (const e of events) {
    if (e.value === null) continue
    const key = JSON.stringify(e.key)
    const id =
      e.value.source.lsn === null
        ? `r ${key} ${entry(e.value)}`
        : `${e.value.source.lsn}/${e.value.source.seq}/${key}`
    if (seen.has(id)) {
      duplicates++
      continue
    }
    seen.add(id)
    histories.set(key, [...(histories.get(key) ?? []), entry(e.value)])
  }
  return { histories, duplicates }
}

/** Consumes the topic until `done` accepts what arrived (each read joins a consumer group: a few seconds). */
async function consumeUntil(
  brokers: string[],
  topic: string,
  done: (events: Event[]) => boolean,
  timeoutMs = 90_000,
): Promise<Event[]> {
  let last: Event[] = []
  await waitFor(
    async () => {
      last = await consume(brokers, topic)
      return done(last)
    },
    { timeoutMs, intervalMs: 200, message: `events on topic ${topic}` },
  )
  return last
}

const kafkaPeerSql = (name: string, brokers: string[]) =>
  `CREATE PEER ${name} FROM KAFKA WITH (servers = '${brokers.join(',')}', disable_tls = true)`

describe('CDC mirror Postgres → Kafka', () => {
  let fx: MirrorFixture
  const brokers = kafkaBrokers()

  before(async () => {
    fx = await createMirrorFixture()
    await fx.sql(peerSql('pgsrc', fx.source))
    await fx.sql(kafkaPeerSql('k', brokers))
  })

  after(async () => {
    await fx?.close()
  })

  test('snapshot and changes arrive as keyed events, in commit order per key', async () => {
    await fx.src(`CREATE TABLE public.items (id int PRIMARY KEY, v text, big text)`)
    // EXTERNAL keeps big out of line, so updates of other columns send it as unchanged TOAST.
    await fx.src(`ALTER TABLE public.items ALTER COLUMN big SET STORAGE EXTERNAL`)
    await fx.src(`INSERT INTO public.items SELECT g, 'v' || g, CASE WHEN g <= 5 THEN repeat('B', 5000) END
                  FROM generate_series(1, 2000) g`)
    await fx.src(`CREATE TABLE public.full_t (id int PRIMARY KEY, v text)`)
    await fx.src(`ALTER TABLE public.full_t REPLICA IDENTITY FULL`)
    await fx.src(`INSERT INTO public.full_t VALUES (1, 'orig1'), (2, 'orig2')`)
    const items = uniqueName('items')
    const full = uniqueName('full')
    await fx.sql(`CREATE MIRROR mk FROM pgsrc TO k WITH TABLE MAPPING (public.items:${items}, public.full_t:${full})
      WITH (snapshot_num_rows_per_partition = 500, snapshot_max_parallel_workers = 2, sync_interval = 1, max_batch_size = 300)`)
    await fx.waitForStatus('mk', 'STATUS_RUNNING')

    await fx.src(`UPDATE public.items SET v = v || '!' WHERE id <= 100`)
    await fx.src(`DELETE FROM public.items WHERE id BETWEEN 101 AND 150`)
    await fx.src(`UPDATE public.items SET id = id + 10000 WHERE id BETWEEN 151 AND 160`)
    await fx.src(`BEGIN; INSERT INTO public.items (id, v) VALUES (5000, 'new'); UPDATE public.items SET v = 'new2' WHERE id = 5000;
                  DELETE FROM public.items WHERE id = 5000; INSERT INTO public.items (id, v) VALUES (5000, 'again'); COMMIT`)
    await fx.src(`UPDATE public.full_t SET v = 'changed' WHERE id = 1`)
    await fx.src(`DELETE FROM public.full_t WHERE id = 2`)
    await fx.src(`INSERT INTO public.items (id, v) VALUES (9999, 'marker')`)

    const events = await consumeUntil(brokers, items, (es) =>
      es.some((e) => JSON.stringify(e.key) === '{"id":9999}'),
    )
    const { histories } = dedupedHistories(events)
    const row = (id: number, v: string, big: string | null = null) => JSON.stringify({ id, v, big })
    const want = new Map<string, string[]>()
    for (let id = 1; id <= 2000; id++) {
      const big = id <= 5 ? 'B'.repeat(5000) : null
      const h = [`r ${row(id, `v${id}`, big)}`]
      if (id <= 100)
        h.push(
          `u ${JSON.stringify(id <= 5 ? { id, v: `v${id}!` } : { id, v: `v${id}!`, big: null })}${id <= 5 ? ' toast:big' : ''}`,
        )
      else if (id <= 160) h.push(`d {"id":${id}}`)
      want.set(`{"id":${id}}`, h)
    }
    for (let id = 151; id <= 160; id++) want.set(`{"id":${id + 10000}}`, [`c ${row(id + 10000, `v${id}`)}`])
    want.set('{"id":5000}', [
      `c ${row(5000, 'new')}`,
      `u ${row(5000, 'new2')}`,
      'd {"id":5000}',
      `c ${row(5000, 'again')}`,
    ])
    want.set('{"id":9999}', [`c ${row(9999, 'marker')}`])
    assert.equal(histories.size, want.size)
    for (const [key, h] of want) assert.deepEqual(histories.get(key), h, `history of ${key}`)
    const update = events.find((e) => e.value?.op === 'u')!.value!
    assert.equal(update.before, null, 'default replica identity sends no old row')
    assert.match(
      String((update.source as { commit_time?: string }).commit_time),
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/,
    )

    const fullEvents = await consume(brokers, full)
    assert.deepEqual(dedupedHistories(fullEvents).histories.get('{"id":1}'), [
      'r {"id":1,"v":"orig1"}',
      'u {"id":1,"v":"changed"}',
    ])
    const u = fullEvents.find((e) => e.value?.op === 'u')!.value!
    assert.deepEqual(u.before, { id: 1, v: 'orig1' }, 'REPLICA IDENTITY FULL sends the old row')
    const d = fullEvents.find((e) => e.value?.op === 'd')!.value!
    assert.deepEqual(d.before, { id: 2, v: 'orig2' })

    const status = await fx.sql('SHOW MIRROR mk')
    assert.equal(status.rows[0].status, 'STATUS_RUNNING')
    assert.ok(Number(status.rows[0].rows_synced) > 0)
  })

  test('every type of the matrix arrives as exact JSON from the snapshot and from the stream', async () => {
    await fx.src(`CREATE TYPE public.mood AS ENUM ('happy', 'sad')`)
    await fx.src(`CREATE TABLE public.types (id bigint PRIMARY KEY, i2 smallint, i4 int, i8 bigint, num numeric(30,10),
      f4 real, f8 float8, b boolean, t text, by bytea, d date, ts timestamp, tstz timestamptz, iv interval, u uuid,
      j json, jb jsonb, ia int[], ta text[], tsa timestamptz[], ba boolean[], na numeric[], e public.mood)`)
    const values = (id: number) => [
      `(${id}, -32768, 2147483647, -9223372036854775808, 123456789012345.1234567890, 1.1, 1.7976931348623157e308, true,
        E'tab\\there "q" \\\\ ü 😀', '\\x00ff5c0a', '2024-02-29', '2024-05-01 12:34:56.123456', '2024-05-01 12:34:56.123456+02',
        '1 year 2 mons 3 days 04:05:06.789', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"b":1,  "a":[1, 2.50]}',
        '{"a": [1, 2.50]}', '{1,NULL,3}', '{"a \\"q\\"",NULL,"b,c","NULL",""}', ARRAY['2024-01-01 00:00:00+01'::timestamptz],
        '{t,f}', '{1.50,NaN}', 'happy')`,
      `(${id + 1}, NULL, NULL, NULL, 'NaN', '-Infinity', 'NaN', NULL, NULL, NULL, '0044-03-15 BC', 'infinity', NULL, NULL,
        NULL, 'null', NULL, '{}', '{NULL}', NULL, NULL, NULL, NULL)`,
    ]
    await fx.src(`INSERT INTO public.types VALUES ${values(1).join(', ')}`)
    const topic = uniqueName('types')
    await fx.sql(
      `CREATE MIRROR mt FROM pgsrc TO k WITH TABLE MAPPING (public.types:${topic}) WITH (sync_interval = 1)`,
    )
    await fx.waitForStatus('mt', 'STATUS_RUNNING')
    await fx.src(`INSERT INTO public.types VALUES ${values(101).join(', ')}`)
    const events = await consumeUntil(brokers, topic, (es) => es.length >= 4)
    const full = {
      i2: -32768,
      i4: 2147483647,
      i8: '-9223372036854775808',
      num: '123456789012345.1234567890',
      f4: 1.1,
      f8: 1.7976931348623157e308,
      b: true,
      t: 'tab\there "q" \\ ü 😀',
      by: Buffer.from([0x00, 0xff, 0x5c, 0x0a]).toString('base64'),
      d: '2024-02-29',
      ts: '2024-05-01T12:34:56.123456',
      tstz: '2024-05-01T10:34:56.123456Z',
      iv: '1 year 2 mons 3 days 04:05:06.789',
      u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      j: { b: 1, a: [1, 2.5] },
      jb: { a: [1, 2.5] },
      ia: [1, null, 3],
      ta: ['a "q"', null, 'b,c', 'NULL', ''],
      tsa: ['2023-12-31T23:00:00.000000Z'],
      ba: [true, false],
      na: ['1.50', 'NaN'],
      e: 'happy',
    }
    const sparse = {
      ...Object.fromEntries(Object.keys(full).map((k) => [k, null])),
      num: 'NaN',
      f4: '-Infinity',
      f8: 'NaN',
      d: '-000043-03-15',
      ts: 'infinity',
      j: null,
      ia: [],
      ta: [null],
    }
    const byId = new Map(events.map((e) => [String(e.value?.after?.id), e.value!]))
    for (const [id, op, want] of [
      ['1', 'r', full],
      ['2', 'r', sparse],
      ['101', 'c', full],
      ['102', 'c', sparse],
    ] as const) {
      assert.equal(byId.get(id)?.op, op, `row ${id}`)
      assert.deepEqual(byId.get(id)?.after, { id: id, ...want }, `row ${id}`)
    }
  })

  test('SIGKILL mid-stream with writes going on: every change arrives at least once, in order per key', async (t) => {
    await fx.src(`CREATE TABLE public.t (id int PRIMARY KEY, v text)`)
    await fx.src(`INSERT INTO public.t SELECT g, 'i' || g FROM generate_series(1, 2000) g`)
    const topic = uniqueName('crash')
    await fx.sql(`CREATE MIRROR kcrash FROM pgsrc TO k WITH TABLE MAPPING (public.t:${topic})
      WITH (snapshot_num_rows_per_partition = 5000, sync_interval = 1, max_batch_size = 500)`)
    await fx.waitForStatus('kcrash', 'STATUS_RUNNING')
    const lastBatch = async () =>
      BigInt((await fx.sql(`SELECT last_batch_id FROM mirrors WHERE name = 'kcrash'`)).rows[0].last_batch_id)

    const writer = startWriter(fx.source.url, 2001, MAX_WRITER_TXS)
    const batch0 = await lastBatch()
    await waitFor(async () => (await lastBatch()) > batch0 + 2n, {
      timeoutMs: 60_000,
      message: 'batches to flow',
    })
    await fx.server.kill()
    const txsAtKill = writer.txs()
    assert.equal(await fx.sql('SELECT 1').catch(() => 'down'), 'down', 'the server must really be gone')
    await fx.restart()
    assert.ok(writer.txs() > txsAtKill, 'writes went on while pgmirror was down')
    const batch1 = await lastBatch()
    await waitFor(async () => (await lastBatch()) > batch1 + 2n, {
      timeoutMs: 90_000,
      message: 'streaming to resume',
    })
    const expected = await writer.stop()
    assert.ok(expected.txs > 0)

    const want = new Map<string, string[]>()
    for (let id = 1; id <= 2000; id++) want.set(`{"id":${id}}`, [`r ${JSON.stringify({ id, v: `i${id}` })}`])
    for (const [id, h] of expected.changes)
      want.set(`{"id":${id}}`, [...(want.get(`{"id":${id}}`) ?? []), ...h])
    const lastKey = `{"id":${expected.lastInsertedId}}`
    let result = { histories: new Map<string, string[]>(), duplicates: 0 }
    const events = await consumeUntil(
      brokers,
      topic,
      (es) => {
        result = dedupedHistories(es)
        return result.histories.has(lastKey)
      },
      120_000,
    )
    await assertUntrimmed(brokers, topic)
    for (const [key, h] of want) assert.deepEqual(result.histories.get(key), h, `history of ${key}`)
    assert.equal(result.histories.size, want.size)
    const cdc = events.filter((e) => e.value?.source.lsn !== null).length
    t.diagnostic(
      `${expected.txs} transactions, ${cdc} change events consumed, ${result.duplicates} duplicates after the SIGKILL`,
    )
    console.log(
      `kafka crash test: ${expected.txs} transactions, ${cdc} change events, ${result.duplicates} duplicates`,
    )
  })

  test('a broker outage shows in the mirror status while the mirror keeps retrying', async () => {
    const mock = await startPrivateBroker()
    try {
      await fx.src(`CREATE TABLE public.small (id int PRIMARY KEY)`)
      await fx.sql(kafkaPeerSql('kdown', [mock.brokers]))
      await fx.sql(
        `CREATE MIRROR mdown FROM pgsrc TO kdown WITH TABLE MAPPING (public.small:small) WITH (sync_interval = 1)`,
      )
      await fx.waitForStatus('mdown', 'STATUS_RUNNING')
      mock.kill()
      await fx.src(`INSERT INTO public.small VALUES (1)`)
      await waitFor(
        async () => {
          const r = await fx.sql('SHOW MIRROR mdown')
          return (
            /could not (write to|connect to) kafka brokers/.test(String(r.rows[0].last_error ?? '')) &&
            r.rows[0].status === 'STATUS_RUNNING'
          )
        },
        { timeoutMs: 60_000, intervalMs: 200, message: 'the outage to show in SHOW MIRROR' },
      )
    } finally {
      mock.kill()
    }
  })
})

/**
 * librdkafka's mock keeps about 5 MB per partition and drops older messages beyond that; the crash test's writer
 * stops after this many transactions (about 11 events each) so the topic stays whole.
 */
const MAX_WRITER_TXS = 5000

/** Fails when the broker dropped the start of a topic (a check that the test, not the sink, lost events). */
async function assertUntrimmed(brokers: string[], topic: string): Promise<void> {
  const admin = new Kafka({ clientId: 'pgmirror-e2e', brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    for (const o of await admin.fetchTopicOffsets(topic)) {
      assert.equal(o.low, '0', `the broker trimmed partition ${o.partition} of ${topic}; write fewer events`)
    }
  } finally {
    await admin.disconnect()
  }
}

/** Inserts, updates and deletes on public.t, one transaction at a time, recording every change per id in commit order. */
function startWriter(url: string, firstId: number, maxTxs: number) {
  let running = true
  const changes = new Map<number, string[]>()
  const push = (id: number, e: string) => changes.set(id, [...(changes.get(id) ?? []), e])
  let txs = 0
  let lastInsertedId = 0
  const done = (async () => {
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    let id = firstId
    try {
      while (running && txs < maxTxs) {
        await c.query('BEGIN')
        const ins = await c.query<{ id: number; v: string }>(
          `INSERT INTO public.t SELECT g, 'w' || g FROM generate_series($1::int, $1::int + 4) g RETURNING id, v`,
          [id],
        )
        const upd = await c.query<{ id: number; v: string }>(
          `UPDATE public.t SET v = v || '+' WHERE id IN (SELECT (random() * $1)::int + 1 FROM generate_series(1, 5)) RETURNING id, v`,
          [id + 4],
        )
        const del = await c.query<{ id: number }>(
          `DELETE FROM public.t WHERE id IN (SELECT (random() * $1)::int + 1 FROM generate_series(1, 1)) RETURNING id`,
          [id + 4],
        )
        await c.query('COMMIT')
        for (const r of ins.rows) push(r.id, `c ${JSON.stringify({ id: r.id, v: r.v })}`)
        for (const r of upd.rows) push(r.id, `u ${JSON.stringify({ id: r.id, v: r.v })}`)
        for (const r of del.rows) push(r.id, `d {"id":${r.id}}`)
        lastInsertedId = id + 4
        id += 5
        txs++
      }
    } finally {
      await c.end()
    }
  })()
  return {
    txs: () => txs,
    async stop() {
      running = false
      await done
      return { txs, changes, lastInsertedId }
    },
  }
}

/** A Kafka-protocol broker of this test's own (the services script's binary), to take down at will. */
async function startPrivateBroker(): Promise<{ brokers: string; kill(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'pgmirror-kafka-'))
  const file = join(dir, 'bootstrap')
  const bin = join(process.env.PGMIRROR_SERVICES_DIR ?? '/tmp/pgmirror-services', 'kafka', 'kafka-mock')
  const child: ChildProcess = spawn(bin, [file], { stdio: 'ignore' })
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const brokers = await waitFor(
      () => {
        try {
          return readFileSync(file, 'utf8').trim()
        } catch {
          return ''
        }
      },
      { timeoutMs: 10_000, message: 'the private broker to start' },
    )
    return { brokers, kill }
  } catch (e) {
    kill()
    throw e
  }
}
