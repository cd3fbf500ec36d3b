/**
 * The Kafka target: every snapshot row and every change as a keyed JSON event on the mapping's topic
 * (format: events.ts and README.md "Kafka target").
 *
 * Delivery is at-least-once. writeBatch resolves only after every event of the batch was acknowledged by all
 * in-sync replicas, and only then is the batch's checkpoint written (to `_pgmirror_checkpoints`, see
 * checkpoints.ts) and returned to the engine, which confirms the LSN to the slot after that. A crash anywhere
 * before the checkpoint replays the batch: consumers may see an event twice (same `source.lsn` and `source.seq`),
 * never miss one. Snapshot partitions are the same: a partition retried after a failure is sent again in full.
 *
 * The bookkeeping is keyed by mirror name, so a mirror's setup (ensureTables) forgets whatever an earlier mirror
 * of the same name left behind.
 *
 * What a log cannot do, it does not pretend to: hasRows is always false (appending a snapshot to a topic that
 * already holds events is legitimate), resetTables forgets the bookkeeping but leaves the topics' events alone,
 * and the synced-at and soft-delete settings do not apply (every event carries `synced_at`; deletes are `d`).
 */
import { Kafka } from 'kafkajs'
import { PgMirrorError } from '../../errors.ts'
import type { KafkaConfig } from '../../model/peer.ts'
import { tableKey, type Checkpoint, type RecordBatch, type TableName } from '../../model/record.ts'
import type { Sink, SinkSettings, SinkTable, SnapshotPartitionInput } from '../sink.ts'
import {
  CHECKPOINT_PARTITION,
  CHECKPOINT_TOPIC,
  checkpointRecord,
  forgetRecords,
  partitionRecord,
  StateBuilder,
  type MirrorState,
} from './checkpoints.ts'
import { kafkaClientConfig } from './connect.ts'
import { copyTextRows } from './copy-text-reader.ts'
import { DEFAULT_MAX_SEND_BYTES, Delivery } from './delivery.ts'
import { WorkerSender } from './delivery-thread.ts'
import { syncedAtNow, TableCodec, type EventOptions, type OutMessage } from './events.ts'
import { kafkaError } from './kafka-errors.ts'
import { readTopic } from './topic-reader.ts'
import { TopicAdmin } from './topics.ts'

export interface KafkaSinkOptions {
  /** Send a tombstone (null value, same key) after every delete. Off by default; not yet a mirror option. */
  readonly tombstones?: boolean
  /** Messages per producer request (besides the peer's max_record_batch_bytes). */
  readonly maxMessagesPerSend?: number
  /** Where one-off operational notices go (the idempotence fallback). */
  readonly notice?: (message: string) => void
}

const DEFAULT_MAX_MESSAGES_PER_SEND = 2000
/** Events encoded per group handed to the delivery (keeps memory flat for large batches). */
const ENCODE_GROUP = 1000

const defaultNotice = (message: string): void => process.emitWarning(message, { code: 'PGMIRROR_KAFKA' })

