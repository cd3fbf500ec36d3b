/**
 * Applying one table's share of a batch inside the batch transaction. Keyed tables get bulk statements over a
 * staging table (one COPY, one DELETE, then per group of rows with the same unknown columns one INSERT … ON
 * CONFLICT, or an UPDATE plus an INSERT of the missing rows); tables without a key are replayed record by record.
 *
 * Unknown columns (unchanged TOAST the batch never saw) are left out of the UPDATE SET, so the target keeps its
 * value. A row that is not on the target yet cannot be completed: its unknown columns are inserted as NULL (and a
 * NOT NULL column there fails the batch rather than invent a value).
 */
import type { ChangeRecord, Value } from '../../model/record.ts'
import type { Queryable } from './bookkeeping.ts'
import {
  compactKeyed,
  orderedSteps,
  type Cell,
  type CompactShape,
  type KeyedChange,
  type OrderedStep,
  type Upsert,
} from './compact.ts'
import { copyTextStream } from './copy-text.ts'
import { quoteIdent, quoteList, typeSql } from './quote.ts'
import { copyIn } from './snapshot-load.ts'
import type { Target } from './tables.ts'
import type pg from 'pg'

export interface ApplyScope {
  readonly client: pg.ClientBase
  /** Names this transaction's staging tables apart. */
  nextStage(): string
}

const shapeOf = (t: Target): CompactShape => ({
  columns: t.columns,
  primaryKey: t.primaryKey,
  softDelete: t.softDelete !== undefined,
})

export async function applyTable(
  scope: ApplyScope,
  t: Target,
  records: readonly ChangeRecord[],
): Promise<void> {
  if (t.primaryKey.length > 0) {
    for (const step of compactKeyed(records, shapeOf(t))) {
      if (step.kind === 'truncate') await scope.client.query(`TRUNCATE ${t.sql}`)
      else await applyKeyed(scope, t, step.changes)
    }
  } else {
    await applyOrdered(scope.client, t, orderedSteps(records, shapeOf(t)))
  }
}

/** The SET item stamping the synced-at column, when the target has one. */
const syncedSet = (t: Target): string[] =>
  t.syncedAt !== undefined ? [`${quoteIdent(t.syncedAt)} = now()`] : []

const keyJoin = (t: Target, left: string, right: string): string =>
  t.primaryKey.map((k) => `${left}.${quoteIdent(k)} = ${right}.${quoteIdent(k)}`).join(' AND ')

/**
 * Completes rows whose unknown columns live under another key on the target (an update that changed the key
 * without resending TOAST values) by reading them, before this segment writes anything. A rare path: one query
 * per such row.
 */
async function fillFromOldKeys(
  client: Queryable,
  t: Target,
  changes: readonly KeyedChange[],
): Promise<KeyedChange[]> {
  const out: KeyedChange[] = []
  for (const c of changes) {
    if (c.kind !== 'upsert' || c.toastFrom === undefined) {
      out.push(c)
      continue
    }
    const unknown = c.cells.flatMap((v, i) => (v === undefined ? [i] : []))
    const where = t.primaryKey.map((k, i) => `${quoteIdent(k)} = $${i + 1}`).join(' AND ')
    const res = await client.query<Value[]>({
      text: `SELECT ${unknown.map((i) => quoteIdent(t.columns[i] as string)).join(', ')} FROM ${t.sql} WHERE ${where}`,
      values: [...c.toastFrom],
      rowMode: 'array',
    })
    const found = res.rows[0]
    const cells = [...c.cells]
    if (found !== undefined) unknown.forEach((col, j) => (cells[col] = found[j] ?? null))
    out.push({ ...c, cells, toastFrom: undefined })
  }
  return out
}

/** Rows with the same unknown columns and the same delete flag are written by the same statements. */
const groupKey = (u: Upsert): string =>
  `${u.deleted ? 'd' : 'l'}:${u.cells.flatMap((v, i) => (v === undefined ? [i] : [])).join(',')}`

async function applyKeyed(scope: ApplyScope, t: Target, segment: readonly KeyedChange[]): Promise<void> {
  const { client } = scope
  const changes = await fillFromOldKeys(client, t, segment)
  const groups = new Map<string, Upsert[]>()
  let deletes = 0
  for (const c of changes) {
    if (c.kind === 'delete') {
      deletes++
      continue
    }
    const key = groupKey(c)
    const group = groups.get(key)
    if (group) group.push(c)
    else groups.set(key, [c])
  }

  // The staging table's tag column: -1 = delete, n = upsert group n. Named apart from every real column.
  let op = '_pgmirror_op'
  while (t.columns.includes(op)) op += '_'
  const stage = quoteIdent(scope.nextStage())
  const cols = quoteList(t.columns)
  await client.query(
    `CREATE TEMP TABLE ${stage} ON COMMIT DROP AS SELECT NULL::int AS ${quoteIdent(op)}, ${cols} FROM ${t.sql} WITH NO DATA`,
  )
  const keyIndex = t.primaryKey.map((k) => t.columns.indexOf(k))
  const groupList = [...groups.values()]
  function* stageRows(): Generator<Value[]> {
    for (const c of changes) {
      if (c.kind !== 'delete') continue
      const cells: Value[] = t.columns.map(() => null)
      keyIndex.forEach((col, j) => (cells[col] = c.key[j] ?? null))
      yield ['-1', ...cells]
    }
    for (const [g, rows] of groupList.entries()) {
      for (const u of rows) yield [String(g), ...u.cells.map((v) => v ?? null)]
    }
  }
  await copyIn(
    client,
    `COPY ${stage} (${quoteIdent(op)}, ${cols}) FROM STDIN (FORMAT text)`,
    copyTextStream(stageRows()),
  )

  // Deletes first: a key that changed to a value equal on the target but spelled differently (numeric 1.0 → 1.00)
  // must lose its old row before the new one is written.
  if (deletes > 0) {
    const stageDeletes = `${stage} s WHERE s.${quoteIdent(op)} = -1 AND ${keyJoin(t, 't', 's')}`
    if (t.softDelete === undefined) {
      await client.query(`DELETE FROM ${t.sql} AS t USING ${stageDeletes}`)
    } else {
      const set = [`${quoteIdent(t.softDelete)} = true`, ...syncedSet(t)].join(', ')
      await client.query(`UPDATE ${t.sql} AS t SET ${set} FROM ${stageDeletes}`)
    }
  }
  for (const [g, rows] of groupList.entries()) {
    for (const sql of groupSql(t, stage, op, g, rows[0] as Upsert)) await client.query(sql)
  }
}

