/**
 * The suite every Sink must pass (ARCHITECTURE.md, "Contracts that keep data safe"). A sink's test file calls
 * sinkContract with a fixture factory; each test gets a fresh fixture and uses destination names of its own.
 *
 * Values are compared as Postgres text. readTable must return, for a destination, every row with exactly the
 * replicated columns in schema order (no synced-at or soft-delete columns), each value as Postgres would print
 * it with TimeZone UTC and DateStyle ISO, NULL as null. Row order does not matter: the suite sorts by `id`.
 */
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, it } from 'node:test'
import type { Lsn } from '../../src/model/lsn.ts'
import type {
  ChangeRecord,
  ColumnSchema,
  RecordBatch,
  Row,
  TableSchema,
  Value,
} from '../../src/model/record.ts'
import { tableKey } from '../../src/model/record.ts'
import type { Sink, SinkTable } from '../../src/sinks/sink.ts'
import { uniqueName } from '../support/services.ts'

export interface SinkFixture {
  readonly sink: Sink
  readTable(destination: string): Promise<(string | null)[][]>
  cleanup(): Promise<void>
}

/** Builds a column the way the source's introspection reports it. */
export function column(
  name: string,
  typeName: string,
  typeOid: number,
  opts: { nullable?: boolean; typeMod?: number } = {},
): ColumnSchema {
  return { name, typeName, typeOid, typeMod: opts.typeMod ?? -1, nullable: opts.nullable ?? true }
}

export function sinkTable(
  destination: string,
  columns: readonly ColumnSchema[],
  primaryKey: readonly string[],
): SinkTable {
  const schema: TableSchema = {
    name: { schema: 'src', table: destination.replaceAll('.', '_') },
    columns,
    primaryKey,
    replicaIdentity: primaryKey.length > 0 ? 'd' : 'f',
  }
  return { source: schema.name, destination, schema, ordering: [] }
}

/** COPY text, written from the format's rules (independent of any sink's encoder). */
export function copyText(rows: readonly (readonly Value[])[]): Readable {
  const field = (v: Value): string =>
    v === null
      ? '\\N'
      : v.replace(
          /[\\\t\n\r]/g,
          (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c] as string,
        )
  return Readable.from([rows.map((r) => `${r.map(field).join('\t')}\n`).join('')])
}

/** Records for one table, positioned one per transaction so (commitLsn, seq) orders them as listed. */
export class RecordMaker {
  private lsn = 0x1000n
  constructor(private readonly table: SinkTable) {}

  private base() {
    this.lsn += 0x10n
    return {
      table: this.table.source,
      commitLsn: this.lsn,
      seq: 0,
      xid: Number(this.lsn),
      commitTime: '2024-05-01T12:00:00.000000Z',
    }
  }
  insert(row: Row): ChangeRecord {
    return { ...this.base(), kind: 'insert', row }
  }
  update(row: Row, old?: Row, unchangedToast: string[] = []): ChangeRecord {
    return { ...this.base(), kind: 'update', row, old, unchangedToast }
  }
  delete(old: Row): ChangeRecord {
    return { ...this.base(), kind: 'delete', old }
  }
  truncate(): ChangeRecord {
    return { ...this.base(), kind: 'truncate' }
  }
  batch(mirror: string, batchId: bigint, records: readonly ChangeRecord[], endLsn?: Lsn): RecordBatch {
    return { mirror, batchId, records, schemaChanges: [], endLsn: endLsn ?? this.lsn + 0x8n }
  }
}

export const tableMap = (...tables: SinkTable[]): ReadonlyMap<string, SinkTable> =>
  new Map(tables.map((t) => [tableKey(t.source), t]))

const byId = (rows: (string | null)[][]): (string | null)[][] =>
  [...rows].sort((a, b) => Number(a[0]) - Number(b[0]))

const SIMPLE = [
  column('id', 'bigint', 20, { nullable: false }),
  column('name', 'text', 25),
  column('amount', 'numeric(12,2)', 1700, { typeMod: (12 << 16) + 2 + 4 }),
]

/** The exactness matrix; every value is already in the form Postgres prints, so expected output = input. */
export const MATRIX_COLUMNS: readonly ColumnSchema[] = [
  column('id', 'bigint', 20, { nullable: false }),
  column('c_int2', 'smallint', 21),
  column('c_int4', 'integer', 23),
  column('c_int8', 'bigint', 20),
  column('c_num', 'numeric(30,10)', 1700, { typeMod: (30 << 16) + 10 + 4 }),
  column('c_float8', 'double precision', 701),
  column('c_text', 'text', 25),
  column('c_bytea', 'bytea', 17),
  column('c_bool', 'boolean', 16),
  column('c_date', 'date', 1082),
  column('c_ts', 'timestamp without time zone', 1114),
  column('c_tstz', 'timestamp with time zone', 1184),
  column('c_interval', 'interval', 1186),
  column('c_uuid', 'uuid', 2950),
  column('c_json', 'json', 114),
  column('c_jsonb', 'jsonb', 3802),
  column('c_int_arr', 'integer[]', 1007),
  column('c_text_arr', 'text[]', 1009),
]

