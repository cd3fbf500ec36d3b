// The Postgres sink against a real server: the shared Sink contract, then what only a Postgres target does
// (binary snapshots from a real source, soft delete, unknown TOAST, tables without a key, compatibility checks,
// hostile names end to end through the real source, errors).
import assert from 'node:assert/strict'
import type { Readable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import { PgMirrorError, wireSqlState } from '../../src/errors.ts'
import type { PostgresConfig } from '../../src/model/peer.ts'
import type { RecordBatch, TableName } from '../../src/model/record.ts'
import { createPostgresSink } from '../../src/sinks/postgres/postgres-sink.ts'
import type { Sink, SinkSettings, SinkTable } from '../../src/sinks/sink.ts'
import { PostgresSource } from '../../src/sources/postgres/postgres-source.ts'
import type { StreamEvent, TransactionEvent } from '../../src/sources/source.ts'
import { createTestDatabase, uniqueName, type TestDatabase } from '../support/services.ts'
import {
  column,
  copyText,
  MATRIX_COLUMNS,
  MATRIX_ROWS,
  RecordMaker,
  sinkContract,
  sinkTable,
  tableMap,
} from './sink-contract.ts'

function configFromUrl(url: string): PostgresConfig {
  const u = new URL(url)
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.slice(1)),
  }
}

const SYNCED = '_pgmirror_synced_at'
const SOFT = '_pgmirror_is_deleted'

let target: TestDatabase
let source: TestDatabase
let dst: pg.Client
let src: pg.Client

/** A raw-text client in UTC, so every value reads back as the exact text Postgres prints. */
async function rawClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    options: '-c TimeZone=UTC -c DateStyle=ISO',
    types: { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig,
  })
  await client.connect()
  return client
}

before(async () => {
  target = await createTestDatabase('sink_dst')
  source = await createTestDatabase('sink_src')
  dst = await rawClient(target.url)
  src = await rawClient(source.url)
})

after(async () => {
  await dst?.end()
  await src?.end()
  await target?.drop()
  await source?.drop()
})

const settingsFor = (mirror: string, extra: Partial<SinkSettings> = {}): SinkSettings => ({
  mirror,
  syncedAtColumn: SYNCED,
  softDeleteColumn: undefined,
  ...extra,
})

function qname(destination: string): string {
  const dot = destination.indexOf('.')
  const [schema, table] =
    dot < 0 ? ['public', destination] : [destination.slice(0, dot), destination.slice(dot + 1)]
  return `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table)}`
}

/** Replicated columns of a target table in order, without the sink's own columns. */
async function dataColumns(client: pg.Client, table: string): Promise<string[]> {
  const res = await client.query<{ attname: string }>(
    `SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped
     AND attname NOT IN ($2, $3) ORDER BY attnum`,
    [table, SYNCED, SOFT],
  )
  return res.rows.map((r) => r.attname)
}

async function readRows(
  client: pg.Client,
  table: string,
  extra: string[] = [],
): Promise<(string | null)[][]> {
  const cols = [...(await dataColumns(client, table)), ...extra].map((c) => pg.escapeIdentifier(c))
  const res = await client.query<(string | null)[]>({
    text: `SELECT ${cols.join(', ')} FROM ${table}`,
    rowMode: 'array',
  })
  return res.rows
}

/** md5 over the whole table's row text in key order: equal digests mean equal tables. */
async function digest(
  client: pg.Client,
  table: string,
  orderBy: string,
): Promise<{ md5: string; n: string }> {
  const cols = (await dataColumns(client, table)).map((c) => pg.escapeIdentifier(c)).join(', ')
  const res = await client.query<{ md5: string; n: string }>(
    `SELECT md5(string_agg(t::text, '|' ORDER BY ${orderBy})) AS md5, count(*) AS n FROM (SELECT ${cols} FROM ${table}) t`,
  )
  return res.rows[0] as { md5: string; n: string }
}

const cfg = () => configFromUrl(target.url)

