/**
 * The server's side of `COPY … TO STDOUT` as it arrives on the socket: CopyOutResponse, one CopyData message per
 * row (the binary format's header and trailer ride in CopyData too), CopyDone, then CommandComplete and
 * ReadyForQuery. An ErrorResponse may come instead at any point, and NoticeResponse, ParameterStatus and
 * NotificationResponse may come in between.
 *
 * CopyOutFrames takes the socket's chunks as they come and returns, per chunk, the payloads of the CopyData
 * messages in it, concatenated: one buffer per socket read rather than one per row, whose bytes are the COPY
 * output exactly (rows end wherever the chunk does; the consumer joins them). It stops at the first message that
 * belongs to the driver again: just after CopyDone, or at any other message (an ErrorResponse, say), whose bytes
 * it returns untouched so the driver's own parser can take over from there.
 */
import { PgMirrorError } from '../../errors.ts'

const COPY_DATA = 0x64 // d
const COPY_DONE = 0x63 // c
/** Messages the copy passes over: CopyOutResponse, NoticeResponse, ParameterStatus, NotificationResponse. */
const SKIPPED: ReadonlySet<number> = new Set([0x48, 0x4e, 0x53, 0x41])
const HEADER = 5

export interface CopyOutStep {
  /** The CopyData payload bytes of this chunk, in order; undefined when it held none. */
  readonly data: Buffer | undefined
  /**
   * Set when the copy's part of the stream ended in this chunk: `done` after a CopyDone, `other` at any other
   * message. `rest` is everything after CopyDone, or everything from the other message's first byte on.
   */
  readonly end?: { readonly kind: 'done' | 'other'; readonly rest: Buffer }
}

export class CopyOutFrames {
  /** A message header (type byte and length) split across two chunks. */
  private readonly head = Buffer.alloc(HEADER)
  private headBytes = 0
  /** Body bytes of the current message still to come, and whether they are CopyData payload. */
  private left = 0
  private payload = false
  private ended = false

  /**
   * Takes the next chunk from the socket. The payload is gathered at the front of `chunk` itself (moved within
   * it, never copied out), so the caller hands over a chunk nobody else reads; `data` and `rest` are views of it.
   */
  feed(chunk: Buffer): CopyOutStep {
    if (this.ended) throw new PgMirrorError('internal_error', 'COPY output fed after its end')
    const n = chunk.length
    let out = 0
    let pos = 0
    if (this.left > 0) {
      // The body of a message begun in an earlier chunk: payload stays where it is, at the front.
      pos = Math.min(this.left, n)
      this.left -= pos
      if (this.payload) out = pos
    }
    while (pos < n) {
      let type: number
      let length: number
      let start: number | undefined = pos
      if (this.headBytes > 0 || n - pos < HEADER) {
        const take = Math.min(HEADER - this.headBytes, n - pos)
        chunk.copy(this.head, this.headBytes, pos, pos + take)
        this.headBytes += take
        pos += take
        if (this.headBytes < HEADER) break
        this.headBytes = 0
        type = this.head[0]!
        length = this.head.readInt32BE(1)
        // The header began in the previous chunk: from here, the message's first bytes live in `head`.
        start = undefined
      } else {
        type = chunk[pos]!
        length = chunk.readInt32BE(pos + 1)
        pos += HEADER
      }
      if (length < 4) throw new PgMirrorError('protocol_violation', `message length ${length} in COPY output`)
      const body = length - 4
      if (type === COPY_DATA || SKIPPED.has(type)) {
        const avail = Math.min(body, n - pos)
        if (type === COPY_DATA) {
          if (out !== pos) chunk.copyWithin(out, pos, pos + avail)
          out += avail
        }
        pos += avail
        this.left = body - avail
        this.payload = type === COPY_DATA
        continue
      }
      this.ended = true
      const data = out > 0 ? chunk.subarray(0, out) : undefined
      if (type === COPY_DONE && body === 0) return { data, end: { kind: 'done', rest: chunk.subarray(pos) } }
      const rest =
        start !== undefined ? chunk.subarray(start) : Buffer.concat([this.head, chunk.subarray(pos)])
      return { data, end: { kind: 'other', rest } }
    }
    return { data: out > 0 ? chunk.subarray(0, out) : undefined }
  }
}
