import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Kafka, ProducerBatch } from 'kafkajs'
import { PgMirrorError } from '../../../../src/errors.ts'
import type { KafkaConfig } from '../../../../src/model/peer.ts'
import { Delivery, type PackSender } from '../../../../src/sinks/kafka/delivery.ts'
import type { OutMessage } from '../../../../src/sinks/kafka/events.ts'
import { PackWriter, unpack, type Pack } from '../../../../src/sinks/kafka/message-pack.ts'
import { PackDispatcher, ProducerLink } from '../../../../src/sinks/kafka/producer-link.ts'

interface FakeCluster {
  readonly kafka: Kafka
  readonly producers: { idempotent: boolean; sends: ProducerBatch[] }[]
  /** Sends in flight at once, highest seen. */
  maxInFlight: number
}

/** A stand-in for kafkajs: idempotent producers fail to connect as on librdkafka's mock; sends can be made to fail. */
function fakeCluster(opts: { idempotentFails: boolean; failSend?: (n: number) => unknown }): FakeCluster {
  let inFlight = 0
  let sendNo = 0
  const cluster: FakeCluster = {
    producers: [],
    maxInFlight: 0,
    kafka: {
      producer: (o: { idempotent?: boolean }) => {
        const state = { idempotent: o.idempotent === true, sends: [] as ProducerBatch[] }
        cluster.producers.push(state)
        return {
          async connect() {
            if (state.idempotent && opts.idempotentFails) {
              throw Object.assign(new Error('Broker 0 not found in the cached metadata'), {
                name: 'KafkaJSBrokerNotFound',
              })
            }
          },
          async disconnect() {},
          async sendBatch(batch: ProducerBatch) {
            inFlight++
            cluster.maxInFlight = Math.max(cluster.maxInFlight, inFlight)
            await new Promise((r) => setTimeout(r, 2))
            inFlight--
            const failure = opts.failSend?.(++sendNo)
            if (failure !== undefined) throw failure
            state.sends.push(batch)
            return []
          },
        }
      },
    } as unknown as Kafka,
  }
  return cluster
}

/** The delivery thread's work, done in this thread: the same dispatcher and link the worker runs. */
function localSender(c: FakeCluster, cfg: KafkaConfig = { servers: ['b:9092'] }): PackSender {
  const link = new ProducerLink(c.kafka, cfg, { skipIdempotence: false, onNoIdempotence: () => undefined })
  const dispatcher = new PackDispatcher(link)
  return {
    send: (call, pack) => dispatcher.handle(call, pack),
    end: (call) => dispatcher.done(call),
    close: () => link.close(),
  }
}

const msgs = (n: number, topic = 't'): OutMessage[] =>
  Array.from({ length: n }, (_, i) => ({ topic, key: `{"id":${i}}`, value: 'x'.repeat(50) }))

const sentKeys = (c: FakeCluster) =>
  c.producers.flatMap((p) =>
    p.sends.flatMap((s) =>
      s.topicMessages!.flatMap((t) => t.messages.map((m) => `${t.topic} ${m.key?.toString()}`)),
    ),
  )

describe('message packs', () => {
  it('round-trip keys, values, tombstones, pinned partitions and several topics', () => {
    const w = new PackWriter()
    const input: OutMessage[] = [
      { topic: 'a', key: '{"id":"1"}', value: '{"op":"c","x":"Zürich ✓ 😀"}' },
      { topic: 'b', key: null, value: '{"op":"t"}', partition: 3 },
      { topic: 'a', key: '{"id":"1"}', value: null },
    ]
    for (const m of input) w.add(m)
    assert.equal(w.count, 3)
    const pack = w.take()
    assert.equal(w.count, 0)
    assert.equal(
      pack.length,
      input.reduce((n, m) => n + PackWriter.sizeOf(m), 0),
    )
    const out = unpack(pack).map((t) => ({
      topic: t.topic,
      messages: t.messages.map((m) => [m.key?.toString() ?? null, m.value?.toString() ?? null, m.partition]),
    }))
    assert.deepEqual(out, [
      {
        topic: 'a',
        messages: [
          ['{"id":"1"}', '{"op":"c","x":"Zürich ✓ 😀"}', undefined],
          ['{"id":"1"}', null, undefined],
        ],
      },
      { topic: 'b', messages: [[null, '{"op":"t"}', 3]] },
    ])
  })
})

