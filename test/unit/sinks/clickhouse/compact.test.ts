import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ChangeRecord, Row } from '../../../../src/model/record.ts'
import { compactBatch, type FinalState } from '../../../../src/sinks/clickhouse/compact.ts'

const table = { schema: 'public', table: 't' }
const base = (lsn: bigint, seq: number) => ({ table, commitLsn: lsn, seq, xid: 1, commitTime: '' })
const ins = (lsn: bigint, seq: number, row: Row): ChangeRecord => ({ ...base(lsn, seq), kind: 'insert', row })
const upd = (lsn: bigint, seq: number, row: Row, old?: Row, unchangedToast: string[] = []): ChangeRecord => ({
  ...base(lsn, seq),
  kind: 'update',
  row,
  old,
  unchangedToast,
})
const del = (lsn: bigint, seq: number, old: Row): ChangeRecord => ({ ...base(lsn, seq), kind: 'delete', old })

const COLS = ['id', 'v', 'big']
const states = (records: ChangeRecord[]): FinalState[] => {
  const segments = compactBatch(records, COLS, ['id'])
  assert.equal(segments.length, 1)
  const s = segments[0]!
  assert.equal(s.kind, 'rows')
  return s.kind === 'rows' ? [...s.states] : []
}

describe('ClickHouse batch compaction', () => {
  it('keeps one final state per key, versioned by the commit LSN of its last change', () => {
    const out = states([
      ins(0x20n, 0, { id: '1', v: 'a', big: 'B' }),
      upd(0x30n, 1, { id: '1', v: 'b', big: 'B' }),
      ins(0x30n, 0, { id: '2', v: 'x', big: null }),
      del(0x40n, 0, { id: '2' }),
    ])
    assert.deepEqual(out, [
      { identity: ['1'], deleted: false, cells: ['1', 'b', 'B'], version: 0x30n, fillFrom: ['1'] },
      { identity: ['2'], deleted: true, cells: ['2', 'x', null], version: 0x40n, fillFrom: ['2'] },
    ])
  })

  it('orders by (commit LSN, position in transaction), not by arrival', () => {
    const [s] = states([
      upd(0x50n, 2, { id: '1', v: 'last', big: 'B' }),
      upd(0x50n, 1, { id: '1', v: 'first', big: 'B' }),
    ])
    assert.equal(s?.cells[1], 'last')
  })

  it('an unchanged TOAST column stays unknown, to be read from the row ClickHouse holds', () => {
    const [s] = states([upd(0x20n, 0, { id: '1', v: 'new' }, undefined, ['big'])])
    assert.deepEqual(s, {
      identity: ['1'],
      deleted: false,
      cells: ['1', 'new', undefined],
      version: 0x20n,
      fillFrom: ['1'],
    })
  })

  it('an unchanged TOAST column known earlier in the batch is carried; SQL NULL is a value, not unknown', () => {
    const out = states([
      ins(0x20n, 0, { id: '1', v: 'a', big: null }),
      upd(0x30n, 0, { id: '1', v: 'b' }, undefined, ['big']),
    ])
    assert.deepEqual(out[0]?.cells, ['1', 'b', null])
  })

  it('a key change deletes the old key and fills the new row from the old key', () => {
    const out = states([upd(0x20n, 0, { id: '9', v: 'moved' }, { id: '1' }, ['big'])])
    assert.deepEqual(out, [
      { identity: ['1'], deleted: true, cells: ['1', undefined, undefined], version: 0x20n, fillFrom: ['1'] },
      { identity: ['9'], deleted: false, cells: ['9', 'moved', undefined], version: 0x20n, fillFrom: ['1'] },
    ])
  })

  it('REPLICA IDENTITY FULL old rows complete what the new row lacks', () => {
    const [s] = states([upd(0x20n, 0, { id: '1', v: 'n' }, { id: '1', v: 'o', big: 'B' }, ['big'])])
    assert.deepEqual(s?.cells, ['1', 'n', 'B'])
  })

  it('a truncate splits the batch into segments', () => {
    const segments = compactBatch(
      [
        ins(0x20n, 0, { id: '1', v: 'a', big: null }),
        { ...base(0x30n, 0), kind: 'truncate' },
        ins(0x40n, 0, { id: '2', v: 'b', big: null }),
      ],
      COLS,
      ['id'],
    )
    assert.deepEqual(
      segments.map((s) => (s.kind === 'rows' ? s.states.map((x) => x.identity[0]) : 'truncate')),
      [['1'], 'truncate', ['2']],
    )
  })

  it('refuses a change without its key', () => {
    assert.throws(() => compactBatch([del(0x20n, 0, { v: 'x' })], COLS, ['id']), { kind: 'internal_error' })
  })
})
