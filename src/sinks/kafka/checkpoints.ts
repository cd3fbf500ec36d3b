/**
 * The Kafka sink's bookkeeping: checkpoints and finished snapshot partitions, kept in the topic
 * `_pgmirror_checkpoints` on the target cluster itself (a sink cannot reach the catalog, and the bookkeeping must
 * live where the data is). All mirrors share the topic; every record goes to partition 0, so one partition holds
 * the whole history in write order whatever the topic's partition count.
 *
 *   key {"mirror":"m","kind":"checkpoint"}                                 value {"batch_id":"7","lsn":"0/16B3748"}
 *   key {"mirror":"m","kind":"partition","topic":"orders","partition":"1/3"} value {"rows":25000}
 *   a null value (tombstone) forgets the key (resync, drop)
 *
 * The state is the last value per key, found by reading the partition from its start. pgmirror creates the topic
 * compacted (cleanup.policy=compact, one partition) when the cluster allows topic creation, so the read stays
 * short; otherwise the broker auto-creates it and the read grows by one record per batch.
 */
import type { KafkaMessage } from 'kafkajs'
import { formatLsn, parseLsn } from '../../model/lsn.ts'
import type { Checkpoint } from '../../model/record.ts'
import type { OutMessage } from './events.ts'

export const CHECKPOINT_TOPIC = '_pgmirror_checkpoints'
export const CHECKPOINT_PARTITION = 0

export interface MirrorState {
  checkpoint: Checkpoint | undefined
  /** topic → partition id → rows written. */
  readonly partitions: Map<string, Map<string, number>>
}

const checkpointKey = (mirror: string): string => JSON.stringify({ mirror, kind: 'checkpoint' })
const partitionKey = (mirror: string, topic: string, partition: string): string =>
  JSON.stringify({ mirror, kind: 'partition', topic, partition })

const record = (key: string, value: string | null): OutMessage => ({
  topic: CHECKPOINT_TOPIC,
  key,
  value,
  partition: CHECKPOINT_PARTITION,
})

export const checkpointRecord = (mirror: string, cp: Checkpoint): OutMessage =>
  record(checkpointKey(mirror), JSON.stringify({ batch_id: cp.batchId.toString(), lsn: formatLsn(cp.lsn) }))

export const partitionRecord = (mirror: string, topic: string, partition: string, rows: number): OutMessage =>
  record(partitionKey(mirror, topic, partition), JSON.stringify({ rows }))

/** Tombstones for the checkpoint (when `withCheckpoint`) and for the recorded partitions of `topics`. */
export function forgetRecords(
  mirror: string,
  state: MirrorState,
  topics: Iterable<string>,
  withCheckpoint: boolean,
): OutMessage[] {
  const out: OutMessage[] = withCheckpoint && state.checkpoint ? [record(checkpointKey(mirror), null)] : []
  for (const topic of topics) {
    for (const id of state.partitions.get(topic)?.keys() ?? [])
      out.push(record(partitionKey(mirror, topic, id), null))
  }
  return out
}

interface StoredKey {
  readonly mirror?: unknown
  readonly kind?: unknown
  readonly topic?: unknown
  readonly partition?: unknown
}

function parseJson(buf: Buffer | null): unknown {
  if (buf === null) return null
  try {
    return JSON.parse(buf.toString('utf8'))
  } catch {
    return undefined
  }
}

/** Folds the records of the checkpoint partition, in offset order, into this mirror's state. Pure. */
export class StateBuilder {
  readonly state: MirrorState = { checkpoint: undefined, partitions: new Map() }
  constructor(private readonly mirror: string) {}

  add(message: Pick<KafkaMessage, 'key' | 'value'>): void {
    const key = parseJson(message.key) as StoredKey | null | undefined
    if (key === null || key === undefined || typeof key !== 'object' || key.mirror !== this.mirror) return
    const value =
      message.value === null ? null : (parseJson(message.value) as Record<string, unknown> | undefined)
    if (value === undefined) return
    if (key.kind === 'checkpoint') {
      this.state.checkpoint =
        value === null || typeof value.batch_id !== 'string' || typeof value.lsn !== 'string'
          ? undefined
          : { batchId: BigInt(value.batch_id), lsn: parseLsn(value.lsn) }
    } else if (
      key.kind === 'partition' &&
      typeof key.topic === 'string' &&
      typeof key.partition === 'string'
    ) {
      let ids = this.state.partitions.get(key.topic)
      if (ids === undefined) this.state.partitions.set(key.topic, (ids = new Map()))
      if (value === null || typeof value.rows !== 'number') ids.delete(key.partition)
      else ids.set(key.partition, value.rows)
    }
  }
}
