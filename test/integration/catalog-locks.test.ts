// Several pgmirror processes on one catalog: the second must start while the first holds its long-lived locks
// (regression: the reader role's start-up lock and the alert checker's leader lock shared one key, so a second
// process waited forever at start-up once the first had become the alert leader).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import pg from 'pg'
import { LockKeys } from '../../src/catalog/lock-keys.ts'
import { startPgmirror, type PgmirrorProcess } from '../support/pgmirror-process.ts'
import { createTestDatabase, waitFor, type TestDatabase } from '../support/services.ts'

let catalog: TestDatabase
const procs: PgmirrorProcess[] = []

before(async () => {
  catalog = await createTestDatabase('locks')
})

after(async () => {
  for (const p of procs) await p.stop().catch(() => undefined)
  await catalog?.drop()
})

test('the advisory lock keys are all different', () => {
  const keys = Object.values(LockKeys)
  assert.equal(new Set(keys).size, keys.length)
})

test('a second process starts while the first is the alert leader, and both answer', async () => {
  const env = { PGMIRROR_CATALOG_URL: catalog.url, PGMIRROR_ALERT_CHECK_INTERVAL_SECONDS: '1' }
  const args = ['--host', '127.0.0.1']
  procs.push(await startPgmirror({ env, args }))
  const c = new pg.Client({ connectionString: catalog.url })
  await c.connect()
  try {
    await waitFor(
      async () =>
        (
          await c.query(
            `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = $1`,
            [LockKeys.alertLeader],
          )
        ).rows[0].n === 1,
      { timeoutMs: 30_000, message: 'the first process to hold the alert leader lock' },
    )
  } finally {
    await c.end()
  }
  procs.push(await startPgmirror({ env, args, timeoutMs: 30_000 }))
  for (const p of procs) {
    const g = new pg.Client({ host: '127.0.0.1', port: p.port, user: 'u', database: 'd' })
    await g.connect()
    try {
      assert.match((await g.query('SELECT current_user AS u')).rows[0].u, /^pgmirror_reader_/)
    } finally {
      await g.end()
    }
  }
})
