/**
 * Messages packed into one transferable buffer, so a chunk crosses to the delivery thread without a copy or a
 * structured clone per message. Per message (little-endian):
 *
 *   u16 topic index · i32 partition (-1: the partitioner decides) · i32 key length (-1: null) · key bytes
 *   · i32 value length (-1: null, a tombstone) · value bytes
 *
 * Topic names travel beside the buffer, once per chunk.
 */
import type { Message, TopicMessages } from 'kafkajs'
import type { OutMessage } from './events.ts'

export interface Pack {
  readonly buffer: ArrayBuffer
  /** Bytes of `buffer` in use. */
  readonly length: number
  readonly topics: readonly string[]
  readonly count: number
}

const HEADER = 2 + 4 + 4 + 4

/** First allocation of a chunk's buffer; it doubles as needed up to the chunk's size. */
const INITIAL_BYTES = 64 * 1024

/** Accumulates one chunk; `take` hands it over and starts the next. */
export class PackWriter {
  private buf: Buffer = Buffer.alloc(0)
  private len = 0
  private topics: string[] = []
  private topicIndex = new Map<string, number>()
  count = 0

  /** Bytes packed so far. */
  get bytes(): number {
    return this.len
  }

  /** The bytes `m` will take, for the caller's chunk limits. */
  static sizeOf(m: OutMessage): number {
    return (
      HEADER +
      (m.key === null ? 0 : Buffer.byteLength(m.key)) +
      (m.value === null ? 0 : Buffer.byteLength(m.value))
    )
  }

  /** An upper bound of sizeOf without measuring: UTF-8 takes at most 3 bytes per UTF-16 unit. */
  static maxSizeOf(m: OutMessage): number {
    return HEADER + 3 * ((m.key?.length ?? 0) + (m.value?.length ?? 0))
  }

  add(m: OutMessage): void {
    const room = PackWriter.maxSizeOf(m)
    if (this.len + room > this.buf.length) this.grow(this.len + room)
    let t = this.topicIndex.get(m.topic)
    if (t === undefined) {
      t = this.topics.length
      this.topics.push(m.topic)
      this.topicIndex.set(m.topic, t)
    }
    const b = this.buf
    b.writeUInt16LE(t, this.len)
    b.writeInt32LE(m.partition ?? -1, this.len + 2)
    this.len += 6
    this.writeText(m.key)
    this.writeText(m.value)
    this.count++
  }

  private writeText(text: string | null): void {
    if (text === null) {
      this.buf.writeInt32LE(-1, this.len)
      this.len += 4
      return
    }
    const n = this.buf.write(text, this.len + 4, 'utf8')
    this.buf.writeInt32LE(n, this.len)
    this.len += 4 + n
  }

  private grow(needed: number): void {
    const next = Buffer.allocUnsafeSlow(Math.max(needed, this.buf.length * 2, INITIAL_BYTES))
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }

  take(): Pack {
    // allocUnsafeSlow buffers own their whole ArrayBuffer, so it can be transferred.
    const pack: Pack = {
      buffer: this.buf.buffer as ArrayBuffer,
      length: this.len,
      topics: this.topics,
      count: this.count,
    }
    this.buf = Buffer.alloc(0)
    this.len = 0
    this.topics = []
    this.topicIndex = new Map()
    this.count = 0
    return pack
  }
}

/** The pack as kafkajs input; keys and values are views into the pack's buffer, not copies. */
export function unpack(pack: Pack): TopicMessages[] {
  const b = Buffer.from(pack.buffer, 0, pack.length)
  const byTopic: Message[][] = pack.topics.map(() => [])
  let at = 0
  const text = (): Buffer | null => {
    const n = b.readInt32LE(at)
    at += 4
    if (n < 0) return null
    const out = b.subarray(at, at + n)
    at += n
    return out
  }
  while (at < pack.length) {
    const topic = b.readUInt16LE(at)
    const partition = b.readInt32LE(at + 2)
    at += 6
    const key = text()
    const value = text()
    const list = byTopic[topic]
    if (list === undefined)
      throw new Error(`corrupt message pack: topic index ${topic} of ${pack.topics.length}`)
    list.push(partition < 0 ? { key, value } : { key, value, partition })
  }
  return pack.topics.map((topic, i) => ({ topic, messages: byTopic[i] as Message[] }))
}
