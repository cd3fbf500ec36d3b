// Hostile identifiers through the ClickHouse and Kafka targets (the Postgres target has its own case in
// security.test.ts): a source schema, table and columns whose names carry quotes, backquotes, backslashes,
// semicolons, spaces, keywords, Unicode and an injection attempt replicate exactly (snapshot, then updates and
// deletes). ClickHouse: into a table whose own name is hostile too, read back with `FINAL WHERE
// _peerdb_is_deleted = 0` and compared row by row. Kafka: every event names the columns exactly.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import pg from 'pg'
import { readTopic } from '../../src/sinks/kafka/topic-reader.ts'
import { readClickhouseTable, testClickhouse, type PgText } from '../support/clickhouse-table.ts'
import { createMirrorFixture, type MirrorFixture } from '../support/mirror-fixture.ts'
import { clickhouseUrl, kafkaBrokers, uniqueName, waitFor } from '../support/services.ts'

const SCHEMA = 'we.ird Sch"ema'
const TABLE = "t`ab'le; --"
const TARGET = "dst `x` 'y' \\z; DROP TABLE t"
const COLUMNS = [
  'id "key"',
  'sp ace',
  'select',
  'ünï ✓',
  "x'); DROP TABLE t; --",
  'back`quote\\slash',
  'Upper',
]
const MIRROR = uniqueName('hostile_ch')
const KAFKA_MIRROR = uniqueName('hostile_k')

const q = (name: string) => pg.escapeIdentifier(name)
const SOURCE = `${q(SCHEMA)}.${q(TABLE)}`

