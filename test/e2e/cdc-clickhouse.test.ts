// Postgres → ClickHouse end to end through the gateway: snapshot, streaming, pause/resume, added columns, resync,
// drop, and a SIGKILL of pgmirror with writes going on. The target is compared with the source row by row, reading
// `SELECT … FROM t FINAL WHERE _peerdb_is_deleted = 0` back as Postgres text (test/support/clickhouse-table.ts).
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { ClickHouseClient } from '@clickhouse/client'
import pg from 'pg'
import { createMirrorFixture, type MirrorFixture } from '../support/mirror-fixture.ts'
import { clickhouseUrl, uniqueName, waitFor } from '../support/services.ts'
import { readClickhouseTable, testClickhouse, type PgText } from '../support/clickhouse-table.ts'
import { startWriter } from '../support/write-load.ts'

const srcPeerSql = (name: string, db: string, port: string) =>
  `CREATE PEER ${name} FROM POSTGRES WITH (host = 'localhost', port = ${port}, user = 'postgres', password = '', database = '${db}')`

function chPeerSql(name: string, database: string): string {
  const url = new URL(clickhouseUrl())
  return `CREATE PEER ${name} FROM CLICKHOUSE WITH (host = '${url.hostname}', port = ${url.port}, user = 'default', password = '', database = '${database}')`
}

interface ChSide {
  readonly db: string
  readonly client: ClickHouseClient
}

async function createChDatabase(): Promise<ChSide> {
  const db = uniqueName('e2e')
  const client = testClickhouse()
  await client.command({ query: `CREATE DATABASE ${db}` })
  return { db, client }
}

async function dropChDatabase(ch: ChSide | undefined): Promise<void> {
  if (!ch) return
  await ch.client.command({ query: `DROP DATABASE IF EXISTS ${ch.db}` }).catch(() => undefined)
  await ch.client.close()
}

const keyOf = (row: readonly PgText[], idx: readonly number[]): string =>
  JSON.stringify(idx.map((i) => row[i]))

/**
 * Polls until the ClickHouse table holds exactly the source rows (the listed columns, compared as Postgres text)
 * and no key twice; on timeout reports the first difference.
 */
async function waitForSame(
  fx: MirrorFixture,
  ch: ChSide,
  srcTable: string,
  dstTable: string,
  cols: readonly string[],
  key: readonly string[],
  timeoutMs = 60_000,
): Promise<number> {
  const keyIdx = key.map((k) => cols.indexOf(k))
  let last = ''
  return waitFor(
    async () => {
      const src = await fx.src(
        `SELECT ${cols.map((c) => pg.escapeIdentifier(c)).join(', ')} FROM ${srcTable}`,
      )
      const want = new Map(
        src.rows.map((r) => {
          const row = cols.map((c) => (r as Record<string, PgText>)[c] ?? null)
          return [keyOf(row, keyIdx), row]
        }),
      )
      const dst = await readClickhouseTable(ch.client, ch.db, dstTable).catch((e: Error) => {
        last = e.message
        return undefined
      })
      if (!dst) return undefined
      const pick = cols.map((c) => dst.columns.indexOf(c))
      if (pick.includes(-1)) {
        last = `target columns ${dst.columns.join(', ')} lack one of ${cols.join(', ')}`
        return undefined
      }
      const have = new Map(
        dst.rows.map((r) => [
          keyOf(
            pick.map((i) => r[i] ?? null),
            keyIdx,
          ),
          pick.map((i) => r[i] ?? null),
        ]),
      )
      if (have.size !== dst.rows.length) {
        last = `${dst.rows.length - have.size} duplicate keys on the target`
        return undefined
      }
      const wrong = [...want].filter(([k, row]) => JSON.stringify(have.get(k)) !== JSON.stringify(row))
      if (wrong.length > 0) {
        const [k, row] = wrong[0]!
        last = `${wrong.length} keys differ; key ${k}: source ${JSON.stringify(row)}, target ${JSON.stringify(have.get(k))}`
        if (key.length === 1) {
          // Every stored version of that key, for the diagnosis.
          const rs = await ch.client.query({
            query: `SELECT *, _peerdb_version, _peerdb_is_deleted FROM ${ch.db}.${dstTable} WHERE toString(${key[0]}) = '${(row[keyIdx[0]!] ?? '').replace(/[\\']/g, '\\$&')}'`,
            format: 'JSONEachRow',
          })
          last += `\nversions on the target: ${JSON.stringify(await rs.json())}`
        }
        return undefined
      }
      if (have.size !== want.size) {
        last = `source ${want.size} rows, target ${have.size}`
        return undefined
      }
      return want.size
    },
    { timeoutMs, intervalMs: 250, message: `${ch.db}.${dstTable} to match ${srcTable}` },
  ).catch((e: Error) => {
    throw new Error(`${e.message}; ${last}\n${fx.server.logs().slice(-3000)}`)
  })
}

