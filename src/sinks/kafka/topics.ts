/**
 * Topic metadata for the Kafka sink: does a topic exist, how many partitions has it, and making sure the mapped
 * topics exist before a mirror starts. A missing topic is created with the broker's defaults when the cluster
 * allows it (the checkpoint topic compacted, with one partition); where CreateTopics is not available (librdkafka's
 * mock) a metadata request lets the broker auto-create it; when neither works the mirror fails at setup naming the
 * topic, instead of failing at the first write.
 */
import type { Admin, Kafka } from 'kafkajs'
import { PgMirrorError, q } from '../../errors.ts'
import type { KafkaConfig } from '../../model/peer.ts'
import { kafkaError } from './kafka-errors.ts'

/** Topic names Kafka accepts: letters, digits, `.`, `_`, `-`, at most 249 characters, not `.` or `..`. */
export function validateTopicName(topic: string): void {
  if (/^[A-Za-z0-9._-]{1,249}$/.test(topic) && topic !== '.' && topic !== '..') return
  throw new PgMirrorError('invalid_parameter_value', `invalid kafka topic name ${q(topic)}`, {
    hint: "topic names use letters, digits, '.', '_' and '-' (at most 249); write the mapping's destination as a string, e.g. public.orders:'orders-cdc'",
    field: 'table_mappings',
  })
}

export class TopicAdmin {
  private admin: Promise<Admin> | undefined

  constructor(
    private readonly kafka: Kafka,
    private readonly cfg: KafkaConfig,
  ) {}

  private connected(): Promise<Admin> {
    this.admin ??= (async () => {
      const a = this.kafka.admin()
      await a.connect()
      return a
    })().catch((e: unknown) => {
      this.admin = undefined
      throw kafkaError(e, this.cfg, 'connect to')
    })
    return this.admin
  }

  private async call<T>(what: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = await this.connected()
    try {
      return await fn(admin)
    } catch (e) {
      throw kafkaError(e, this.cfg, what)
    }
  }

  async exists(topic: string): Promise<boolean> {
    return (await this.call('list topics on', (a) => a.listTopics())).includes(topic)
  }

  /** Partition counts of the given topics (none asked: no request). */
  async partitionCounts(topics: ReadonlySet<string>): Promise<Map<string, number>> {
    if (topics.size === 0) return new Map()
    const md = await this.call('read metadata from', (a) => a.fetchTopicMetadata({ topics: [...topics] }))
    return new Map(md.topics.map((t) => [t.name, t.partitions.length]))
  }

  async ensure(topic: string, opts: { compacted: boolean }): Promise<void> {
    validateTopicName(topic)
    if (await this.exists(topic)) return
    const admin = await this.connected()
    let createError: unknown
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          opts.compacted
            ? { topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }
            : { topic },
        ],
      })
    } catch (e) {
      createError = e
    }
    try {
      await admin.fetchTopicMetadata({ topics: [topic] })
    } catch (e) {
      const why = createError instanceof Error ? createError.message : String(createError ?? e)
      throw new PgMirrorError('undefined_table', `kafka topic ${q(topic)} does not exist`, {
        detail: `creating it failed: ${why}`,
        hint: 'create the topic, or allow the peer user to create topics',
      })
    }
  }

  async close(): Promise<void> {
    const a = this.admin
    this.admin = undefined
    await a?.then((x) => x.disconnect()).catch(() => undefined)
  }
}
