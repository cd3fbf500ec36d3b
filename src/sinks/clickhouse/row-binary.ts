/**
 * ClickHouse's RowBinary format, the sink's only insert format: values back to back, little-endian, strings and
 * arrays prefixed by a LEB128 length, Nullable values by a 0/1 flag byte. It is exact for every type (the text
 * formats are not: 18.16 parses Float64 text inexactly) and the cheapest for the server to read.
 */
import type { ChType, Scalar } from './type-map.ts'

/** A growable output buffer; `take` hands out what was written and starts a new one. */
export class RowWriter {
  private buf: Buffer
  private pos = 0

  constructor(private readonly chunkBytes = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(chunkBytes)
  }

  get length(): number {
    return this.pos
  }

  /**
   * Makes room for n more bytes and returns the offset to write them at. It may replace `this.buf`, so callers
   * take the offset before they touch the buffer.
   */
  reserve(n: number): number {
    if (this.pos + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.chunkBytes, (this.pos + n) * 2))
      this.buf.copy(next, 0, 0, this.pos)
      this.buf = next
    }
    const at = this.pos
    this.pos += n
    return at
  }

  u8(v: number): void {
    const at = this.reserve(1)
    this.buf[at] = v
  }

  // The 16- and 32-bit writes store bytes directly: Buffer's writeInt32LE and friends check their range on every
  // call, which showed in snapshot profiles. Callers pass integers in range (the codecs check their input).
  i16(v: number): void {
    const at = this.reserve(2)
    const buf = this.buf
    buf[at] = v
    buf[at + 1] = v >> 8
  }

  i32(v: number): void {
    this.u32(v >>> 0)
  }

  u32(v: number): void {
    const at = this.reserve(4)
    const buf = this.buf
    buf[at] = v
    buf[at + 1] = v >>> 8
    buf[at + 2] = v >>> 16
    buf[at + 3] = v >>> 24
  }

  i64(v: bigint): void {
    const at = this.reserve(8)
    this.buf.writeBigInt64LE(v, at)
  }

  u64(v: bigint): void {
    const at = this.reserve(8)
    this.buf.writeBigUInt64LE(v, at)
  }

  f32(v: number): void {
    const at = this.reserve(4)
    this.buf.writeFloatLE(v, at)
  }

  f64(v: number): void {
    const at = this.reserve(8)
    this.buf.writeDoubleLE(v, at)
  }

  /** A two's-complement integer of `bytes` bytes (4, 8, 16 or 32), for Decimal's scaled value. */
  wideInt(v: bigint, bytes: number): void {
    const at = this.reserve(bytes)
    let x = BigInt.asUintN(bytes * 8, v)
    if (bytes === 4) {
      this.buf.writeUInt32LE(Number(x), at)
      return
    }
    for (let i = 0; i < bytes; i += 8) {
      this.buf.writeBigUInt64LE(x & 0xffff_ffff_ffff_ffffn, at + i)
      x >>= 64n
    }
  }

  varint(n: number): void {
    while (n >= 0x80) {
      this.u8((n & 0x7f) | 0x80)
      n = Math.floor(n / 128)
    }
    this.u8(n)
  }

  zeros(n: number): void {
    this.fill(0, n)
  }

  fill(byte: number, n: number): void {
    const at = this.reserve(n)
    this.buf.fill(byte, at, at + n)
  }

  /** Copies src[start, end) in; short runs byte by byte, which beats a call into Buffer.copy. */
  copy(src: Buffer, start: number, end: number): void {
    const at = this.reserve(end - start)
    if (end - start > 64) {
      src.copy(this.buf, at, start, end)
      return
    }
    const buf = this.buf
    for (let i = start, j = at; i < end; i++, j++) buf[j] = src[i]!
  }

  /**
   * A String value taken from `src` at `start` up to the first `stop` byte or `limit`, found and copied in one
   * pass; returns where it stopped. Meeting a `bail` byte first, it writes nothing and returns -1 (the caller
   * takes the slow path).
   */
  stringUntil(src: Buffer, start: number, limit: number, stop: number, bail: number): number {
    // The length goes first but is known last: room for the longest LEB128 length, then the bytes after one
    // length byte, moved up in the rare case the length needs more.
    const at = this.reserve(5 + limit - start)
    const buf = this.buf
    let i = start
    let j = at + 1
    for (; i < limit; i++) {
      const b = src[i]!
      if (b === stop) break
      if (b === bail) {
        this.pos = at
        return -1
      }
      buf[j++] = b
    }
    const n = i - start
    let lengthBytes = 1
    if (n < 0x80) buf[at] = n
    else {
      for (let v = n; v >= 0x80; v = Math.floor(v / 128)) lengthBytes++
      buf.copyWithin(at + lengthBytes, at + 1, at + 1 + n)
      let v = n
      for (let k = at; v >= 0x80; k++, v = Math.floor(v / 128)) buf[k] = (v & 0x7f) | 0x80
      buf[at + lengthBytes - 1] = v
    }
    this.pos = at + lengthBytes + n
    return i
  }

  raw(b: Uint8Array): void {
    const at = this.reserve(b.length)
    this.buf.set(b, at)
  }

  /** A String value: length, then the bytes. */
  bytes(b: Uint8Array): void {
    this.varint(b.length)
    this.raw(b)
  }

  utf8(s: string): void {
    const n = Buffer.byteLength(s)
    this.varint(n)
    const at = this.reserve(n)
    this.buf.write(s, at, n, 'utf8')
  }

  /** The bytes written so far; the writer starts over on a fresh buffer (the returned one is not reused). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos)
    this.buf = Buffer.allocUnsafe(this.chunkBytes)
    this.pos = 0
    return out
  }
}

/** Reads a LEB128 length at `pos`: [value, next position]. */
export function readVarint(buf: Buffer, pos: number): [number, number] {
  let value = 0
  let shift = 1
  for (;;) {
    const b = buf[pos++]
    if (b === undefined) throw new RangeError('RowBinary data ends inside a length')
    value += (b & 0x7f) * shift
    if (b < 0x80) return [value, pos]
    shift *= 128
  }
}

function scalarWidth(s: Scalar): number | undefined {
  switch (s.kind) {
    case 'int':
    case 'float':
    case 'decimal':
      return s.bytes
    case 'uuid':
      return 16
    case 'bool':
      return 1
    case 'date':
      return 4
    case 'timestamp':
      return 8
    case 'string':
    case 'bytes':
      return undefined
  }
}

function skipScalar(s: Scalar, buf: Buffer, pos: number): number {
  const width = scalarWidth(s)
  if (width !== undefined) return pos + width
  const [n, at] = readVarint(buf, pos)
  return at + n
}

/** The position after one value of type `t` starting at `pos` (used to cut lookup results into cells). */
export function skipValue(t: ChType, buf: Buffer, pos: number): number {
  if (t.array) {
    let [n, at] = readVarint(buf, pos)
    for (; n > 0; n--) at = buf[at] === 1 ? at + 1 : skipScalar(t.scalar, buf, at + 1)
    return at
  }
  if (t.nullable) return buf[pos] === 1 ? pos + 1 : skipScalar(t.scalar, buf, pos + 1)
  return skipScalar(t.scalar, buf, pos)
}
