/**
 * The kafkajs producer of one sink, on the delivery thread, and the order in which chunks reach it.
 *
 * - The producer is idempotent when the cluster supports it (no duplicates from kafkajs' own retries). kafkajs asks
 *   for a producer id when it connects; a cluster that cannot give one (no InitProducerId, no IdempotentWrite
 *   permission, or librdkafka's mock, whose "controller" does not exist) gets a plain producer instead, and the
 *   caller hears about it once through `onNoIdempotence`.
 * - After a failed send the producer is dropped, so the retry (the engine's, with backoff) starts on fresh
 *   connections.
 */
import type { Kafka, Producer, TopicMessages } from 'kafkajs'
import { CompressionTypes } from 'kafkajs'
import type { KafkaConfig } from '../../model/peer.ts'
import { isBrokerNotFound, kafkaError } from './kafka-errors.ts'
import { unpack, type Pack } from './message-pack.ts'
import { createPartitioner } from './partitioners.ts'

function idempotenceUnsupported(e: unknown): boolean {
  if (isBrokerNotFound(e)) return true
  const type = (e as { type?: string } | null)?.type
  return type === 'UNSUPPORTED_VERSION' || type === 'CLUSTER_AUTHORIZATION_FAILED'
}

export interface LinkOptions {
  /** Known from an earlier connect to this cluster: do not ask for a producer id again. */
  readonly skipIdempotence: boolean
  readonly onNoIdempotence: () => void
}

export class ProducerLink {
  private producer: Promise<Producer> | undefined
  private readonly compression: CompressionTypes
  /** Whether the connected producer is idempotent (undefined before the first connect). */
  idempotent: boolean | undefined
  private skipIdempotence: boolean

  constructor(
    private readonly kafka: Kafka,
    private readonly cfg: KafkaConfig,
    private readonly opts: LinkOptions,
  ) {
    this.compression = cfg.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None
    this.skipIdempotence = opts.skipIdempotence
  }

  private async open(): Promise<Producer> {
    const base = { createPartitioner: createPartitioner(this.cfg.partitioner), maxInFlightRequests: 1 }
    if (!this.skipIdempotence) {
      const p = this.kafka.producer({ ...base, idempotent: true, retry: { retries: 5 } })
      try {
        await p.connect()
        this.idempotent = true
        return p
      } catch (e) {
        await p.disconnect().catch(() => undefined)
        if (!idempotenceUnsupported(e)) throw e
        this.skipIdempotence = true
        this.opts.onNoIdempotence()
      }
    }
    const p = this.kafka.producer({ ...base, idempotent: false })
    await p.connect()
    this.idempotent = false
    return p
  }

  private connected(): Promise<Producer> {
    this.producer ??= this.open().catch((e: unknown) => {
      this.producer = undefined
      throw kafkaError(e, this.cfg, 'connect to')
    })
    return this.producer
  }

  /** One produce request per broker, acknowledged by all in-sync replicas; rejects with a PgMirrorError. */
  async send(topicMessages: TopicMessages[]): Promise<void> {
    const producer = await this.connected()
    try {
      await producer.sendBatch({ topicMessages, acks: -1, compression: this.compression })
    } catch (e) {
      const p = this.producer
      this.producer = undefined
      void p?.then((x) => x.disconnect()).catch(() => undefined)
      throw kafkaError(e, this.cfg, 'write to')
    }
  }

  async close(): Promise<void> {
    const p = this.producer
    this.producer = undefined
    await p?.then((x) => x.disconnect()).catch(() => undefined)
  }
}

/**
 * Sends chunks strictly one after another in arrival order. Once a chunk of a call fails, the call's later chunks
 * are refused unsent: sending them would put events ahead of the failed ones, which the retry sends again later,
 * and a key's events would then no longer arrive in commit order.
 */
export class PackDispatcher {
  private chain: Promise<unknown> = Promise.resolve()
  private readonly failed = new Set<number>()

  constructor(private readonly link: ProducerLink) {}

  handle(call: number, pack: Pack): Promise<void> {
    const run = this.chain.then(async () => {
      if (this.failed.has(call)) throw new Error(`chunk of call ${call} skipped after an earlier failure`)
      try {
        await this.link.send(unpack(pack))
      } catch (e) {
        this.failed.add(call)
        throw e
      }
    })
    this.chain = run.catch(() => undefined)
    return run
  }

  /** Forgets a finished call (successful or not). */
  done(call: number): void {
    this.failed.delete(call)
  }
}
