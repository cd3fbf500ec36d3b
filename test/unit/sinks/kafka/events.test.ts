import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ChangeRecord, ColumnSchema } from '../../../../src/model/record.ts'
import {
  syncedAtNow,
  TableCodec,
  type EventOptions,
  type OutMessage,
} from '../../../../src/sinks/kafka/events.ts'
import type { SinkTable } from '../../../../src/sinks/sink.ts'

const col = (name: string, typeName: string, typeOid: number): ColumnSchema => ({
  name,
  typeName,
  typeOid,
  typeMod: -1,
  nullable: true,
})

function table(primaryKey: string[], topic = 'orders'): SinkTable {
  return {
    source: { schema: 'shop', table: 'Orders' },
    destination: topic,
    schema: {
      name: { schema: 'shop', table: 'Orders' },
      columns: [
        col('id', 'bigint', 20),
        col('region', 'integer', 23),
        col('note', 'text', 25),
        col('big', 'text', 25),
      ],
      primaryKey,
      replicaIdentity: primaryKey.length > 0 ? 'd' : 'f',
    },
    ordering: [],
  }
}

const base = {
  table: { schema: 'shop', table: 'Orders' },
  commitLsn: 0x16_b374_d848n,
  seq: 3,
  xid: 731,
  commitTime: '2024-05-01T12:00:00.123456Z',
}
const opts: EventOptions = {
  tombstones: false,
  syncedAt: '2024-05-01T12:00:01.000000Z',
  partitionCount: () => 3,
}

function messages(codec: TableCodec, r: ChangeRecord, o: EventOptions = opts): OutMessage[] {
  const out: OutMessage[] = []
  codec.changeMessages(r, o, out)
  return out
}

const parsed = (m: OutMessage) => ({
  key: m.key === null ? null : JSON.parse(m.key),
  value: m.value === null ? null : JSON.parse(m.value),
  partition: m.partition,
})

const source = {
  lsn: '16/B374D848',
  seq: 3,
  xid: 731,
  commit_time: '2024-05-01T12:00:00.123456Z',
  schema: 'shop',
  table: 'Orders',
}

