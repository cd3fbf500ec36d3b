import assert from 'node:assert/strict'
import { test } from 'node:test'
import { filterChanges } from '../../../src/engine/jobs/cdc-loop.ts'
import { tableKey, type ChangeRecord, type TableName } from '../../../src/model/record.ts'
import type { SinkTable } from '../../../src/sinks/sink.ts'

const base = { commitLsn: 100n, seq: 0, xid: 1, commitTime: '2024-01-01T00:00:00.000000Z' }
const col = (name: string) => ({ name, typeOid: 25, typeName: 'text', typeMod: -1, nullable: true })

function sinkTable(name: TableName, columns: string[]): SinkTable {
  return {
    source: name,
    destination: name.table,
    schema: { name, columns: columns.map(col), primaryKey: ['id'], replicaIdentity: 'd' },
    ordering: [],
  }
}

const full: TableName = { schema: 'public', table: 'full' }
const trimmed: TableName = { schema: 'public', table: 'trimmed' }
const unmapped: TableName = { schema: 'public', table: 'other' }
const tables = new Map([
  [tableKey(full), sinkTable(full, ['id', 'a', 'b'])],
  // `secret` is excluded by the mapping.
  [tableKey(trimmed), sinkTable(trimmed, ['id', 'a'])],
])

test('changes of tables without excluded columns pass through as the very same objects', () => {
  const changes: ChangeRecord[] = [
    { ...base, kind: 'insert', table: full, row: { id: '1', a: 'x', b: null } },
    { ...base, kind: 'update', table: full, row: { id: '1', a: 'y' }, old: undefined, unchangedToast: ['b'] },
    { ...base, kind: 'delete', table: full, old: { id: '1' } },
    { ...base, kind: 'truncate', table: full },
  ]
  const out = filterChanges(changes, tables)
  assert.equal(out.length, 4)
  for (let i = 0; i < 4; i++) assert.equal(out[i], changes[i])
})

test('excluded columns leave rows, old rows and unchanged-TOAST lists; unmapped tables are dropped', () => {
  const changes: ChangeRecord[] = [
    { ...base, kind: 'insert', table: trimmed, row: { id: '1', a: 'x', secret: 's' } },
    { ...base, kind: 'insert', table: unmapped, row: { id: '9' } },
    {
      ...base,
      kind: 'update',
      table: trimmed,
      row: { id: '2', a: 'y' },
      old: { id: '1', a: 'x', secret: 's' },
      unchangedToast: ['secret'],
    },
    { ...base, kind: 'delete', table: trimmed, old: { id: '2', secret: 's' } },
    { ...base, kind: 'insert', table: full, row: { id: '3', a: 'z', b: 'w' } },
  ]
  const out = filterChanges(changes, tables)
  assert.deepEqual(
    out.map((c) => c.kind),
    ['insert', 'update', 'delete', 'insert'],
  )
  assert.deepEqual((out[0] as { row: unknown }).row, { id: '1', a: 'x' })
  const u = out[1] as Extract<ChangeRecord, { kind: 'update' }>
  assert.deepEqual(u.row, { id: '2', a: 'y' })
  assert.deepEqual(u.old, { id: '1', a: 'x' })
  assert.deepEqual(u.unchangedToast, [])
  assert.deepEqual((out[2] as { old: unknown }).old, { id: '2' })
  assert.equal(out[3], changes[4])
  // The input is never modified.
  assert.deepEqual((changes[0] as { row: unknown }).row, { id: '1', a: 'x', secret: 's' })
})
