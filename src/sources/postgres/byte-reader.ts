import { PgMirrorError } from '../../errors.ts'
import type { Lsn } from '../../model/lsn.ts'

/** Sequential big-endian reads over one message; running past the end is a protocol violation, never garbage. */
export class ByteReader {
  private pos = 0

  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.pos
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new PgMirrorError(
        'protocol_violation',
        `message truncated: needed ${n} bytes at offset ${this.pos}`,
      )
    }
  }

  u8(): number {
    this.need(1)
    return this.buf[this.pos++] as number
  }

  i16(): number {
    this.need(2)
    const v = this.buf.readInt16BE(this.pos)
    this.pos += 2
    return v
  }

  i32(): number {
    this.need(4)
    const v = this.buf.readInt32BE(this.pos)
    this.pos += 4
    return v
  }

  u32(): number {
    this.need(4)
    const v = this.buf.readUInt32BE(this.pos)
    this.pos += 4
    return v
  }

  u64(): bigint {
    this.need(8)
    const v = this.buf.readBigUInt64BE(this.pos)
    this.pos += 8
    return v
  }

  i64(): bigint {
    this.need(8)
    const v = this.buf.readBigInt64BE(this.pos)
    this.pos += 8
    return v
  }

  lsn(): Lsn {
    return this.u64()
  }

  /** A NUL-terminated UTF-8 string. */
  cstring(): string {
    const end = this.buf.indexOf(0, this.pos)
    if (end === -1) throw new PgMirrorError('protocol_violation', `unterminated string at offset ${this.pos}`)
    const s = this.buf.toString('utf8', this.pos, end)
    this.pos = end + 1
    return s
  }

  utf8(n: number): string {
    this.need(n)
    const s = this.buf.toString('utf8', this.pos, this.pos + n)
    this.pos += n
    return s
  }

  bytes(n: number): Buffer {
    this.need(n)
    const b = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return b
  }
}
