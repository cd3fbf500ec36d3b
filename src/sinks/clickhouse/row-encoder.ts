/**
 * One target row in RowBinary, in the column order of target.ts's snapshotColumns / batchColumns. A cell is a
 * Postgres text value, a value already in RowBinary (copied from the row ClickHouse holds, for unchanged TOAST
 * columns), or unknown (written as the column's default: NULL where allowed).
 */
import type { Value } from '../../model/record.ts'
import type { RowWriter } from './row-binary.ts'
import type { ChTarget } from './target.ts'

export type OutCell = Value | Buffer | undefined

const NONE: ReadonlySet<string> = new Set()

export interface RowTail {
  readonly version: bigint
  readonly deleted: boolean
}

/**
 * `rawNulls` names the array columns whose copied (Buffer) cell was NULL on ClickHouse. Without `tail` this is a
 * snapshot row: version and delete flag take their defaults (0).
 */
export function writeRow(
  w: RowWriter,
  t: ChTarget,
  cells: readonly OutCell[],
  tail?: RowTail,
  rawNulls: ReadonlySet<string> = NONE,
): void {
  let nullArrays: string[] | undefined
  for (let i = 0; i < t.columns.length; i++) {
    const col = t.columns[i]!
    const v = cells[i]
    if (v === undefined) col.codec.writeDefault(w)
    else if (Buffer.isBuffer(v)) w.raw(v)
    else col.codec.write(w, v)
    if (
      col.type.array &&
      col.type.nullable &&
      (v === null || v === undefined || (Buffer.isBuffer(v) && rawNulls.has(col.name)))
    )
      (nullArrays ??= []).push(col.name)
  }
  if (t.nullArrays !== undefined) {
    w.varint(nullArrays?.length ?? 0)
    for (const name of nullArrays ?? []) w.utf8(name)
  }
  if (tail) {
    w.u64(tail.version)
    w.u8(tail.deleted ? 1 : 0)
  }
}
