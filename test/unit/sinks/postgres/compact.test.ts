import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ChangeRecord, Row } from '../../../../src/model/record.ts'
import {
  compactKeyed,
  orderedSteps,
  type CompactShape,
  type KeyedChange,
  type KeyedStep,
} from '../../../../src/sinks/postgres/compact.ts'

const table = { schema: 'public', table: 't' }
let position = 0
const base = () => ({ table, commitLsn: 100n, seq: position++, xid: 1, commitTime: '2024-01-01T00:00:00Z' })
const ins = (row: Row): ChangeRecord => ({ ...base(), kind: 'insert', row })
const upd = (row: Row, opts: { old?: Row; toast?: string[] } = {}): ChangeRecord => ({
  ...base(),
  kind: 'update',
  row,
  old: opts.old,
  unchangedToast: opts.toast ?? [],
})
const del = (old: Row): ChangeRecord => ({ ...base(), kind: 'delete', old })
const trunc = (): ChangeRecord => ({ ...base(), kind: 'truncate' })

const hard: CompactShape = { columns: ['id', 'a', 'big'], primaryKey: ['id'], softDelete: false }
const soft: CompactShape = { ...hard, softDelete: true }

const up = (cells: (string | null | undefined)[], extra: Partial<KeyedChange> = {}): KeyedChange =>
  ({ kind: 'upsert', cells, deleted: false, toastFrom: undefined, ...extra }) as KeyedChange
const gone = (...key: (string | null)[]): KeyedChange => ({ kind: 'delete', key })
const changes = (...c: KeyedChange[]): KeyedStep => ({ kind: 'changes', changes: c })