const TYPES_TABLE = `CREATE TABLE public.types (
  id bigint PRIMARY KEY, i2 smallint, i4 int, i8 bigint, num numeric(30,10), num_wide numeric(50,5), num_any numeric,
  f4 real, f8 float8, txt text, vc varchar(12), chr char(3), b boolean, d date, ts timestamp, tstz timestamptz,
  tm time, iv interval, u uuid, j json, jb jsonb, ia int[], ta text[], na numeric(8,2)[], ba bool[], by bytea,
  ip inet, secret text)`

const TYPES_COLS = [
  'id',
  'i2',
  'i4',
  'i8',
  'num',
  'num_wide',
  'num_any',
  'f4',
  'f8',
  'txt',
  'vc',
  'chr',
  'b',
  'd',
  'ts',
  'tstz',
  'tm',
  'iv',
  'u',
  'j',
  'jb',
  'ia',
  'ta',
  'na',
  'ba',
  'by',
  'ip',
]

const typeRows = (from: number, to: number) => `INSERT INTO public.types
  SELECT g, (g % 30000)::smallint, g * 7, g::bigint * 1000000007, g::numeric * 12345.6789012345,
         g::numeric * 1e30 + 0.5, g::numeric / 7, (g / 3.0)::real, g / 7.0,
         'row ' || g || E' tab\\there "q" \\\\ ü', 'vc' || g, 'c' || (g % 10), g % 2 = 0,
         date '2020-01-01' + (g % 1000), timestamp '2024-01-01 00:00:00.123456' + g * interval '1 second',
         timestamptz '2024-01-01 00:00:00.654321+00' + g * interval '1 minute', time '10:00' + g * interval '1 ms',
         g * interval '1 microsecond', md5(g::text)::uuid, json_build_object('g', g),
         jsonb_build_object('k', g, 'a', array[g, g + 1]), array[g, NULL, g + 1], array['a"b', NULL, 'c,d'],
         array[g / 4.0, NULL]::numeric(8,2)[], array[g % 3 = 0, NULL], decode(md5(g::text), 'hex'),
         ('10.0.' || (g % 256) || '.1/24')::inet, 'secret ' || g
  FROM generate_series(${from}, ${to}) g`

const EDGE_ROWS = `INSERT INTO public.types VALUES
  (-1, -32768, -2147483648, -9223372036854775808, -99999999999999999999.9999999999, 1e44, 'NaN', 'NaN', 'NaN',
   E'\\t\\n\\r\\\\ \\u0001 😀', '', '  x', false, '0001-01-01', 'infinity', '-infinity', '24:00:00',
   '-178000000 years', '00000000-0000-0000-0000-000000000000', 'null', '"s"', '{}', '{}', '{}', '{}', '\\x',
   '::1', NULL),
  (-2, 32767, 2147483647, 9223372036854775807, 0, -0.00001, '-1e-20', 'Infinity', '-Infinity',
   'NULL', 'NULL', 'n', true, '5874897-12-31', '0044-03-15 12:00:00 BC', '1970-01-01 00:00:00.000001+00',
   '00:00:00.000001', '1 mon -2 days', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '[1, 2.50]', '{"a": {"b": [null]}}',
   '{NULL}', '{NULL,""}', '{NULL}', '{NULL}', '\\x00ff5c0a0d09', '255.255.255.255/32', NULL),
  (-3, NULL, NULL, NULL, NULL, NULL, NULL, 1.17549435e-38, 2.2250738585072014e-308, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`

