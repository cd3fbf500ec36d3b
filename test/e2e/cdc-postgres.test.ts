// Postgres → Postgres end to end through the gateway: snapshot, streaming, pause/resume, status and drop,
// with source and target compared row by row (md5 over ordered rows).
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createMirrorFixture, peerSql, type MirrorFixture } from '../support/mirror-fixture.ts'
import { waitFor } from '../support/services.ts'

const COLS = `id, i2, i8, num, f8, txt, b, d, ts, tstz, iv, u, j, jb, ia, ta, by`

const CREATE_TABLE = `CREATE TABLE public.items (
  id bigint PRIMARY KEY, i2 smallint, i8 bigint, num numeric(30,10), f8 float8, txt text, b boolean, d date,
  ts timestamp, tstz timestamptz, iv interval, u uuid, j json, jb jsonb, ia int[], ta text[], by bytea)`

const insertRows = (from: number, to: number) => `INSERT INTO public.items
  SELECT g, (g % 30000)::smallint, g::bigint * 1000000007, (g::numeric * 12345.6789012345), CASE WHEN g % 97 = 0 THEN 'NaN'::float8 ELSE g / 7.0 END,
         'row ' || g || E' tab\\there "q" \\\\ ü', g % 2 = 0, date '2020-01-01' + (g % 1000),
         timestamp '2024-01-01 00:00:00.123456' + g * interval '1 second', timestamptz '2024-01-01 00:00:00.654321+00' + g * interval '1 minute',
         g * interval '1 microsecond', md5(g::text)::uuid, json_build_object('g', g), jsonb_build_object('k', g, 'a', array[g, g+1]),
         array[g, NULL, g + 1], array['a"b', NULL, 'c,d'], decode(md5(g::text), 'hex')
  FROM generate_series(${from}, ${to}) g`

