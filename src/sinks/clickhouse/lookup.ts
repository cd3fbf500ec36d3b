/**
 * Reads the rows ClickHouse currently holds for some identities: the values of unchanged TOAST columns an update
 * did not resend, the data a soft-deleted row keeps, and the sort keys of rows an update moved. The identities go
 * into a temporary table in RowBinary (no values in SQL text, which 18.16 could only take as escaped literals),
 * and the matching rows come back in RowBinary, cut into per-column byte slices that can be written back as-is.
 * Needs a client with a session: temporary tables live in it.
 */
import type { ClickHouseClient } from '@clickhouse/client'
import type { Value } from '../../model/record.ts'
import { insertRowBinary, readRowBinary } from './client-io.ts'
import { quoteIdent, quoteList } from './quote.ts'
import { readVarint, RowWriter, skipValue } from './row-binary.ts'
import { VERSION_COLUMN, type ChTarget } from './target.ts'

const KEYS_TABLE = '_pgmirror_lookup_keys'

export interface LiveRow {
  /** Each replicated column's value in RowBinary, aligned with target.columns. */
  readonly cells: readonly Buffer[]
  /** Array columns that are NULL in this row (from the null-array marker). */
  readonly nullArrays: ReadonlySet<string>
  readonly version: bigint
}

const identityIndex = (t: ChTarget): number[] =>
  t.identity.map((k) => t.columns.findIndex((c) => c.name === k))

/** The RowBinary bytes of an identity, as hex: ClickHouse returns the very same bytes for the stored row. */
export function identityKey(t: ChTarget, identity: readonly Value[]): string {
  const w = new RowWriter(256)
  identityIndex(t).forEach((col, j) => t.columns[col]!.codec.write(w, identity[j] ?? null))
  return w.take().toString('hex')
}

/** An Array(String) value at `pos`: [its strings, the position after it]. */
function readStrings(buf: Buffer, pos: number): [Set<string>, number] {
  const out = new Set<string>()
  let [n, at] = readVarint(buf, pos)
  for (; n > 0; n--) {
    const [len, start] = readVarint(buf, at)
    out.add(buf.toString('utf8', start, start + len))
    at = start + len
  }
  return [out, at]
}

/** Live (not deleted) rows per identity key, newest version first. */
export async function lookupLive(
  session: ClickHouseClient,
  t: ChTarget,
  identities: readonly (readonly Value[])[],
): Promise<Map<string, LiveRow[]>> {
  const out = new Map<string, LiveRow[]>()
  if (identities.length === 0) return out
  const idCols = identityIndex(t).map((i) => t.columns[i]!)
  await session.command({ query: `DROP TEMPORARY TABLE IF EXISTS ${quoteIdent(KEYS_TABLE)}` })
  await session.command({
    query: `CREATE TEMPORARY TABLE ${quoteIdent(KEYS_TABLE)} (${idCols.map((c) => `${quoteIdent(c.name)} ${c.type.sql}`).join(', ')})`,
  })
  const w = new RowWriter()
  for (const id of identities) idCols.forEach((c, j) => c.codec.write(w, id[j] ?? null))
  await insertRowBinary(session, quoteIdent(KEYS_TABLE), t.identity, [w.take()])

  const cols = [...t.columns.map((c) => c.name), ...(t.nullArrays ? [t.nullArrays] : []), VERSION_COLUMN]
  const ids = quoteList(t.identity)
  const data = await readRowBinary(
    session,
    `SELECT ${quoteList(cols)} FROM ${t.sql} FINAL WHERE ${quoteIdent(t.isDeleted)} = 0 AND (${ids}) IN (SELECT ${ids} FROM ${quoteIdent(KEYS_TABLE)})`,
  )
  const idIdx = identityIndex(t)
  let pos = 0
  while (pos < data.length) {
    const cells: Buffer[] = []
    for (const c of t.columns) {
      const end = skipValue(c.type, data, pos)
      cells.push(data.subarray(pos, end))
      pos = end
    }
    let nullArrays: Set<string> = new Set()
    if (t.nullArrays) [nullArrays, pos] = readStrings(data, pos)
    const version = data.readBigUInt64LE(pos)
    pos += 8
    const key = Buffer.concat(idIdx.map((i) => cells[i]!)).toString('hex')
    const list = out.get(key) ?? []
    list.push({ cells, nullArrays, version })
    out.set(key, list)
  }
  for (const list of out.values())
    list.sort((a, b) => (a.version > b.version ? -1 : a.version < b.version ? 1 : 0))
  return out
}
