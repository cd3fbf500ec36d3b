import type { WireTransport } from './transport.ts'

/** Past this many queued bytes we hand the batch to the socket even before the next flush point. */
const FLUSH_AT_BYTES = 64 * 1024

/**
 * Collects backend messages and writes them in batches: one corked write per batch, so a pipeline of small
 * messages becomes few TCP segments. Flush points: ReadyForQuery, Flush, errors, and whenever input runs dry.
 */
export class Output {
  readonly #transport: WireTransport
  #pending: Buffer[] = []
  #size = 0
  #closed = false

  constructor(transport: WireTransport) {
    this.#transport = transport
  }

  send(message: Buffer): void {
    if (this.#closed) return
    this.#pending.push(message)
    this.#size += message.length
    if (this.#size >= FLUSH_AT_BYTES) this.flush()
  }

  flush(): void {
    if (this.#pending.length === 0) return
    const batch = this.#pending
    this.#pending = []
    this.#size = 0
    this.#transport.cork()
    for (const message of batch) this.#transport.write(message)
    this.#transport.uncork()
  }

  /**
   * Waits until the socket can take more (at once when its buffer is not full). Queued messages stay queued:
   * they are under FLUSH_AT_BYTES, so memory stays bounded while batching is kept.
   */
  async drained(): Promise<void> {
    if (!this.#closed) await this.#transport.drain()
  }

  /** Flushes what is queued and closes the socket; later sends are dropped. */
  close(): void {
    if (this.#closed) return
    this.flush()
    this.#closed = true
    this.#transport.end()
  }
}
