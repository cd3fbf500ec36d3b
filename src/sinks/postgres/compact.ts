/**
 * Turns one table's changes from a batch into the few bulk operations that leave the target in the same final
 * state. Pure: records in, plan out; the SQL lives in apply-batch.ts.
 *
 * Keyed tables are compacted: per primary key only the final state survives. Tables without a key (REPLICA
 * IDENTITY FULL) are replayed record by record, since two identical rows can only be told apart by order.
 * A truncate ends a segment: the state before it is applied, then the truncate, then the rest.
 */
import { PgMirrorError } from '../../errors.ts'
import type { ChangeRecord, Row, Value } from '../../model/record.ts'

/** A column value, or undefined when this batch does not know it (unchanged TOAST, or a column the row lacks). */
export type Cell = Value | undefined

export interface CompactShape {
  /** Target columns in order; every cell array below is aligned with it. */
  readonly columns: readonly string[]
  /** Empty: replay in order (no compaction). */
  readonly primaryKey: readonly string[]
  readonly softDelete: boolean
}

export interface Upsert {
  readonly kind: 'upsert'
  readonly cells: readonly Cell[]
  /** Soft delete only: the row is written with the delete flag set (false clears it again). */
  readonly deleted: boolean
  /**
   * Key (primary-key order) of the pre-batch target row still holding the values of the unknown cells, when that
   * is another key than this row's own (an update changed the key without resending TOAST values). undefined: the
   * unknown cells, if any, belong to this row's own key and are simply left as they are on the target.
   */
  readonly toastFrom: readonly Value[] | undefined
}

export interface Delete {
  readonly kind: 'delete'
  /** Primary-key order. With soft delete this flags the row, which this batch does not otherwise know. */
  readonly key: readonly Value[]
}

export type KeyedChange = Upsert | Delete

export type KeyedStep =
  { readonly kind: 'changes'; readonly changes: readonly KeyedChange[] } | { readonly kind: 'truncate' }

export type OrderedStep =
  | { readonly kind: 'insert'; readonly cells: readonly Cell[] }
  /** Removes (or, `soft`, flags) one row equal to `match` in every known column. */
  | { readonly kind: 'delete-one'; readonly match: readonly Cell[]; readonly soft: boolean }
  | { readonly kind: 'truncate' }

/** Orders by (commit LSN, position in transaction); stable, so equal positions keep their batch order. */
export function sortRecords(records: readonly ChangeRecord[]): ChangeRecord[] {
  return [...records].sort((a, b) =>
    a.commitLsn < b.commitLsn ? -1 : a.commitLsn > b.commitLsn ? 1 : a.seq - b.seq,
  )
}

/** The row's values in column order; a column the row does not carry is unknown (undefined). */
export function cellsOf(row: Row, columns: readonly string[]): Cell[] {
  // hasOwn, not `in`: a column named like an Object.prototype member must not read the prototype's value.
  return columns.map((c) => (Object.hasOwn(row, c) ? (row[c] as Value) : undefined))
}

const isComplete = (cells: readonly Cell[]): cells is readonly Value[] => cells.every((c) => c !== undefined)

/** JSON keeps null and the string "null" apart, and the array form keeps multi-column keys unambiguous. */
const keyText = (key: readonly Value[]): string => JSON.stringify(key)