describe('hostile names replicated into ClickHouse', () => {
  let fx: MirrorFixture
  const db = uniqueName('hostile')
  const ch = testClickhouse()

  before(async () => {
    fx = await createMirrorFixture()
    await ch.command({ query: `CREATE DATABASE ${db}` })
    await fx.src(`CREATE SCHEMA ${q(SCHEMA)}`)
    await fx.src(
      `CREATE TABLE ${SOURCE} (${q(COLUMNS[0]!)} int PRIMARY KEY, ${q(COLUMNS[1]!)} text, ${q(COLUMNS[2]!)} int,
        ${q(COLUMNS[3]!)} text, ${q(COLUMNS[4]!)} text, ${q(COLUMNS[5]!)} text, ${q(COLUMNS[6]!)} numeric(10,3))`,
    )
    await fx.src(
      `INSERT INTO ${SOURCE} SELECT g, 'a b ' || g, g * 2, 'ü✓' || g, $$'); DROP$$ || g,
        chr(96) || chr(92) || chr(39) || chr(9) || g, g / 3.0 FROM generate_series(1, 300) g`,
    )
    const src = new URL(fx.source.url)
    const url = new URL(clickhouseUrl())
    await fx.sql(`CREATE PEER hsrc FROM POSTGRES WITH (host = 'localhost', port = ${src.port}, user = 'postgres',
      password = '', database = '${fx.source.name}')`)
    await fx.sql(
      `CREATE PEER hk FROM KAFKA WITH (servers = '${kafkaBrokers().join(',')}', disable_tls = true)`,
    )
    await fx.sql(`CREATE PEER hch FROM CLICKHOUSE WITH (host = '${url.hostname}', port = ${url.port},
      user = 'default', password = '', database = '${db}')`)
  })

  after(async () => {
    await fx?.close()
    await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` }).catch(() => undefined)
    await ch.close()
  })

  /** Resolves once the target holds exactly the source rows, compared as Postgres text in key order. */
  const sameRows = (): Promise<number> => {
    let last = ''
    return waitFor(
      async () => {
        const src = await fx.src(`SELECT ${COLUMNS.map(q).join(', ')} FROM ${SOURCE} ORDER BY 1`)
        const want = src.rows.map((r) => COLUMNS.map((c) => (r as Record<string, PgText>)[c] ?? null))
        const dst = await readClickhouseTable(ch, db, TARGET).catch((e: Error) => {
          last = e.message
          return undefined
        })
        if (!dst) return undefined
        assert.deepEqual(dst.columns, COLUMNS, 'target column names')
        const have = [...dst.rows].sort((a, b) => Number(a[0]) - Number(b[0]))
        if (JSON.stringify(have) !== JSON.stringify(want)) {
          last = `source ${want.length} rows, target ${have.length}; first source row ${JSON.stringify(want[0])}, target ${JSON.stringify(have[0])}`
          return undefined
        }
        return want.length
      },
      { timeoutMs: 90_000, intervalMs: 300, message: `the ClickHouse table to match the source (${last})` },
    )
  }

  test('snapshot, updates and deletes arrive exactly under hostile names', async () => {
    await fx.sql(`CREATE MIRROR ${MIRROR} FROM hsrc TO hch WITH TABLE MAPPING (${SOURCE}:${q(TARGET)})
      WITH (sync_interval = 1, snapshot_num_rows_per_partition = 100)`)
    await fx.waitForStatus(MIRROR, 'STATUS_RUNNING', 90_000)
    assert.equal(await sameRows(), 300)
    await fx.src(
      `UPDATE ${SOURCE} SET ${q(COLUMNS[1]!)} = ${q(COLUMNS[1]!)} || ' ;--', ${q(COLUMNS[6]!)} = -${q(COLUMNS[6]!)}
        WHERE ${q(COLUMNS[0]!)} % 3 = 0`,
    )
    await fx.src(`DELETE FROM ${SOURCE} WHERE ${q(COLUMNS[0]!)} % 7 = 0`)
    await fx.src(
      `INSERT INTO ${SOURCE} VALUES (1000, 'new', 1, 'ñ', $$"); --$$, chr(92) || chr(92) || chr(10), 1.5)`,
    )
    assert.equal(await sameRows(), 300 - 42 + 1)
    // The bookkeeping rows name the mirror and the hostile table; nothing else appeared in the database.
    const tables = await ch.query({
      query: `SELECT name FROM system.tables WHERE database = '${db}' ORDER BY name`,
      format: 'JSONEachRow',
    })
    const names = (await tables.json<{ name: string }>()).map((t) => t.name)
    assert.ok(names.includes(TARGET), names.join(', '))
    assert.ok(
      names.every((n) => n === TARGET || n.startsWith('_pgmirror')),
      `unexpected tables: ${names.join(', ')}`,
    )
    await fx.sql(`DROP MIRROR ${MIRROR}`)
    await waitFor(
      async () =>
        (
          await fx.src(`SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name LIKE $1`, [
            `%${MIRROR}%`,
          ])
        ).rows[0].n === '0',
      { timeoutMs: 30_000, message: 'the slot to be dropped' },
    )
  })

  test('Kafka events carry the hostile column names and values exactly', async () => {
    const topic = uniqueName('hostile-topic').replace(/_/g, '-')
    await fx.sql(`CREATE MIRROR ${KAFKA_MIRROR} FROM hsrc TO hk WITH TABLE MAPPING (${SOURCE}:'${topic}')
      WITH (sync_interval = 1)`)
    await fx.waitForStatus(KAFKA_MIRROR, 'STATUS_RUNNING', 90_000)
    await fx.src(`UPDATE ${SOURCE} SET ${q(COLUMNS[4]!)} = $$'); DROP again$$ WHERE ${q(COLUMNS[0]!)} = 1000`)
    const src = await fx.src(`SELECT ${COLUMNS.map(q).join(', ')} FROM ${SOURCE}`)
    const want = new Map(src.rows.map((r) => [String((r as Record<string, PgText>)[COLUMNS[0]!]), r]))
    const kafka = new Kafka({
      clientId: 'pgmirror-hostile',
      brokers: kafkaBrokers(),
      logLevel: logLevel.NOTHING,
    })
    // The latest event per key, once the update of row 1000 has arrived.
    const latest = new Map<string, Record<string, unknown>>()
    await waitFor(
      async () => {
        latest.clear()
        await readTopic(kafka, topic, (_partition, m) => {
          if (m.value === null) return
          const v = JSON.parse(m.value.toString('utf8')) as {
            op: string
            after: Record<string, unknown> | null
          }
          if (v.after) latest.set(String(v.after[COLUMNS[0]!]), v.after)
        })
        return latest.get('1000')?.[COLUMNS[4]!] === "'); DROP again" ? true : undefined
      },
      { timeoutMs: 90_000, intervalMs: 500, message: 'the update of row 1000 on the topic' },
    )
    assert.equal(latest.size, want.size)
    for (const [id, row] of want) {
      const got = latest.get(id)
      assert.ok(got, `row ${id} on the topic`)
      assert.deepEqual(Object.keys(got).sort(), [...COLUMNS].sort())
      for (const c of COLUMNS) {
        const v = (row as Record<string, PgText>)[c] ?? null
        assert.equal(got[c] === null ? null : String(got[c]), v, `row ${id} column ${c}`)
      }
    }
    await fx.sql(`DROP MIRROR ${KAFKA_MIRROR}`)
  })
})