export function createKafkaSink(
  cfg: KafkaConfig,
  settings: SinkSettings,
  options: KafkaSinkOptions = {},
): Sink {
  const clientId = `pgmirror-${settings.mirror}`
  const kafka = new Kafka(kafkaClientConfig(cfg, clientId))
  const delivery = new Delivery(new WorkerSender(cfg, clientId, options.notice ?? defaultNotice), {
    maxBytes: cfg.max_record_batch_bytes ?? DEFAULT_MAX_SEND_BYTES,
    maxMessages: options.maxMessagesPerSend ?? DEFAULT_MAX_MESSAGES_PER_SEND,
  })
  const topics = new TopicAdmin(kafka, cfg)
  const tombstones = options.tombstones ?? false
  const mirror = settings.mirror
  // A schema change hands writeBatch a new SinkTable object, which gets a fresh codec.
  const codecs = new WeakMap<SinkTable, TableCodec>()
  const codecFor = (table: SinkTable): TableCodec => {
    let c = codecs.get(table)
    if (c === undefined) codecs.set(table, (c = new TableCodec(table)))
    return c
  }
  /** The last checkpoint this sink read or wrote; writeBatch skips batch ids at or below it. */
  let stored: Promise<Checkpoint | undefined> | undefined

  async function loadState(): Promise<MirrorState> {
    const builder = new StateBuilder(mirror)
    try {
      if (await topics.exists(CHECKPOINT_TOPIC)) {
        await readTopic(kafka, CHECKPOINT_TOPIC, (_, m) => builder.add(m), {
          partitions: [CHECKPOINT_PARTITION],
        })
      }
    } catch (e) {
      throw kafkaError(e, cfg, 'read checkpoints from')
    }
    stored = Promise.resolve(builder.state.checkpoint)
    return builder.state
  }

  function storedCheckpoint(): Promise<Checkpoint | undefined> {
    stored ??= loadState().then(
      (s) => s.checkpoint,
      (e: unknown) => {
        stored = undefined
        throw e
      },
    )
    return stored
  }

  async function bookkeeping(records: OutMessage[]): Promise<void> {
    if (records.length > 0) await delivery.sendAll([records])
  }

  return {
    snapshotFormat: 'text',

    async ensureTables(tables) {
      await topics.ensure(CHECKPOINT_TOPIC, { compacted: true })
      for (const t of tables) await topics.ensure(t.destination, { compacted: false })
      // This runs when a mirror is set up, before it writes anything. Bookkeeping found under its name belongs
      // to an earlier mirror of that name (dropped while the brokers were unreachable, or another installation
      // on this cluster); left in place, its checkpoint would set where streaming starts and its partitions
      // would be skipped. So it is forgotten here.
      const state = await loadState()
      await bookkeeping(forgetRecords(mirror, state, state.partitions.keys(), true))
      stored = Promise.resolve(undefined)
    },

    async hasRows() {
      return false
    },

    async donePartitions(table) {
      const state = await loadState()
      return new Set(state.partitions.get(table.destination)?.keys() ?? [])
    },

    async writeSnapshotPartition(input: SnapshotPartitionInput) {
      try {
        if (input.format !== 'text') {
          throw new PgMirrorError(
            'internal_error',
            `the kafka sink reads snapshots as COPY text, not ${input.format}`,
          )
        }
        const codec = codecFor(input.table)
        if (input.mode === 'upsert') {
          // Recovery after a crash or pause: a partition that reached the topic before the catalog recorded it
          // is not sent a second time.
          const done = (await loadState()).partitions.get(codec.topic)?.get(input.partitionId)
          if (done !== undefined) {
            input.data.destroy()
            return { rows: done }
          }
        }
        let rows = 0
        async function* events(): AsyncGenerator<OutMessage[]> {
          for await (const lines of copyTextRows(input.data)) {
            const syncedAt = syncedAtNow()
            rows += lines.length
            yield lines.map((values) => codec.snapshotMessage(values, syncedAt))
          }
        }
        await delivery.sendAll(events())
        await bookkeeping([partitionRecord(mirror, codec.topic, input.partitionId, rows)])
        return { rows }
      } catch (e) {
        input.data.destroy()
        throw e
      }
    },

    async writeBatch(batch: RecordBatch, tables: ReadonlyMap<string, SinkTable>) {
      // Skipped only when the stored checkpoint covers the whole batch (by LSN, not batch id: a successor's batch
      // of the same id can reach further than a killed process's did).
      const cp = await storedCheckpoint()
      if (cp !== undefined && batch.endLsn <= cp.lsn) return
      // Changes of one table mostly follow each other and share their TableName object: look up on a change.
      let lastName: TableName | undefined
      let lastCodec: TableCodec | undefined
      const codecList = batch.records.map((r) => {
        if (r.table === lastName && lastCodec !== undefined) return lastCodec
        const table = tables.get(tableKey(r.table))
        if (table === undefined)
          throw new PgMirrorError(
            'internal_error',
            `batch ${batch.batchId} has changes for unmapped table "${tableKey(r.table)}"`,
          )
        lastName = r.table
        lastCodec = codecFor(table)
        return lastCodec
      })
      const truncated = new Set(
        batch.records.flatMap((r, i) => (r.kind === 'truncate' ? [codecList[i]!.topic] : [])),
      )
      const counts = await topics.partitionCounts(truncated)
      const opts: EventOptions = {
        tombstones,
        syncedAt: syncedAtNow(),
        partitionCount: (topic) => counts.get(topic) ?? 1,
      }
      function* events(): Generator<OutMessage[]> {
        let out: OutMessage[] = []
        for (let i = 0; i < batch.records.length; i++) {
          codecList[i]!.changeMessages(batch.records[i]!, opts, out)
          if (out.length >= ENCODE_GROUP) {
            yield out
            out = []
          }
        }
        if (out.length > 0) yield out
      }
      await delivery.sendAll(events())
      const next: Checkpoint = { batchId: batch.batchId, lsn: batch.endLsn }
      await bookkeeping([checkpointRecord(mirror, next)])
      stored = Promise.resolve(next)
    },

    async lastCheckpoint() {
      return (await loadState()).checkpoint
    },

    async applySchemaChange() {
      // Events are self-describing JSON: a new column simply appears in `after` from the next event on.
    },

    async resetTables(tables) {
      const state = await loadState()
      await bookkeeping(forgetRecords(mirror, state, new Set(tables.map((t) => t.destination)), true))
      stored = Promise.resolve(undefined)
    },

    async teardown() {
      const state = await loadState()
      await bookkeeping(forgetRecords(mirror, state, state.partitions.keys(), true))
      stored = Promise.resolve(undefined)
    },

    async close() {
      await Promise.allSettled([delivery.close(), topics.close()])
    },
  }
}
