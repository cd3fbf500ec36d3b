import { isUtf8 } from 'node:buffer'
import { PgMirrorError } from '../errors.ts'

/**
 * Reads the body of one frame. Reading past the end is a protocol violation (the client sent a message shorter than
 * its own fields say), and text that is not valid UTF-8 is a 22021 error, as in Postgres with server_encoding UTF8.
 */
export class BufferReader {
  #offset = 0
  readonly #buf: Buffer

  constructor(buf: Buffer) {
    this.#buf = buf
  }

  get remaining(): number {
    return this.#buf.length - this.#offset
  }

  byte(): number {
    this.#need(1)
    return this.#buf[this.#offset++] as number
  }

  int16(): number {
    this.#need(2)
    const v = this.#buf.readInt16BE(this.#offset)
    this.#offset += 2
    return v
  }

  int32(): number {
    this.#need(4)
    const v = this.#buf.readInt32BE(this.#offset)
    this.#offset += 4
    return v
  }

  uint32(): number {
    this.#need(4)
    const v = this.#buf.readUInt32BE(this.#offset)
    this.#offset += 4
    return v
  }

  bytes(n: number): Buffer {
    if (n < 0) throw invalidFormat()
    this.#need(n)
    const out = this.#buf.subarray(this.#offset, this.#offset + n)
    this.#offset += n
    return out
  }

  /** A NUL-terminated UTF-8 string. */
  cstring(): string {
    const end = this.#buf.indexOf(0, this.#offset)
    if (end < 0) throw invalidFormat()
    const raw = this.#buf.subarray(this.#offset, end)
    this.#offset = end + 1
    return decodeUtf8(raw)
  }

  /** The message must be fully consumed: trailing bytes mean the client and we disagree about its layout. */
  end(): void {
    if (this.remaining !== 0) throw invalidFormat()
  }

  #need(n: number): void {
    if (this.#offset + n > this.#buf.length) throw invalidFormat()
  }
}

export const invalidFormat = (): PgMirrorError =>
  new PgMirrorError('protocol_violation', 'invalid message format')

/** Decodes strict UTF-8; an invalid sequence is reported with its bytes, as Postgres does. */
export function decodeUtf8(raw: Buffer): string {
  if (isUtf8(raw)) return raw.toString('utf8')
  const at = firstInvalidUtf8(raw)
  const shown = [...raw.subarray(at, at + 2)].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ')
  throw new PgMirrorError(
    'character_not_in_repertoire',
    `invalid byte sequence for encoding "UTF8": ${shown}`,
  )
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence (only called on invalid input). */
function firstInvalidUtf8(raw: Buffer): number {
  let i = 0
  while (i < raw.length) {
    const b = raw[i] as number
    const len =
      b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0
    if (len === 0 || i + len > raw.length || !isUtf8(raw.subarray(i, i + len))) return i
    i += len
  }
  return 0
}