sinkContract('postgres', async () => {
  const sink = createPostgresSink(cfg(), settingsFor(uniqueName('mirror')))
  return {
    sink,
    readTable: (destination) => readRows(dst, qname(destination)),
    cleanup: () => sink.close(),
  }
})

/** `COPY (query) TO STDOUT` from the source database, as the source's snapshot reader produces it. */
async function sourceCopy(
  query: string,
  format: 'binary' | 'text',
): Promise<{ data: Readable; done: Promise<void>; client: pg.Client }> {
  const client = await rawClient(source.url)
  const data = client.query(copyTo(`COPY (${query}) TO STDOUT (FORMAT ${format})`))
  const done = new Promise<void>((resolve, reject) => {
    data.on('end', resolve)
    data.on('error', reject)
    data.on('close', resolve)
  }).finally(() => client.end())
  return { data, done, client }
}

const MATRIX_DDL = (name: string) =>
  `CREATE TABLE ${name} (${MATRIX_COLUMNS.map((c) => `${pg.escapeIdentifier(c.name)} ${c.typeName}${c.name === 'id' ? ' PRIMARY KEY' : ''}`).join(', ')})`

describe('Postgres sink', () => {
  let sink: Sink
  let mirror: string
  before(() => {
    mirror = uniqueName('pgsink')
    sink = createPostgresSink(cfg(), settingsFor(mirror))
  })
  after(() => sink.close())

  it('loads binary and text snapshot partitions from a real source exactly (md5 of both tables)', async () => {
    const srcTable = uniqueName('matrix_src')
    await src.query(MATRIX_DDL(srcTable))
    const placeholders = MATRIX_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')
    for (const row of MATRIX_ROWS)
      await src.query(`INSERT INTO ${srcTable} VALUES (${placeholders})`, [...row])
    // Volume, so partitions and COPY chunking matter; every value kind varies with g.
    await src.query(`INSERT INTO ${srcTable} SELECT g, (g % 30000)::int2, g, g::int8 * 1000003, g * 1.0000000001, g / 7.0,
      'row ' || g || E'\\t\\\\' || repeat('é', g % 20), decode(lpad(to_hex(g), 8, '0'), 'hex'), g % 2 = 0,
      date '2000-01-01' + g % 5000, timestamp '2000-01-01' + g * interval '1.000001 s',
      timestamptz '2000-01-01 00:00:00+00' + g * interval '1.000001 s', g * interval '1 minute 0.5 s',
      md5(g::text)::uuid, json_build_object('g', g), jsonb_build_object('g', g, 's', 'x' || g),
      ARRAY[g, -g], ARRAY['a' || g, NULL, '"q"'] FROM generate_series(10, 30009) g`)

    for (const format of ['binary', 'text'] as const) {
      const table = sinkTable(`public.${uniqueName(`matrix_${format}`)}`, MATRIX_COLUMNS, ['id'])
      await sink.ensureTables([table])
      const cols = MATRIX_COLUMNS.map((c) => pg.escapeIdentifier(c.name)).join(', ')
      const results = await Promise.all(
        [0, 1, 2, 3].map(async (k) => {
          const read = await sourceCopy(`SELECT ${cols} FROM ${srcTable} WHERE id % 4 = ${k}`, format)
          const out = await sink.writeSnapshotPartition({
            table,
            partitionId: String(k),
            data: read.data,
            format,
            mode: 'copy',
          })
          await read.done
          return out.rows
        }),
      )
      assert.equal(
        results.reduce((a, b) => a + b, 0),
        30004,
      )
      const want = await digest(src, srcTable, 'id')
      const got = await digest(dst, qname(table.destination), 'id')
      assert.deepEqual(got, want, `${format} snapshot differs from the source`)
      assert.deepEqual([...(await sink.donePartitions(table))].sort(), ['0', '1', '2', '3'])
    }
  })

  it('lets only one of two concurrent writers of the same partition load it', async () => {
    const table = sinkTable(uniqueName('race'), [column('id', 'integer', 23, { nullable: false })], ['id'])
    await sink.ensureTables([table])
    const rows = Array.from({ length: 5000 }, (_, i) => [String(i)])
    const [a, b] = await Promise.all([
      sink.writeSnapshotPartition({
        table,
        partitionId: 'p',
        data: copyText(rows),
        format: 'text',
        mode: 'copy',
      }),
      sink.writeSnapshotPartition({
        table,
        partitionId: 'p',
        data: copyText(rows),
        format: 'text',
        mode: 'copy',
      }),
    ])
    assert.deepEqual([a, b], [{ rows: 5000 }, { rows: 5000 }])
    const n = await dst.query<{ n: string }>(`SELECT count(*) AS n FROM ${qname(table.destination)}`)
    assert.equal(n.rows[0]?.n, '5000')
  })

  it('rolls back a failed partition completely and lets it be retried', async () => {
    const table = sinkTable(uniqueName('badpart'), [column('id', 'integer', 23, { nullable: false })], ['id'])
    await sink.ensureTables([table])
    await assert.rejects(
      sink.writeSnapshotPartition({
        table,
        partitionId: '0',
        data: copyText([['1'], ['nope']]),
        format: 'text',
        mode: 'copy',
      }),
      (e: unknown) => e instanceof PgMirrorError && wireSqlState(e) === '22P02',
    )
    assert.equal(await sink.hasRows(table), false)
    assert.deepEqual([...(await sink.donePartitions(table))], [])
    assert.deepEqual(
      await sink.writeSnapshotPartition({
        table,
        partitionId: '0',
        data: copyText([['1'], ['2']]),
        format: 'text',
        mode: 'copy',
      }),
      { rows: 2 },
    )
  })

  it('creates tables with NOT NULL, the primary key and a synced-at column that writes fill', async () => {
    const table = sinkTable(
      uniqueName('shape'),
      [
        column('a', 'integer', 23, { nullable: false }),
        column('b', 'character varying(10)', 1043),
        column('c', 'numeric(20,5)', 1700),
      ],
      ['a'],
    )
    await sink.ensureTables([table])
    const res = await dst.query<{ attname: string; type: string; notnull: string }>(
      `SELECT attname, format_type(atttypid, atttypmod) AS type, attnotnull AS notnull FROM pg_attribute
       WHERE attrelid = $1::regclass AND attnum > 0 ORDER BY attnum`,
      [qname(table.destination)],
    )
    assert.deepEqual(
      res.rows.map((r) => [r.attname, r.type, r.notnull]),
      [
        ['a', 'integer', 't'],
        ['b', 'character varying(10)', 'f'],
        ['c', 'numeric(20,5)', 'f'],
        [SYNCED, 'timestamp with time zone', 'f'],
      ],
    )
    const pk = await dst.query<{ def: string }>(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'`,
      [qname(table.destination)],
    )
    assert.equal(pk.rows[0]?.def, 'PRIMARY KEY (a)')
    const m = new RecordMaker(table)
    await sink.writeBatch(m.batch(mirror, 1n, [m.insert({ a: '1', b: 'x', c: '1.00000' })]), tableMap(table))
    const synced = await dst.query(
      `SELECT 1 FROM ${qname(table.destination)} WHERE ${SYNCED} > now() - interval '1 minute'`,
    )
    assert.equal(synced.rowCount, 1)
  })

  it('accepts a compatible existing table, adds missing extra columns, and names the first mismatch', async () => {
    const name = uniqueName('existing')
    await dst.query(`CREATE TABLE ${name} (id bigint PRIMARY KEY, v text, extra int)`)
    const ok = sinkTable(
      name,
      [column('id', 'bigint', 20, { nullable: false }), column('v', 'text', 25)],
      ['id'],
    )
    await sink.ensureTables([ok])
    assert.ok((await dataColumns(dst, name)).includes('extra'))
    const cols = await dst.query(
      `SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2`,
      [name, SYNCED],
    )
    assert.equal(cols.rowCount, 1, 'synced-at column added to the existing table')

    const wrongType = sinkTable(name, [column('id', 'integer', 23, { nullable: false })], ['id'])
    await assert.rejects(sink.ensureTables([wrongType]), {
      name: 'PgMirrorError',
      kind: 'object_not_in_prerequisite_state',
      message: `target table "public.${name}" is not compatible: column "id" is bigint, source has integer`,
    })
    const missing = sinkTable(name, [column('id', 'bigint', 20), column('w', 'text', 25)], ['id'])
    await assert.rejects(sink.ensureTables([missing]), { message: /column "w" is missing/ })

    const keyless = uniqueName('nokey')
    await dst.query(`CREATE TABLE ${keyless} (id bigint, v text)`)
    await assert.rejects(sink.ensureTables([sinkTable(keyless, [column('id', 'bigint', 20)], ['id'])]), {
      message: /has no primary key or unique index on \("id"\)/,
    })
  })

  it('refuses a type the target lacks with 0A000, before creating anything', async () => {
    const table = sinkTable(
      uniqueName('enum'),
      [column('id', 'integer', 23), column('m', 'mood', 99999)],
      ['id'],
    )
    await assert.rejects(sink.ensureTables([table]), (e: unknown) => {
      assert.ok(e instanceof PgMirrorError)
      assert.equal(e.sqlState, '0A000')
      assert.equal(e.message, 'type "mood" of column "m" does not exist on the target')
      return true
    })
    const exists = await dst.query('SELECT to_regclass($1) AS r', [table.destination])
    assert.equal(exists.rows[0]?.r, null)
  })

  it('keeps unknown TOAST values, and carries them across a key change', async () => {
    const cols = [
      column('id', 'integer', 23, { nullable: false }),
      column('a', 'text', 25),
      column('big', 'text', 25),
    ]
    const table = sinkTable(uniqueName('toast'), cols, ['id'])
    await sink.ensureTables([table])
    const m = new RecordMaker(table)
    const tables = tableMap(table)
    const own = uniqueName('toastm')
    const s = createPostgresSink(cfg(), settingsFor(own))
    try {
      await s.writeBatch(
        m.batch(own, 1n, [
          m.insert({ id: '1', a: 'x', big: 'BIG1' }),
          m.insert({ id: '2', a: 'y', big: 'BIG2' }),
        ]),
        tables,
      )
      await s.writeBatch(
        m.batch(own, 2n, [
          m.update({ id: '1', a: 'x2' }, undefined, ['big']),
          m.update({ id: '20', a: 'y2' }, { id: '2' }, ['big']),
          // Not on the target and never seen: the unknown column can only come out NULL.
          m.update({ id: '3', a: 'z' }, undefined, ['big']),
        ]),
        tables,
      )
      assert.deepEqual(
        (await readRows(dst, qname(table.destination))).sort((p, q) => Number(p[0]) - Number(q[0])),
        [
          ['1', 'x2', 'BIG1'],
          ['3', 'z', null],
          ['20', 'y2', 'BIG2'],
        ],
      )
    } finally {
      await s.close()
    }
  })

  it('regression: an unknown TOAST value in a NOT NULL column updates the existing row', async () => {
    // Postgres checks NOT NULL on INSERT … ON CONFLICT's proposed row before the conflict, so a NULL stand-in
    // for the unknown value failed the whole batch although the row existed.
    const cols = [
      column('id', 'integer', 23, { nullable: false }),
      column('a', 'text', 25),
      column('big', 'text', 25, { nullable: false }),
    ]
    const table = sinkTable(uniqueName('toast_nn'), cols, ['id'])
    const own = uniqueName('toastnnm')
    const s = createPostgresSink(cfg(), settingsFor(own, { softDeleteColumn: SOFT }))
    try {
      await s.ensureTables([table])
      const m = new RecordMaker(table)
      await s.writeBatch(
        m.batch(own, 1n, [
          m.insert({ id: '1', a: 'x', big: 'BIG1' }),
          m.insert({ id: '2', a: 'y', big: 'BIG2' }),
        ]),
        tableMap(table),
      )
      await s.writeBatch(
        m.batch(own, 2n, [
          m.update({ id: '1', a: 'x2' }, undefined, ['big']),
          m.update({ id: '2', a: 'y2' }, undefined, ['big']),
          m.delete({ id: '2' }),
        ]),
        tableMap(table),
      )
      const rows = (await readRows(dst, qname(table.destination), [SOFT])).sort(
        (p, q) => Number(p[0]) - Number(q[0]),
      )
      assert.deepEqual(rows, [
        ['1', 'x2', 'BIG1', 'f'],
        ['2', 'y2', 'BIG2', 't'],
      ])
      // A row the target never had cannot be completed: that fails loudly instead of inventing a value.
      await assert.rejects(
        s.writeBatch(m.batch(own, 3n, [m.update({ id: '3', a: 'z' }, undefined, ['big'])]), tableMap(table)),
        (e: unknown) => e instanceof PgMirrorError && wireSqlState(e) === '23502',
      )
    } finally {
      await s.close()
    }
  })

  it('applies truncates at their position in the batch', async () => {
    const table = sinkTable(uniqueName('trunc'), [column('id', 'integer', 23, { nullable: false })], ['id'])
    await sink.ensureTables([table])
    const m = new RecordMaker(table)
    const own = uniqueName('truncm')
    const s = createPostgresSink(cfg(), settingsFor(own))
    try {
      await s.writeBatch(m.batch(own, 1n, [m.insert({ id: '1' })]), tableMap(table))
      await s.writeBatch(
        m.batch(own, 2n, [m.insert({ id: '2' }), m.truncate(), m.insert({ id: '3' })]),
        tableMap(table),
      )
      assert.deepEqual(await readRows(dst, qname(table.destination)), [['3']])
    } finally {
      await s.close()
    }
  })

  it('soft delete flags rows, known or not, and an insert after a delete clears the flag', async () => {
    const cols = [column('id', 'integer', 23, { nullable: false }), column('v', 'text', 25)]
    const table = sinkTable(uniqueName('soft'), cols, ['id'])
    const own = uniqueName('softm')
    const s = createPostgresSink(cfg(), settingsFor(own, { softDeleteColumn: SOFT }))
    try {
      await s.ensureTables([table])
      const m = new RecordMaker(table)
      const tables = tableMap(table)
      await s.writeBatch(
        m.batch(own, 1n, [
          m.insert({ id: '1', v: 'a' }),
          m.insert({ id: '2', v: 'b' }),
          m.insert({ id: '3', v: 'c' }),
          m.delete({ id: '1' }),
        ]),
        tables,
      )
      await s.writeBatch(
        m.batch(own, 2n, [
          m.delete({ id: '2' }),
          m.delete({ id: '3' }),
          m.insert({ id: '3', v: 'c2' }),
          m.delete({ id: '9' }),
        ]),
        tables,
      )
      const rows = (await readRows(dst, qname(table.destination), [SOFT])).sort(
        (p, q) => Number(p[0]) - Number(q[0]),
      )
      assert.deepEqual(rows, [
        ['1', 'a', 't'],
        ['2', 'b', 't'],
        ['3', 'c2', 'f'],
      ])
    } finally {
      await s.close()
    }
  })

  it('replays tables without a key record by record, duplicates and json included', async () => {
    const cols = [column('a', 'integer', 23), column('j', 'json', 114), column('t', 'text', 25)]
    const table = { ...sinkTable(uniqueName('keyless'), cols, []) }
    await sink.ensureTables([table])
    const m = new RecordMaker(table)
    const own = uniqueName('keylessm')
    const s = createPostgresSink(cfg(), settingsFor(own))
    const row = { a: '1', j: '{"x": 1}', t: null }
    try {
      await s.writeBatch(
        m.batch(own, 1n, [m.insert(row), m.insert(row), m.insert({ a: '2', j: null, t: 'two' })]),
        tableMap(table),
      )
      await s.writeBatch(
        m.batch(own, 2n, [
          m.delete(row),
          m.update({ a: '3', j: '[]', t: 'three' }, { a: '2', j: null, t: 'two' }),
          m.delete({ a: '7', j: null, t: 'absent' }),
        ]),
        tableMap(table),
      )
      const rows = (await readRows(dst, qname(table.destination))).sort((p, q) => Number(p[0]) - Number(q[0]))
      assert.deepEqual(rows, [
        ['1', '{"x": 1}', null],
        ['3', '[]', 'three'],
      ])
    } finally {
      await s.close()
    }
  })

  it('soft-deletes one of two identical keyless rows; upsert-mode partitions append there', async () => {
    const cols = [column('a', 'integer', 23), column('t', 'text', 25)]
    const table = sinkTable(uniqueName('keyless_soft'), cols, [])
    const own = uniqueName('keylesssoftm')
    const s = createPostgresSink(cfg(), settingsFor(own, { softDeleteColumn: SOFT }))
    try {
      await s.ensureTables([table])
      const data = copyText([
        ['1', 'x'],
        ['1', 'x'],
      ])
      await s.writeSnapshotPartition({ table, partitionId: '0', data, format: 'text', mode: 'upsert' })
      const m = new RecordMaker(table)
      await s.writeBatch(m.batch(own, 1n, [m.delete({ a: '1', t: 'x' })]), tableMap(table))
      await s.writeBatch(
        m.batch(own, 2n, [m.update({ a: '2', t: 'y' }, { a: '1', t: 'x' })]),
        tableMap(table),
      )
      await s.writeBatch(m.batch(own, 3n, [m.delete({ a: '1', t: 'x' })]), tableMap(table))
      const rows = (await readRows(dst, qname(table.destination), [SOFT])).sort((p, q) =>
        String(p).localeCompare(String(q)),
      )
      // The flagged copy stays flagged; the update replaced the live copy; the last delete matched nothing live.
      assert.deepEqual(rows, [
        ['1', 'x', 't'],
        ['2', 'y', 'f'],
      ])
    } finally {
      await s.close()
    }
  })

  it('adds columns that appeared on the source and writes them', async () => {
    const before = [column('id', 'integer', 23, { nullable: false })]
    const table = sinkTable(uniqueName('ddl'), before, ['id'])
    await sink.ensureTables([table])
    const grown: SinkTable = {
      ...table,
      schema: {
        ...table.schema,
        columns: [...before, column('added', 'numeric(10,3)', 1700), column('sp ace', 'text[]', 1009)],
      },
    }
    await sink.applySchemaChange(grown)
    await sink.applySchemaChange(grown)
    const m = new RecordMaker(grown)
    const own = uniqueName('ddlm')
    const s = createPostgresSink(cfg(), settingsFor(own))
    try {
      await s.writeBatch(
        m.batch(own, 1n, [m.insert({ id: '1', added: '1.500', 'sp ace': '{a,"b c"}' })]),
        tableMap(grown),
      )
      assert.deepEqual(await readRows(dst, qname(table.destination)), [['1', '1.500', '{a,"b c"}']])
    } finally {
      await s.close()
    }
  })

  it('a failing batch leaves neither rows nor checkpoint, and keeps the target SQLSTATE', async () => {
    const table = sinkTable(
      uniqueName('fail'),
      [column('id', 'integer', 23, { nullable: false }), column('v', 'integer', 23, { nullable: false })],
      ['id'],
    )
    await sink.ensureTables([table])
    const own = uniqueName('failm')
    const s = createPostgresSink(cfg(), settingsFor(own))
    const m = new RecordMaker(table)
    try {
      await s.writeBatch(m.batch(own, 1n, [m.insert({ id: '1', v: '1' })]), tableMap(table))
      await assert.rejects(
        s.writeBatch(
          m.batch(own, 2n, [m.insert({ id: '2', v: '2' }), m.insert({ id: '3', v: null })]),
          tableMap(table),
        ),
        (e: unknown) => e instanceof PgMirrorError && wireSqlState(e) === '23502',
      )
      assert.deepEqual(await readRows(dst, qname(table.destination)), [['1', '1']])
      assert.equal((await s.lastCheckpoint())?.batchId, 1n)
    } finally {
      await s.close()
    }
  })

  it('resetTables empties the tables and forgets partitions and checkpoint; teardown keeps user tables', async () => {
    const own = uniqueName('resetm')
    const s = createPostgresSink(cfg(), settingsFor(own))
    const table = sinkTable(uniqueName('reset'), [column('id', 'integer', 23, { nullable: false })], ['id'])
    try {
      await s.ensureTables([table])
      await s.writeSnapshotPartition({
        table,
        partitionId: '0',
        data: copyText([['1']]),
        format: 'text',
        mode: 'copy',
      })
      const m = new RecordMaker(table)
      await s.writeBatch(m.batch(own, 1n, [m.insert({ id: '2' })]), tableMap(table))
      await s.resetTables([table])
      assert.equal(await s.hasRows(table), false)
      assert.deepEqual([...(await s.donePartitions(table))], [])
      assert.equal(await s.lastCheckpoint(), undefined)

      await s.writeBatch(m.batch(own, 1n, [m.insert({ id: '3' })]), tableMap(table))
      await s.writeSnapshotPartition({
        table,
        partitionId: '0',
        data: copyText([['4']]),
        format: 'text',
        mode: 'copy',
      })
      await s.teardown()
      assert.equal(await s.lastCheckpoint(), undefined)
      assert.deepEqual([...(await s.donePartitions(table))], [])
      assert.equal(await s.hasRows(table), true, 'user rows stay')
      const left = await dst.query(`SELECT count(*) AS n FROM _pgmirror.checkpoints WHERE mirror = $1`, [own])
      assert.equal(left.rows[0]?.n, '0')
    } finally {
      await s.close()
    }
  })

  it('reports an unreachable target as a retryable connection failure', async () => {
    const s = createPostgresSink({ ...cfg(), host: '127.0.0.1', port: 1 }, settingsFor('nowhere'))
    try {
      await assert.rejects(s.lastCheckpoint(), (e: unknown) => {
        assert.ok(e instanceof PgMirrorError)
        assert.equal(e.kind, 'connection_failure')
        assert.equal(e.sqlState, '08006')
        assert.equal(e.retryable, true)
        assert.match(e.message, /^could not connect to target at "127\.0\.0\.1:1": /)
        assert.match(e.hint ?? '', /accepting TCP\/IP connections on port 1/)
        return true
      })
    } finally {
      await s.close()
    }
  })
})

