import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Batcher } from '../../../src/engine/batcher.ts'
import type { ChangeRecord } from '../../../src/model/record.ts'

const change = (commitLsn: bigint, seq: number): ChangeRecord => ({
  kind: 'insert',
  table: { schema: 'public', table: 't' },
  commitLsn,
  seq,
  xid: 1,
  commitTime: '2024-01-01T00:00:00.000000Z',
  row: { id: String(seq) },
})
const tx = (lsn: bigint, n: number) => ({
  changes: Array.from({ length: n }, (_, i) => change(lsn, i)),
  commitLsn: lsn,
  endLsn: lsn + 8n,
  commitTime: `t${lsn}`,
})

test('a batch closes at max size only between transactions, never splitting one', () => {
  const b = new Batcher(3, 10_000)
  b.add(tx(100n, 2), 0)
  assert.equal(b.due(0), false)
  b.add(tx(200n, 5), 1)
  assert.equal(b.due(1), true)
  const out = b.take()!
  assert.equal(out.records.length, 7)
  assert.equal(out.startLsn, 100n)
  assert.equal(out.endLsn, 208n)
  assert.equal(out.lastCommitTime, 't200')
  assert.equal(b.take(), undefined)
})

test('a batch closes when the sync interval has passed since its first change', () => {
  const b = new Batcher(1000, 500)
  assert.equal(b.msUntilDue(0), undefined)
  b.add(tx(100n, 1), 1000)
  assert.equal(b.msUntilDue(1200), 300)
  assert.equal(b.due(1499), false)
  assert.equal(b.due(1500), true)
})

test('empty transactions open no batch but extend an open one', () => {
  const b = new Batcher(10, 500)
  b.add(tx(100n, 0), 0)
  assert.equal(b.size, 0)
  assert.equal(b.take(), undefined)
  b.add(tx(200n, 1), 0)
  b.add(tx(300n, 0), 0)
  assert.equal(b.take()!.endLsn, 308n)
})
