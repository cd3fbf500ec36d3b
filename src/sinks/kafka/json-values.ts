/**
 * Postgres text values → JSON text, per column type. The result is spliced into the event as-is, so a number
 * travels as the exact digits Postgres printed and never passes through a JS Number.
 *
 * | type                         | JSON                                                        |
 * |------------------------------|-------------------------------------------------------------|
 * | smallint, integer            | number                                                      |
 * | bigint, numeric              | string (exact digits; numeric `NaN`/`Infinity` as written)  |
 * | real, double precision       | number; `NaN`, `Infinity`, `-Infinity` as strings           |
 * | boolean                      | true / false                                                |
 * | bytea                        | string, base64 of the bytes                                 |
 * | timestamp, timestamptz, date | string, ISO-8601 (see pg-datetime.ts)                       |
 * | json, jsonb                  | the JSON value itself                                       |
 * | arrays                       | JSON arrays (nested for multi-dimensional), NULL as null    |
 * | everything else              | string, the Postgres text                                   |
 */
import { isoDate, isoTimestamp } from './pg-datetime.ts'
import { parsePgArray, type PgArray } from './pg-array.ts'

/** Turns one non-NULL Postgres text value into JSON text. */
export type JsonEncoder = (text: string) => string

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/

/**
 * Whether the text can sit between quotes as it is: no quote, backslash, control character or surrogate (a lone
 * surrogate must be escaped, so any surrogate takes the slow path).
 */
function plainJsonText(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i)
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return false
  }
  return true
}

const asString: JsonEncoder = (t) => (plainJsonText(t) ? `"${t}"` : JSON.stringify(t))
const asInteger: JsonEncoder = (t) => (JSON_NUMBER.test(t) ? t : JSON.stringify(t))
const asFloat: JsonEncoder = asInteger
const asBool: JsonEncoder = (t) => (t === 't' ? 'true' : t === 'f' ? 'false' : JSON.stringify(t))
const asJson: JsonEncoder = (t) => t
/** Converted text holds only digits, signs, `-:.TZ`: no escaping needed. Text left as it was may need it. */
const asTimestamp: JsonEncoder = (t) => {
  const iso = isoTimestamp(t)
  return iso === t ? JSON.stringify(t) : `"${iso}"`
}
const asDate: JsonEncoder = (t) => JSON.stringify(isoDate(t))
const asBytea: JsonEncoder = (t) => JSON.stringify(byteaBase64(t))

/** bytea text in either output format (`hex`: `\x00ff`; `escape`: `\000\377`, `\\`, printable bytes) → base64. */
export function byteaBase64(text: string): string {
  if (text.startsWith('\\x')) return Buffer.from(text.slice(2), 'hex').toString('base64')
  const bytes: number[] = []
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    if (ch !== 0x5c) {
      bytes.push(ch)
    } else if (text[i + 1] === '\\') {
      bytes.push(0x5c)
      i++
    } else {
      bytes.push(parseInt(text.slice(i + 1, i + 4), 8))
      i += 3
    }
  }
  return Buffer.from(bytes).toString('base64')
}

const OID = {
  bool: 16,
  bytea: 17,
  int2: 21,
  int4: 23,
  json: 114,
  float4: 700,
  float8: 701,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  jsonb: 3802,
} as const

const SCALARS: ReadonlyMap<number, JsonEncoder> = new Map<number, JsonEncoder>([
  [OID.bool, asBool],
  [OID.bytea, asBytea],
  [OID.int2, asInteger],
  [OID.int4, asInteger],
  [OID.float4, asFloat],
  [OID.float8, asFloat],
  [OID.json, asJson],
  [OID.jsonb, asJson],
  [OID.date, asDate],
  [OID.timestamp, asTimestamp],
  [OID.timestamptz, asTimestamp],
])

/** Array type OID → element type OID, for the element types that are not plain strings. */
const ARRAY_ELEMENTS: ReadonlyMap<number, number> = new Map([
  [1000, OID.bool],
  [1001, OID.bytea],
  [1005, OID.int2],
  [1007, OID.int4],
  [199, OID.json],
  [1021, OID.float4],
  [1022, OID.float8],
  [1182, OID.date],
  [1115, OID.timestamp],
  [1185, OID.timestamptz],
  [3807, OID.jsonb],
])

/** box is the one built-in type whose array delimiter is not a comma. */
const BOX_ARRAY = 1020

function arrayJson(items: PgArray, element: JsonEncoder): string {
  let out = '['
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ','
    const item = items[i] as string | null | PgArray
    out += item === null ? 'null' : typeof item === 'string' ? element(item) : arrayJson(item, element)
  }
  return `${out}]`
}

function asArray(element: JsonEncoder, delimiter: string): JsonEncoder {
  return (t) => {
    let parsed: PgArray
    try {
      parsed = parsePgArray(t, delimiter)
    } catch {
      // Not an array literal after all (a domain or type we misjudged by name): keep the text, lose nothing.
      return JSON.stringify(t)
    }
    return arrayJson(parsed, element)
  }
}

/** The encoder for a column, from its type OID (and its name, to recognise arrays of types without a fixed OID). */
export function jsonEncoder(col: { readonly typeOid: number; readonly typeName: string }): JsonEncoder {
  const scalar = SCALARS.get(col.typeOid)
  if (scalar !== undefined) return scalar
  const element = ARRAY_ELEMENTS.get(col.typeOid)
  if (element !== undefined) return asArray(SCALARS.get(element) ?? asString, ',')
  if (col.typeOid === BOX_ARRAY) return asArray(asString, ';')
  if (col.typeName.endsWith('[]')) return asArray(asString, ',')
  return asString
}