describe('CDC mirror Postgres → ClickHouse', () => {
  let fx: MirrorFixture
  let ch: ChSide

  before(async () => {
    fx = await createMirrorFixture()
    ch = await createChDatabase()
    await fx.src(TYPES_TABLE)
    await fx.src(typeRows(1, 6000))
    await fx.src(EDGE_ROWS)
    await fx.src(`CREATE TABLE public.comp (a int, b text, v text, big text, PRIMARY KEY (a, b))`)
    await fx.src(`ALTER TABLE public.comp ALTER COLUMN big SET STORAGE EXTERNAL`)
    await fx.src(
      `INSERT INTO public.comp SELECT g, 'k' || g, 'v', repeat(md5(g::text), 3200) FROM generate_series(1, 50) g`,
    )
    await fx.src(`CREATE TABLE public.ord (id int PRIMARY KEY, cat text NOT NULL, v text)`)
    await fx.src(`INSERT INTO public.ord SELECT g, 'cat' || (g % 5), 'v' || g FROM generate_series(1, 200) g`)
    await fx.sql(srcPeerSql('pgsrc', fx.source.name, new URL(fx.source.url).port))
    await fx.sql(chPeerSql('ch', ch.db))
    await fx.sql(`CREATE MIRROR chm FROM pgsrc TO ch WITH TABLE MAPPING (
        {from: public.types, to: types, exclude: [secret]},
        public.comp:comp,
        {from: public.ord, to: ord, columns: [{name: cat, ordering: 1}]}
      ) WITH (snapshot_num_rows_per_partition = 1000, snapshot_max_parallel_workers = 3, sync_interval = 1,
              max_batch_size = 1000)`)
    await fx.waitForStatus('chm', 'STATUS_RUNNING', 120_000)
  })

  after(async () => {
    await fx?.close()
    await dropChDatabase(ch)
  })

  test('the snapshot copies every type exactly, in parallel partitions, without the excluded column', async () => {
    const parts = await fx.sql(
      `SELECT partitions_total, partitions_done FROM mirror_tables WHERE source_table = 'public.types'`,
    )
    assert.ok(
      Number(parts.rows[0].partitions_total) >= 3,
      `expected partitions, got ${parts.rows[0].partitions_total}`,
    )
    assert.equal(parts.rows[0].partitions_done, parts.rows[0].partitions_total)
    assert.equal(await waitForSame(fx, ch, 'public.types', 'types', TYPES_COLS, ['id']), 6003)
    const cols = await ch.client.query({
      query: `SELECT name, type FROM system.columns WHERE database = '${ch.db}' AND table = 'types'`,
      format: 'JSONEachRow',
    })
    const types = new Map((await cols.json<{ name: string; type: string }>()).map((c) => [c.name, c.type]))
    assert.equal(types.has('secret'), false, 'the excluded column must not exist on the target')
    assert.equal(types.get('id'), 'Int64')
    assert.equal(types.get('num'), 'Nullable(Decimal(30, 10))')
    assert.equal(types.get('ia'), 'Array(Nullable(Int32))')
    assert.equal(types.get('_peerdb_version'), 'UInt64')
    assert.equal(types.get('_peerdb_is_deleted'), 'UInt8')
    await waitForSame(fx, ch, 'public.comp', 'comp', ['a', 'b', 'v', 'big'], ['a', 'b'])
    await waitForSame(fx, ch, 'public.ord', 'ord', ['id', 'cat', 'v'], ['id'])
  })

  test('inserts, updates and deletes stream in; updates and deletes in one batch; key changes', async () => {
    await fx.src(typeRows(6001, 6500))
    await fx.src(
      `UPDATE public.types SET txt = 'updated ' || id, num = num + 0.0000000001, ia = NULL WHERE id % 10 = 0`,
    )
    await fx.src(`DELETE FROM public.types WHERE id % 13 = 0`)
    await fx.src(`BEGIN;
      INSERT INTO public.types (id, txt) VALUES (999999, 'x');
      UPDATE public.types SET txt = 'y' WHERE id = 999999;
      DELETE FROM public.types WHERE id = 999999;
      UPDATE public.types SET id = 1000001 WHERE id = 1;
      UPDATE public.types SET f8 = 'NaN', ta = '{}' WHERE id = 2;
      DELETE FROM public.types WHERE id = 3;
      INSERT INTO public.types (id, b) VALUES (3, true);
      COMMIT`)
    await waitForSame(fx, ch, 'public.types', 'types', TYPES_COLS, ['id'])
    const versions = await ch.client.query({
      query: `SELECT min(_peerdb_version) AS lo FROM ${ch.db}.types FINAL WHERE id = 3`,
      format: 'JSONEachRow',
    })
    assert.notEqual(
      (await versions.json<{ lo: string }>())[0]?.lo,
      '0',
      'a CDC row supersedes the snapshot row',
    )
  })

  test('composite keys; unchanged TOAST values are carried from the row ClickHouse holds', async () => {
    await fx.src(`UPDATE public.comp SET v = 'changed' WHERE a <= 10`)
    await fx.src(`BEGIN;
      INSERT INTO public.comp VALUES (100, 'x', 'new', 'small');
      UPDATE public.comp SET v = 'upd' WHERE a = 100;
      DELETE FROM public.comp WHERE a = 100;
      INSERT INTO public.comp VALUES (101, 'y', 'keep', 'small');
      UPDATE public.comp SET b = 'moved' WHERE a = 2;
      UPDATE public.comp SET v = 'twice' WHERE a = 2;
      DELETE FROM public.comp WHERE a = 5;
      COMMIT`)
    await waitForSame(fx, ch, 'public.comp', 'comp', ['a', 'b', 'v', 'big'], ['a', 'b'])
    const r = await ch.client.query({
      query: `SELECT min(length(big)) AS n FROM ${ch.db}.comp FINAL WHERE _peerdb_is_deleted = 0 AND a <= 10`,
      format: 'JSONEachRow',
    })
    assert.equal((await r.json<{ n: string }>())[0]?.n, String(32 * 3200))
  })

  test('the ordering option sets ORDER BY; rows moved to another sort key leave no duplicate', async () => {
    const sk = await ch.client.query({
      query: `SELECT sorting_key FROM system.tables WHERE database = '${ch.db}' AND name = 'ord'`,
      format: 'JSONEachRow',
    })
    assert.equal((await sk.json<{ sorting_key: string }>())[0]?.sorting_key, 'cat, id')
    await fx.src(`UPDATE public.ord SET cat = 'moved' WHERE id % 7 = 0`)
    await fx.src(`BEGIN; UPDATE public.ord SET v = 'x' WHERE id % 5 = 0; DELETE FROM public.ord WHERE id % 11 = 0;
      UPDATE public.ord SET cat = 'again', v = 'y' WHERE id % 3 = 0; COMMIT`)
    assert.equal(await waitForSame(fx, ch, 'public.ord', 'ord', ['id', 'cat', 'v'], ['id']), 182)
  })

  test('an added column is added on the target and filled', async () => {
    await fx.src(`ALTER TABLE public.comp ADD COLUMN extra numeric(8,3), ADD COLUMN tags text[]`)
    await fx.src(`UPDATE public.comp SET extra = a * 1.5, tags = array['t' || a] WHERE a <= 5`)
    await fx.src(`INSERT INTO public.comp VALUES (31, 'new', 'v', 'b', 9.125, '{}')`)
    await waitForSame(fx, ch, 'public.comp', 'comp', ['a', 'b', 'v', 'big', 'extra', 'tags'], ['a', 'b'])
    const cols = await ch.client.query({
      query: `SELECT name, type FROM system.columns WHERE database = '${ch.db}' AND table = 'comp' AND name IN ('extra', 'tags')`,
      format: 'JSONEachRow',
    })
    assert.deepEqual(await cols.json(), [
      { name: 'extra', type: 'Nullable(Decimal(8, 3))' },
      { name: 'tags', type: 'Array(Nullable(String))' },
    ])
  })

  test('PAUSE stops streaming; RESUME catches up; SHOW MIRROR reports progress', async () => {
    await fx.sql('PAUSE MIRROR chm')
    await fx.waitForStatus('chm', 'STATUS_PAUSED')
    const count = async () => {
      const r = await ch.client.query({
        query: `SELECT count() AS n FROM ${ch.db}.types FINAL WHERE _peerdb_is_deleted = 0`,
        format: 'JSONEachRow',
      })
      return (await r.json<{ n: string }>())[0]?.n
    }
    const before = await count()
    await fx.src(typeRows(7001, 7300))
    await fx.src(`UPDATE public.types SET b = NOT b WHERE id BETWEEN 100 AND 300`)
    const paused = await fx.sql('SHOW MIRROR chm')
    assert.equal(paused.rows[0].status, 'STATUS_PAUSED')
    assert.equal(await count(), before, 'nothing may be applied while paused')
    await fx.sql('RESUME MIRROR chm')
    await fx.waitForStatus('chm', 'STATUS_RUNNING')
    await waitForSame(fx, ch, 'public.types', 'types', TYPES_COLS, ['id'])
    const shown = await fx.sql('SHOW MIRROR chm')
    assert.ok(Number(shown.rows[0].rows_synced) > 0)
  })

  test('RESYNC copies everything again and swaps the fresh tables in', async () => {
    await ch.client.command({ query: `ALTER TABLE ${ch.db}.comp DELETE WHERE a <= 3` })
    await fx.sql('RESYNC MIRROR chm')
    await fx.waitForStatus('chm', 'STATUS_RUNNING', 120_000)
    await fx.src(`INSERT INTO public.comp VALUES (300, 'r', 'after resync', 'x', NULL, NULL)`)
    await waitForSame(fx, ch, 'public.comp', 'comp', ['a', 'b', 'v', 'big', 'extra', 'tags'], ['a', 'b'])
    await waitForSame(fx, ch, 'public.types', 'types', TYPES_COLS, ['id'])
    const shadows = await ch.client.query({
      query: `SELECT name FROM system.tables WHERE database = '${ch.db}' AND name LIKE '%\\_resync%'`,
      format: 'JSONEachRow',
    })
    assert.deepEqual(await shadows.json(), [], 'the shadow tables were swapped in')
  })

  test('DROP MIRROR removes the slot and the checkpoint, and keeps the target tables', async () => {
    await fx.sql('DROP MIRROR chm')
    await waitFor(
      async () => (await fx.sql(`SELECT count(*) AS n FROM mirrors WHERE name = 'chm'`)).rows[0].n === '0',
      { timeoutMs: 60_000, message: 'mirror row to disappear' },
    )
    const slots = await fx.src(
      `SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name = 'pgmirror_slot_chm'`,
    )
    assert.equal(slots.rows[0].n, '0')
    const cp = await ch.client.query({
      query: `SELECT count() AS n FROM ${ch.db}._pgmirror_checkpoints WHERE mirror = 'chm'`,
      format: 'JSONEachRow',
    })
    assert.equal((await cp.json<{ n: string }>())[0]?.n, '0')
    const kept = await ch.client.query({
      query: `SELECT count() AS n FROM ${ch.db}.types`,
      format: 'JSONEachRow',
    })
    assert.notEqual((await kept.json<{ n: string }>())[0]?.n, '0', 'drop keeps the target table')
  })
})

