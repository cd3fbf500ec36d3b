/**
 * Reading a topic from its start up to the end offsets it had when the read began. kafkajs has no consumer without
 * a group, so each read joins a fresh, uniquely named group that commits nothing (it leaves no offsets behind) and
 * costs one group join, about 3 s on a broker with the default initial rebalance delay. A topic whose partitions
 * are all empty is answered from the offsets alone, without joining.
 */
import { randomBytes } from 'node:crypto'
import type { Kafka, KafkaMessage } from 'kafkajs'

export interface ReadOptions {
  /** Only these partitions (all when absent). */
  readonly partitions?: readonly number[]
  readonly timeoutMs?: number
}

/** Calls `onMessage` for every message below the end offsets seen at the start, in offset order per partition. */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  onMessage: (partition: number, message: KafkaMessage) => void,
  opts: ReadOptions = {},
): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  let ends: Map<number, bigint>
  try {
    const offsets = await admin.fetchTopicOffsets(topic)
    ends = new Map(
      offsets
        .filter((o) => opts.partitions === undefined || opts.partitions.includes(o.partition))
        .filter((o) => BigInt(o.high) > BigInt(o.low))
        .map((o) => [o.partition, BigInt(o.high)]),
    )
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
  if (ends.size === 0) return

  const consumer = kafka.consumer({
    groupId: `pgmirror-read-${randomBytes(6).toString('hex')}`,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
  })
  const timeoutMs = opts.timeoutMs ?? 60_000
  let timer: NodeJS.Timeout | undefined
  try {
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`reading topic "${topic}" did not reach its end within ${timeoutMs} ms`)),
        timeoutMs,
      )
      consumer.on(consumer.events.CRASH, (ev) => reject(ev.payload.error))
      const remaining = new Set(ends.keys())
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = ends.get(batch.partition)
            if (end === undefined || !remaining.has(batch.partition)) return
            for (const m of batch.messages) {
              if (BigInt(m.offset) >= end) break
              onMessage(batch.partition, m)
            }
            const last = batch.messages.at(-1)
            if (last !== undefined && BigInt(last.offset) + 1n >= end) remaining.delete(batch.partition)
            if (remaining.size === 0) resolve()
          },
        })
        .catch(reject)
    })
  } finally {
    clearTimeout(timer)
    await consumer.disconnect().catch(() => undefined)
  }
}
