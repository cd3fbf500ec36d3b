/**
 * One COPY text field straight to RowBinary, working on the raw bytes: the snapshot path converts every value of
 * a table, so the common types skip the string round trip. Each writer finds the end of its own field (the next
 * tab, or the end of the line) in the same pass that reads it. Text without escapes is copied byte for byte,
 * integers and decimals of up to 15 digits are read digit by digit into an exact double, booleans are read in
 * place, floats are decoded without an escape scan. Everything else (bytea, arrays, uuids, temporal types,
 * numbers past 15 digits, numeric NaN) goes through the column's codec; both paths write the same bytes,
 * which the unit tests hold them to.
 */
import type { RowWriter } from './row-binary.ts'
import type { ChColumn } from './target.ts'

const TAB = 9
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

/** Where readDigits stopped, and what it read. */
export interface Digits {
  /** The field's end: the tab after it, or the end of the line. */
  end: number
  /** The value scaled by 10^scale, exact (at most 15 digits); NaN when the field is anything else. */
  value: number
}

/**
 * Reads a field of digits (and at most one dot) from `start` to the next tab or `lineEnd` into `out`, in one
 * pass. `value` is NaN past 15 digits, past `scale` decimals, or for anything but digits; `end` is then unset.
 */
export function readDigits(buf: Buffer, start: number, lineEnd: number, scale: number, out: Digits): void {
  out.value = NaN
  let i = start
  const negative = buf[i] === MINUS
  if (negative) i++
  let n = 0
  let digits = 0
  let frac = -1
  for (; i < lineEnd; i++) {
    const c = buf[i]!
    if (c === TAB) break
    if (c === DOT && frac < 0) {
      frac = 0
      continue
    }
    const d = c - ZERO
    if (d < 0 || d > 9) return
    n = n * 10 + d
    digits++
    if (frac >= 0) frac++
  }
  if (digits === 0 || frac > scale) return
  for (let f = Math.max(frac, 0); f < scale; f++) n *= 10
  if (digits + scale - Math.max(frac, 0) > 15) return
  out.end = i
  out.value = negative ? -n : n
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

/** The index of the tab that ends the field starting at `start`, or `lineEnd` for the line's last field. */
function fieldEnd(buf: Buffer, start: number, lineEnd: number): number {
  let i = start
  while (i < lineEnd && buf[i] !== TAB) i++
  return i
}

/**
 * Writes one COPY field that is not NULL (`\N` is the caller's), starting at `start` and running to the next tab
 * or `lineEnd`; returns where it ended: the tab's index, or `lineEnd`.
 */
export type CopyFieldWriter = (w: RowWriter, buf: Buffer, start: number, lineEnd: number) => number

export function copyFieldWriter(c: ChColumn): CopyFieldWriter {
  const nullable = c.type.nullable
  const viaCodec: CopyFieldWriter = (w, buf, start, lineEnd) => {
    const end = fieldEnd(buf, start, lineEnd)
    c.codec.write(w, fieldText(buf, start, end))
    return end
  }
  if (c.type.array) return viaCodec
  const s = c.type.scalar
  switch (s.kind) {
    case 'string':
      return (w, buf, start, lineEnd) => {
        if (nullable) w.u8(0)
        const end = w.stringUntil(buf, start, lineEnd, TAB, BACKSLASH)
        if (end >= 0) return end
        // Escapes: the field's end first, then its bytes unescaped.
        const stop = fieldEnd(buf, start, lineEnd)
        w.bytes(unescapeBytes(buf, start, stop))
        return stop
      }
    case 'int':
    case 'decimal': {
      const scale = s.kind === 'decimal' ? s.scale : 0
      const digits: Digits = { end: 0, value: NaN }
      return (w, buf, start, lineEnd) => {
        readDigits(buf, start, lineEnd, scale, digits)
        if (Number.isNaN(digits.value)) return viaCodec(w, buf, start, lineEnd)
        if (nullable) w.u8(0)
        writeSmall(w, digits.value, s.bytes)
        return digits.end
      }
    }
    case 'bool':
      return (w, buf, start, lineEnd) => {
        const b = buf[start]
        if (start + 1 < lineEnd && buf[start + 1] !== TAB) return viaCodec(w, buf, start, lineEnd)
        if (b !== 0x74 && b !== 0x66) return viaCodec(w, buf, start, lineEnd)
        if (nullable) w.u8(0)
        w.u8(b === 0x74 ? 1 : 0)
        return start + 1
      }
    case 'float':
      // Float output is ASCII without escapes (digits, sign, dot, exponent, NaN, Infinity), so the text is
      // decoded as latin1 with no escape scan; the codec parses it exactly as before.
      return (w, buf, start, lineEnd) => {
        const end = fieldEnd(buf, start, lineEnd)
        c.codec.write(w, buf.toString('latin1', start, end))
        return end
      }
    case 'bytes':
    case 'uuid':
    case 'date':
    case 'timestamp':
      return viaCodec
  }
}
