import { PgMirrorError } from '../errors.ts'
import { StartupCode } from './message-codes.ts'

/**
 * Bytes → frames, with no I/O. The startup phase sends untyped packets (int32 length, then body); after the first
 * packet that is not an SSL/GSS encryption request every message is typed (one byte, int32 length, body).
 * Lengths are checked as soon as the header arrives, so a client cannot make us buffer an oversized message.
 */

export type Frame =
  /** body starts with the int32 request code or protocol version */
  | { readonly kind: 'untyped'; readonly body: Buffer }
  | { readonly kind: 'typed'; readonly code: number; readonly body: Buffer }

/** A frame, `null` when more bytes are needed, or `invalid`: the stream cannot be framed any further. */
export type FramerResult = Frame | { readonly kind: 'invalid'; readonly error: PgMirrorError } | null

/** Postgres refuses startup packets above this size (MAX_STARTUP_PACKET_LENGTH); so do we. */
export const MAX_STARTUP_PACKET_BYTES = 10_000

export class Framer {
  readonly #maxMessageBytes: number
  #chunks: Buffer[] = []
  #total = 0
  #typed = false
  #invalid: PgMirrorError | undefined

  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = maxMessageBytes
  }

  /** Bytes received but not yet returned as frames. */
  get buffered(): number {
    return this.#total
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0 || this.#invalid) return
    this.#chunks.push(chunk)
    this.#total += chunk.length
  }

  next(): FramerResult {
    if (this.#invalid) return { kind: 'invalid', error: this.#invalid }
    return this.#typed ? this.#nextTyped() : this.#nextUntyped()
  }

  #nextUntyped(): FramerResult {
    const header = this.#peek(4)
    if (!header) return null
    const length = header.readInt32BE(0)
    if (length < 8 || length > Math.min(MAX_STARTUP_PACKET_BYTES, this.#maxMessageBytes)) {
      return this.#fail(
        new PgMirrorError('protocol_violation', `invalid length of startup packet: ${length}`),
      )
    }
    if (!this.#peek(length)) return null
    const body = this.#consume(length).subarray(4)
    const request = body.readInt32BE(0)
    if (request !== StartupCode.sslRequest && request !== StartupCode.gssEncRequest) this.#typed = true
    return { kind: 'untyped', body }
  }

  #nextTyped(): FramerResult {
    const header = this.#peek(5)
    if (!header) return null
    const code = header[0] as number
    const length = header.readInt32BE(1)
    if (length < 4) {
      return this.#fail(new PgMirrorError('protocol_violation', `invalid message length: ${length}`))
    }
    if (length - 4 > this.#maxMessageBytes) {
      return this.#fail(
        new PgMirrorError(
          'protocol_violation',
          `message length ${length - 4} exceeds the maximum of ${this.#maxMessageBytes} bytes`,
          { hint: 'raise maxMessageBytes on the server if such large messages are expected' },
        ),
      )
    }
    if (!this.#peek(length + 1)) return null
    return { kind: 'typed', code, body: this.#consume(length + 1).subarray(5) }
  }

  #fail(error: PgMirrorError): FramerResult {
    this.#invalid = error
    this.#chunks = []
    this.#total = 0
    return { kind: 'invalid', error }
  }

  /** The first n bytes, joining only as many chunks as needed; null if fewer are buffered. */
  #peek(n: number): Buffer | null {
    if (this.#total < n) return null
    const head = this.#chunks[0] as Buffer
    if (head.length >= n) return head
    let joined = 0
    let count = 0
    while (joined < n) joined += (this.#chunks[count++] as Buffer).length
    const merged = Buffer.concat(this.#chunks.slice(0, count), joined)
    this.#chunks.splice(0, count, merged)
    return merged
  }

  #consume(n: number): Buffer {
    const head = this.#peek(n) as Buffer
    const out = head.subarray(0, n)
    if (head.length === n) this.#chunks.shift()
    else this.#chunks[0] = head.subarray(n)
    this.#total -= n
    return out
  }
}
