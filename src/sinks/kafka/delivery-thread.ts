/**
 * The delivery thread: each Kafka sink sends through a worker thread of its own, which owns the kafkajs producer.
 * kafkajs spends about as much CPU per message as decoding the change did, so on the main thread it would halve
 * the rate at which WAL can be read; on its own thread it runs beside it. Chunks arrive as transferred buffers
 * (message-pack.ts), replies are small messages, and the thread starts with the first send, so a sink that never
 * writes (a validation) never starts one.
 */
import { Worker } from 'node:worker_threads'
import { PgMirrorError, type ErrorKind } from '../../errors.ts'
import type { KafkaConfig } from '../../model/peer.ts'
import type { PackSender } from './delivery.ts'
import type { Pack } from './message-pack.ts'

export interface WorkerInit {
  readonly cfg: KafkaConfig
  readonly clientId: string
  readonly skipIdempotence: boolean
}

export type ToWorker =
  | { readonly type: 'send'; readonly id: number; readonly call: number; readonly pack: Pack }
  | { readonly type: 'end'; readonly call: number }
  | { readonly type: 'close' }

export interface WireError {
  readonly kind: ErrorKind
  readonly message: string
  readonly hint: string | undefined
  readonly detail: string | undefined
}

export type FromWorker =
  | { readonly type: 'done'; readonly id: number }
  | { readonly type: 'failed'; readonly id: number; readonly error: WireError }
  | { readonly type: 'no-idempotence' }
  | { readonly type: 'closed' }

const WORKER_ENTRY = new URL('./delivery-worker.ts', import.meta.url).href
const TSX_API = import.meta.resolve('tsx/esm/api')
/**
 * pgmirror runs its TypeScript through tsx, registered on the main thread (bin/pgmirror.js, or `--import tsx` in
 * tests); a worker thread has module hooks of its own, so it registers tsx before loading its entry module.
 */
const BOOT = `import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_ENTRY)}) })`

/** Broker lists whose cluster refused an idempotent producer: not asked again, and reported once, per process. */
const withoutIdempotence = new Set<string>()

interface Pending {
  resolve(): void
  reject(e: Error): void
}

export class WorkerSender implements PackSender {
  private worker: Worker | undefined
  private readonly pending = new Map<number, Pending>()
  private ids = 0
  private readonly clusterKey: string

  constructor(
    private readonly cfg: KafkaConfig,
    private readonly clientId: string,
    private readonly notice: (message: string) => void,
  ) {
    this.clusterKey = [...cfg.servers].sort().join(',')
  }

  private started(): Worker {
    if (this.worker !== undefined) return this.worker
    const init: WorkerInit = {
      cfg: this.cfg,
      clientId: this.clientId,
      skipIdempotence: withoutIdempotence.has(this.clusterKey),
    }
    const w = new Worker(BOOT, { eval: true, workerData: init })
    // Only outstanding sends keep the process alive (see settle); an idle thread waits for close() unnoticed.
    w.unref()
    w.on('message', (m: FromWorker) => this.received(m))
    const lost = (why: string) => {
      if (this.worker !== w) return
      this.worker = undefined
      this.failAll(new PgMirrorError('internal_error', `the kafka delivery thread ${why}`))
    }
    w.on('error', (e) => lost(`failed: ${e.message}`))
    w.on('exit', (code) => lost(`exited with code ${code}`))
    this.worker = w
    return w
  }

  private settle(id: number, error: Error | undefined): void {
    const p = this.pending.get(id)
    if (p === undefined) return
    this.pending.delete(id)
    if (this.pending.size === 0) this.worker?.unref()
    if (error === undefined) p.resolve()
    else p.reject(error)
  }

  private received(m: FromWorker): void {
    switch (m.type) {
      case 'done':
        this.settle(m.id, undefined)
        return
      case 'failed':
        this.settle(
          m.id,
          new PgMirrorError(m.error.kind, m.error.message, {
            ...(m.error.hint === undefined ? {} : { hint: m.error.hint }),
            ...(m.error.detail === undefined ? {} : { detail: m.error.detail }),
          }),
        )
        return
      case 'no-idempotence':
        if (withoutIdempotence.has(this.clusterKey)) return
        withoutIdempotence.add(this.clusterKey)
        this.notice(
          `kafka brokers ${this.cfg.servers.join(',')} do not support idempotent producers; using a plain producer (delivery stays at-least-once)`,
        )
        return
      case 'closed':
        return
    }
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e)
    this.pending.clear()
  }

  send(call: number, pack: Pack): Promise<void> {
    const w = this.started()
    const id = ++this.ids
    return new Promise<void>((resolve, reject) => {
      if (this.pending.size === 0) w.ref()
      this.pending.set(id, { resolve, reject })
      const msg: ToWorker = { type: 'send', id, call, pack }
      w.postMessage(msg, [pack.buffer])
    })
  }

  end(call: number): void {
    const msg: ToWorker = { type: 'end', call }
    this.worker?.postMessage(msg)
  }

  /** Disconnects the producer and ends the thread. */
  async close(): Promise<void> {
    const w = this.worker
    if (w === undefined) return
    this.worker = undefined
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()))
    const msg: ToWorker = { type: 'close' }
    // Held open until the producer has disconnected.
    w.ref()
    w.postMessage(msg)
    const timer = setTimeout(() => void w.terminate(), 10_000)
    await exited
    clearTimeout(timer)
    this.failAll(new PgMirrorError('internal_error', 'the kafka sink was closed'))
  }
}