/** Reads transactions off a change stream until `stop` says enough, with a deadline. */
async function collect(
  events: AsyncIterator<StreamEvent>,
  stop: (tx: TransactionEvent) => boolean,
  timeoutMs = 20_000,
): Promise<TransactionEvent[]> {
  const out: TransactionEvent[] = []
  const deadline = Date.now() + timeoutMs
  while (true) {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error('no stream event before the deadline')),
        Math.max(0, deadline - Date.now()),
      )
    })
    const r = await Promise.race([events.next(), timeout]).finally(() => clearTimeout(timer))
    if (r.done) throw new Error('stream ended')
    if (r.value.kind !== 'transaction') continue
    out.push(r.value)
    if (stop(r.value)) return out
  }
}

describe('Postgres sink end to end with the real source and hostile names', () => {
  it('snapshot (binary) plus streamed changes leave the target equal to the source', async () => {
    const schema = 'My Schema'
    const tableName = 'Weird "Tab"'
    const sourceTable: TableName = { schema, table: tableName }
    const qualified = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(tableName)}`
    await src.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`)
    await src.query(`CREATE TABLE ${qualified} (
      id int PRIMARY KEY, "select" text, "sp ace" numeric(30,10), "we""ird" jsonb, "Ünïcode" text[], "semi;colon" bytea,
      big text)`)
    // EXTERNAL keeps big out of line uncompressed, so updates of other columns send it as unchanged TOAST.
    await src.query(`ALTER TABLE ${qualified} ALTER COLUMN big SET STORAGE EXTERNAL`)
    await src.query(`INSERT INTO ${qualified} SELECT g, 'sel ' || g, g / 3.0, jsonb_build_object('k', g),
      ARRAY['ü' || g, NULL], decode('00ff', 'hex'), repeat('B' || g, 5000) FROM generate_series(1, 500) g`)

    const scfg = configFromUrl(source.url)
    const pgSource = new PostgresSource(scfg)
    const objects = { slotName: uniqueName('slot'), publicationName: uniqueName('pub') }
    const own = uniqueName('e2e')
    const s = createPostgresSink(cfg(), settingsFor(own))
    try {
      const schemas = await pgSource.describeTables([sourceTable])
      const tableSchema = schemas.get(`${schema}.${tableName}`)
      assert.ok(tableSchema)
      const table: SinkTable = {
        source: sourceTable,
        destination: `${schema}.${tableName}`,
        schema: tableSchema,
        ordering: [],
      }
      await s.ensureTables([table])

      const setup = await pgSource.setup(objects, [sourceTable], { exportSnapshot: true })
      try {
        const plan = await pgSource.planSnapshot(sourceTable, { rowsPerPartition: 100 })
        const columns = tableSchema.columns.map((c) => c.name)
        await Promise.all(
          plan.partitions.map(async (p) => {
            const read = await pgSource.readPartition(sourceTable, columns, p, {
              snapshotName: setup.snapshotName,
              format: 'binary',
            })
            try {
              await s.writeSnapshotPartition({
                table,
                partitionId: String(p.index),
                data: read.stream,
                format: 'binary',
                mode: 'copy',
              })
            } finally {
              await read.finish()
            }
          }),
        )
      } finally {
        await setup.release()
      }

      const stream = await pgSource.stream(objects, setup.consistentPoint)
      try {
        const events = stream[Symbol.asyncIterator]()
        await src.query(`UPDATE ${qualified} SET "select" = 'changed' WHERE id <= 10`)
        await src.query(`UPDATE ${qualified} SET id = id + 1000 WHERE id BETWEEN 11 AND 20`)
        await src.query(`DELETE FROM ${qualified} WHERE id BETWEEN 21 AND 30`)
        await src.query(`BEGIN; INSERT INTO ${qualified} (id, "select", big) VALUES (2000, E'tab\\there', repeat('N', 9000));
                         UPDATE ${qualified} SET "we""ird" = '{"x": [1, 2.50]}' WHERE id = 2000;
                         DELETE FROM ${qualified} WHERE id = 31; INSERT INTO ${qualified} (id, "select") VALUES (31, 'back');
                         UPDATE ${qualified} SET big = 'small now' WHERE id = 32; COMMIT`)
        await src.query(`INSERT INTO ${qualified} (id, "select") VALUES (9999, 'marker')`)
        const txs = await collect(events, (tx) =>
          tx.changes.some((c) => c.kind === 'insert' && c.row['id'] === '9999'),
        )
        const toast = txs
          .flatMap((t) => t.changes)
          .filter((c) => c.kind === 'update' && c.unchangedToast.includes('big'))
        assert.ok(toast.length > 0, 'the stream sent unchanged TOAST columns')

        // Two batches, the second replayed, as a crash before the confirm would.
        const half = Math.ceil(txs.length / 2)
        const batches: RecordBatch[] = [txs.slice(0, half), txs.slice(half)].map((group, i) => ({
          mirror: own,
          batchId: BigInt(i + 1),
          records: group.flatMap((t) => t.changes),
          schemaChanges: [],
          endLsn: (group.at(-1) as TransactionEvent).endLsn,
        }))
        for (const b of [...batches, batches[1] as RecordBatch]) await s.writeBatch(b, tableMap(table))
        stream.confirm((txs.at(-1) as TransactionEvent).endLsn)
        assert.deepEqual(await s.lastCheckpoint(), {
          batchId: 2n,
          lsn: (txs.at(-1) as TransactionEvent).endLsn,
        })
      } finally {
        await stream.stop()
      }
      const want = await digest(src, qualified, 'id')
      const got = await digest(dst, qualified, 'id')
      assert.equal(got.n, want.n)
      assert.equal(got.md5, want.md5)
    } finally {
      await s.close()
      await pgSource.teardown(objects).catch(() => undefined)
      await pgSource.close()
    }
  })
})
