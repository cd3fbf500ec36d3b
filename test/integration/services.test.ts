// Proves that the services from scripts/services.sh are real and usable with the clients pgmirror uses, and that the
// helpers in test/support/services.ts behave. If this file fails, every other integration test will too.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { createClient } from '@clickhouse/client'
import { Redis } from 'ioredis'
import { Kafka, Partitioners, logLevel } from 'kafkajs'
import pg from 'pg'
import {
  clickhouseUrl,
  createTestDatabase,
  kafkaBrokers,
  redisUrl,
  testPgUrl,
  uniqueName,
  waitFor,
} from '../support/services.ts'

async function withPg<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

describe('postgres', () => {
  it('runs with wal_level = logical', async () => {
    const { rows } = await withPg(testPgUrl(), (c) => c.query<{ wal_level: string }>('SHOW wal_level'))
    assert.equal(rows[0]?.wal_level, 'logical')
  })

  it('creates a test database where a logical slot can be created and dropped', async () => {
    const db = await createTestDatabase('svc_test')
    try {
      assert.match(db.name, /^svc_test_[0-9a-f]{10}$/)
      const slot = uniqueName('svc_slot')
      await withPg(db.url, async (c) => {
        const current = await c.query<{ db: string }>('SELECT current_database() AS db')
        assert.equal(current.rows[0]?.db, db.name)
        await c.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot])
        const found = await c.query('SELECT database FROM pg_replication_slots WHERE slot_name = $1', [slot])
        assert.deepEqual(found.rows, [{ database: db.name }])
        await c.query('SELECT pg_drop_replication_slot($1)', [slot])
        const gone = await c.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot])
        assert.equal(gone.rowCount, 0)
      })
    } finally {
      await db.drop()
    }
    const left = await withPg(testPgUrl(), (c) =>
      c.query('SELECT 1 FROM pg_database WHERE datname = $1', [db.name]),
    )
    assert.equal(left.rowCount, 0)
  })
})

describe('redis', () => {
  it('answers PING through ioredis', async () => {
    const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 })
    try {
      await redis.connect()
      assert.equal(await redis.ping(), 'PONG')
    } finally {
      redis.disconnect()
    }
  })
})

describe('clickhouse', () => {
  it('reports version 18.x through @clickhouse/client', async () => {
    const client = createClient({ url: clickhouseUrl() })
    try {
      const result = await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })
      const rows = await result.json<{ v: string }>()
      assert.equal(rows.length, 1)
      assert.match(rows[0]?.v ?? '', /^18\./)
    } finally {
      await client.close()
    }
  })
})

describe('kafka', () => {
  it('reads back keyed messages produced to pgmirror_test', async () => {
    const kafka = new Kafka({
      clientId: 'pgmirror-services-test',
      brokers: kafkaBrokers(),
      logLevel: logLevel.ERROR,
    })
    // The mock lives across runs and keeps old messages, so this run's messages carry a tag of their own.
    const run = randomBytes(6).toString('hex')
    const sent = ['a', 'b', 'c'].map((k) => ({ key: `${run}:${k}`, value: `value-${k}` }))

    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
    await producer.connect()
    try {
      await producer.send({ topic: 'pgmirror_test', acks: -1, messages: sent })
    } finally {
      await producer.disconnect()
    }

    const received: { key: string; value: string }[] = []
    const consumer = kafka.consumer({ groupId: `pgmirror-services-test-${run}`, maxWaitTimeInMs: 100 })
    await consumer.connect()
    try {
      await consumer.subscribe({ topic: 'pgmirror_test', fromBeginning: true })
      await consumer.run({
        eachMessage: async ({ message }) => {
          const key = message.key?.toString() ?? ''
          if (key.startsWith(`${run}:`)) received.push({ key, value: message.value?.toString() ?? '' })
        },
      })
      await waitFor(() => received.length >= sent.length, {
        timeoutMs: 30_000,
        message: 'the consumer to read the produced messages',
      })
    } finally {
      await consumer.disconnect()
    }
    assert.deepEqual(received, sent)
  })
})

describe('test support', () => {
  it('testPgUrl swaps only the database name', () => {
    const base = new URL(testPgUrl())
    const other = new URL(testPgUrl('other_db'))
    assert.equal(other.pathname, '/other_db')
    assert.equal(other.host, base.host)
    assert.equal(other.username, base.username)
  })

  it('waitFor returns the first truthy value and times out with the message', async () => {
    let calls = 0
    assert.equal(await waitFor(() => (++calls >= 3 ? calls : 0), { intervalMs: 1 }), 3)
    await assert.rejects(
      waitFor(() => false, { timeoutMs: 30, intervalMs: 5, message: 'never' }),
      /waiting for never/,
    )
  })
})