describe('SIGKILL of pgmirror mirroring into ClickHouse', () => {
  let fx: MirrorFixture
  let ch: ChSide
  const lastBatch = async () =>
    BigInt((await fx.sql(`SELECT last_batch_id FROM mirrors WHERE name = 'chcrash'`)).rows[0].last_batch_id)

  before(async () => {
    fx = await createMirrorFixture()
    ch = await createChDatabase()
    await fx.src(`CREATE TABLE public.t (id int PRIMARY KEY, v text)`)
    await fx.src(`INSERT INTO public.t SELECT g, repeat('x', 100) FROM generate_series(1, 150000) g`)
    await fx.sql(srcPeerSql('pgsrc', fx.source.name, new URL(fx.source.url).port))
    await fx.sql(chPeerSql('ch', ch.db))
  })

  after(async () => {
    await fx?.close()
    await dropChDatabase(ch)
  })

  test('killed mid-snapshot with writes going on: the restarted mirror finishes and matches', async () => {
    await fx.sql(`CREATE MIRROR chcrash FROM pgsrc TO ch WITH TABLE MAPPING (public.t:t)
      WITH (snapshot_num_rows_per_partition = 5000, snapshot_max_parallel_workers = 2, sync_interval = 1, max_batch_size = 2000)`)
    await waitFor(
      async () =>
        Number((await fx.sql('SELECT partitions_done FROM mirror_tables')).rows[0]?.partitions_done ?? 0) >=
        2,
      { timeoutMs: 60_000, message: 'two partitions done' },
    )
    const writer = startWriter(fx.source.url, 1_000_000)
    try {
      await fx.server.kill()
      await fx.restart()
      await fx.waitForStatus('chcrash', 'STATUS_RUNNING', 120_000)
    } finally {
      assert.ok((await writer.stop()) > 0, 'writes ran during the crash')
    }
    await waitForSame(fx, ch, 'public.t', 't', ['id', 'v'], ['id'], 90_000)
  })

  test('killed mid-stream with writes going on: nothing lost or doubled after restart', async () => {
    const writer = startWriter(fx.source.url, 2_000_000)
    try {
      const batch0 = await lastBatch()
      await waitFor(async () => (await lastBatch()) > batch0 + 1n, {
        timeoutMs: 60_000,
        message: 'batches to flow',
      })
      await fx.server.kill()
      await fx.restart()
      await waitFor(async () => (await lastBatch()) > batch0 + 3n, {
        timeoutMs: 90_000,
        message: 'streaming to resume after the restart',
      }).catch((e: Error) => {
        throw new Error(`${e.message}\n${fx.server.logs().slice(-4000)}`)
      })
    } finally {
      await writer.stop()
    }
    await waitForSame(fx, ch, 'public.t', 't', ['id', 'v'], ['id'], 90_000)
  })
})