describe('TableCodec', () => {
  const keyed = new TableCodec(table(['region', 'id']))

  it('an insert is a "c" event keyed by the primary key in key order', () => {
    const [m, ...rest] = messages(keyed, {
      ...base,
      kind: 'insert',
      row: { id: '7', region: '2', note: null, big: 'x' },
    })
    assert.equal(rest.length, 0)
    assert.equal(m?.topic, 'orders')
    assert.equal(m?.key, '{"region":2,"id":"7"}')
    assert.deepEqual(parsed(m!).value, {
      op: 'c',
      before: null,
      after: { id: '7', region: 2, note: null, big: 'x' },
      source,
      synced_at: '2024-05-01T12:00:01.000000Z',
    })
    assert.equal(m?.partition, undefined, 'keyed events are placed by the partitioner')
  })

  it('an update names unchanged TOAST columns instead of sending them as null', () => {
    const [m] = messages(keyed, {
      ...base,
      kind: 'update',
      row: { id: '7', region: '2', note: 'n' },
      old: undefined,
      unchangedToast: ['big'],
    })
    const v = parsed(m!).value
    assert.equal(v.op, 'u')
    assert.equal(v.before, null)
    assert.deepEqual(v.after, { id: '7', region: 2, note: 'n' })
    assert.ok(!('big' in v.after))
    assert.deepEqual(v.unchanged_toast, ['big'])
  })

  it('an update with the full old row (REPLICA IDENTITY FULL) carries it as before', () => {
    const old = { id: '7', region: '2', note: 'a', big: 'b' }
    const [m, ...rest] = messages(keyed, {
      ...base,
      kind: 'update',
      row: { ...old, note: 'z' },
      old,
      unchangedToast: [],
    })
    assert.equal(rest.length, 0)
    const v = parsed(m!).value
    assert.deepEqual(
      [v.op, v.before, v.after.note, 'unchanged_toast' in v],
      ['u', { id: '7', region: 2, note: 'a', big: 'b' }, 'z', false],
    )
  })

  it('a key change is a delete under the old key, then a create under the new one', () => {
    const r: ChangeRecord = {
      ...base,
      kind: 'update',
      row: { id: '8', region: '2', note: 'n', big: 'b' },
      old: { id: '7', region: '2' },
      unchangedToast: [],
    }
    const plain = messages(keyed, r).map(parsed)
    assert.deepEqual(
      plain.map((m) => [m.key, m.value?.op, m.value?.before, m.value?.after?.id]),
      [
        [{ region: 2, id: '7' }, 'd', { id: '7', region: 2 }, undefined],
        [{ region: 2, id: '8' }, 'c', null, '8'],
      ],
    )
    const withTombstones = messages(keyed, r, { ...opts, tombstones: true }).map(parsed)
    assert.deepEqual(
      withTombstones.map((m) => [m.key, m.value?.op ?? null]),
      [
        [{ region: 2, id: '7' }, 'd'],
        [{ region: 2, id: '7' }, null],
        [{ region: 2, id: '8' }, 'c'],
      ],
    )
  })

  it('a delete carries the old key columns as before; tombstones follow only when asked for', () => {
    const r: ChangeRecord = { ...base, kind: 'delete', old: { id: '7', region: '2' } }
    const [d, ...none] = messages(keyed, r)
    assert.equal(none.length, 0)
    assert.deepEqual(parsed(d!).value.before, { id: '7', region: 2 })
    assert.equal(parsed(d!).value.after, null)
    const [d2, tomb] = messages(keyed, r, { ...opts, tombstones: true })
    assert.equal(d2?.key, tomb?.key)
    assert.equal(tomb?.value, null)
  })

  it('a truncate is a "t" event with a null key on every partition', () => {
    const out = messages(keyed, { ...base, kind: 'truncate' })
    assert.deepEqual(
      out.map((m) => [m.key, m.partition, JSON.parse(m.value!).op]),
      [
        [null, 0, 't'],
        [null, 1, 't'],
        [null, 2, 't'],
      ],
    )
  })

  it('tables without a key send null keys pinned to partition 0, and never tombstones', () => {
    const keyless = new TableCodec(table([]))
    const out = messages(
      keyless,
      { ...base, kind: 'delete', old: { id: '1', region: null, note: 'x', big: null } },
      { ...opts, tombstones: true },
    )
    assert.deepEqual(
      out.map((m) => [m.key, m.partition, JSON.parse(m.value!).op]),
      [[null, 0, 'd']],
    )
    const [u] = messages(keyless, {
      ...base,
      kind: 'update',
      row: { id: '2', region: null, note: 'x', big: null },
      old: { id: '1', region: null, note: 'x', big: null },
      unchangedToast: [],
    })
    assert.equal(JSON.parse(u!.value!).op, 'u', 'no key, so no key change')
  })

  it('snapshot rows are "r" events without a source position', () => {
    const m = keyed.snapshotMessage(['9', '4', 'tab\there', null], opts.syncedAt)
    assert.equal(m.key, '{"region":4,"id":"9"}')
    assert.deepEqual(parsed(m).value, {
      op: 'r',
      before: null,
      after: { id: '9', region: 4, note: 'tab\there', big: null },
      source: { lsn: null, seq: null, xid: null, commit_time: null, schema: 'shop', table: 'Orders' },
      synced_at: opts.syncedAt,
    })
  })

  it('escapes odd column names and a column named __proto__', () => {
    const odd: SinkTable = {
      ...table(['we"ird']),
      schema: {
        ...table([]).schema,
        columns: [col('we"ird', 'integer', 23), col('__proto__', 'text', 25)],
        primaryKey: ['we"ird'],
      },
    }
    const row: Record<string, string> = { 'we"ird': '1' }
    Object.defineProperty(row, '__proto__', { value: 'p', enumerable: true })
    const [m] = messages(new TableCodec(odd), { ...base, kind: 'insert', row })
    assert.equal(m?.key, '{"we\\"ird":1}')
    assert.equal(m?.value?.includes('"after":{"we\\"ird":1,"__proto__":"p"}'), true)
  })
})

describe('syncedAtNow', () => {
  it('is ISO-8601 UTC with six fraction digits', () => {
    assert.match(syncedAtNow(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
  })
})