export const MATRIX_ROWS: readonly (readonly Value[])[] = [
  [
    '1',
    '-32768',
    '2147483647',
    '-9223372036854775808',
    '123456789012345.1234567890',
    '1.7976931348623157e+308',
    'tab\there\nnew line\\back\r\nZürich ✓ 😀 "q" \'s\' \\N',
    '\\x00ff5c0a0d09',
    't',
    '2024-02-29',
    '2024-05-01 12:34:56.123456',
    '2024-05-01 12:34:56.123456+00',
    '1 year 2 mons 3 days 04:05:06.789',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '{"b":1,  "a":[1, 2.50]}',
    '{"a": [1, 2.50], "b": null, "c": "x\\ty"}',
    '{1,-2,3}',
    '{"a \\"q\\"",NULL,"b,c","NULL",""}',
  ],
  [
    '2',
    '0',
    '0',
    '9223372036854775807',
    '-0.0000000001',
    'NaN',
    '',
    '\\x',
    'f',
    '0001-01-01',
    '1999-12-31 23:59:59.999999',
    '1970-01-01 00:00:00.000001+00',
    '-00:00:00.000001',
    '00000000-0000-0000-0000-000000000000',
    '[]',
    '{}',
    '{}',
    '{}',
  ],
  [
    '3',
    null,
    null,
    null,
    '0.0000000000',
    'Infinity',
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    'null',
    'null',
    '{NULL}',
    '{NULL}',
  ],
  [
    '4',
    null,
    null,
    null,
    null,
    '-Infinity',
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
  ],
]

export const rowOf = (columns: readonly ColumnSchema[], values: readonly Value[]): Row =>
  Object.fromEntries(columns.map((c, i) => [c.name, values[i] ?? null]))

