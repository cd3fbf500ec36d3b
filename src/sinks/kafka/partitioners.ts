/**
 * The peer's `partitioner` option (PeerDB's names) → a kafkajs partitioner. A message with a pinned partition
 * (keyless tables, truncates, checkpoints) always goes there.
 *
 * - `Default` (or unset) and `StickyKey`: murmur2 of the key modulo the partition count, the Java client's rule, so
 *   every event of a key lands on one partition in commit order and other Kafka clients agree on where a key lives.
 * - `Manual`: partition 0 for everything (total order per topic).
 * - `RoundRobin`, `LeastBackup`, `Sticky`: ignore the key and spread load. They give up per-key ordering, which
 *   is what choosing them means. kafkajs exposes no per-partition backlog, so `LeastBackup` rotates like
 *   `RoundRobin`; `Sticky` stays on one random partition for a run of messages before moving on.
 */
import { randomInt } from 'node:crypto'
import { Partitioners, type ICustomPartitioner, type PartitionerArgs } from 'kafkajs'
import type { KafkaPartitioner } from '../../model/peer.ts'

/** Messages a `Sticky` partitioner sends to one partition before it picks another. */
export const STICKY_RUN = 1000

const pinned = (args: PartitionerArgs): number | undefined => {
  const p = args.message.partition
  return p === undefined || p === null ? undefined : p
}

const manual: ICustomPartitioner = () => (args) => pinned(args) ?? 0

const roundRobin: ICustomPartitioner = () => {
  const next = new Map<string, number>()
  return (args) => {
    const p = pinned(args)
    if (p !== undefined) return p
    const n = next.get(args.topic) ?? randomInt(args.partitionMetadata.length)
    next.set(args.topic, (n + 1) % args.partitionMetadata.length)
    return n % args.partitionMetadata.length
  }
}

const sticky: ICustomPartitioner = () => {
  const state = new Map<string, { partition: number; left: number }>()
  return (args) => {
    const p = pinned(args)
    if (p !== undefined) return p
    let s = state.get(args.topic)
    if (s === undefined || s.left === 0 || s.partition >= args.partitionMetadata.length) {
      s = { partition: randomInt(args.partitionMetadata.length), left: STICKY_RUN }
      state.set(args.topic, s)
    }
    s.left--
    return s.partition
  }
}

export function createPartitioner(name: KafkaPartitioner | undefined): ICustomPartitioner {
  switch (name) {
    case undefined:
    case 'Default':
    case 'StickyKey':
      return Partitioners.DefaultPartitioner
    case 'Manual':
      return manual
    case 'RoundRobin':
    case 'LeastBackup':
      return roundRobin
    case 'Sticky':
      return sticky
  }
}
