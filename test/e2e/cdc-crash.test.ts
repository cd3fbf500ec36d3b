// A pgmirror process killed with SIGKILL mid-snapshot and mid-stream while writes go on, then started again:
// the target must end equal to the source, on both queue backends.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createMirrorFixture, peerSql, type MirrorFixture } from '../support/mirror-fixture.ts'
import { redisUrl, uniqueName, waitFor } from '../support/services.ts'
import { startWriter } from '../support/write-load.ts'

for (const backend of ['postgres', 'redis'] as const) {
  describe(`SIGKILL of the worker (${backend} queue)`, () => {
    let fx: MirrorFixture

    before(async () => {
      fx = await createMirrorFixture(
        backend === 'redis' ? { REDIS_URL: redisUrl(), PGMIRROR_REDIS_PREFIX: uniqueName('q') } : {},
      )
      await fx.src(`CREATE TABLE public.t (id int PRIMARY KEY, v text)`)
      await fx.src(`INSERT INTO public.t SELECT g, repeat('x', 100) FROM generate_series(1, 150000) g`)
      await fx.sql(peerSql('pgsrc', fx.source))
      await fx.sql(peerSql('pgdst', fx.target))
    })

    after(async () => {
      await fx?.close()
    })

    test('killed mid-snapshot with writes going on: the restarted mirror finishes and matches', async () => {
      await fx.sql(`CREATE MIRROR crash FROM pgsrc TO pgdst WITH TABLE MAPPING (public.t:public.t)
        WITH (snapshot_num_rows_per_partition = 5000, snapshot_max_parallel_workers = 2, sync_interval = 1, max_batch_size = 2000)`)
      await waitFor(
        async () =>
          Number((await fx.sql('SELECT partitions_done FROM mirror_tables')).rows[0]?.partitions_done ?? 0) >=
          2,
        { timeoutMs: 60_000, message: 'two partitions done' },
      )
      const writer = startWriter(fx.source.url, 1_000_000)
      await fx.server.kill()
      const before = await fx.sql('SELECT 1').catch(() => 'down')
      assert.equal(before, 'down', 'the server must really be gone')
      await fx.restart()
      await fx.waitForStatus('crash', 'STATUS_RUNNING', 120_000)
      const txs = await writer.stop()
      assert.ok(txs > 0, 'writes ran during the crash')
      await fx.waitForSameRows('public.t', 'public.t', 'id, v', 'id', 90_000)
    })

    test('killed mid-stream with writes going on: nothing lost or doubled after restart', async () => {
      const writer = startWriter(fx.source.url, 2_000_000)
      const batch0 = BigInt(
        (await fx.sql(`SELECT last_batch_id FROM mirrors WHERE name = 'crash'`)).rows[0].last_batch_id,
      )
      await waitFor(
        async () =>
          BigInt(
            (await fx.sql(`SELECT last_batch_id FROM mirrors WHERE name = 'crash'`)).rows[0].last_batch_id,
          ) >
          batch0 + 1n,
        { timeoutMs: 60_000, message: 'batches to flow' },
      )
      await fx.server.kill()
      await new Promise((r) => setTimeout(r, 500))
      await fx.restart()
      await waitFor(
        async () =>
          BigInt(
            (await fx.sql(`SELECT last_batch_id FROM mirrors WHERE name = 'crash'`)).rows[0].last_batch_id,
          ) >
          batch0 + 3n,
        { timeoutMs: 90_000, message: 'streaming to resume after the restart' },
      )
      await writer.stop()
      await fx.waitForSameRows('public.t', 'public.t', 'id, v', 'id', 90_000)
      const slots = await fx.src(
        `SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name = 'pgmirror_slot_crash'`,
      )
      assert.equal(slots.rows[0].n, '1')
    })
  })
}