/**
 * One group's statements; `sample` is any row of the group (they share unknown columns and flag). Without
 * unknown columns: one INSERT … ON CONFLICT DO UPDATE. With them, an UPDATE of the rows present plus an INSERT
 * of the rest, because Postgres checks NOT NULL on the proposed row before it looks for a conflict: a NULL
 * stand-in for an unknown NOT NULL column would fail even when the row exists and would only be updated.
 */
function groupSql(t: Target, stage: string, op: string, group: number, sample: Upsert): string[] {
  const inGroup = `s.${quoteIdent(op)} = ${group}`
  const flag = sample.deleted ? 'true' : 'false'
  const insertCols = [...t.columns]
  const values = t.columns.map((c) => `s.${quoteIdent(c)}`)
  if (t.syncedAt !== undefined) {
    insertCols.push(t.syncedAt)
    values.push('now()')
  }
  if (t.softDelete !== undefined) {
    insertCols.push(t.softDelete)
    values.push(flag)
  }
  const insert = `INSERT INTO ${t.sql} AS t (${quoteList(insertCols)}) SELECT ${values.join(', ')} FROM ${stage} s`
  const known = t.columns.filter((c, i) => sample.cells[i] !== undefined && !t.primaryKey.includes(c))
  const extras = [
    ...syncedSet(t),
    ...(t.softDelete !== undefined ? [`${quoteIdent(t.softDelete)} = ${flag}`] : []),
  ]

  if (sample.cells.every((v) => v !== undefined)) {
    const set = [...known.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`), ...extras]
    const action = set.length > 0 ? `DO UPDATE SET ${set.join(', ')}` : 'DO NOTHING'
    return [`${insert} WHERE ${inGroup} ON CONFLICT (${quoteList(t.primaryKey)}) ${action}`]
  }
  const set = [...known.map((c) => `${quoteIdent(c)} = s.${quoteIdent(c)}`), ...extras]
  const present = `${inGroup} AND ${keyJoin(t, 't', 's')}`
  return [
    ...(set.length > 0
      ? [`UPDATE ${t.sql} AS t SET ${set.join(', ')} FROM ${stage} s WHERE ${present}`]
      : []),
    `${insert} WHERE ${inGroup} AND NOT EXISTS (SELECT 1 FROM ${t.sql} t WHERE ${keyJoin(t, 't', 's')})`,
  ]
}

/**
 * Without a key, rows are found by value: text comparison of every known column, cast through the column's type
 * on the target so both sides print alike (json has no equality operator; text works for every type).
 * One matching row is touched per record, so duplicate rows behave as on the source.
 */
async function deleteOne(client: Queryable, t: Target, match: readonly Cell[], soft: boolean): Promise<void> {
  const conds: string[] = []
  const values: Value[] = []
  match.forEach((v, i) => {
    if (v === undefined) return
    const col = t.schema.columns[i]
    if (col === undefined) return
    values.push(v)
    conds.push(
      `${quoteIdent(col.name)}::text IS NOT DISTINCT FROM ($${values.length}::${typeSql(col.typeName)})::text`,
    )
  })
  if (t.softDelete !== undefined) conds.push(`${quoteIdent(t.softDelete)} IS NOT TRUE`)
  // (tableoid, ctid) names one row even in a partitioned table; the join still runs as a TID scan.
  const victim =
    `(SELECT tableoid AS rel, ctid AS tid FROM ${t.sql} WHERE ${conds.join(' AND ') || 'true'} LIMIT 1) v ` +
    'WHERE t.ctid = v.tid AND t.tableoid = v.rel'
  if (soft && t.softDelete !== undefined) {
    const set = [`${quoteIdent(t.softDelete)} = true`, ...syncedSet(t)].join(', ')
    await client.query(`UPDATE ${t.sql} AS t SET ${set} FROM ${victim}`, values)
  } else {
    await client.query(`DELETE FROM ${t.sql} AS t USING ${victim}`, values)
  }
}

async function applyOrdered(client: pg.ClientBase, t: Target, steps: readonly OrderedStep[]): Promise<void> {
  let inserts: (readonly Cell[])[] = []
  const flushInserts = async (): Promise<void> => {
    if (inserts.length === 0) return
    const rows = inserts.map((cells) => cells.map((v) => v ?? null))
    inserts = []
    await copyIn(
      client,
      `COPY ${t.sql} (${quoteList(t.columns)}) FROM STDIN (FORMAT text)`,
      copyTextStream(rows),
    )
  }
  for (const step of steps) {
    if (step.kind === 'insert') {
      inserts.push(step.cells)
      continue
    }
    await flushInserts()
    if (step.kind === 'truncate') await client.query(`TRUNCATE ${t.sql}`)
    else await deleteOne(client, t, step.match, step.soft)
  }
  await flushInserts()
}
