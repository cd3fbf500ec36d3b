import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  CHECKPOINT_PARTITION,
  CHECKPOINT_TOPIC,
  checkpointRecord,
  forgetRecords,
  partitionRecord,
  StateBuilder,
} from '../../../../src/sinks/kafka/checkpoints.ts'
import type { OutMessage } from '../../../../src/sinks/kafka/events.ts'

const asStored = (m: OutMessage) => ({
  key: m.key === null ? null : Buffer.from(m.key),
  value: m.value === null ? null : Buffer.from(m.value),
})

function fold(mirror: string, records: OutMessage[]) {
  const b = new StateBuilder(mirror)
  for (const r of records) b.add(asStored(r))
  return b.state
}

describe('checkpoint records', () => {
  it('all go to partition 0 of the checkpoint topic', () => {
    for (const r of [checkpointRecord('m', { batchId: 1n, lsn: 1n }), partitionRecord('m', 't', '1/0', 5)]) {
      assert.equal(r.topic, CHECKPOINT_TOPIC)
      assert.equal(r.partition, CHECKPOINT_PARTITION)
    }
  })

  it('the last value per key wins; other mirrors are ignored', () => {
    const s = fold('m', [
      checkpointRecord('m', { batchId: 1n, lsn: 0x10n }),
      checkpointRecord('other', { batchId: 99n, lsn: 0x99n }),
      checkpointRecord('m', { batchId: 2n, lsn: 0x16_b374_d848n }),
      partitionRecord('m', 'orders', '1/0', 10),
      partitionRecord('m', 'orders', '1/1', 11),
      partitionRecord('other', 'orders', '1/2', 12),
    ])
    assert.deepEqual(s.checkpoint, { batchId: 2n, lsn: 0x16_b374_d848n })
    assert.deepEqual(
      [...(s.partitions.get('orders') ?? [])],
      [
        ['1/0', 10],
        ['1/1', 11],
      ],
    )
  })

  it('tombstones forget; garbage is skipped', () => {
    const first = fold('m', [
      checkpointRecord('m', { batchId: 5n, lsn: 0x50n }),
      partitionRecord('m', 'a', '1/0', 1),
      partitionRecord('m', 'b', '1/0', 2),
    ])
    const resetA = forgetRecords('m', first, ['a'], true)
    assert.equal(resetA.length, 2)
    const s = fold('m', [
      checkpointRecord('m', { batchId: 5n, lsn: 0x50n }),
      partitionRecord('m', 'a', '1/0', 1),
      partitionRecord('m', 'b', '1/0', 2),
      { topic: CHECKPOINT_TOPIC, key: 'not json', value: '{}' },
      { topic: CHECKPOINT_TOPIC, key: '{"mirror":"m","kind":"checkpoint"}', value: 'not json' },
      ...resetA,
    ])
    assert.equal(s.checkpoint, undefined)
    assert.deepEqual([...(s.partitions.get('a') ?? [])], [])
    assert.deepEqual([...(s.partitions.get('b') ?? [])], [['1/0', 2]])
    assert.deepEqual(forgetRecords('m', s, ['a'], true), [], 'nothing left to forget')
  })
})
