import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { PartitionerArgs, PartitionMetadata } from 'kafkajs'
import type { KafkaPartitioner } from '../../../../src/model/peer.ts'
import { createPartitioner, STICKY_RUN } from '../../../../src/sinks/kafka/partitioners.ts'

const partitionMetadata: PartitionMetadata[] = [0, 1, 2, 3].map((p) => ({
  partitionId: p,
  leader: 1,
  replicas: [1],
  isr: [1],
  partitionErrorCode: 0,
}))

function place(
  name: KafkaPartitioner | undefined,
  messages: { key?: string; partition?: number }[],
): number[] {
  const partition = createPartitioner(name)()
  return messages.map((m) =>
    partition({ topic: 't', partitionMetadata, message: { value: 'v', ...m } } as PartitionerArgs),
  )
}

const keys = Array.from({ length: 200 }, (_, i) => ({ key: `{"id":${i}}` }))

describe('partitioners', () => {
  it('Default and StickyKey hash the key: the same key always lands on the same partition', () => {
    for (const name of [undefined, 'Default', 'StickyKey'] as const) {
      const first = place(name, keys)
      assert.deepEqual(place(name, keys), first)
      assert.equal(new Set(first).size, 4, 'keys spread over all partitions')
    }
    // The Java client's murmur2 (test vectors of Kafka's UtilsTest: 21 → -973932308, foobar → -790332482,
    // a-little-bit-longer-string → -1486304829, abc → 479470107), masked positive, modulo 4 partitions.
    const vectors = ['21', 'foobar', 'a-little-bit-longer-string', 'abc'].map((key) => ({ key }))
    assert.deepEqual(place('Default', vectors), [0, 2, 3, 3])
  })

  it('Manual sends everything to partition 0', () => {
    assert.deepEqual(new Set(place('Manual', keys)), new Set([0]))
  })

  it('RoundRobin and LeastBackup rotate; Sticky stays for a run', () => {
    for (const name of ['RoundRobin', 'LeastBackup'] as const) {
      const got = place(name, keys.slice(0, 8))
      assert.deepEqual(got.slice(4), got.slice(0, 4))
      assert.equal(new Set(got).size, 4)
    }
    const sticky = place(
      'Sticky',
      Array.from({ length: STICKY_RUN * 3 }, (_, i) => ({ key: String(i) })),
    )
    for (let run = 0; run < 3; run++) {
      assert.equal(new Set(sticky.slice(run * STICKY_RUN, (run + 1) * STICKY_RUN)).size, 1)
    }
  })

  it('a pinned partition wins under every partitioner', () => {
    for (const name of [undefined, 'Manual', 'RoundRobin', 'Sticky'] as const) {
      assert.deepEqual(place(name, [{ key: 'x', partition: 3 }, { partition: 2 }]), [3, 2])
    }
  })
})
