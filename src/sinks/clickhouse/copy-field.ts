/**
 * One COPY text field straight to RowBinary, working on the raw bytes: the snapshot path converts every value of
 * a table, so the common types skip the string round trip. Text without escapes is copied byte for byte,
 * integers and decimals of up to 15 digits are read digit by digit into an exact double, booleans and uuids are
 * read in place. Everything else (floats, bytea, arrays, uuids, numbers past 15 digits, numeric NaN) goes through
 * the column's codec; both paths write the same bytes, which the unit tests hold them to.
 */
import type { RowWriter } from './row-binary.ts'
import type { ChColumn } from './target.ts'
import type { Scalar } from './type-map.ts'

const BACKSLASH = 0x5c
const MINUS = 0x2d
const DOT = 0x2e
const ZERO = 0x30
const TWO_32 = 2 ** 32

const ESCAPES: Readonly<Record<number, number>> = { 98: 8, 102: 12, 110: 10, 114: 13, 116: 9, 118: 11 }

/** Undoes COPY escaping of buf[start, end) (which holds a backslash) into a fresh buffer. */
export function unescapeBytes(buf: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start)
  let n = 0
  for (let i = start; i < end; i++) {
    const c = buf[i]!
    if (c !== BACKSLASH || i === end - 1) {
      out[n++] = c
      continue
    }
    const next = buf[++i]!
    out[n++] = ESCAPES[next] ?? next
  }
  return out.subarray(0, n)
}

/** Whether buf[start, end) holds a backslash. A loop, because Buffer.indexOf cannot stop at `end`. */
function hasEscape(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] === BACKSLASH) return true
  return false
}

/** The field as a JS string, escapes undone (the codec path). */
function fieldText(buf: Buffer, start: number, end: number): string {
  return hasEscape(buf, start, end)
    ? unescapeBytes(buf, start, end).toString('utf8')
    : buf.toString('utf8', start, end)
}

/** Digits (and at most one dot) as an exact scaled double, or undefined past 15 digits or for anything else. */
export function readDigits(buf: Buffer, start: number, end: number, scale: number): number | undefined {
  let i = start
  const negative = buf[i] === MINUS
  if (negative) i++
  let n = 0
  let digits = 0
  let frac = -1
  for (; i < end; i++) {
    const c = buf[i]!
    if (c === DOT && frac < 0) {
      frac = 0
      continue
    }
    const d = c - ZERO
    if (d < 0 || d > 9) return undefined
    n = n * 10 + d
    digits++
    if (frac >= 0) frac++
  }
  if (digits === 0 || frac > scale) return undefined
  for (let f = Math.max(frac, 0); f < scale; f++) n *= 10
  if (digits + scale - Math.max(frac, 0) > 15) return undefined
  return negative ? -n : n
}

/** An integer below 2^53 as a little-endian two's-complement value of `bytes` bytes. */
function writeSmall(w: RowWriter, n: number, bytes: number): void {
  if (bytes === 2) w.i16(n)
  else if (bytes === 4) w.i32(n)
  else {
    const hi = Math.floor(n / TWO_32)
    w.u32(n - hi * TWO_32)
    w.i32(hi)
    // Sign extension into the upper words of Int128 / Int256.
    if (bytes > 8) w.fill(n < 0 ? 0xff : 0, bytes - 8)
  }
}

/** Writes the value (after a 0 flag byte when Nullable) and returns true, or writes nothing and returns false. */
type FastWriter = (w: RowWriter, buf: Buffer, start: number, end: number, nullable: boolean) => boolean

function fastWriter(s: Scalar): FastWriter | undefined {
  switch (s.kind) {
    case 'string':
      return (w, buf, start, end, nullable) => {
        if (nullable) w.u8(0)
        if (hasEscape(buf, start, end)) w.bytes(unescapeBytes(buf, start, end))
        else {
          w.varint(end - start)
          w.copy(buf, start, end)
        }
        return true
      }
    case 'int':
    case 'decimal': {
      const scale = s.kind === 'decimal' ? s.scale : 0
      return (w, buf, start, end, nullable) => {
        const n = readDigits(buf, start, end, scale)
        if (n === undefined) return false
        if (nullable) w.u8(0)
        writeSmall(w, n, s.bytes)
        return true
      }
    }
    case 'bool':
      return (w, buf, start, end, nullable) => {
        const c = buf[start]
        if (end - start !== 1 || (c !== 0x74 && c !== 0x66)) return false
        if (nullable) w.u8(0)
        w.u8(c === 0x74 ? 1 : 0)
        return true
      }
    case 'float':
    case 'bytes':
    case 'uuid':
    case 'date':
    case 'timestamp':
      return undefined
  }
}

/** Writes one COPY field (`\N` is NULL) of a column; returns whether it was NULL (for the null-array marker). */
export type CopyFieldWriter = (w: RowWriter, buf: Buffer, start: number, end: number) => boolean

export function copyFieldWriter(c: ChColumn): CopyFieldWriter {
  const fast = c.type.array ? undefined : fastWriter(c.type.scalar)
  const nullable = c.type.nullable
  return (w, buf, start, end) => {
    if (end - start === 2 && buf[start] === BACKSLASH && buf[start + 1] === 0x4e) {
      c.codec.write(w, null)
      return true
    }
    if (fast === undefined || !fast(w, buf, start, end, nullable))
      c.codec.write(w, fieldText(buf, start, end))
    return false
  }
}