describe('compactKeyed', () => {
  it('keeps only the final state per key, in first-seen key order', () => {
    const steps = compactKeyed(
      [
        ins({ id: '1', a: 'x', big: 'B1' }),
        ins({ id: '2', a: 'y', big: 'B2' }),
        upd({ id: '1', a: 'x2', big: 'B1b' }),
        upd({ id: '1', a: 'x3', big: 'B1c' }),
      ],
      hard,
    )
    assert.deepEqual(steps, [changes(up(['1', 'x3', 'B1c']), up(['2', 'y', 'B2']))])
  })

  it('turns insert, update, delete of one key into a delete', () => {
    const steps = compactKeyed(
      [ins({ id: '1', a: 'x', big: 'B' }), upd({ id: '1', a: 'y', big: 'B' }), del({ id: '1' })],
      hard,
    )
    assert.deepEqual(steps, [changes(gone('1'))])
  })

  it('an insert after a delete of the same key is an upsert of the new row', () => {
    const steps = compactKeyed([del({ id: '1' }), ins({ id: '1', a: 'new', big: 'N' })], hard)
    assert.deepEqual(steps, [changes(up(['1', 'new', 'N']))])
  })

  it('merges an unchanged TOAST column over the value known earlier in the batch', () => {
    const steps = compactKeyed(
      [ins({ id: '1', a: 'x', big: 'BIG' }), upd({ id: '1', a: 'y' }, { toast: ['big'] })],
      hard,
    )
    assert.deepEqual(steps, [changes(up(['1', 'y', 'BIG']))])
  })

  it('leaves an unchanged TOAST column unknown when the batch never saw it', () => {
    const steps = compactKeyed(
      [upd({ id: '1', a: 'y' }, { toast: ['big'] }), upd({ id: '1', a: 'z' }, { toast: ['big'] })],
      hard,
    )
    assert.deepEqual(steps, [changes(up(['1', 'z', undefined]))])
  })

  it('a later update that sends the TOAST value makes it known again', () => {
    const steps = compactKeyed(
      [upd({ id: '1', a: 'y' }, { toast: ['big'] }), upd({ id: '1', a: 'z', big: 'NEW' })],
      hard,
    )
    assert.deepEqual(steps, [changes(up(['1', 'z', 'NEW']))])
  })

  it('a key change deletes the old key and upserts the new one', () => {
    const steps = compactKeyed([upd({ id: '2', a: 'x', big: 'B' }, { old: { id: '1' } })], hard)
    assert.deepEqual(steps, [changes(gone('1'), up(['2', 'x', 'B']))])
  })

  it('a key change with unknown TOAST points at the old key for the missing values', () => {
    const steps = compactKeyed([upd({ id: '2', a: 'x' }, { old: { id: '1' }, toast: ['big'] })], hard)
    assert.deepEqual(steps, [changes(gone('1'), up(['2', 'x', undefined], { toastFrom: ['1'] }))])
  })

  it('a chain of key changes keeps pointing at the original pre-batch key', () => {
    const steps = compactKeyed(
      [
        upd({ id: '2', a: 'x' }, { old: { id: '1' }, toast: ['big'] }),
        upd({ id: '3', a: 'y' }, { old: { id: '2' }, toast: ['big'] }),
      ],
      hard,
    )
    assert.deepEqual(steps, [changes(gone('1'), gone('2'), up(['3', 'y', undefined], { toastFrom: ['1'] }))])
  })

  it('changing the key back needs no pointer: the unknown values are on the row itself', () => {
    const steps = compactKeyed(
      [
        upd({ id: '2', a: 'x' }, { old: { id: '1' }, toast: ['big'] }),
        upd({ id: '1', a: 'y' }, { old: { id: '2' }, toast: ['big'] }),
      ],
      hard,
    )
    assert.deepEqual(steps, [changes(up(['1', 'y', undefined]), gone('2'))])
  })

  it('a key change after an insert in the same batch carries the known TOAST value', () => {
    const steps = compactKeyed(
      [ins({ id: '1', a: 'x', big: 'BIG' }), upd({ id: '2', a: 'y' }, { old: { id: '1' }, toast: ['big'] })],
      hard,
    )
    assert.deepEqual(steps, [changes(gone('1'), up(['2', 'y', 'BIG']))])
  })

  it('an update whose old key equals the new key is not a key change', () => {
    const steps = compactKeyed(
      [upd({ id: '1', a: 'x', big: 'B' }, { old: { id: '1', a: 'w', big: 'B' } })],
      hard,
    )
    assert.deepEqual(steps, [changes(up(['1', 'x', 'B']))])
  })

  it('with REPLICA IDENTITY FULL the old row completes the new one', () => {
    const steps = compactKeyed([upd({ id: '1', a: 'x' }, { old: { id: '1', a: 'w', big: 'OLD' } })], hard)
    assert.deepEqual(steps, [changes(up(['1', 'x', 'OLD']))])
  })

  it('a truncate splits the batch into segments around it', () => {
    const steps = compactKeyed(
      [ins({ id: '1', a: 'x', big: 'B' }), trunc(), ins({ id: '1', a: 'y', big: 'C' }), trunc()],
      hard,
    )
    assert.deepEqual(steps, [
      changes(up(['1', 'x', 'B'])),
      { kind: 'truncate' },
      changes(up(['1', 'y', 'C'])),
      {
        kind: 'truncate',
      },
    ])
  })

  it('orders records by (commit LSN, seq), not by batch position', () => {
    const later = { ...ins({ id: '1', a: 'late', big: 'B' }), commitLsn: 200n, seq: 0 }
    const earlier = { ...ins({ id: '1', a: 'early', big: 'B' }), commitLsn: 100n, seq: 5 }
    assert.deepEqual(compactKeyed([later, earlier], hard), [changes(up(['1', 'late', 'B']))])
  })

  it('keeps null and the string "null" as different keys, and a column missing from the row unknown', () => {
    const steps = compactKeyed([ins({ id: null, a: 'x' }), ins({ id: 'null', a: 'y' })], hard)
    assert.deepEqual(steps, [changes(up([null, 'x', undefined]), up(['null', 'y', undefined]))])
  })

  it('handles multi-column keys and a column named __proto__', () => {
    const shape: CompactShape = {
      columns: ['k1', '__proto__', 'v'],
      primaryKey: ['k1', '__proto__'],
      softDelete: false,
    }
    const row: Record<string, string> = { k1: 'a', v: '1' }
    Object.defineProperty(row, '__proto__', { value: 'b', enumerable: true })
    const steps = compactKeyed(
      [ins(row), del({ k1: 'a', ...Object.fromEntries([['__proto__', 'c']]) })],
      shape,
    )
    // The delete's key ("a","c") differs from the insert's ("a","b"), so both survive.
    assert.equal(steps.length, 1)
    const only = steps[0] as { changes: readonly KeyedChange[] }
    assert.deepEqual(only.changes[0], up(['a', 'b', '1']))
    assert.equal(only.changes[1]?.kind, 'delete')
  })

  it('a record without its key value is an error, not a silent drop', () => {
    assert.throws(() => compactKeyed([ins({ a: 'x' })], hard), /lacks a primary key value/)
  })

  describe('soft delete', () => {
    it('flags the last known row when the batch knows it', () => {
      const steps = compactKeyed([ins({ id: '1', a: 'x', big: 'B' }), del({ id: '1' })], soft)
      assert.deepEqual(steps, [changes(up(['1', 'x', 'B'], { deleted: true }))])
    })

    it('falls back to flagging by key when the row is unknown', () => {
      assert.deepEqual(compactKeyed([del({ id: '1' })], soft), [changes(gone('1'))])
    })

    it('uses a complete old row (REPLICA IDENTITY FULL) as the known row', () => {
      const steps = compactKeyed([del({ id: '1', a: 'x', big: 'B' })], soft)
      assert.deepEqual(steps, [changes(up(['1', 'x', 'B'], { deleted: true }))])
    })

    it('keeps unknown TOAST columns unknown on the flagged row', () => {
      const steps = compactKeyed([upd({ id: '1', a: 'y' }, { toast: ['big'] }), del({ id: '1' })], soft)
      assert.deepEqual(steps, [changes(up(['1', 'y', undefined], { deleted: true }))])
    })

    it('an insert after a delete clears the flag', () => {
      const steps = compactKeyed(
        [ins({ id: '1', a: 'x', big: 'B' }), del({ id: '1' }), ins({ id: '1', a: 'z', big: 'C' })],
        soft,
      )
      assert.deepEqual(steps, [changes(up(['1', 'z', 'C']))])
    })

    it('a key change flags the old key with its known row', () => {
      const steps = compactKeyed(
        [ins({ id: '1', a: 'x', big: 'B' }), upd({ id: '2', a: 'y', big: 'B' }, { old: { id: '1' } })],
        soft,
      )
      assert.deepEqual(steps, [changes(up(['1', 'x', 'B'], { deleted: true }), up(['2', 'y', 'B']))])
    })
  })
})

