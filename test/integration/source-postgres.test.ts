// The Postgres source against a real server: schemas, snapshot partitions under an exported snapshot, and the
// change stream with exact values, unchanged TOAST, truncate, confirmation and slot bookkeeping.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { PgMirrorError, wireSqlState } from '../../src/errors.ts'
import { parseLsn } from '../../src/model/lsn.ts'
import type { PostgresConfig } from '../../src/model/peer.ts'
import type { Row, TableName } from '../../src/model/record.ts'
import { openClient } from '../../src/sources/postgres/connect.ts'
import { copyTextRows } from '../../src/sources/postgres/copy-text.ts'
import { PostgresSource } from '../../src/sources/postgres/postgres-source.ts'
import { dropSlotAndPublication } from '../../src/sources/postgres/slot.ts'
import type {
  ChangeStream,
  ReplicationObjects,
  StreamEvent,
  TransactionEvent,
} from '../../src/sources/source.ts'
import { createTestDatabase, uniqueName, waitFor } from '../support/services.ts'
import type { TestDatabase } from '../support/services.ts'

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

const MATRIX_COLUMNS = (
  'id c_int2 c_int4 c_int8 c_num c_bignum c_float8 c_text c_bytea c_bool c_date c_ts c_tstz c_interval c_uuid ' +
  'c_json c_jsonb c_int_arr c_text_arr c_big'
).split(' ')

// c_int4 comes first so attnum order differs from the key; c_big is EXTERNAL (out of line, uncompressed), so an
// UPDATE of another column sends the unchanged-TOAST marker for it.
const MATRIX_DDL = `
CREATE TABLE matrix (
  c_int4 int4 NOT NULL, id int8 PRIMARY KEY, c_int2 int2, c_int8 int8, c_num numeric(20,5), c_bignum numeric,
  c_float8 float8, c_text text, c_bytea bytea, c_bool bool, c_date date, c_ts timestamp, c_tstz timestamptz,
  c_interval interval, c_uuid uuid, c_json json, c_jsonb jsonb, c_int_arr int[], c_text_arr text[], c_big text
);
ALTER TABLE matrix ALTER COLUMN c_big SET STORAGE EXTERNAL`

const MATRIX_ROW_1 = `
INSERT INTO matrix VALUES (
  7, 1, -32768, 9223372036854775807, 123456789012345.12345, 123456789012345678901234567890.123456789012,
  'NaN', E'h\\u00e9llo \\U0001F30D "quoted" \\t tab \\\\ back', '\\x00ff10', true, '2024-02-29',
  '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123456+00', '1 year 2 mons 3 days 04:05:06.789',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2.50, "x"]}', '{"b": 1.000, "a": [true, null]}',
  '{1,2,NULL}', ARRAY['a "q"', NULL, 'b,c', ''], repeat('0123456789', 10000))`

const MATRIX_ROWS_2_3 = `
INSERT INTO matrix (id, c_int4, c_float8, c_text, c_tstz) VALUES
  (2, 8, 'Infinity', 'second', '1999-12-31 23:59:59.999999+00'),
  (3, 9, '-Infinity', NULL, NULL)`

/**
 * The row as the server prints it: `admin` has the raw-text type parsers, so each value is the type's output
 * function text (note `bool::text` would say 'true' where the output function, and pgoutput, say 't').
 */
async function serverText(
  client: pg.Client,
  table: string,
  id: number,
  columns: readonly string[],
): Promise<Row> {
  const res = await client.query(
    `SELECT ${columns.map((c) => pg.escapeIdentifier(c)).join(', ')} FROM ${table} WHERE id = $1`,
    [id],
  )
  assert.equal(res.rows.length, 1, `row ${id} exists`)
  const row = res.rows[0] as Row
  assert.equal(typeof row['id'], 'string', 'values arrive as text')
  return row
}

/** Reads events until `count` transactions arrived; relations and keepalives are collected on the side. */
async function takeTransactions(
  it: AsyncIterator<StreamEvent>,
  count: number,
  seen: StreamEvent[] = [],
  timeoutMs = 15_000,
): Promise<TransactionEvent[]> {
  const out: TransactionEvent[] = []
  const deadline = Date.now() + timeoutMs
  while (out.length < count) {
    const ev = await nextEvent(it, deadline - Date.now())
    seen.push(ev)
    if (ev.kind === 'transaction') out.push(ev)
  }
  return out
}