describe('CDC mirror Postgres → Postgres', () => {
  let fx: MirrorFixture

  before(async () => {
    fx = await createMirrorFixture()
    await fx.src(CREATE_TABLE)
    await fx.src(insertRows(1, 20_000))
    await fx.sql(peerSql('pgsrc', fx.source))
    await fx.sql(peerSql('pgdst', fx.target))
  })

  after(async () => {
    await fx?.close()
  })

  test('CREATE MIRROR copies the table in parallel partitions, then streams changes', async () => {
    await fx.sql(`CREATE MIRROR m1 FROM pgsrc TO pgdst WITH TABLE MAPPING (public.items:public.items)
      WITH (snapshot_num_rows_per_partition = 3000, snapshot_max_parallel_workers = 3, sync_interval = 1, max_batch_size = 500)`)
    await fx.waitForStatus('m1', 'STATUS_RUNNING')
    const parts = await fx.sql(`SELECT partitions_total, partitions_done, rows_copied FROM mirror_tables`)
    assert.ok(
      Number(parts.rows[0].partitions_total) >= 5,
      `expected several partitions, got ${parts.rows[0].partitions_total}`,
    )
    assert.equal(parts.rows[0].partitions_done, parts.rows[0].partitions_total)
    assert.equal(parts.rows[0].rows_copied, '20000')
    await fx.waitForSameRows('public.items', 'public.items', COLS, 'id')

    await fx.src(insertRows(20_001, 21_000))
    await fx.src(`UPDATE public.items SET txt = 'updated ' || id, num = num + 0.0000000001 WHERE id % 10 = 0`)
    await fx.src(`DELETE FROM public.items WHERE id % 13 = 0`)
    await fx.src(
      `BEGIN; INSERT INTO public.items (id, txt) VALUES (999999, 'x'); UPDATE public.items SET txt = 'y' WHERE id = 999999; DELETE FROM public.items WHERE id = 999999; COMMIT`,
    )
    const same = await fx.waitForSameRows('public.items', 'public.items', COLS, 'id')
    assert.match(same, /^\d+:[0-9a-f]{32}$/)
    const synced = await fx.dst(
      `SELECT count(*) FILTER (WHERE "_PEERDB_SYNCED_AT" IS NULL) AS n FROM public.items`,
    )
    assert.equal(synced.rows[0].n, '0')
  })

  test('SHOW MIRROR reports state, progress, LSN and batches', async () => {
    await waitFor(
      async () =>
        (await fx.sql(`SELECT last_batch_id FROM mirrors WHERE name = 'm1'`)).rows[0].last_batch_id !== '0',
      {
        timeoutMs: 20_000,
      },
    )
    const r = await fx.sql('SHOW MIRROR m1')
    const row = r.rows[0]
    assert.equal(row.status, 'STATUS_RUNNING')
    assert.match(row.last_synced_lsn, /^[0-9A-F]+\/[0-9A-F]+$/)
    assert.ok(Number(row.rows_synced) > 0)
    assert.ok(row.retained_wal_bytes !== null)
    const tables = JSON.parse(row.tables)
    assert.equal(tables[0].sourceTable, 'public.items')
    assert.ok(Number(tables[0].inserts) >= 1000)
    const list = await fx.sql('SHOW MIRRORS')
    assert.deepEqual(
      list.rows.map((x) => x.name),
      ['m1'],
    )
  })

  test('PAUSE stops streaming and shows retained WAL; RESUME catches up with nothing lost', async () => {
    await fx.sql('PAUSE MIRROR m1')
    await fx.waitForStatus('m1', 'STATUS_PAUSED')
    const before = await fx.dst('SELECT count(*) AS n FROM public.items')
    await fx.src(insertRows(30_001, 32_000))
    await fx.src(`UPDATE public.items SET b = NOT b WHERE id BETWEEN 100 AND 300`)
    const paused = await fx.sql('SHOW MIRROR m1')
    assert.equal(paused.rows[0].status, 'STATUS_PAUSED')
    assert.ok(BigInt(paused.rows[0].retained_wal_bytes) > 0n, 'a paused mirror must show the WAL it holds')
    const still = await fx.dst('SELECT count(*) AS n FROM public.items')
    assert.equal(still.rows[0].n, before.rows[0].n, 'nothing may be applied while paused')
    await fx.sql('RESUME MIRROR m1')
    await fx.waitForStatus('m1', 'STATUS_RUNNING')
    await fx.waitForSameRows('public.items', 'public.items', COLS, 'id')
  })

  test('bad mirror statements are refused with their SQLSTATE', async () => {
    const cases: [string, string][] = [
      ['CREATE MIRROR m1 FROM pgsrc TO pgdst WITH TABLE MAPPING (public.items:public.items2)', '42710'],
      ['CREATE MIRROR m2 FROM nosuch TO pgdst WITH TABLE MAPPING (public.items:public.x)', '42704'],
      ['CREATE MIRROR m2 FROM pgsrc TO pgdst WITH TABLE MAPPING (public.nosuch:public.x)', '42P01'],
      [
        'CREATE MIRROR m2 FROM pgsrc TO pgdst WITH TABLE MAPPING (public.items:public.x) WITH (max_batch_size = -4)',
        '22023',
      ],
      [
        'CREATE MIRROR m2 FROM pgsrc TO pgdst WITH TABLE MAPPING (public.items:public.x) WITH (colour = 1)',
        '22023',
      ],
      ['PAUSE MIRROR nosuch', '42704'],
      ['DROP PEER pgsrc', '2BP01'],
    ]
    for (const [sql, code] of cases) {
      await assert.rejects(fx.sql(sql), (e: { code?: string; message?: string }) => {
        assert.equal(e.code, code, `${sql}: ${e.message}`)
        return true
      })
    }
  })

  test('DROP MIRROR removes the slot and the publication from the source', async () => {
    await fx.sql('DROP MIRROR m1')
    await waitFor(
      async () => (await fx.sql(`SELECT count(*) AS n FROM mirrors WHERE name = 'm1'`)).rows[0].n === '0',
      {
        timeoutMs: 60_000,
        message: 'mirror row to disappear',
      },
    )
    const slots = await fx.src(
      `SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name = 'pgmirror_slot_m1'`,
    )
    assert.equal(slots.rows[0].n, '0')
    const pubs = await fx.src(`SELECT count(*) AS n FROM pg_publication WHERE pubname = 'pgmirror_pub_m1'`)
    assert.equal(pubs.rows[0].n, '0')
    const target = await fx.dst('SELECT count(*) AS n FROM public.items')
    assert.ok(Number(target.rows[0].n) > 0, 'drop keeps the target table')
  })
})
