// Several workers on one queue: exactly one reads a mirror's slot, and when its process dies another worker takes
// the mirror over and catches up.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createMirrorFixture, peerSql, type MirrorFixture } from '../support/mirror-fixture.ts'
import { startPgmirror, type PgmirrorProcess } from '../support/pgmirror-process.ts'
import { waitFor } from '../support/services.ts'

describe('two worker processes on one catalog queue', () => {
  let fx: MirrorFixture
  let second: PgmirrorProcess | undefined

  before(async () => {
    fx = await createMirrorFixture()
    await fx.src(`CREATE TABLE public.t (id int PRIMARY KEY, v text)`)
    await fx.src(`INSERT INTO public.t SELECT g, 'v' FROM generate_series(1, 5000) g`)
    await fx.sql(peerSql('pgsrc', fx.source))
    await fx.sql(peerSql('pgdst', fx.target))
  })

  after(async () => {
    await second?.stop()
    await fx?.close()
  })

  const readers = async () =>
    (
      await fx.src(
        `SELECT count(*) AS n FROM pg_stat_replication r JOIN pg_replication_slots s ON s.active_pid = r.pid
         WHERE s.slot_name = 'pgmirror_slot_w'`,
      )
    ).rows[0].n

  test('one reader per slot; the other worker takes over after a SIGKILL', async () => {
    second = await startPgmirror({
      env: { PGMIRROR_CATALOG_URL: fx.catalog.url, PGMIRROR_WORKER_CONCURRENCY: '4' },
      args: ['--role', 'worker'],
    })
    await fx.sql(
      `CREATE MIRROR w FROM pgsrc TO pgdst WITH TABLE MAPPING (public.t:public.t) WITH (sync_interval = 1)`,
    )
    await fx.waitForStatus('w', 'STATUS_RUNNING')
    await fx.src(`INSERT INTO public.t SELECT g, 'a' FROM generate_series(5001, 6000) g`)
    await fx.waitForSameRows('public.t', 'public.t', 'id, v', 'id')
    assert.equal(await readers(), '1')

    // Kill whichever process holds the stream; the survivor must pick the mirror up.
    const slot = await fx.src(
      `SELECT active_pid FROM pg_replication_slots WHERE slot_name = 'pgmirror_slot_w'`,
    )
    const app = await fx.src(`SELECT client_port FROM pg_stat_activity WHERE pid = $1`, [
      slot.rows[0].active_pid,
    ])
    assert.ok(app.rows[0], 'the reader is a live backend')
    await fx.server.kill()
    await fx.src(`UPDATE public.t SET v = 'after kill' WHERE id % 3 = 0`)
    await fx.src(`INSERT INTO public.t SELECT g, 'b' FROM generate_series(6001, 7000) g`)
    await fx.waitForSameRows('public.t', 'public.t', 'id, v', 'id', 90_000).catch(async (e: Error) => {
      throw new Error(`${e.message}\nsecond worker:\n${second?.logs().slice(-3000)}`)
    })
    await waitFor(async () => (await readers()) === '1', { timeoutMs: 10_000, message: 'exactly one reader' })
    await fx.restart()
    await fx.src(`INSERT INTO public.t SELECT g, 'c' FROM generate_series(7001, 7100) g`)
    await fx.waitForSameRows('public.t', 'public.t', 'id, v', 'id')
    assert.equal(await readers(), '1', 'a restarted worker must not open a second reader')
  })
})