describe('ProducerLink', () => {
  it('falls back to a plain producer when the cluster gives no producer id, and says so', async () => {
    const c = fakeCluster({ idempotentFails: true })
    let notices = 0
    const link = new ProducerLink(
      c.kafka,
      { servers: ['b:9092'] },
      { skipIdempotence: false, onNoIdempotence: () => notices++ },
    )
    await link.send([{ topic: 't', messages: [{ value: 'v' }] }])
    await link.send([{ topic: 't', messages: [{ value: 'w' }] }])
    assert.equal(link.idempotent, false)
    assert.deepEqual(
      c.producers.map((p) => p.idempotent),
      [true, false],
    )
    assert.equal(notices, 1)
  })

  it('keeps an idempotent producer where the cluster supports it, and skips the attempt when told', async () => {
    const c = fakeCluster({ idempotentFails: false })
    const link = new ProducerLink(
      c.kafka,
      { servers: ['b:9092'] },
      { skipIdempotence: false, onNoIdempotence: () => assert.fail() },
    )
    await link.send([{ topic: 't', messages: [{ value: 'v' }] }])
    assert.equal(link.idempotent, true)
    const known = new ProducerLink(
      c.kafka,
      { servers: ['b:9092'] },
      { skipIdempotence: true, onNoIdempotence: () => assert.fail() },
    )
    await known.send([{ topic: 't', messages: [{ value: 'v' }] }])
    assert.deepEqual(
      c.producers.map((p) => p.idempotent),
      [true, false],
    )
  })
})

describe('Delivery', () => {
  it('cuts chunks by bytes and by count, one send at a time, in order, all acknowledged', async () => {
    const c = fakeCluster({ idempotentFails: false })
    const d = new Delivery(localSender(c, { servers: ['b:9092'], compression: 'gzip' }), {
      maxBytes: 1000,
      maxMessages: 7,
    })
    const all = [...msgs(30, 'a'), ...msgs(5, 'b')]
    await d.sendAll([all.slice(0, 11), all.slice(11)])
    const sends = c.producers.at(-1)!.sends
    assert.ok(sends.length >= 5)
    for (const s of sends) {
      const n = s.topicMessages!.reduce((k, t) => k + t.messages.length, 0)
      assert.ok(n <= 7, `at most 7 messages per send, got ${n}`)
      assert.equal(s.acks, -1)
      assert.equal(s.compression, 1, 'gzip')
    }
    assert.deepEqual(
      sentKeys(c),
      all.map((m) => `${m.topic} ${m.key}`),
    )
    assert.equal(c.maxInFlight, 1)
  })

  it('keeps every chunk within maxBytes, measuring multi-byte text exactly', async () => {
    const c = fakeCluster({ idempotentFails: false })
    const d = new Delivery(localSender(c), { maxBytes: 1000, maxMessages: 1000 })
    // 40 UTF-16 units, 3 bytes each in UTF-8: estimates by length would be off by 3x.
    const wide: OutMessage[] = Array.from({ length: 40 }, (_, i) => ({
      topic: 't',
      key: String(i),
      value: '✓'.repeat(40),
    }))
    await d.sendAll([[...msgs(20), ...wide]])
    const sizes = c.producers[0]!.sends.map((s) =>
      s.topicMessages!.reduce(
        (n, t) => n + t.messages.reduce((k, m) => k + 14 + (m.key?.length ?? 0) + (m.value?.length ?? 0), 0),
        0,
      ),
    )
    assert.ok(
      sizes.every((n) => n <= 1000),
      `chunk sizes ${sizes.join(',')}`,
    )
    assert.ok(
      sizes.some((n) => n > 900),
      `chunks are filled up: ${sizes.join(',')}`,
    )
    assert.equal(sentKeys(c).length, 60)
  })

  it('after a failed chunk nothing more of the call is sent, the error is retryable, the next call works', async () => {
    const boom = Object.assign(new Error('Connection error: connect ECONNREFUSED'), {
      name: 'KafkaJSConnectionError',
    })
    const c = fakeCluster({ idempotentFails: false, failSend: (n) => (n === 2 ? boom : undefined) })
    const d = new Delivery(localSender(c), { maxBytes: 1e6, maxMessages: 2 })
    await assert.rejects(d.sendAll([msgs(12)]), (e: unknown) => {
      assert.ok(e instanceof PgMirrorError)
      assert.equal(e.kind, 'connection_failure')
      assert.match(e.message, /^could not write to kafka brokers b:9092: Connection error/)
      return true
    })
    assert.equal(sentKeys(c).length, 2, 'only the first chunk went out')
    await d.sendAll([msgs(2)])
    assert.equal(c.producers.length, 2, 'a fresh producer after the failure')
    assert.equal(sentKeys(c).length, 4)
  })

  it('a failing message source is passed through, not reported as a broker fault', async () => {
    const d = new Delivery(localSender(fakeCluster({ idempotentFails: false })), {
      maxBytes: 1e6,
      maxMessages: 2,
    })
    async function* source(): AsyncGenerator<OutMessage[]> {
      yield msgs(3)
      throw new Error('partition stopped')
    }
    await assert.rejects(d.sendAll(source()), /^Error: partition stopped$/)
  })

  it('keeps a bounded number of chunks outstanding', async () => {
    let outstanding = 0
    let most = 0
    const sender: PackSender = {
      async send(_call: number, _pack: Pack) {
        outstanding++
        most = Math.max(most, outstanding)
        await new Promise((r) => setTimeout(r, 1))
        outstanding--
      },
      end: () => undefined,
      close: async () => undefined,
    }
    await new Delivery(sender, { maxBytes: 1e6, maxMessages: 1 }).sendAll([msgs(20)])
    assert.ok(most >= 2 && most <= 3, `outstanding chunks: ${most}`)
  })
})