describe('orderedSteps (tables without a key)', () => {
  const shape: CompactShape = { columns: ['a', 'b'], primaryKey: [], softDelete: false }

  it('replays every record in order without compaction', () => {
    const steps = orderedSteps(
      [
        ins({ a: '1', b: 'x' }),
        ins({ a: '1', b: 'x' }),
        upd({ a: '1', b: 'y' }, { old: { a: '1', b: 'x' } }),
        del({ a: '1', b: 'x' }),
        trunc(),
      ],
      shape,
    )
    assert.deepEqual(steps, [
      { kind: 'insert', cells: ['1', 'x'] },
      { kind: 'insert', cells: ['1', 'x'] },
      { kind: 'delete-one', match: ['1', 'x'], soft: false },
      { kind: 'insert', cells: ['1', 'y'] },
      { kind: 'delete-one', match: ['1', 'x'], soft: false },
      { kind: 'truncate' },
    ])
  })

  it('fills unchanged TOAST columns of an update from the old row', () => {
    const steps = orderedSteps([upd({ a: '2' }, { old: { a: '1', b: 'LONG' }, toast: ['b'] })], shape)
    assert.deepEqual(steps[1], { kind: 'insert', cells: ['2', 'LONG'] })
  })

  it('marks deletes soft with soft delete, but an update still replaces the row', () => {
    const steps = orderedSteps(
      [upd({ a: '2', b: 'y' }, { old: { a: '1', b: 'x' } }), del({ a: '2', b: 'y' })],
      { ...shape, softDelete: true },
    )
    assert.deepEqual(
      steps.map((s) => (s.kind === 'delete-one' ? s.soft : s.kind)),
      [false, 'insert', true],
    )
  })

  it('refuses an update without its old row', () => {
    assert.throws(() => orderedSteps([upd({ a: '1', b: 'x' })], shape), /carries no old row/)
  })
})
