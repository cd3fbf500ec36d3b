/**
 * Writing one table's share of a batch: every final state (compact.ts) becomes one row with the version of its
 * last change, all in one RowBinary insert per segment. What the batch does not know is read from ClickHouse first
 * (lookup.ts), in one query per segment, and only when needed:
 * - unchanged TOAST columns an update did not resend take the value of the row ClickHouse holds (the row of the
 *   old key when the update changed the key); a row ClickHouse does not have gets NULL there;
 * - with soft delete, a deleted row keeps the data of the row it replaces;
 * - when ORDER BY holds non-key ordering columns, an update may move a row to another sort key: the row under the
 *   old sort key gets a delete row of the same version, and deletes flag every live row of the identity.
 * On replay the lookups may see rows this batch wrote before a crash, or later ones; whatever they copy is written
 * with this batch's versions, which the later rows still supersede, so the end state is the same.
 */
import type { ClickHouseClient } from '@clickhouse/client'
import type { ChangeRecord, Value } from '../../model/record.ts'
import { insertRowBinary } from './client-io.ts'
import { compactBatch, identityText, type FinalState } from './compact.ts'
import { identityKey, lookupLive, type LiveRow } from './lookup.ts'
import { RowWriter } from './row-binary.ts'
import { writeRow, type OutCell } from './row-encoder.ts'
import { batchColumns, type ChTarget } from './target.ts'

export interface ApplyIo {
  readonly client: ClickHouseClient
  /** A client bound to one server session, for the lookups' temporary table. */
  session(): ClickHouseClient
}

export async function applyTable(io: ApplyIo, t: ChTarget, records: readonly ChangeRecord[]): Promise<void> {
  const names = t.columns.map((c) => c.name)
  for (const segment of compactBatch(records, names, t.identity)) {
    if (segment.kind === 'truncate') await io.client.command({ query: `TRUNCATE TABLE ${t.sql}` })
    else await writeStates(io, t, segment.states)
  }
}

/** The identities whose ClickHouse rows this segment needs. */
function lookupsFor(t: ChTarget, states: readonly FinalState[]): Value[][] {
  const wanted = new Map<string, readonly Value[]>()
  const want = (id: readonly Value[]) => wanted.set(identityText(id), id)
  for (const s of states) {
    if (t.movable) want(s.identity)
    if ((!s.deleted || t.softDelete) && s.cells.some((c) => c === undefined)) want(s.fillFrom)
  }
  return [...wanted.values()].map((id) => [...id])
}

/** The ORDER BY values of a row as RowBinary hex, comparable with a live row's. */
function sortKey(t: ChTarget, cells: readonly OutCell[]): string {
  const w = new RowWriter(256)
  for (const name of t.orderBy) {
    const i = t.columns.findIndex((c) => c.name === name)
    const v = cells[i]
    if (v === undefined) t.columns[i]!.codec.writeDefault(w)
    else if (Buffer.isBuffer(v)) w.raw(v)
    else t.columns[i]!.codec.write(w, v)
  }
  return w.take().toString('hex')
}

async function writeStates(io: ApplyIo, t: ChTarget, states: readonly FinalState[]): Promise<void> {
  const needed = lookupsFor(t, states)
  const live: Map<string, LiveRow[]> =
    needed.length > 0 ? await lookupLive(io.session(), t, needed) : new Map()
  const w = new RowWriter()
  const chunks: Buffer[] = []
  for (const s of states) {
    const tail = { version: s.version, deleted: s.deleted }
    if (live.size === 0 && !t.movable) {
      // The common case: nothing to complete from ClickHouse.
      writeRow(w, t, s.cells, tail)
      if (w.length >= 1 << 20) chunks.push(w.take())
      continue
    }
    const from = live.get(identityKey(t, s.fillFrom))?.[0]
    const cells: OutCell[] = s.cells.map((v, i) => (v !== undefined ? v : from?.cells[i]))
    const rawNulls = from?.nullArrays
    if (t.movable) {
      const keep = s.deleted ? undefined : sortKey(t, cells)
      for (const row of live.get(identityKey(t, s.identity)) ?? []) {
        if (sortKey(t, row.cells) !== keep)
          writeRow(w, t, row.cells, { version: s.version, deleted: true }, row.nullArrays)
      }
      if (!s.deleted) writeRow(w, t, cells, tail, rawNulls)
    } else {
      writeRow(w, t, cells, tail, rawNulls)
    }
    if (w.length >= 1 << 20) chunks.push(w.take())
  }
  if (w.length > 0) chunks.push(w.take())
  if (chunks.length > 0) await insertRowBinary(io.client, t.sql, batchColumns(t), chunks)
}
