// Reading a ClickHouse mirror target back as Postgres text, so tests can compare it with the source row by row.
// The current state is `SELECT … FROM t FINAL WHERE <delete flag> = 0`; each replicated column carries its
// Postgres type as the column comment, which says how to print its value the way Postgres would.
import { createClient, type ClickHouseClient } from '@clickhouse/client'
import { clickhouseUrl } from './services.ts'

export type PgText = string | null

export const testClickhouse = (database?: string): ClickHouseClient =>
  createClient({ url: clickhouseUrl(), ...(database ? { database } : {}) })

const quoteIdent = (name: string): string => `\`${name.replace(/[\\`]/g, (c) => `\\${c}`)}\``
const quoteString = (s: string): string => `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`

const TSV_ESCAPES: Readonly<Record<string, string>> = {
  b: '\b',
  f: '\f',
  r: '\r',
  n: '\n',
  t: '\t',
  '0': '\0',
  "'": "'",
  '\\': '\\',
}

/** Undoes ClickHouse TSV output escaping; `\N` is NULL. */
export function tsvField(field: string): PgText {
  if (field === '\\N') return null
  return field.replace(/\\(.)/g, (_, c: string) => TSV_ESCAPES[c] ?? c)
}

/** Reads a ClickHouse array literal as TSV prints it (`[1,NULL,'a\'b']`): elements unescaped, NULL as null. */
export function chArray(text: string): PgText[] {
  const out: PgText[] = []
  let i = 1
  while (i < text.length - 1) {
    if (text[i] === ',') i++
    if (text[i] === "'") {
      let v = ''
      for (i++; text[i] !== "'"; i++) {
        if (text[i] === '\\') {
          i++
          v += TSV_ESCAPES[text[i] as string] ?? text[i]
        } else v += text[i]
      }
      i++
      out.push(v)
    } else {
      let end = i
      while (end < text.length - 1 && text[end] !== ',') end++
      const raw = text.slice(i, end)
      out.push(raw === 'NULL' ? null : raw)
      i = end
    }
  }
  return out
}