async function nextEvent(it: AsyncIterator<StreamEvent>, timeoutMs: number): Promise<StreamEvent> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no stream event within ${timeoutMs} ms`)),
      Math.max(0, timeoutMs),
    )
  })
  try {
    const r = await Promise.race([it.next(), timeout])
    if (r.done) throw new Error('stream ended')
    return r.value
  } finally {
    clearTimeout(timer)
  }
}

const md5 = (v: unknown): string => createHash('md5').update(JSON.stringify(v)).digest('hex')

describe('postgres source', { timeout: 120_000 }, () => {
  let db: TestDatabase
  let cfg: PostgresConfig
  let admin: pg.Client
  let source: PostgresSource
  const objects: ReplicationObjects[] = []

  const newObjects = (): ReplicationObjects => {
    const o = { slotName: uniqueName('slot'), publicationName: uniqueName('pub') }
    objects.push(o)
    return o
  }

  before(async () => {
    db = await createTestDatabase('src')
    cfg = configFromUrl(db.url)
    admin = await openClient(cfg)
    source = new PostgresSource(cfg)
    await admin.query(MATRIX_DDL)
  })

  after(async () => {
    // Slots pin their database: drop them before the database goes.
    for (const o of objects) await dropSlotAndPublication(admin, o).catch(() => undefined)
    await source?.close()
    await admin?.end()
    await db?.drop()
  })

  it('validates the server and describes tables with types, key order and replica identity', async () => {
    await source.validate()
    await admin.query(`CREATE TABLE "Mixed Case" (b text, a int, c text GENERATED ALWAYS AS (b || 'x') STORED,
                        PRIMARY KEY (b, a))`)
    await admin.query('CREATE TABLE keyless (x int); CREATE VIEW v AS SELECT 1 AS one')
    const names: TableName[] = [
      { schema: 'public', table: 'matrix' },
      { schema: 'public', table: 'Mixed Case' },
      { schema: 'public', table: 'keyless' },
    ]
    const schemas = await source.describeTables(names)
    const matrix = schemas.get('public.matrix')
    assert.ok(matrix)
    assert.deepEqual(matrix.primaryKey, ['id'])
    assert.equal(matrix.replicaIdentity, 'd')
    const byName = new Map(matrix.columns.map((c) => [c.name, c]))
    assert.equal(byName.get('c_num')?.typeName, 'numeric(20,5)')
    assert.equal(byName.get('c_tstz')?.typeName, 'timestamp with time zone')
    assert.equal(byName.get('c_int_arr')?.typeName, 'integer[]')
    assert.equal(byName.get('c_int8')?.typeOid, 20)
    assert.equal(byName.get('c_int4')?.nullable, false)
    assert.equal(byName.get('c_text')?.nullable, true)
    assert.equal(matrix.columns[0]?.name, 'c_int4', 'attnum order')
    const mixed = schemas.get('public.Mixed Case')
    assert.deepEqual(mixed?.primaryKey, ['b', 'a'], 'key order, not column order')
    assert.deepEqual(
      mixed?.columns.map((c) => c.name),
      ['b', 'a'],
      'generated columns are not replicated',
    )
    assert.throws(
      () => source.ensurePullable(schemas.values()),
      (e: unknown) =>
        (e as Error).message ===
        'table "public.keyless" has no primary key and its replica identity is not FULL',
    )
    await admin.query('ALTER TABLE keyless REPLICA IDENTITY FULL')
    const again = await source.describeTables([{ schema: 'public', table: 'keyless' }])
    assert.equal(again.get('public.keyless')?.replicaIdentity, 'f')
    source.ensurePullable(again.values())
    await assert.rejects(source.describeTables([{ schema: 'public', table: 'nope' }]), {
      message: 'relation "public.nope" does not exist',
    })
    await assert.rejects(source.describeTables([{ schema: 'public', table: 'v' }]), {
      message: '"public.v" is not a table',
    })
  })

  it('reads every partition of a 20k-row table under one exported snapshot', async () => {
    const table: TableName = { schema: 'public', table: 'big' }
    const cols = ['id', 'v', 'n', 'ts']
    await admin.query(`CREATE TABLE big (id int8 PRIMARY KEY, v text, n numeric, ts timestamptz);
      INSERT INTO big SELECT g, 'row ' || g || repeat('x', g % 50), g * 1.0000001,
        '2024-01-01'::timestamptz + g * interval '1.000001 second' FROM generate_series(1, 20000) g;
      ANALYZE big`)
    const expected = (await admin.query(`SELECT id, v, n, ts FROM big ORDER BY id`)).rows.map((r) =>
      cols.map((c) => (r as Row)[c]),
    )
    assert.equal(expected.length, 20000)

    const o = newObjects()
    const setup = await source.setup(o, [table], { exportSnapshot: true })
    assert.ok(setup.snapshotName)
    assert.ok(setup.consistentPoint > 0n)
    try {
      // Changes after the consistent point must not leak into the snapshot.
      await admin.query(`INSERT INTO big SELECT g, 'late', 0, now() FROM generate_series(20001, 21000) g;
        DELETE FROM big WHERE id % 7 = 0; UPDATE big SET v = 'changed' WHERE id < 100`)
      const plan = await source.planSnapshot(table, { rowsPerPartition: 3000 })
      assert.ok(plan.partitions.length >= 6, `got ${plan.partitions.length} partitions`)
      assert.ok(plan.estimatedRows > 15000 && plan.estimatedRows < 25000, `estimate ${plan.estimatedRows}`)
      assert.equal(plan.partitions.at(-1)?.endBlock, undefined)

      const parts = await Promise.all(
        plan.partitions.map(async (p) => {
          const read = await source.readPartition(table, cols, p, {
            snapshotName: setup.snapshotName,
            format: 'text',
          })
          const rows: Row[] = []
          try {
            for await (const chunk of copyTextRows(read.stream, cols, 1000)) rows.push(...chunk)
          } finally {
            await read.finish()
          }
          return rows
        }),
      )
      assert.ok(parts.filter((r) => r.length > 0).length >= 6, 'rows spread over partitions')
      const got = parts
        .flat()
        .map((r) => cols.map((c) => r[c]))
        .sort((a, b) => Number(a[0]) - Number(b[0]))
      assert.equal(got.length, 20000)
      assert.equal(md5(got), md5(expected))

      // The same plan without the snapshot sees today's table, including pages added after planning.
      await admin.query(`INSERT INTO big SELECT g, 'later', 0, now() FROM generate_series(21001, 23500) g`)
      let now = 0
      for (const p of plan.partitions) {
        const read = await source.readPartition(table, ['id'], p, { format: 'text' })
        for await (const chunk of copyTextRows(read.stream, ['id'], 5000)) now += chunk.length
        await read.finish()
      }
      const current = await admin.query<{ n: string }>('SELECT count(*) AS n FROM big')
      assert.equal(now, Number(current.rows[0]?.n))
      assert.notEqual(now, 20000)

      // A failing COPY surfaces in the stream and again from finish(), which closes the stuck connection.
      const broken = await source.readPartition(table, ['nope'], plan.partitions[0]!, { format: 'text' })
      await assert.rejects(async () => {
        for await (const _ of broken.stream) assert.fail('no data expected')
      }, /column "nope" does not exist/)
      await assert.rejects(
        broken.finish(),
        (e: unknown) => e instanceof PgMirrorError && wireSqlState(e) === '42703',
      )

      // Binary COPY: the PGCOPY signature, for sinks that load it as is.
      const bin = await source.readPartition(table, cols, plan.partitions[0]!, {
        snapshotName: setup.snapshotName,
      })
      const chunks: Buffer[] = []
      for await (const c of bin.stream) chunks.push(c as Buffer)
      await bin.finish()
      assert.deepEqual(Buffer.concat(chunks).subarray(0, 11), Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'))
    } finally {
      await setup.release()
    }
    // Once released, the exported snapshot is gone (the backend may take a moment to exit).
    await waitFor(
      async () => {
        try {
          const r = await source.readPartition(table, ['id'], plan0(), { snapshotName: setup.snapshotName })
          await r.finish()
          return false
        } catch (e) {
          return /snapshot/.test((e as Error).message)
        }
      },
      { message: 'the released snapshot to become unusable' },
    )
  })

  it('hands over many rows per chunk, holds the server back for a slow reader, and stops cleanly', async () => {
    const table: TableName = { schema: 'public', table: 'stoppable' }
    await admin.query(`CREATE TABLE stoppable AS SELECT g AS id, repeat('v', g % 200) AS v FROM generate_series(1, 60000) g;
      ANALYZE stoppable`)
    const text = (
      await admin.query<{ t: string }>(
        `SELECT string_agg(id || E'\\t' || v, E'\\n' ORDER BY id) || E'\\n' AS t FROM stoppable`,
      )
    ).rows[0]!.t

    // A slow reader: the copy waits for it (the socket is paused) and every byte still arrives, in order.
    const slow = await source.readPartition(table, ['id', 'v'], plan0(), { format: 'text' })
    const chunks: Buffer[] = []
    for await (const c of slow.stream) {
      chunks.push(c as Buffer)
      if (chunks.length % 10 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    await slow.finish()
    assert.equal(Buffer.concat(chunks).toString(), text)
    assert.ok(chunks.length < 60000 / 10, `rows arrive many to a chunk (${chunks.length} chunks)`)

    // Regression: a read its consumer ends without an error (the sink found the partition already loaded) used
    // to fail in finish() with "Connection terminated", so such a partition could never be marked done.
    const dropped = await source.readPartition(table, ['id', 'v'], plan0(), { format: 'text' })
    dropped.stream.destroy()
    await dropped.finish()

    // Stopped with an error part way (a pause or drop reaching a running partition): finish() rethrows it.
    const stopped = await source.readPartition(table, ['id', 'v'], plan0(), { format: 'text' })
    await assert.rejects(async () => {
      for await (const _ of stopped.stream) stopped.stream.destroy(new Error('partition stopped'))
    }, /partition stopped/)
    await assert.rejects(stopped.finish(), /partition stopped/)

    // The source is still usable, and so is a read after the stopped ones.
    const again = await source.readPartition(table, ['id'], plan0(), { format: 'text' })
    let lines = 0
    for await (const c of again.stream) lines += (c as Buffer).toString().split('\n').length - 1
    await again.finish()
    assert.equal(lines, 60000)
  })

  it('reads the type matrix through COPY text exactly as the server prints it', async () => {
    await admin.query('BEGIN')
    await admin.query(MATRIX_ROW_1)
    await admin.query(MATRIX_ROWS_2_3)
    const read = await source.readPartition({ schema: 'public', table: 'matrix' }, MATRIX_COLUMNS, plan0(), {
      format: 'text',
    })
    const rows: Row[] = []
    for await (const chunk of copyTextRows(read.stream, MATRIX_COLUMNS, 10)) rows.push(...chunk)
    await read.finish()
    await admin.query('ROLLBACK')
    assert.equal(rows.length, 0, 'uncommitted rows are not visible to the partition reader')
    await admin.query(MATRIX_ROW_1)
    const read2 = await source.readPartition({ schema: 'public', table: 'matrix' }, MATRIX_COLUMNS, plan0(), {
      format: 'text',
    })
    const rows2: Row[] = []
    for await (const chunk of copyTextRows(read2.stream, MATRIX_COLUMNS, 10)) rows2.push(...chunk)
    await read2.finish()
    assert.deepEqual({ ...rows2[0] }, { ...(await serverText(admin, 'matrix', 1, MATRIX_COLUMNS)) })
    await admin.query('TRUNCATE matrix')
  })

  it('streams inserts, updates, deletes and truncates with exact text values', async () => {
    const table: TableName = { schema: 'public', table: 'matrix' }
    const o = newObjects()
    const setup = await source.setup(o, [table], { exportSnapshot: false })
    assert.equal(setup.snapshotName, undefined)
    const stream: ChangeStream = await source.stream(o, setup.consistentPoint)
    const it = stream[Symbol.asyncIterator]()
    const seen: StreamEvent[] = []
    try {
      await admin.query(MATRIX_ROW_1)
      const expectedRow1 = await serverText(admin, 'matrix', 1, MATRIX_COLUMNS)
      await admin.query(MATRIX_ROWS_2_3)
      const expected2 = await serverText(admin, 'matrix', 2, MATRIX_COLUMNS)
      const expected3 = await serverText(admin, 'matrix', 3, MATRIX_COLUMNS)
      await admin.query('UPDATE matrix SET c_int4 = 5 WHERE id = 1')
      await admin.query('DELETE FROM matrix WHERE id = 2')
      await admin.query(`BEGIN; UPDATE matrix SET id = 30 WHERE id = 3; INSERT INTO matrix (id, c_int4) VALUES (4, 1);
                         COMMIT`)
      await admin.query('TRUNCATE matrix')

      const [t1, t2, t3, t4, t5, t6] = await takeTransactions(it, 6, seen)
      const rel = seen.find((e) => e.kind === 'relation')
      assert.ok(rel?.kind === 'relation')
      assert.deepEqual(rel.relation.table, table)
      assert.deepEqual(
        rel.relation.columns.filter((c) => c.isKey).map((c) => c.name),
        ['id'],
      )
      assert.ok(seen.indexOf(rel) < seen.indexOf(t1!), 'relation precedes its first transaction')

      const ins = t1!.changes[0]
      assert.ok(ins?.kind === 'insert')
      assert.deepEqual({ ...ins.row }, { ...expectedRow1 })
      assert.equal(ins.row['c_tstz'], '2024-01-02 03:04:05.123456+00')
      assert.equal(ins.row['c_bignum'], '123456789012345678901234567890.123456789012')
      assert.equal(ins.row['c_float8'], 'NaN')
      assert.equal(ins.row['c_big']?.length, 100_000)
      assert.deepEqual(ins.table, table)
      assert.equal(ins.commitLsn, t1!.commitLsn)
      assert.ok(t1!.endLsn > t1!.commitLsn)
      assert.match(t1!.commitTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
      assert.ok(Math.abs(Date.parse(t1!.commitTime) - Date.now()) < 60_000, 'commit time is now')

      assert.deepEqual(
        t2!.changes.map((c) => c.kind === 'insert' && { ...c.row }),
        [{ ...expected2 }, { ...expected3 }],
      )
      assert.deepEqual(
        t2!.changes.map((c) => c.seq),
        [0, 1],
      )

      const upd = t3!.changes[0]
      assert.ok(upd?.kind === 'update')
      assert.deepEqual(upd.unchangedToast, ['c_big'])
      assert.equal('c_big' in upd.row, false)
      assert.equal(upd.row['c_int4'], '5')
      assert.equal(upd.row['c_tstz'], expectedRow1['c_tstz'])
      assert.equal(upd.old, undefined)

      const del = t4!.changes[0]
      assert.ok(del?.kind === 'delete')
      assert.deepEqual({ ...del.old }, { id: '2' })

      const [keyChange, ins4] = t5!.changes
      assert.ok(keyChange?.kind === 'update' && ins4?.kind === 'insert')
      assert.deepEqual({ ...keyChange.old }, { id: '3' })
      assert.equal(keyChange.row['id'], '30')
      assert.equal(keyChange.row['c_text'], null)
      assert.equal(ins4.seq, 1)
      assert.ok(t5!.commitLsn > t4!.commitLsn)

      assert.deepEqual(
        t6!.changes.map((c) => [c.kind, c.table]),
        [['truncate', table]],
      )

      // confirm moves confirmed_flush_lsn to exactly the LSN given, and slotInfo reports it.
      stream.confirm(t6!.endLsn)
      assert.equal(stream.confirmedLsn, t6!.endLsn)
      const info = await waitFor(
        async () => {
          const i = await source.slotInfo(o.slotName)
          return i.confirmedFlushLsn === t6!.endLsn ? i : undefined
        },
        { message: 'confirmed_flush_lsn to reach the confirmed LSN' },
      )
      assert.equal(info.exists, true)
      assert.equal(info.active, true)
      assert.equal(typeof info.activePid, 'number')
      assert.ok(info.restartLsn !== undefined && info.restartLsn <= t6!.endLsn)
      assert.ok(info.retainedWalBytes !== undefined && info.retainedWalBytes >= 0n)
      assert.equal(info.walStatus, 'reserved')
      stream.confirm(t1!.endLsn)
      assert.equal(stream.confirmedLsn, t6!.endLsn, 'confirm never moves backwards')

      // Idle: WAL from an unpublished table produces a keepalive between transactions; confirming it advances the slot.
      await admin.query('CREATE TABLE other (x int); INSERT INTO other VALUES (1)')
      const walAfter = parseLsn(
        (await admin.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l')).rows[0]!.l,
      )
      let keepalive: Extract<StreamEvent, { kind: 'keepalive' }> | undefined
      const deadline = Date.now() + 15_000
      while (!keepalive || keepalive.serverWalEnd < walAfter) {
        const ev = await nextEvent(it, deadline - Date.now())
        assert.notEqual(ev.kind, 'transaction', 'the unpublished table sends no changes')
        if (ev.kind === 'keepalive') keepalive = ev
      }
      stream.confirm(keepalive.serverWalEnd)
      await waitFor(
        async () => (await source.slotInfo(o.slotName)).confirmedFlushLsn === keepalive!.serverWalEnd,
        {
          message: 'idle slot to advance',
        },
      )

      // One reader per slot: a second stream is refused while this one runs.
      await assert.rejects(source.stream(o, 0n), /is active for PID/)
    } finally {
      await stream.stop()
    }
    assert.deepEqual(await it.next(), { done: true, value: undefined }, 'iteration ends quietly after stop()')
    await waitFor(async () => !(await source.slotInfo(o.slotName)).active, {
      message: 'slot to become inactive',
    })

    // Restarting from the confirmed position replays nothing already confirmed.
    await admin.query(`INSERT INTO matrix (id, c_int4) VALUES (100, 1)`)
    const again = await source.stream(o, 0n)
    try {
      const [tx] = await takeTransactions(again[Symbol.asyncIterator](), 1)
      assert.deepEqual(
        tx!.changes.map((c) => c.kind === 'insert' && c.row['id']),
        ['100'],
      )
    } finally {
      await again.stop()
    }
  })

  it('decodes a 200k-row transaction and reports the rate', async (t) => {
    await admin.query('CREATE TABLE bulk (id int8 PRIMARY KEY, v text, n numeric, ts timestamptz)')
    const o = newObjects()
    const setup = await source.setup(o, [{ schema: 'public', table: 'bulk' }], { exportSnapshot: false })
    const stream = await source.stream(o, setup.consistentPoint)
    try {
      await admin.query(
        `INSERT INTO bulk SELECT g, md5(g::text), g * 1.5, now() FROM generate_series(1, 200000) g`,
      )
      const started = performance.now()
      const it = stream[Symbol.asyncIterator]()
      const [tx] = await takeTransactions(it, 1, [], 60_000)
      const seconds = (performance.now() - started) / 1000
      assert.equal(tx!.changes.length, 200_000)
      const last = tx!.changes[199_999]
      assert.ok(last?.kind === 'insert')
      assert.equal(last.row['id'], '200000')
      t.diagnostic(
        `200k-row transaction decoded in ${seconds.toFixed(2)} s after commit: ${Math.round(200_000 / seconds)} rows/s`,
      )
      // 200k queued changes paused the socket (high-water mark 50k); taking them must resume it.
      await admin.query(`INSERT INTO bulk VALUES (200001, 'after', 0, now())`)
      const [next] = await takeTransactions(it, 1)
      assert.deepEqual(
        next!.changes.map((c) => c.kind === 'insert' && c.row['id']),
        ['200001'],
      )
    } finally {
      await stream.stop()
    }
  })

  it('fails clearly for a missing slot, and teardown is idempotent', async () => {
    await assert.rejects(source.stream({ slotName: 'no_such_slot', publicationName: 'p' }, 0n), {
      message: 'replication slot "no_such_slot" does not exist',
    })
    const killed = newObjects()
    await source.setup(killed, [{ schema: 'public', table: 'matrix' }], { exportSnapshot: false })
    const doomed = await source.stream(killed, 0n)
    const pid = (await source.slotInfo(killed.slotName)).activePid
    assert.equal(typeof pid, 'number')
    await admin.query('SELECT pg_terminate_backend($1)', [pid])
    await assert.rejects(
      async () => {
        for await (const _ of doomed) void _
      },
      (e: unknown) => e instanceof PgMirrorError && /terminating connection/.test(e.message),
    )
    await doomed.stop()
    const o = newObjects()
    await source.setup(o, [{ schema: 'public', table: 'matrix' }], { exportSnapshot: false })
    await assert.rejects(source.setup(o, [], { exportSnapshot: false }), /already exists/)
    await source.teardown(o)
    await source.teardown(o)
    assert.equal((await source.slotInfo(o.slotName)).exists, false)
    const pubs = await admin.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [o.publicationName])
    assert.equal(pubs.rows.length, 0)
  })

  it('reports an unreachable peer with the address and a hint', async () => {
    const err = await openClient({ ...cfg, host: '127.0.0.1', port: 1 }).catch((e: unknown) => e)
    assert.ok(err instanceof PgMirrorError)
    assert.equal(err.sqlState, '08006')
    assert.match(err.message, /^could not connect to postgres peer at "127\.0\.0\.1:1": .*ECONNREFUSED/)
    assert.match(err.hint ?? '', /machine running pgmirror itself/)
    const bad = await openClient({ ...cfg, database: 'no_such_db' }).catch((e: unknown) => e)
    assert.ok(bad instanceof PgMirrorError)
    assert.match(bad.message, /database "no_such_db" does not exist/)
  })
})

function plan0() {
  return { index: 0, startBlock: 0, endBlock: undefined }
}
