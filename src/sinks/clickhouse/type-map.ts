/**
 * The one type map from Postgres to ClickHouse (PeerDB's is the reference, peerdb-spec.md §5.13). Pure: a source
 * column's `format_type` name in, the ClickHouse column type and its value encoding out.
 *
 * | Postgres                         | legacy (18.16 … 23.1)  | modern (23.2 +)             |
 * |----------------------------------|------------------------|-----------------------------|
 * | smallint / integer / bigint      | Int16 / Int32 / Int64  | same                        |
 * | real / double precision          | Float32 / Float64      | same                        |
 * | numeric(p,s), p ≤ 38 (modern 76) | Decimal(p,s)           | same                        |
 * | numeric without (p,s), or wider  | String (exact text)    | same                        |
 * | boolean                          | UInt8                  | Bool                        |
 * | date                             | String (exact text)    | Date32 (clamped to its range)|
 * | timestamp [with time zone]       | String (exact text)    | DateTime64(6, 'UTC')        |
 * | uuid                             | UUID                   | same                        |
 * | bytea                            | String (raw bytes)     | same                        |
 * | T[]                              | Array(Nullable(T'))    | same                        |
 * | text, json, jsonb, time, interval, enums, domains, anything else | String | same             |
 *
 * Why String for temporal types on old servers: 18.16 has no DateTime64, its DateTime has no fraction and its
 * Date starts in 1970, so only the text keeps every value exact. Columns are Nullable(T) when the source column is
 * nullable, except ORDER BY columns (ClickHouse refuses Nullable sort keys) and arrays (ClickHouse has no
 * Nullable(Array); a NULL array is recorded in the row's null-array marker column instead, see target.ts).
 */
import type { Dialect } from './server-version.ts'

export type Scalar =
  | { readonly kind: 'int'; readonly bytes: 2 | 4 | 8 }
  | { readonly kind: 'float'; readonly bytes: 4 | 8 }
  | {
      readonly kind: 'decimal'
      readonly precision: number
      readonly scale: number
      readonly bytes: 4 | 8 | 16 | 32
    }
  /** Text: the value's UTF-8 bytes. */
  | { readonly kind: 'string' }
  /** bytea: the decoded raw bytes. */
  | { readonly kind: 'bytes' }
  | { readonly kind: 'uuid' }
  | { readonly kind: 'bool' }
  /** Date32: days since 1970-01-01. */
  | { readonly kind: 'date' }
  /** DateTime64(6, 'UTC'): microseconds since the epoch; `zoned` values carry a UTC offset to apply. */
  | { readonly kind: 'timestamp'; readonly zoned: boolean }

export interface ChType {
  readonly scalar: Scalar
  readonly array: boolean
  /** The value may be NULL: Nullable(T) for scalars, the null-array marker for arrays. */
  readonly nullable: boolean
  /** The column type as ClickHouse DDL spells it. */
  readonly sql: string
}

const MAX_DECIMAL_PRECISION: Readonly<Record<Dialect, number>> = { legacy: 38, modern: 76 }

const STRING: Scalar = { kind: 'string' }

function decimalBytes(precision: number): 4 | 8 | 16 | 32 {
  if (precision <= 9) return 4
  if (precision <= 18) return 8
  if (precision <= 38) return 16
  return 32
}

/** Maps one scalar (non-array) `format_type` name. */
export function mapScalar(typeName: string, dialect: Dialect): Scalar {
  switch (typeName) {
    case 'smallint':
      return { kind: 'int', bytes: 2 }
    case 'integer':
      return { kind: 'int', bytes: 4 }
    case 'bigint':
      return { kind: 'int', bytes: 8 }
    case 'real':
      return { kind: 'float', bytes: 4 }
    case 'double precision':
      return { kind: 'float', bytes: 8 }
    case 'boolean':
      return { kind: 'bool' }
    case 'uuid':
      return { kind: 'uuid' }
    case 'bytea':
      return { kind: 'bytes' }
    case 'date':
      return dialect === 'modern' ? { kind: 'date' } : STRING
  }
  const numeric = /^numeric\((\d+),(-?\d+)\)$/.exec(typeName)
  if (numeric) {
    const precision = Number(numeric[1])
    const scale = Number(numeric[2])
    // Postgres 15 allows a negative scale or one above the precision; Decimal does not.
    if (precision <= MAX_DECIMAL_PRECISION[dialect] && scale >= 0 && scale <= precision)
      return { kind: 'decimal', precision, scale, bytes: decimalBytes(precision) }
    return STRING
  }
  const ts = /^timestamp(?:\(\d\))? with(out)? time zone$/.exec(typeName)
  if (ts && dialect === 'modern') return { kind: 'timestamp', zoned: ts[1] === undefined }
  return STRING
}

export function scalarSql(s: Scalar, dialect: Dialect): string {
  switch (s.kind) {
    case 'int':
      return `Int${s.bytes * 8}`
    case 'float':
      return `Float${s.bytes * 8}`
    case 'decimal':
      return `Decimal(${s.precision}, ${s.scale})`
    case 'string':
    case 'bytes':
      return 'String'
    case 'uuid':
      return 'UUID'
    case 'bool':
      return dialect === 'modern' ? 'Bool' : 'UInt8'
    case 'date':
      return 'Date32'
    case 'timestamp':
      return `DateTime64(6, 'UTC')`
  }
}

/**
 * The ClickHouse type of a source column. `nullable` is false for ORDER BY columns whatever the source says.
 * Multi-dimensional arrays share their type name with one-dimensional ones, so every array is Array(T) and
 * nested values are flattened (see pg-array.ts).
 */
export function mapType(typeName: string, dialect: Dialect, nullable: boolean): ChType {
  // box is the one built-in type whose arrays are not comma-separated: such a column stays Postgres text.
  const array = typeName.endsWith('[]') && !typeName.startsWith('box[')
  const scalar = mapScalar(array ? typeName.replace(/(\[\])+$/, '') : typeName, dialect)
  const base = scalarSql(scalar, dialect)
  const sql = array ? `Array(Nullable(${base}))` : nullable ? `Nullable(${base})` : base
  return { scalar, array, nullable, sql }
}