/** Postgres array output for already-converted elements (array_out's quoting rules). */
export function pgArray(items: readonly PgText[], quoteAlways = false): string {
  const el = (v: PgText): string => {
    if (v === null) return 'NULL'
    if (quoteAlways || v === '' || /[{}",\\\s]/.test(v) || v.toUpperCase() === 'NULL')
      return `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`
    return v
  }
  return `{${items.map(el).join(',')}}`
}

/** A double as Postgres 12+ prints it: shortest round-trip digits, exponent form outside 1e-4 … 1e15. */
export function pgFloat(text: string, bits: 32 | 64): string {
  const lower = text.toLowerCase()
  if (lower === 'nan' || lower === '-nan') return 'NaN'
  if (lower === 'inf' || lower === '+inf') return 'Infinity'
  if (lower === '-inf') return '-Infinity'
  const x = Number(text)
  if (x === 0) return Object.is(x, -0) ? '-0' : '0'
  let digits = x.toExponential()
  if (bits === 32) {
    for (let p = 1; p <= 9; p++) {
      const candidate = x.toExponential(p - 1)
      if (Math.fround(Number(candidate)) === Math.fround(x)) {
        digits = candidate
        break
      }
    }
  }
  const [mant, expText] = digits.split('e') as [string, string]
  const exp = Number(expText)
  const limit = bits === 32 ? 6 : 15
  if (exp < -4 || exp >= limit)
    return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`
  const neg = mant.startsWith('-')
  const d = mant.replace(/[-.]/g, '')
  let fixed: string
  if (exp < 0) fixed = `0.${'0'.repeat(-exp - 1)}${d}`
  else if (d.length <= exp + 1) fixed = d + '0'.repeat(exp + 1 - d.length)
  else fixed = `${d.slice(0, exp + 1)}.${d.slice(exp + 1)}`
  return neg ? `-${fixed}` : fixed
}

/** A ClickHouse DateTime64 text as Postgres prints the timestamp: trailing fraction zeros dropped. */
const pgTimestamp = (text: string): string => text.replace(/\.?0+$/, (m) => (m.startsWith('.') ? '' : m))

interface ColumnMeta {
  readonly name: string
  readonly type: string
  /** The Postgres type (the column comment). */
  readonly pg: string
}

/** One non-null scalar value (unescaped) as Postgres text. */
function scalarToPg(pg: string, chType: string, v: string): string {
  if (pg === 'bytea') return `\\x${v.toLowerCase()}`
  if (pg === 'boolean') return v === '1' || v === 'true' ? 't' : 'f'
  if (pg === 'double precision') return pgFloat(v, 64)
  if (pg === 'real') return pgFloat(v, 32)
  const numeric = /^numeric\(\d+,(\d+)\)$/.exec(pg)
  if (numeric && chType.includes('Decimal')) {
    const scale = Number(numeric[1])
    const [int, frac = ''] = v.split('.')
    return scale > 0 ? `${int}.${frac.padEnd(scale, '0')}` : (int as string)
  }
  if (chType.includes('DateTime64'))
    return pg.includes('with time zone') ? `${pgTimestamp(v)}+00` : pgTimestamp(v)
  return v
}

/** One TSV field of a column as Postgres text (an array field is ClickHouse's array literal, not TSV-escaped). */
function toPg(col: ColumnMeta, field: string): PgText {
  if (col.pg.endsWith('[]')) {
    const element = col.pg.slice(0, -2)
    return pgArray(chArray(field).map((v) => (v === null ? null : scalarToPg(element, col.type, v))))
  }
  const v = tsvField(field)
  return v === null ? null : scalarToPg(col.pg, col.type, v)
}

/**
 * Every live row of a target table as Postgres text: the replicated columns (those with a Postgres type comment)
 * in table order, bytea read as hex, NULL arrays restored from the `_pgmirror_null_arrays` marker.
 */
export async function readClickhouseTable(
  client: ClickHouseClient,
  database: string,
  table: string,
  opts: { deletedColumn?: string; where?: string } = {},
): Promise<{ columns: string[]; rows: PgText[][] }> {
  const metaRs = await client.query({
    query: `SELECT name, type, comment FROM system.columns WHERE database = ${quoteString(database)} AND table = ${quoteString(table)}`,
    format: 'JSONEachRow',
  })
  const all = await metaRs.json<{ name: string; type: string; comment: string }>()
  const hasMarker = all.some((c) => c.name === '_pgmirror_null_arrays')
  const cols: ColumnMeta[] = all
    .filter((c) => c.comment !== '' && c.name !== '_pgmirror_null_arrays')
    .map((c) => ({ name: c.name, type: c.type, pg: c.comment }))
  const exprs = cols.map((c) =>
    c.pg === 'bytea'
      ? `hex(${quoteIdent(c.name)})`
      : c.pg === 'bytea[]'
        ? `arrayMap(x -> hex(x), ${quoteIdent(c.name)})`
        : quoteIdent(c.name),
  )
  if (hasMarker) exprs.push(quoteIdent('_pgmirror_null_arrays'))
  const where = [
    `${quoteIdent(opts.deletedColumn ?? '_peerdb_is_deleted')} = 0`,
    ...(opts.where ? [opts.where] : []),
  ]
  const rs = await client.query({
    query: `SELECT ${exprs.join(', ')} FROM ${quoteIdent(database)}.${quoteIdent(table)} FINAL WHERE ${where.join(' AND ')}`,
    format: 'TabSeparated',
  })
  const text = await rs.text()
  const rows = text
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const fields = line.split('\t')
      const nulls = new Set(hasMarker ? chArray(fields[cols.length] as string) : [])
      return cols.map((c, i) => (nulls.has(c.name) ? null : toPg(c, fields[i] as string)))
    })
  return { columns: cols.map((c) => c.name), rows }
}
