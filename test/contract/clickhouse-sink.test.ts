// The Sink contract suite against the real ClickHouse server (18.16 here), one fresh database per test, then
// what only this sink does (TOAST from the stored row, ordering columns, soft delete, reset and swap, added arrays).
// readTable reads the current state, `SELECT … FROM t FINAL WHERE _peerdb_is_deleted = 0`, as Postgres text.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ClickHouseClient } from '@clickhouse/client'
import { createClickhouseSink } from '../../src/sinks/clickhouse/clickhouse-sink.ts'
import { clickhouseUrl, uniqueName } from '../support/services.ts'
import { readClickhouseTable, testClickhouse } from '../support/clickhouse-table.ts'
import {
  column,
  copyText,
  RecordMaker,
  rowOf,
  sinkContract,
  sinkTable,
  tableMap,
  type SinkFixture,
} from './sink-contract.ts'

async function makeFixture(): Promise<SinkFixture & { admin: ClickHouseClient; database: string }> {
  const database = uniqueName('ct')
  const admin = testClickhouse()
  await admin.command({ query: `CREATE DATABASE ${database}` })
  const url = new URL(clickhouseUrl())
  const sink = createClickhouseSink(
    { host: url.hostname, port: Number(url.port), user: 'default', password: '', database },
    { mirror: uniqueName('m'), syncedAtColumn: '_PEERDB_SYNCED_AT', softDeleteColumn: undefined },
  )
  return {
    sink,
    admin,
    database,
    async readTable(destination) {
      return (await readClickhouseTable(admin, database, destination)).rows
    },
    async cleanup() {
      await sink.close()
      await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` })
      await admin.close()
    },
  }
}

sinkContract('clickhouse', makeFixture)

describe('ClickHouse sink: beyond the shared contract', () => {
  const withFixture =
    (
      body: (f: SinkFixture & { admin: ClickHouseClient; database: string }, mirror: string) => Promise<void>,
    ) =>
    async () => {
      const f = await makeFixture()
      try {
        await body(f, uniqueName('m'))
      } finally {
        await f.cleanup()
      }
    }

  const TOASTY = [
    column('id', 'bigint', 20, { nullable: false }),
    column('v', 'text', 25),
    column('big', 'text', 25),
    column('tags', 'text[]', 1009),
  ]

  it(
    'unchanged TOAST values are read from the row ClickHouse holds, also across a key change',
    withFixture(async ({ sink, readTable }, mirror) => {
      const t = sinkTable(uniqueName('ch_toast'), TOASTY, ['id'])
      await sink.ensureTables([t])
      const big = 'x'.repeat(300_000)
      await sink.writeSnapshotPartition({
        table: t,
        partitionId: '0',
        data: copyText([
          ['1', 'a', big, '{t1}'],
          ['2', 'b', big, null],
        ]),
        format: 'text',
        mode: 'copy',
      })
      const m = new RecordMaker(t)
      await sink.writeBatch(
        m.batch(mirror, 1n, [
          m.update({ id: '1', v: 'a2' }, undefined, ['big', 'tags']),
          m.update({ id: '20', v: 'moved' }, { id: '2' }, ['big', 'tags']),
          m.update({ id: '3', v: 'not there' }, undefined, ['big', 'tags']),
        ]),
        tableMap(t),
      )
      assert.deepEqual(await readTable(t.destination), [
        ['1', 'a2', big, '{t1}'],
        ['3', 'not there', null, null],
        ['20', 'moved', big, null],
      ])
    }),
  )

  it(
    'a batch larger than the writer buffer arrives whole (regression: writes into a replaced buffer)',
    withFixture(async ({ sink, readTable }, mirror) => {
      const t = sinkTable(uniqueName('ch_large'), TOASTY, ['id'])
      await sink.ensureTables([t])
      const m = new RecordMaker(t)
      const rows = Array.from({ length: 3000 }, (_, i) => [String(i), `v${i}`, 'y'.repeat(500), `{${i}}`])
      await sink.writeBatch(
        m.batch(
          mirror,
          1n,
          rows.map((r) => m.insert(rowOf(TOASTY, r))),
        ),
        tableMap(t),
      )
      const got = (await readTable(t.destination)).sort((a, b) => Number(a[0]) - Number(b[0]))
      assert.deepEqual(got, rows)
    }),
  )

  it(
    'ordering columns: ORDER BY follows them, and an update that moves a row leaves no copy behind',
    withFixture(async ({ sink, readTable, admin, database }, mirror) => {
      const cols = [
        column('id', 'bigint', 20, { nullable: false }),
        column('cat', 'text', 25),
        column('v', 'text', 25),
      ]
      const t = { ...sinkTable(uniqueName('ch_ord'), cols, ['id']), ordering: [{ name: 'cat', ordering: 1 }] }
      await sink.ensureTables([t])
      const sk = await admin.query({
        query: `SELECT sorting_key FROM system.tables WHERE database = '${database}' AND name = '${t.destination}'`,
        format: 'JSONEachRow',
      })
      assert.deepEqual(await sk.json(), [{ sorting_key: 'cat, id' }])
      const m = new RecordMaker(t)
      await sink.writeBatch(
        m.batch(mirror, 1n, [
          m.insert({ id: '1', cat: 'a', v: 'x' }),
          m.insert({ id: '2', cat: 'a', v: 'y' }),
        ]),
        tableMap(t),
      )
      await sink.writeBatch(
        m.batch(mirror, 2n, [m.update({ id: '1', cat: 'b', v: 'x2' }), m.delete({ id: '2' })]),
        tableMap(t),
      )
      assert.deepEqual(await readTable(t.destination), [['1', 'b', 'x2']])
    }),
  )

  it(
    'a table without a primary key is keyed by its ordering columns, and refused without them',
    withFixture(async ({ sink, readTable }, mirror) => {
      const cols = [column('x', 'integer', 23, { nullable: false }), column('y', 'text', 25)]
      const keyless = sinkTable(uniqueName('ch_nokey'), cols, [])
      await assert.rejects(sink.ensureTables([keyless]), { kind: 'feature_not_supported' })
      const t = { ...keyless, ordering: [{ name: 'x', ordering: 1 }] }
      await sink.ensureTables([t])
      const m = new RecordMaker(t)
      await sink.writeBatch(
        m.batch(mirror, 1n, [
          m.insert({ x: '1', y: 'a' }),
          m.insert({ x: '2', y: 'b' }),
          m.update({ x: '1', y: 'a2' }, { x: '1', y: 'a' }),
          m.delete({ x: '2', y: 'b' }),
        ]),
        tableMap(t),
      )
      assert.deepEqual(await readTable(t.destination), [['1', 'a2']])
    }),
  )

  it(
    'soft delete keeps the deleted row with its data, flagged, visible under FINAL',
    withFixture(async ({ admin, database }, mirror) => {
      const url = new URL(clickhouseUrl())
      const sink = createClickhouseSink(
        { host: url.hostname, port: Number(url.port), user: 'default', password: '', database },
        { mirror, syncedAtColumn: '', softDeleteColumn: '_PEERDB_IS_DELETED' },
      )
      try {
        const t = sinkTable(uniqueName('ch_soft'), TOASTY, ['id'])
        await sink.ensureTables([t])
        const m = new RecordMaker(t)
        await sink.writeBatch(
          m.batch(mirror, 1n, [m.insert({ id: '1', v: 'a', big: 'B', tags: '{x}' })]),
          tableMap(t),
        )
        await sink.writeBatch(m.batch(mirror, 2n, [m.delete({ id: '1' })]), tableMap(t))
        const live = await readClickhouseTable(admin, database, t.destination, {
          deletedColumn: '_PEERDB_IS_DELETED',
        })
        assert.deepEqual(live.rows, [])
        const flagged = await admin.query({
          query: `SELECT id, v, big, _PEERDB_IS_DELETED AS d FROM ${database}.${t.destination} FINAL`,
          format: 'JSONEachRow',
        })
        assert.deepEqual(await flagged.json(), [{ id: '1', v: 'a', big: 'B', d: 1 }])
      } finally {
        await sink.close()
      }
    }),
  )

  it(
    'resetTables empties the tables and forgets the checkpoint and partitions; swapTables replaces a table',
    withFixture(async ({ sink, readTable }, mirror) => {
      const cols = [column('id', 'bigint', 20, { nullable: false }), column('v', 'text', 25)]
      const t = sinkTable(uniqueName('ch_reset'), cols, ['id'])
      const shadow = { ...t, destination: `${t.destination}_resync` }
      await sink.ensureTables([t, shadow])
      const m = new RecordMaker(t)
      await sink.writeSnapshotPartition({
        table: t,
        partitionId: '1/0',
        data: copyText([['1', 'a']]),
        format: 'text',
        mode: 'copy',
      })
      await sink.writeBatch(m.batch(mirror, 5n, [m.insert({ id: '2', v: 'b' })]), tableMap(t))
      await sink.resetTables([t])
      assert.equal(await sink.lastCheckpoint(), undefined)
      assert.deepEqual([...(await sink.donePartitions(t))], [])
      assert.equal(await sink.hasRows(t), false)
      await sink.writeSnapshotPartition({
        table: shadow,
        partitionId: '2/0',
        data: copyText([['9', 'fresh']]),
        format: 'text',
        mode: 'copy',
      })
      await sink.swapTables!([{ from: shadow, to: t }])
      await sink.swapTables!([{ from: shadow, to: t }])
      assert.deepEqual(await readTable(t.destination), [['9', 'fresh']])
    }),
  )

  it(
    'an added array column reads NULL in the rows that were there before it',
    withFixture(async ({ sink, readTable }, mirror) => {
      const before = [column('id', 'bigint', 20, { nullable: false }), column('v', 'text', 25)]
      const t = sinkTable(uniqueName('ch_add'), before, ['id'])
      await sink.ensureTables([t])
      const m = new RecordMaker(t)
      await sink.writeBatch(m.batch(mirror, 1n, [m.insert({ id: '1', v: 'old' })]), tableMap(t))
      const after = sinkTable(
        t.destination,
        [...before, column('tags', 'text[]', 1009), column('n', 'numeric(8,3)', 1700)],
        ['id'],
      )
      await sink.applySchemaChange(after)
      await sink.applySchemaChange(after)
      await sink.writeBatch(
        m.batch(mirror, 2n, [m.insert({ id: '2', v: 'new', tags: '{}', n: '1.500' })]),
        tableMap(after),
      )
      assert.deepEqual((await readTable(t.destination)).sort(), [
        ['1', 'old', null, null],
        ['2', 'new', '{}', '1.500'],
      ])
    }),
  )
})
