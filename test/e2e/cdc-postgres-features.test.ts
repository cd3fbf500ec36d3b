// PG → PG behaviours beyond the happy path: keys, TOAST, identity FULL, odd identifiers, excluded and added columns,
// soft delete, TRUNCATE, two mirrors on one source, initial_snapshot_only, resync, and pause during the snapshot.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createMirrorFixture, peerSql, type MirrorFixture } from '../support/mirror-fixture.ts'
import { waitFor } from '../support/services.ts'

describe('CDC mirror Postgres → Postgres: features', () => {
  let fx: MirrorFixture

  before(async () => {
    fx = await createMirrorFixture()
    await fx.src(`CREATE TABLE public.comp (a int, b text, v text, big text, PRIMARY KEY (a, b))`)
    await fx.src(`ALTER TABLE public.comp ALTER COLUMN big SET STORAGE EXTERNAL`)
    await fx.src(`CREATE TABLE public.nokey (x int, y text)`)
    await fx.src(`ALTER TABLE public.nokey REPLICA IDENTITY FULL`)
    await fx.src(`CREATE SCHEMA "Odd Schema"`)
    await fx.src(
      `CREATE TABLE "Odd Schema"."Select" ("Id" int PRIMARY KEY, "order" text, "we""ird" int, secret text)`,
    )
    await fx.src(`CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'it''s "great"')`)
    await fx.src(
      `CREATE TABLE public.times (id int PRIMARY KEY, t time, ts timestamp, tz timestamptz, n numeric, f float8, ip inet, vc varchar(10), m mood)`,
    )
    await fx.src(
      `INSERT INTO public.comp SELECT g, 'k' || g, 'v', repeat(md5(g::text), 3200) FROM generate_series(1, 50) g`,
    )
    await fx.src(`INSERT INTO public.nokey SELECT g % 5, 'y' || g FROM generate_series(1, 40) g`)
    await fx.src(
      `INSERT INTO "Odd Schema"."Select" SELECT g, 'o' || g, g, 'hidden' FROM generate_series(1, 30) g`,
    )
    await fx.src(`INSERT INTO public.times VALUES
      (1, '23:59:59.999999', 'infinity', '-infinity', 'NaN', 'Infinity', '10.0.0.1/8', 'abc', 'it''s "great"'),
      (2, '00:00:00.000001', '1999-12-31 23:59:59.123456', '2000-01-01 00:00:00.000001+05', 123456789012345678901234567890.123456789, '-Infinity', '::1', NULL, 'sad')`)
    await fx.sql(peerSql('pgsrc', fx.source))
    await fx.sql(peerSql('pgdst', fx.target))
    await fx.sql(`CREATE MIRROR feat FROM pgsrc TO pgdst WITH TABLE MAPPING (
        public.comp:public.comp,
        public.nokey:public.nokey,
        {from: "Odd Schema"."Select", to: "Odd Schema"."Select", exclude: [secret]},
        public.times:public.times
      ) WITH (sync_interval = 1, snapshot_num_rows_per_partition = 10)`)
    await fx.waitForStatus('feat', 'STATUS_RUNNING')
  })

  after(async () => {
    await fx?.close()
  })

  test('snapshot: composite key, identity FULL, odd identifiers, infinities and NaN arrive exactly', async () => {
    await fx.waitForSameRows('public.comp', 'public.comp', 'a, b, v, big', 'a, b')
    await fx.waitForSameRows('public.nokey', 'public.nokey', 'x, y', 'x, y')
    await fx.waitForSameRows(
      '"Odd Schema"."Select"',
      '"Odd Schema"."Select"',
      '"Id", "order", "we""ird"',
      '"Id"',
    )
    await fx.waitForSameRows('public.times', 'public.times', 'id, t, ts, tz, n, f, ip, vc, m', 'id')
    await fx.src(`INSERT INTO public.times (id, m) VALUES (3, 'ok')`)
    await fx.waitForSameRows('public.times', 'public.times', 'id, t, ts, tz, n, f, ip, vc, m', 'id')
    const cols = await fx.dst(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = 'Odd Schema' AND table_name = 'Select'`,
    )
    assert.ok(
      !cols.rows.some((r) => r.column_name === 'secret'),
      'excluded column must not exist on the target',
    )
  })

  test('an update of another column keeps a 100 kB TOAST value', async () => {
    await fx.src(`UPDATE public.comp SET v = 'changed' WHERE a <= 10`)
    await fx.waitForSameRows('public.comp', 'public.comp', 'a, b, v, big', 'a, b')
    const r = await fx.dst(`SELECT min(length(big)) AS n FROM public.comp`)
    assert.equal(r.rows[0].n, String(32 * 3200))
  })

  test('insert, update and delete in one transaction; key changes; identity FULL updates and deletes', async () => {
    await fx.src(`BEGIN;
      INSERT INTO public.comp VALUES (100, 'x', 'new', 'small');
      UPDATE public.comp SET v = 'upd' WHERE a = 100;
      DELETE FROM public.comp WHERE a = 100;
      INSERT INTO public.comp VALUES (101, 'y', 'keep', 'small');
      UPDATE public.comp SET b = 'moved' WHERE a = 2;
      UPDATE public.nokey SET y = 'changed' WHERE x = 1;
      DELETE FROM public.nokey WHERE x = 2;
      COMMIT`)
    await fx.waitForSameRows('public.comp', 'public.comp', 'a, b, v, big', 'a, b')
    await fx.waitForSameRows('public.nokey', 'public.nokey', 'x, y', 'x, y')
  })

  test('an added column is added on the target and filled', async () => {
    await fx.src(`ALTER TABLE "Odd Schema"."Select" ADD COLUMN extra numeric(8,3)`)
    await fx.src(`UPDATE "Odd Schema"."Select" SET extra = "Id" * 1.5 WHERE "Id" <= 5`)
    await fx.src(`INSERT INTO "Odd Schema"."Select" VALUES (31, 'new', 1, 'hidden', 9.125)`)
    await fx.waitForSameRows(
      '"Odd Schema"."Select"',
      '"Odd Schema"."Select"',
      '"Id", "order", "we""ird", extra',
      '"Id"',
    )
  })

  test('TRUNCATE empties the target table', async () => {
    await fx.src(`TRUNCATE public.nokey`)
    await fx.src(`INSERT INTO public.nokey VALUES (7, 'after')`)
    await fx.waitForSameRows('public.nokey', 'public.nokey', 'x, y', 'x, y')
  })

  test('two mirrors on one source, the second with soft delete', async () => {
    await fx.src(`CREATE TABLE public.soft (id int PRIMARY KEY, v text)`)
    await fx.src(`INSERT INTO public.soft SELECT g, 'v' || g FROM generate_series(1, 20) g`)
    await fx.sql(`CREATE MIRROR soft FROM pgsrc TO pgdst WITH TABLE MAPPING (public.soft:public.soft_copy)
      WITH (soft_delete = true, sync_interval = 1)`)
    await fx.waitForStatus('soft', 'STATUS_RUNNING')
    await fx.src(`BEGIN; INSERT INTO public.soft VALUES (50, 'a'); UPDATE public.soft SET v = 'b' WHERE id = 50;
      DELETE FROM public.soft WHERE id = 50; DELETE FROM public.soft WHERE id <= 3; COMMIT`)
    await fx.src(`DELETE FROM public.soft WHERE id = 4`)
    await fx.src(`INSERT INTO public.soft VALUES (4, 'back')`)
    await waitFor(
      async () => {
        const r = await fx.dst(
          `SELECT count(*) FILTER (WHERE "_PEERDB_IS_DELETED") AS deleted, count(*) AS n,
                  max(v) FILTER (WHERE id = 4 AND NOT "_PEERDB_IS_DELETED") AS four FROM public.soft_copy`,
        )
        return r.rows[0].deleted === '4' && r.rows[0].n === '21' && r.rows[0].four === 'back'
      },
      { timeoutMs: 30_000, message: 'soft-deleted rows to be flagged' },
    )
    const fiftyRow = await fx.dst(`SELECT v, "_PEERDB_IS_DELETED" AS d FROM public.soft_copy WHERE id = 50`)
    assert.deepEqual(fiftyRow.rows[0], { v: 'b', d: 't' })
    // the first mirror kept streaming meanwhile
    await fx.src(`INSERT INTO public.comp VALUES (200, 'z', 'two mirrors', 'x')`)
    await fx.waitForSameRows('public.comp', 'public.comp', 'a, b, v, big', 'a, b')
  })

  test('initial_snapshot_only ends COMPLETED and leaves no slot or publication', async () => {
    await fx.src(`CREATE TABLE public.once (id int PRIMARY KEY, v text)`)
    await fx.src(`INSERT INTO public.once SELECT g, 'v' || g FROM generate_series(1, 500) g`)
    await fx.sql(`CREATE MIRROR onlyonce FROM pgsrc TO pgdst WITH TABLE MAPPING (public.once:public.once)
      WITH (initial_snapshot_only = true, snapshot_num_rows_per_partition = 100)`)
    await fx.waitForStatus('onlyonce', 'STATUS_COMPLETED')
    await fx.waitForSameRows('public.once', 'public.once', 'id, v', 'id', 5_000)
    const slots = await fx.src(
      `SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name = 'pgmirror_slot_onlyonce'`,
    )
    assert.equal(slots.rows[0].n, '0')
    const pubs = await fx.src(
      `SELECT count(*) AS n FROM pg_publication WHERE pubname = 'pgmirror_pub_onlyonce'`,
    )
    assert.equal(pubs.rows[0].n, '0')
  })

  test('RESYNC copies everything again', async () => {
    await fx.dst(`DELETE FROM public.comp WHERE a <= 5`)
    await fx.sql('RESYNC MIRROR feat')
    await fx.waitForStatus('feat', 'STATUS_RUNNING')
    await fx.waitForSameRows('public.comp', 'public.comp', 'a, b, v, big', 'a, b')
    await fx.src(`INSERT INTO public.comp VALUES (300, 'r', 'after resync', 'x')`)
    await fx.waitForSameRows('public.comp', 'public.comp', 'a, b, v, big', 'a, b')
    await fx.waitForSameRows(
      '"Odd Schema"."Select"',
      '"Odd Schema"."Select"',
      '"Id", "order", "we""ird", extra',
      '"Id"',
    )
    const shadows = await fx.dst(`SELECT count(*) AS n FROM pg_tables WHERE tablename LIKE '%\\_resync'`)
    assert.equal(shadows.rows[0].n, '0', 'the shadow tables were swapped in')
    assert.match(fx.server.logs(), /fresh copies replaced the target tables/)
  })
})

describe('pause and resume during the snapshot', () => {
  let fx: MirrorFixture

  before(async () => {
    fx = await createMirrorFixture({ PGMIRROR_WORKER_CONCURRENCY: '2' })
    await fx.src(`CREATE TABLE public.big (id int PRIMARY KEY, pad text)`)
    await fx.src(`INSERT INTO public.big SELECT g, repeat('p', 200) FROM generate_series(1, 200000) g`)
    await fx.sql(peerSql('pgsrc', fx.source))
    await fx.sql(peerSql('pgdst', fx.target))
  })

  after(async () => {
    await fx?.close()
  })

  test('PAUSE during SNAPSHOT stops it; RESUME finishes it under a fresh snapshot and streams what changed', async () => {
    await fx.sql(`CREATE MIRROR snap FROM pgsrc TO pgdst WITH TABLE MAPPING (public.big:public.big)
      WITH (snapshot_num_rows_per_partition = 2000, snapshot_max_parallel_workers = 1, sync_interval = 1)`)
    await fx.waitForStatus('snap', 'STATUS_SNAPSHOT')
    await waitFor(
      async () =>
        Number((await fx.sql('SELECT partitions_done FROM mirror_tables')).rows[0].partitions_done) >= 2,
      {
        timeoutMs: 30_000,
      },
    )
    await fx.sql('PAUSE MIRROR snap')
    await fx.waitForStatus('snap', 'STATUS_PAUSED')
    const progress = await fx.sql('SELECT partitions_done, partitions_total FROM mirror_tables')
    assert.ok(
      Number(progress.rows[0].partitions_done) < Number(progress.rows[0].partitions_total),
      'the pause should land before the snapshot finished',
    )
    await fx.src(`UPDATE public.big SET pad = 'changed while paused' WHERE id % 1000 = 0`)
    await fx.src(`DELETE FROM public.big WHERE id % 777 = 0`)
    await fx.src(`INSERT INTO public.big SELECT g, 'new' FROM generate_series(200001, 201000) g`)
    await fx.sql('RESUME MIRROR snap')
    await fx.waitForStatus('snap', 'STATUS_RUNNING', 120_000)
    await fx.waitForSameRows('public.big', 'public.big', 'id, pad', 'id', 60_000)
  })
})
