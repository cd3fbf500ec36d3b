import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodePgoutput } from '../../../src/sources/postgres/pgoutput.ts'
import { TransactionAssembler } from '../../../src/sources/postgres/transaction-assembler.ts'
import type { StreamEvent } from '../../../src/sources/source.ts'
import * as f from './pgoutput-fixtures.ts'

const plain = (v: unknown): unknown =>
  JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)))

function feed(a: TransactionAssembler, msgs: Buffer[]): StreamEvent[] {
  const out: StreamEvent[] = []
  for (const m of msgs) {
    const ev = a.push(decodePgoutput(m))
    if (ev) out.push(ev)
  }
  return out
}

const cols: f.FixtureColumn[] = [{ name: 'id', key: true, typeOid: 23 }, { name: 'note' }, { name: 'big' }]
// 2024-05-01 12:00:00.123456 UTC in microseconds since 2000-01-01.
const T = 767_880_000_123_456n

describe('TransactionAssembler', () => {
  it('groups a transaction, numbers its changes and carries commit LSN, xid and time', () => {
    const a = new TransactionAssembler()
    const events = feed(a, [
      f.begin(0x500n, T, 42),
      f.relation(7, 'app', 'items', 'd', cols),
      f.insert(7, ['1', 'a', 'x']),
      f.insert(7, ['2', null, 'y']),
    ])
    assert.equal(events.length, 1)
    assert.equal(events[0]?.kind, 'relation')
    assert.equal(a.inTransaction, true)
    const [tx] = feed(a, [f.commit(0x500n, 0x530n, T)])
    assert.ok(tx?.kind === 'transaction')
    assert.equal(a.inTransaction, false)
    assert.equal(tx.commitLsn, 0x500n)
    assert.equal(tx.endLsn, 0x530n)
    assert.equal(tx.xid, 42)
    assert.equal(tx.commitTime, '2024-05-01T12:00:00.123456Z')
    assert.deepEqual(plain(tx.changes), [
      {
        table: { schema: 'app', table: 'items' },
        commitLsn: '1280n',
        seq: 0,
        xid: 42,
        commitTime: '2024-05-01T12:00:00.123456Z',
        kind: 'insert',
        row: { id: '1', note: 'a', big: 'x' },
      },
      {
        table: { schema: 'app', table: 'items' },
        commitLsn: '1280n',
        seq: 1,
        xid: 42,
        commitTime: '2024-05-01T12:00:00.123456Z',
        kind: 'insert',
        row: { id: '2', note: null, big: 'y' },
      },
    ])
  })

  it('reports unchanged TOAST columns and leaves them out of the row', () => {
    const a = new TransactionAssembler()
    const [, tx] = feed(a, [
      f.relation(7, 'app', 'items', 'd', cols),
      f.begin(1n, T, 1),
      f.update(7, ['1', 'b', f.U]),
      f.commit(1n, 2n, T),
    ])
    assert.ok(tx?.kind === 'transaction')
    const ch = tx.changes[0]
    assert.ok(ch?.kind === 'update')
    assert.deepEqual(ch.unchangedToast, ['big'])
    assert.equal('big' in ch.row, false)
    assert.deepEqual({ ...ch.row }, { id: '1', note: 'b' })
    assert.equal(ch.old, undefined)
  })

  it('fills unchanged TOAST from the old row under REPLICA IDENTITY FULL', () => {
    const a = new TransactionAssembler()
    const [, tx] = feed(a, [
      f.relation(7, 'app', 'items', 'f', cols),
      f.begin(1n, T, 1),
      f.update(7, ['1', 'b', f.U], { kind: 'O', cols: ['1', 'a', 'huge'] }),
      f.commit(1n, 2n, T),
    ])
    assert.ok(tx?.kind === 'transaction')
    const ch = tx.changes[0]
    assert.ok(ch?.kind === 'update')
    assert.deepEqual(ch.unchangedToast, [])
    assert.deepEqual({ ...ch.row }, { id: '1', note: 'b', big: 'huge' })
    assert.deepEqual({ ...ch.old }, { id: '1', note: 'a', big: 'huge' })
  })

  it('keeps only key columns of a key tuple (deletes and key-changing updates)', () => {
    const a = new TransactionAssembler()
    const [, tx] = feed(a, [
      f.relation(7, 'app', 'items', 'd', cols),
      f.begin(1n, T, 1),
      f.update(7, ['2', 'n', 'x'], { kind: 'K', cols: ['1', null, null] }),
      f.del(7, 'K', ['2', null, null]),
      f.truncate([7], 0),
      f.commit(1n, 2n, T),
    ])
    assert.ok(tx?.kind === 'transaction')
    const [u, d, t] = tx.changes
    assert.ok(u?.kind === 'update' && d?.kind === 'delete' && t?.kind === 'truncate')
    assert.deepEqual({ ...u.old }, { id: '1' })
    assert.deepEqual({ ...d.old }, { id: '2' })
    assert.deepEqual(t.table, { schema: 'app', table: 'items' })
    assert.deepEqual(
      tx.changes.map((c) => c.seq),
      [0, 1, 2],
    )
  })

  it('keeps a column named __proto__ as data', () => {
    const a = new TransactionAssembler()
    const [, tx] = feed(a, [
      f.relation(8, 'app', 'odd', 'd', [{ name: '__proto__', key: true }]),
      f.begin(1n, T, 1),
      f.insert(8, ['v']),
      f.commit(1n, 2n, T),
    ])
    assert.ok(tx?.kind === 'transaction' && tx.changes[0]?.kind === 'insert')
    assert.equal(Object.keys(tx.changes[0].row).length, 1)
    assert.equal(tx.changes[0].row['__proto__'], 'v')
  })

  it('ignores origin, type and message; maps the empty namespace to pg_catalog', () => {
    const a = new TransactionAssembler()
    const events = feed(a, [
      f.origin(1n, 'x'),
      f.type(1, 's', 't'),
      f.message(false, 1n, 'p', 'c'),
      f.relation(9, '', 'pg_thing', 'n', []),
    ])
    assert.equal(events.length, 1)
    assert.ok(events[0]?.kind === 'relation')
    assert.deepEqual(events[0].relation.table, { schema: 'pg_catalog', table: 'pg_thing' })
  })

  it('fails with 08P01 on changes outside a transaction, unknown relations and mismatched commits', () => {
    const is08P01 = (e: unknown): boolean => (e as { sqlState?: string }).sqlState === '08P01'
    const a = new TransactionAssembler()
    feed(a, [f.relation(7, 'app', 'items', 'd', cols)])
    assert.throws(() => feed(a, [f.insert(7, ['1', 'a', 'b'])]), is08P01)
    assert.throws(() => feed(new TransactionAssembler(), [f.begin(1n, T, 1), f.insert(99, ['1'])]), is08P01)
    assert.throws(() => feed(new TransactionAssembler(), [f.begin(1n, T, 1), f.commit(2n, 3n, T)]), is08P01)
    assert.throws(() => feed(new TransactionAssembler(), [f.begin(1n, T, 1), f.begin(1n, T, 1)]), is08P01)
  })
})
