// The catalogues of bad SQL (against a real gateway) and bad REST requests (against a real API process on the same
// catalog): each gets its SQLSTATE or HTTP status, the catalog read directly is unchanged afterwards, and the server
// keeps serving.
import assert from 'node:assert/strict'
import { existsSync, rmSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { startPgmirror, type PgmirrorProcess } from '../support/pgmirror-process.ts'
import { BAD_REST, runBadRest } from './support/bad-rest.ts'
import { BAD_SQL, prepareBadSql, runBadSql, type BadSqlEnv } from './support/bad-sql.ts'
import { createRig, type Rig } from './support/rig.ts'

const PASSWORD = 'bad-input-pw'
const PROBE_FILES = ['/tmp/pgmirror_reliability_copy', '/tmp/pgmirror_reliability_program']

describe('bad input through the gateway', () => {
  let rig: Rig

  let env: BadSqlEnv

  before(async () => {
    for (const f of PROBE_FILES) rmSync(f, { force: true })
    // Gateway (and, below, API) processes only: no worker moves mirror m1 on, so the catalog stays still.
    rig = await createRig({ env: { PEERDB_PASSWORD: PASSWORD }, role: 'gateway' })
    env = await prepareBadSql(rig)
  })

  after(async () => {
    await rig?.close()
  })

  test(`a catalogue of ${BAD_SQL.length} bad statements: each refused with its SQLSTATE, the catalog unchanged`, async () => {
    const r = await runBadSql(rig, env)
    assert.ok(r.inputs >= 50)
    assert.deepEqual(r.failures, [])
    assert.equal(r.refusedAsExpected, r.inputs)
    assert.equal((await rig.sql('SELECT count(*) AS n FROM peers')).rows[0].n, '2')
  })

  test('regression: catalog queries reached peer_secrets and the catalog host (U&, query_to_xml, COPY TO PROGRAM)', async () => {
    const refused = async (sql: string) =>
      assert.rejects(rig.sql(sql), (e: { code?: string }) => e.code === '42501', sql)
    await refused(`SELECT * FROM U&"peer\\005fsecrets"`)
    await refused(`SELECT query_to_xml('select * from peer' || '_secrets', true, true, '')`)
    await refused(`COPY (SELECT 1) TO PROGRAM 'touch /tmp/pgmirror_reliability_program'`)
    await refused(`COPY peers TO '/tmp/pgmirror_reliability_copy'`)
    for (const f of PROBE_FILES) assert.equal(existsSync(f), false, `${f} was written on the catalog host`)
    // Ordinary reads of the catalog, as tools send them, still work.
    assert.equal((await rig.sql('SELECT name FROM peers ORDER BY name')).rows.length, 2)
    assert.ok((await rig.sql(`SELECT relname FROM pg_class WHERE relname = 'peers'`)).rows.length >= 1)
  })

  test('regression: a big statement blocked the whole gateway while pgsql-ast-parser ran', async () => {
    const [big, bystander] = await Promise.all([rig.gateway(), rig.gateway()])
    try {
      const inList = `SELECT count(*) AS n FROM peers WHERE id IN (${Array.from({ length: 20_000 }, (_, i) => i).join(',')})`
      const sum = `SELECT ${Array.from({ length: 2_500 }, (_, i) => i).join(' + ')} AS s`
      for (const sql of [inList, sum]) {
        const started = Date.now()
        const running = big.query(sql)
        await bystander.query('SELECT 1')
        const waited = Date.now() - started
        await running
        const took = Date.now() - started
        assert.ok(
          waited < 8_000,
          `another connection waited ${waited} ms behind a ${sql.length}-character statement`,
        )
        assert.ok(took < 15_000, `a ${sql.length}-character statement took ${took} ms`)
      }
      assert.equal((await big.query(sum)).rows[0].s, String((2_499 * 2_500) / 2))
    } finally {
      await Promise.all([big.end(), bystander.end()])
    }
  })

  describe('REST', () => {
    let api: PgmirrorProcess
    before(async () => {
      api = await startPgmirror({
        env: { PGMIRROR_CATALOG_URL: rig.catalog.url, PEERDB_PASSWORD: PASSWORD },
        args: ['--host', '127.0.0.1', '--role', 'api'],
      })
    })
    after(async () => {
      await api?.stop()
    })

    test(`a catalogue of ${BAD_REST.length} bad requests: each refused with its status, the catalog unchanged`, async () => {
      const auth = { authorization: `Basic ${Buffer.from(`u:${PASSWORD}`).toString('base64')}` }
      const r = await runBadRest(`http://127.0.0.1:${api.httpPort}`, auth, rig.catalog.url)
      assert.ok(r.inputs >= 45)
      assert.deepEqual(r.failures, [])
      assert.equal(r.refusedAsExpected, r.inputs)
    })
  })
})
