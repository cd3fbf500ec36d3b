import { PgMirrorError } from '../errors.ts'
import { decodeUtf8 } from './buffer-reader.ts'
import { sqlStateError } from './error-fields.ts'

/**
 * Binary format support. The handler speaks text only, so binary parameters are turned into the text Postgres would
 * print for them, and text results are turned into binary for the few types where clients ask for it.
 */

export const TypeOid = {
  bool: 16,
  bytea: 17,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  float4: 700,
  float8: 701,
  unknown: 705,
  bpchar: 1042,
  varchar: 1043,
  uuid: 2950,
} as const

const TEXT_LIKE = new Set<number>([
  TypeOid.text,
  TypeOid.varchar,
  TypeOid.bpchar,
  TypeOid.name,
  TypeOid.unknown,
])

/** A binary Bind parameter → its text form. `index` is 0-based; messages name it 1-based like Postgres. */
export function binaryParamToText(typeOid: number, raw: Buffer, index: number): string {
  const bad = (): PgMirrorError =>
    sqlStateError('22P03', `incorrect binary data format in bind parameter ${index + 1}`)
  const sized = (n: number): void => {
    if (raw.length !== n) throw bad()
  }
  if (TEXT_LIKE.has(typeOid)) return decodeUtf8(raw)
  switch (typeOid) {
    case TypeOid.bool:
      sized(1)
      return raw[0] === 0 ? 'f' : 't'
    case TypeOid.int2:
      sized(2)
      return String(raw.readInt16BE(0))
    case TypeOid.int4:
      sized(4)
      return String(raw.readInt32BE(0))
    case TypeOid.int8:
      sized(8)
      return raw.readBigInt64BE(0).toString()
    case TypeOid.float4:
      sized(4)
      return float4Text(raw.readFloatBE(0))
    case TypeOid.float8:
      sized(8)
      return float8Text(raw.readDoubleBE(0))
    case TypeOid.bytea:
      return `\\x${raw.toString('hex')}`
    case TypeOid.uuid: {
      sized(16)
      const h = raw.toString('hex')
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
    }
    default:
      throw new PgMirrorError(
        'feature_not_supported',
        `binary format is not supported for bind parameter ${index + 1} (type oid ${typeOid})`,
        { hint: 'send the parameter in text format' },
      )
  }
}

function float8Text(n: number): string {
  if (Number.isNaN(n)) return 'NaN'
  if (n === Infinity) return 'Infinity'
  if (n === -Infinity) return '-Infinity'
  return Object.is(n, -0) ? '-0' : String(n)
}

/** The shortest decimal that reads back as the same float4, as Postgres's float4out prints it. */
function float4Text(n: number): string {
  if (!Number.isFinite(n) || n === 0) return float8Text(n)
  for (let p = 1; p < 9; p++) {
    const s = n.toPrecision(p)
    if (Math.fround(Number(s)) === n) return String(Number(s))
  }
  return String(Number(n.toPrecision(9)))
}

const BINARY_RESULTS = new Set<number>([
  TypeOid.int2,
  TypeOid.int4,
  TypeOid.int8,
  TypeOid.bool,
  TypeOid.float8,
  TypeOid.bytea,
  ...TEXT_LIKE,
])

export const canSendBinary = (typeOid: number): boolean => BINARY_RESULTS.has(typeOid)

/** A text value from the handler → the binary form of its column type (only types where canSendBinary). */
export function textToBinary(typeOid: number, text: string): Buffer {
  const bad = (): PgMirrorError =>
    new PgMirrorError(
      'internal_error',
      `cannot send value "${text.slice(0, 40)}" in binary as type oid ${typeOid}`,
    )
  if (TEXT_LIKE.has(typeOid)) return Buffer.from(text, 'utf8')
  switch (typeOid) {
    case TypeOid.bool:
      if (text === 't' || text === 'true') return Buffer.from([1])
      if (text === 'f' || text === 'false') return Buffer.from([0])
      throw bad()
    case TypeOid.int2:
    case TypeOid.int4: {
      if (!/^-?\d+$/.test(text)) throw bad()
      const n = Number(text)
      const out = Buffer.alloc(typeOid === TypeOid.int2 ? 2 : 4)
      try {
        if (typeOid === TypeOid.int2) out.writeInt16BE(n)
        else out.writeInt32BE(n)
      } catch {
        throw bad()
      }
      return out
    }
    case TypeOid.int8: {
      if (!/^-?\d+$/.test(text)) throw bad()
      const n = BigInt(text)
      if (n !== BigInt.asIntN(64, n)) throw bad()
      const out = Buffer.alloc(8)
      out.writeBigInt64BE(n)
      return out
    }
    case TypeOid.float8: {
      const n = text === 'Infinity' ? Infinity : text === '-Infinity' ? -Infinity : Number(text)
      if (Number.isNaN(n) && text !== 'NaN') throw bad()
      const out = Buffer.alloc(8)
      out.writeDoubleBE(n)
      return out
    }
    case TypeOid.bytea:
      return byteaFromText(text, bad)
    default:
      throw bad()
  }
}

/** bytea's text forms: hex (`\x0a0b`) or the older escape format (`a\\b\012`). */
function byteaFromText(text: string, bad: () => PgMirrorError): Buffer {
  if (text.startsWith('\\x')) {
    const hex = text.slice(2)
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw bad()
    return Buffer.from(hex, 'hex')
  }
  const out: number[] = []
  for (let i = 0; i < text.length;) {
    if (text[i] !== '\\') {
      const ch = String.fromCodePoint(text.codePointAt(i) as number)
      for (const b of Buffer.from(ch, 'utf8')) out.push(b)
      i += ch.length
    } else if (text[i + 1] === '\\') {
      out.push(0x5c)
      i += 2
    } else if (/^[0-3][0-7]{2}$/.test(text.slice(i + 1, i + 4))) {
      out.push(parseInt(text.slice(i + 1, i + 4), 8))
      i += 4
    } else {
      throw bad()
    }
  }
  return Buffer.from(out)
}