export function sinkContract(name: string, makeFixture: () => Promise<SinkFixture>): void {
  /** Runs a test body on a fresh fixture and always cleans up. */
  const withFixture = (body: (f: SinkFixture, mirror: string) => Promise<void>) => async () => {
    const f = await makeFixture()
    try {
      await body(f, uniqueName('contract'))
    } finally {
      await f.cleanup()
    }
  }

  describe(`Sink contract: ${name}`, () => {
    it(
      'ensureTables is idempotent and leaves an empty table',
      withFixture(async ({ sink, readTable }) => {
        const t = sinkTable(uniqueName('ct_ensure'), SIMPLE, ['id'])
        await sink.ensureTables([t])
        await sink.ensureTables([t])
        assert.equal(await sink.hasRows(t), false)
        assert.deepEqual(await readTable(t.destination), [])
        assert.deepEqual([...(await sink.donePartitions(t))], [])
      }),
    )

    it(
      'a snapshot partition written twice leaves one copy',
      withFixture(async ({ sink, readTable }) => {
        const t = sinkTable(uniqueName('ct_part'), SIMPLE, ['id'])
        await sink.ensureTables([t])
        const rows = [
          ['1', 'one', '1.50'],
          ['2', null, null],
          ['3', 'three', '-3.00'],
        ]
        const write = (partitionId: string, data: Value[][], mode: 'copy' | 'upsert' = 'copy') =>
          sink.writeSnapshotPartition({ table: t, partitionId, data: copyText(data), format: 'text', mode })
        assert.deepEqual(await write('0', rows), { rows: 3 })
        assert.deepEqual(await write('0', rows), { rows: 3 })
        assert.deepEqual(await write('1', [['4', 'four', '4.00']]), { rows: 1 })
        assert.deepEqual(byId(await readTable(t.destination)), [...rows, ['4', 'four', '4.00']])
        assert.deepEqual([...(await sink.donePartitions(t))].sort(), ['0', '1'])
        assert.equal(await sink.hasRows(t), true)

        // Recovery mode: keys already present keep their row, new keys are added.
        assert.deepEqual(
          await write(
            '2',
            [
              ['3', 'changed', '9.99'],
              ['5', 'five', '5.00'],
            ],
            'upsert',
          ),
          { rows: 2 },
        )
        assert.deepEqual(byId(await readTable(t.destination)), [
          ...rows,
          ['4', 'four', '4.00'],
          ['5', 'five', '5.00'],
        ])
      }),
    )

    it(
      'writeBatch applies inserts, updates and deletes',
      withFixture(async ({ sink, readTable }, mirror) => {
        const t = sinkTable(uniqueName('ct_batch'), SIMPLE, ['id'])
        await sink.ensureTables([t])
        const m = new RecordMaker(t)
        const tables = tableMap(t)
        await sink.writeBatch(
          m.batch(mirror, 1n, [
            m.insert({ id: '1', name: 'a', amount: '1.00' }),
            m.insert({ id: '2', name: 'b', amount: '2.00' }),
            m.insert({ id: '3', name: 'c', amount: '3.00' }),
            m.update({ id: '1', name: 'a2', amount: '1.10' }),
          ]),
          tables,
        )
        assert.deepEqual(byId(await readTable(t.destination)), [
          ['1', 'a2', '1.10'],
          ['2', 'b', '2.00'],
          ['3', 'c', '3.00'],
        ])
        await sink.writeBatch(
          m.batch(mirror, 2n, [
            m.delete({ id: '2' }),
            m.update({ id: '30', name: 'c', amount: '3.00' }, { id: '3' }),
            m.insert({ id: '4', name: null, amount: null }),
            m.delete({ id: '4' }),
            m.insert({ id: '4', name: 'again', amount: '0.00' }),
            m.update({ id: '1', name: 'a3', amount: '1.20' }),
          ]),
          tables,
        )
        assert.deepEqual(byId(await readTable(t.destination)), [
          ['1', 'a3', '1.20'],
          ['4', 'again', '0.00'],
          ['30', 'c', '3.00'],
        ])
      }),
    )

    it(
      'replaying a batch the stored checkpoint covers changes nothing; the LSN decides, not the batch id',
      withFixture(async ({ sink, readTable }, mirror) => {
        const t = sinkTable(uniqueName('ct_replay'), SIMPLE, ['id'])
        await sink.ensureTables([t])
        const m = new RecordMaker(t)
        const tables = tableMap(t)
        const first = m.batch(mirror, 1n, [m.insert({ id: '1', name: 'a', amount: '1.00' })])
        const second = m.batch(mirror, 2n, [m.update({ id: '1', name: 'b', amount: '2.00' })])
        await sink.writeBatch(first, tables)
        await sink.writeBatch(second, tables)
        await sink.writeBatch(first, tables)
        await sink.writeBatch(second, tables)
        // Same id, different content, ending no further: still skipped.
        const covered = second.endLsn
        await sink.writeBatch(
          m.batch(mirror, 2n, [m.insert({ id: '9', name: 'x', amount: null })], covered),
          tables,
        )
        assert.deepEqual(await readTable(t.destination), [['1', 'b', '2.00']])
        assert.equal((await sink.lastCheckpoint())?.batchId, 2n)
        // Same id reaching further (a successor's longer batch after a crash): written, nothing lost.
        await sink.writeBatch(
          m.batch(mirror, 2n, [m.insert({ id: '10', name: 'y', amount: null })], covered + 0x100n),
          tables,
        )
        assert.deepEqual(await readTable(t.destination), [
          ['1', 'b', '2.00'],
          ['10', 'y', null],
        ])
        assert.deepEqual(await sink.lastCheckpoint(), { batchId: 2n, lsn: covered + 0x100n })
      }),
    )

    it(
      'lastCheckpoint returns the stored checkpoint',
      withFixture(async ({ sink }, mirror) => {
        const t = sinkTable(uniqueName('ct_cp'), SIMPLE, ['id'])
        await sink.ensureTables([t])
        assert.equal(await sink.lastCheckpoint(), undefined)
        const m = new RecordMaker(t)
        const lsn = 0x16_b374_d848n
        await sink.writeBatch(
          m.batch(mirror, 7n, [m.insert({ id: '1', name: 'a', amount: null })], lsn),
          tableMap(t),
        )
        assert.deepEqual(await sink.lastCheckpoint(), { batchId: 7n, lsn })
        // An empty batch still moves the checkpoint (idle progress).
        await sink.writeBatch(m.batch(mirror, 8n, [], lsn + 0x100n), tableMap(t))
        assert.deepEqual(await sink.lastCheckpoint(), { batchId: 8n, lsn: lsn + 0x100n })
      }),
    )

    it(
      'every type in the matrix survives a snapshot and a batch exactly',
      withFixture(async ({ sink, readTable }, mirror) => {
        const snap = sinkTable(uniqueName('ct_types_snap'), MATRIX_COLUMNS, ['id'])
        const cdc = sinkTable(uniqueName('ct_types_cdc'), MATRIX_COLUMNS, ['id'])
        await sink.ensureTables([snap, cdc])
        const expected = MATRIX_ROWS.map((r) => [...r])
        await sink.writeSnapshotPartition({
          table: snap,
          partitionId: '0',
          data: copyText(expected),
          format: 'text',
          mode: 'copy',
        })
        assert.deepEqual(byId(await readTable(snap.destination)), expected)

        const m = new RecordMaker(cdc)
        const rows = MATRIX_ROWS.map((r) => rowOf(MATRIX_COLUMNS, r))
        await sink.writeBatch(
          m.batch(
            mirror,
            1n,
            rows.map((r) => m.insert(r)),
          ),
          tableMap(cdc),
        )
        assert.deepEqual(byId(await readTable(cdc.destination)), expected)
        // Updated rows travel the update path (staging + merge), which must be just as exact.
        await sink.writeBatch(
          m.batch(
            mirror,
            2n,
            rows.map((r) => m.update(r)),
          ),
          tableMap(cdc),
        )
        assert.deepEqual(byId(await readTable(cdc.destination)), expected)
      }),
    )
  })
}
