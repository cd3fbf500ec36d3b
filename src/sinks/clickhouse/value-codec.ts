/**
 * Postgres text values to RowBinary, one codec per column type. Every conversion is exact: integers and decimals
 * go through BigInt or exact doubles, floats through the shortest-round-trip text Postgres prints (which JS parses
 * exactly), bytea is decoded to its raw bytes, uuids are reordered into ClickHouse's two little-endian halves.
 *
 * numeric NaN and ±Infinity have no Decimal value: they arrive as NULL (as 0 in a column that cannot be NULL).
 */
import { PgMirrorError } from '../../errors.ts'
import type { Value } from '../../model/record.ts'
import { parsePgArray } from './pg-array.ts'
import { dateDays, timestampMicros } from './pg-temporal.ts'
import type { RowWriter } from './row-binary.ts'
import type { ChType, Scalar } from './type-map.ts'

export interface ColumnCodec {
  /** Writes one value of the column; a NULL array writes an empty one (the row's marker records the NULL). */
  write(w: RowWriter, v: Value): void
  /** Writes what a value the sink does not know becomes: NULL where the column allows it, else zero/empty. */
  writeDefault(w: RowWriter): void
}

interface ScalarCodec {
  write(w: RowWriter, text: string): void
  zero(w: RowWriter): void
  /** Values with no ClickHouse counterpart, stored as NULL (numeric NaN and infinities in a Decimal). */
  asNull?(text: string): boolean
}

const bad = (what: string, text: string): PgMirrorError =>
  new PgMirrorError('internal_error', `cannot convert ${what} value "${text.slice(0, 100)}" for clickhouse`)

const TWO_32 = 2 ** 32

function intCodec(bytes: 2 | 4 | 8): ScalarCodec {
  return {
    write(w, text) {
      if (bytes === 8 && text.length > 15) {
        w.i64(BigInt(text))
        return
      }
      const n = Number(text)
      if (!Number.isInteger(n)) throw bad('integer', text)
      if (bytes === 2) w.i16(n)
      else if (bytes === 4) w.i32(n)
      else {
        // Below 2^53 a double is exact: split into the two 32-bit halves without a BigInt.
        const hi = Math.floor(n / TWO_32)
        w.u32(n - hi * TWO_32)
        w.i32(hi)
      }
    },
    zero(w) {
      w.zeros(bytes)
    },
  }
}

function floatCodec(bytes: 4 | 8): ScalarCodec {
  return {
    write(w, text) {
      const n = Number(text)
      if (Number.isNaN(n) && text !== 'NaN') throw bad('float', text)
      if (bytes === 4) w.f32(n)
      else w.f64(n)
    },
    zero(w) {
      w.zeros(bytes)
    },
  }
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/
const NOT_A_DECIMAL = new Set(['NaN', 'Infinity', '-Infinity'])

function decimalCodec(scale: number, bytes: 4 | 8 | 16 | 32): ScalarCodec {
  return {
    write(w, text) {
      const m = DECIMAL.exec(text)
      if (!m) throw bad('numeric', text)
      const frac = (m[3] ?? '').padEnd(scale, '0')
      if (frac.length > scale) throw bad(`numeric(_,${scale})`, text)
      w.wideInt(BigInt(`${m[1]}${m[2]}${frac}`), bytes)
    },
    zero(w) {
      w.zeros(bytes)
    },
    asNull: (text) => NOT_A_DECIMAL.has(text),
  }
}

const stringCodec: ScalarCodec = {
  write(w, text) {
    w.utf8(text)
  },
  zero(w) {
    w.varint(0)
  },
}

/** bytea output: `\x` hex (the default bytea_output), or the escape format with `\\` and `\ooo` octal escapes. */
export function decodeBytea(text: string): Buffer {
  if (text.startsWith('\\x')) return Buffer.from(text.slice(2), 'hex')
  const out: number[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c !== 0x5c) {
      out.push(c)
    } else if (text[i + 1] === '\\') {
      out.push(0x5c)
      i++
    } else {
      out.push(parseInt(text.slice(i + 1, i + 4), 8))
      i += 3
    }
  }
  return Buffer.from(out)
}

const bytesCodec: ScalarCodec = {
  write(w, text) {
    w.bytes(decodeBytea(text))
  },
  zero(w) {
    w.varint(0)
  },
}

/** ClickHouse stores a UUID as two little-endian 64-bit halves, so each half's bytes are reversed. */
export function uuidBytes(text: string): Buffer {
  const hex = text.replace(/[-{}]/g, '')
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw bad('uuid', text)
  const b = Buffer.from(hex, 'hex')
  b.subarray(0, 8).reverse()
  b.subarray(8, 16).reverse()
  return b
}

const uuidCodec: ScalarCodec = {
  write(w, text) {
    w.raw(uuidBytes(text))
  },
  zero(w) {
    w.zeros(16)
  },
}

const boolCodec: ScalarCodec = {
  write(w, text) {
    if (text === 't' || text === 'true') w.u8(1)
    else if (text === 'f' || text === 'false') w.u8(0)
    else throw bad('boolean', text)
  },
  zero(w) {
    w.u8(0)
  },
}

const dateCodec: ScalarCodec = {
  write(w, text) {
    w.i32(dateDays(text))
  },
  zero(w) {
    w.zeros(4)
  },
}

const timestampCodec: ScalarCodec = {
  write(w, text) {
    w.i64(timestampMicros(text))
  },
  zero(w) {
    w.zeros(8)
  },
}

export function scalarCodec(s: Scalar): ScalarCodec {
  switch (s.kind) {
    case 'int':
      return intCodec(s.bytes)
    case 'float':
      return floatCodec(s.bytes)
    case 'decimal':
      return decimalCodec(s.scale, s.bytes)
    case 'string':
      return stringCodec
    case 'bytes':
      return bytesCodec
    case 'uuid':
      return uuidCodec
    case 'bool':
      return boolCodec
    case 'date':
      return dateCodec
    case 'timestamp':
      return timestampCodec
  }
}

export function columnCodec(t: ChType): ColumnCodec {
  const s = scalarCodec(t.scalar)
  const isNull = (v: string): boolean => s.asNull?.(v) ?? false
  if (t.array) {
    return {
      write(w, v) {
        if (v === null) {
          w.varint(0)
          return
        }
        const items = parsePgArray(v)
        w.varint(items.length)
        for (const item of items) {
          if (item === null || isNull(item)) w.u8(1)
          else {
            w.u8(0)
            s.write(w, item)
          }
        }
      },
      writeDefault(w) {
        w.varint(0)
      },
    }
  }
  if (t.nullable) {
    return {
      write(w, v) {
        if (v === null || isNull(v)) w.u8(1)
        else {
          w.u8(0)
          s.write(w, v)
        }
      },
      writeDefault(w) {
        w.u8(1)
      },
    }
  }
  return {
    write(w, v) {
      if (v === null || isNull(v)) s.zero(w)
      else s.write(w, v)
    },
    writeDefault(w) {
      s.zero(w)
    },
  }
}