export function compactKeyed(records: readonly ChangeRecord[], shape: CompactShape): KeyedStep[] {
  const keyIndex = shape.primaryKey.map((k) => {
    const i = shape.columns.indexOf(k)
    if (i < 0)
      throw new PgMirrorError('internal_error', `primary key column "${k}" is not a replicated column`)
    return i
  })
  const keyOf = (cells: readonly Cell[]): Value[] | undefined => {
    const key = keyIndex.map((i) => cells[i])
    return key.every((v) => v !== undefined) ? (key as Value[]) : undefined
  }
  const requireKey = (cells: readonly Cell[], what: string): Value[] => {
    const key = keyOf(cells)
    if (key === undefined)
      throw new PgMirrorError('internal_error', `${what} record lacks a primary key value`, {
        detail: `primary key: ${shape.primaryKey.map((k) => `"${k}"`).join(', ')}`,
      })
    return key
  }

  const steps: KeyedStep[] = []
  let state = new Map<string, KeyedChange>()
  const flush = (): void => {
    if (state.size > 0) steps.push({ kind: 'changes', changes: [...state.values()] })
    state = new Map()
  }

  /** The final state of a deleted key: with soft delete, the last row this batch knows for it, flagged. */
  const deletion = (key: Value[], prior: KeyedChange | undefined, old: readonly Cell[]): KeyedChange => {
    if (shape.softDelete) {
      if (prior?.kind === 'upsert') return { ...prior, deleted: true }
      if (isComplete(old)) return { kind: 'upsert', cells: old, deleted: true, toastFrom: undefined }
    }
    return { kind: 'delete', key }
  }

  for (const r of sortRecords(records)) {
    switch (r.kind) {
      case 'truncate':
        flush()
        steps.push({ kind: 'truncate' })
        break
      case 'insert': {
        const cells = cellsOf(r.row, shape.columns)
        const key = requireKey(cells, 'insert')
        state.set(keyText(key), { kind: 'upsert', cells, deleted: false, toastFrom: undefined })
        break
      }
      case 'update': {
        const fresh = cellsOf(r.row, shape.columns)
        const newKey = requireKey(fresh, 'update')
        const oldCells = r.old && cellsOf(r.old, shape.columns)
        // Default replica identity sends the old key only when it changed; FULL sends the whole old row.
        const oldKey = (oldCells && keyOf(oldCells)) ?? newKey
        const prior = state.get(keyText(oldKey))
        const base: { cells: readonly Cell[]; origin: readonly Value[] } | undefined =
          prior?.kind === 'upsert'
            ? { cells: prior.cells, origin: prior.toastFrom ?? oldKey }
            : oldCells && isComplete(oldCells)
              ? { cells: oldCells, origin: oldKey }
              : undefined
        const cells = fresh.map((v, i) => (v !== undefined ? v : base?.cells[i]))
        const origin = base?.origin ?? oldKey
        const unknown = cells.some((v) => v === undefined)
        const toastFrom = unknown && keyText(origin) !== keyText(newKey) ? origin : undefined
        if (keyText(oldKey) !== keyText(newKey)) {
          state.set(keyText(oldKey), deletion(oldKey, prior, oldCells ?? []))
        }
        state.set(keyText(newKey), { kind: 'upsert', cells, deleted: false, toastFrom })
        break
      }
      case 'delete': {
        const old = cellsOf(r.old, shape.columns)
        const key = requireKey(old, 'delete')
        state.set(keyText(key), deletion(key, state.get(keyText(key)), old))
        break
      }
    }
  }
  flush()
  return steps
}

/** Tables without a key: every record in order; an update is "remove the old row, insert the new one". */
export function orderedSteps(records: readonly ChangeRecord[], shape: CompactShape): OrderedStep[] {
  const steps: OrderedStep[] = []
  for (const r of sortRecords(records)) {
    switch (r.kind) {
      case 'truncate':
        steps.push({ kind: 'truncate' })
        break
      case 'insert':
        steps.push({ kind: 'insert', cells: cellsOf(r.row, shape.columns) })
        break
      case 'update': {
        if (r.old === undefined)
          throw new PgMirrorError(
            'internal_error',
            'update on a table without a primary key carries no old row',
            {
              hint: 'the source table needs REPLICA IDENTITY FULL',
            },
          )
        const old = cellsOf(r.old, shape.columns)
        const fresh = cellsOf(r.row, shape.columns)
        steps.push({ kind: 'delete-one', match: old, soft: false })
        steps.push({ kind: 'insert', cells: fresh.map((v, i) => (v !== undefined ? v : old[i])) })
        break
      }
      case 'delete':
        steps.push({ kind: 'delete-one', match: cellsOf(r.old, shape.columns), soft: shape.softDelete })
        break
    }
  }
  return steps
}
