/**
 * Getting events onto the brokers, acknowledged by every in-sync replica (`acks: -1`), in order.
 *
 * The events of a call are cut into chunks of at most `maxBytes` (the peer's max_record_batch_bytes, default 1 MB,
 * the broker's default message.max.bytes) and `maxMessages`; each chunk is one produce request. Chunks are packed
 * on the calling thread and sent by a PackSender (in pgmirror: the delivery thread, see delivery-thread.ts), which
 * sends them one after another in order and refuses the rest of a call after a failure. At most WINDOW chunks are
 * outstanding, so packing the next chunk overlaps with sending the previous ones, and memory stays bounded.
 * sendAll resolves only when every chunk was acknowledged.
 */
import type { OutMessage } from './events.ts'
import { PackWriter, type Pack } from './message-pack.ts'

export const DEFAULT_MAX_SEND_BYTES = 1_000_000

/** Chunks handed to the sender and not yet acknowledged. */
const WINDOW = 3

export interface PackSender {
  /** Sends one chunk of call `call`; chunks are sent in the order given. Rejects with a PgMirrorError. */
  send(call: number, pack: Pack): Promise<void>
  /** The call is over: its chunks are all settled. */
  end(call: number): void
  close(): Promise<void>
}

export interface DeliveryOptions {
  readonly maxBytes: number
  readonly maxMessages: number
}

export type MessageSource = Iterable<readonly OutMessage[]> | AsyncIterable<readonly OutMessage[]>

export class Delivery {
  private calls = 0

  constructor(
    private readonly sender: PackSender,
    private readonly opts: DeliveryOptions,
  ) {}

  /** Sends every message (groups in order, messages in order) and resolves once all are acknowledged. */
  async sendAll(source: MessageSource): Promise<void> {
    const call = ++this.calls
    const inFlight: Promise<void>[] = []
    const writer = new PackWriter()
    const post = async (): Promise<void> => {
      if (writer.count === 0) return
      const sent = this.sender.send(call, writer.take())
      // Observed in order below; this only keeps a rejection from counting as unhandled meanwhile.
      sent.catch(() => undefined)
      inFlight.push(sent)
      if (inFlight.length >= WINDOW) await inFlight.shift()
    }
    try {
      for await (const group of source) {
        for (const m of group) {
          // Measured exactly only near the chunk's limit; far from it the upper bound decides.
          let size = PackWriter.maxSizeOf(m)
          if (writer.bytes + size > this.opts.maxBytes) size = PackWriter.sizeOf(m)
          if (
            writer.count > 0 &&
            (writer.bytes + size > this.opts.maxBytes || writer.count >= this.opts.maxMessages)
          )
            await post()
          writer.add(m)
        }
      }
      await post()
      while (inFlight.length > 0) await inFlight.shift()
    } catch (e) {
      await Promise.allSettled(inFlight)
      throw e
    } finally {
      this.sender.end(call)
    }
  }

  close(): Promise<void> {
    return this.sender.close()
  }
}
