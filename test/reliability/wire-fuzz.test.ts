// Wire-protocol fuzzing of a real gateway, with PEERDB_PASSWORD and without: mutated and random frames must never
// crash it, leak memory, make it report an internal error, or disturb other connections. The catalog must be
// unchanged afterwards. `npm run chaos` runs the same with ≥ 100k inputs; RELIABILITY_SEED=<n> replays a run.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startPgmirror, type PgmirrorProcess } from '../support/pgmirror-process.ts'
import { createTestDatabase, type TestDatabase } from '../support/services.ts'
import { catalogSnapshot } from './support/catalog-snapshot.ts'
import { runSeed } from './support/prng.ts'
import { runWireFuzz } from './support/wire-fuzz.ts'

const INPUTS = Number(process.env.RELIABILITY_FUZZ_INPUTS ?? 1000)
const MB = 1024 * 1024

for (const password of [undefined, 'fuzz-pw-Ω-42'] as const) {
  describe(`wire fuzzer (${password ? 'SCRAM password' : 'no password'})`, () => {
    let catalog: TestDatabase
    let server: PgmirrorProcess

    before(async () => {
      catalog = await createTestDatabase('cat')
      server = await startPgmirror({
        env: { PGMIRROR_CATALOG_URL: catalog.url, ...(password ? { PEERDB_PASSWORD: password } : {}) },
        args: ['--host', '127.0.0.1', '--role', 'gateway'],
      })
    })

    after(async () => {
      await server?.stop()
      await catalog?.drop()
    })

    test(`${INPUTS} mutated and random inputs: the server keeps serving, memory stays bounded`, async () => {
      const seed = runSeed()
      const before = await catalogSnapshot(catalog.url)
      const report = await runWireFuzz(
        { port: server.port, pid: server.child.pid!, ...(password ? { password } : {}) },
        { seed, inputs: INPUTS, concurrency: 16, checkEvery: 100 },
      )
      const replay = `replay with RELIABILITY_SEED=${seed}`
      assert.deepEqual(report.failures, [], `${replay}\n${server.logs().slice(-2000)}`)
      assert.equal(report.inputs, INPUTS, replay)
      assert.ok(report.checks >= INPUTS / 100, 'the server was checked between inputs')
      // The refusals a fuzzer must provoke: protocol violations, and (with a password) failed logins.
      assert.ok(
        (report.sqlStates['08P01'] ?? 0) > INPUTS / 20,
        `${replay}: ${JSON.stringify(report.sqlStates)}`,
      )
      if (password) assert.ok((report.sqlStates['28P01'] ?? 0) > 0, `${replay}: no wrong proof was refused`)
      else assert.ok((report.sqlStates['22021'] ?? 0) > 0, `${replay}: no bad UTF-8 was refused`)
      assert.ok(
        report.peakRss < report.baseRss + 200 * MB,
        `${replay}: RSS grew to ${report.peakRss / MB} MB`,
      )
      assert.ok(
        report.peakRssSecondHalf < report.peakRssFirstHalf + 64 * MB,
        `${replay}: RSS kept growing (${report.peakRssFirstHalf / MB} → ${report.peakRssSecondHalf / MB} MB)`,
      )
      assert.deepEqual(await catalogSnapshot(catalog.url), before, `${replay}: the catalog changed`)
    })
  })
}
