/**
 * Turns one table's changes from a batch into the rows ClickHouse must receive. Pure: records in, plan out.
 *
 * Per identity (primary key, or ordering columns) only the final state survives a segment, versioned by the commit
 * LSN of the last transaction that touched it. A transaction never spans batches and the last change of an
 * identity within it wins, so the commit LSN alone orders every row an identity ever gets: the position in the
 * transaction (seq) decides which change is written, not the version. (Packing seq into the version as well would
 * overflow 64 bits for LSNs past 2^48; the LSN itself always fits.) Replaying a batch yields the same rows with
 * the same versions, which ReplacingMergeTree collapses.
 *
 * A truncate ends a segment: the state before it is written, then the table is emptied, then the rest.
 */
import { PgMirrorError } from '../../errors.ts'
import type { ChangeRecord, Row, Value } from '../../model/record.ts'

/** A column value, or undefined when the batch does not know it (unchanged TOAST, or a column the row lacks). */
export type Cell = Value | undefined

export interface FinalState {
  readonly identity: readonly Value[]
  readonly deleted: boolean
  /** Aligned with the target's columns. */
  readonly cells: readonly Cell[]
  readonly version: bigint
  /**
   * Identity of the row, as it was before this batch, that holds the values of the unknown cells: the row's own
   * identity, or the old one when an update changed the key without resending unchanged TOAST values.
   */
  readonly fillFrom: readonly Value[]
}

export type Segment =
  { readonly kind: 'rows'; readonly states: readonly FinalState[] } | { readonly kind: 'truncate' }

const byPosition = (a: ChangeRecord, b: ChangeRecord): number =>
  a.commitLsn < b.commitLsn ? -1 : a.commitLsn > b.commitLsn ? 1 : a.seq - b.seq

/**
 * Orders by (commit LSN, position in transaction); stable, so equal positions keep their batch order. Batches
 * usually arrive in order already, which one pass confirms without copying.
 */
export function sortRecords(records: readonly ChangeRecord[]): readonly ChangeRecord[] {
  for (let i = 1; i < records.length; i++)
    if (byPosition(records[i - 1]!, records[i]!) > 0) return [...records].sort(byPosition)
  return records
}

/** The row's values in column order; a column the row does not carry is unknown. */
export const cellsOf = (row: Row, columns: readonly string[]): Cell[] =>
  columns.map((c) => (Object.hasOwn(row, c) ? (row[c] as Value) : undefined))

/**
 * A map key for an identity. A one-column key (the common case) is the value with a one-letter tag, which keeps
 * NULL apart from any text; longer keys use JSON, whose array form keeps the columns apart.
 */
export const identityText = (identity: readonly Value[]): string => {
  if (identity.length === 1) {
    const v = identity[0]
    return v === null || v === undefined ? 'n' : `v${v}`
  }
  return JSON.stringify(identity)
}

export function compactBatch(
  records: readonly ChangeRecord[],
  columns: readonly string[],
  identity: readonly string[],
): Segment[] {
  const idIndex = identity.map((k) => {
    const i = columns.indexOf(k)
    if (i < 0) throw new PgMirrorError('internal_error', `key column "${k}" is not a replicated column`)
    return i
  })
  const idOf = (cells: readonly Cell[]): Value[] | undefined => {
    const id = idIndex.map((i) => cells[i])
    return id.every((v) => v !== undefined) ? (id as Value[]) : undefined
  }
  const requireId = (cells: readonly Cell[], what: string): Value[] => {
    const id = idOf(cells)
    if (id === undefined)
      throw new PgMirrorError('internal_error', `${what} record lacks a key value`, {
        detail: `key: ${identity.map((k) => `"${k}"`).join(', ')}`,
      })
    return id
  }

  const segments: Segment[] = []
  let state = new Map<string, FinalState>()
  const flush = (): void => {
    if (state.size > 0) segments.push({ kind: 'rows', states: [...state.values()] })
    state = new Map()
  }
  /** First known of the candidates, per column; null is a value here, only undefined means unknown. */
  const merge = (...sources: (readonly Cell[] | undefined)[]): Cell[] =>
    columns.map((_, i) => {
      for (const s of sources) {
        const v = s?.[i]
        if (v !== undefined) return v
      }
      return undefined
    })
  const deletion = (
    id: Value[],
    prior: FinalState | undefined,
    old: readonly Cell[] | undefined,
    version: bigint,
  ): FinalState => ({
    identity: id,
    deleted: true,
    cells: prior !== undefined && !prior.deleted ? prior.cells : merge(old, prior?.cells),
    version,
    fillFrom: prior?.fillFrom ?? id,
  })

  for (const r of sortRecords(records)) {
    switch (r.kind) {
      case 'truncate':
        flush()
        segments.push({ kind: 'truncate' })
        break
      case 'insert': {
        const cells = cellsOf(r.row, columns)
        const id = requireId(cells, 'insert')
        state.set(identityText(id), {
          identity: id,
          deleted: false,
          cells,
          version: r.commitLsn,
          fillFrom: id,
        })
        break
      }
      case 'update': {
        const fresh = cellsOf(r.row, columns)
        const newId = requireId(fresh, 'update')
        const newKey = identityText(newId)
        const old = r.old && cellsOf(r.old, columns)
        // Default replica identity sends the old key only when it changed; FULL sends the whole old row.
        const oldId = (old && idOf(old)) ?? newId
        const oldKey = old === undefined ? newKey : identityText(oldId)
        const prior = state.get(oldKey)
        const base = prior !== undefined && !prior.deleted ? prior.cells : undefined
        // A complete new row (no unchanged TOAST) needs nothing from earlier states.
        const cells = fresh.includes(undefined) ? merge(fresh, base, old) : fresh
        const fillFrom = base !== undefined && prior !== undefined ? prior.fillFrom : oldId
        if (oldKey !== newKey) state.set(oldKey, deletion(oldId, prior, old, r.commitLsn))
        state.set(newKey, {
          identity: newId,
          deleted: false,
          cells,
          version: r.commitLsn,
          fillFrom,
        })
        break
      }
      case 'delete': {
        const old = cellsOf(r.old, columns)
        const id = requireId(old, 'delete')
        state.set(identityText(id), deletion(id, state.get(identityText(id)), old, r.commitLsn))
        break
      }
    }
  }
  flush()
  return segments
}
