// The alert checker over a real catalog with a stand-in for mirrors and sources, driven with its own clock: an
// error alerts only once it has lasted a check, the gap holds a repeat back until it has passed, gap 0 sends
// nothing, and a second checker on the same catalog stays idle while the first holds the leader lock.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import { pino } from 'pino'
import { AlertStore } from '../../src/catalog/alert-store.ts'
import { migrate } from '../../src/catalog/migrate.ts'
import type { MirrorRow } from '../../src/catalog/mirror-store.ts'
import { loadAlertingConfig } from '../../src/config.ts'
import { AlertChecker } from '../../src/engine/alerting/alert-loop.ts'
import type { EngineContext } from '../../src/engine/context.ts'
import { startSlackReceiver, type SlackReceiver } from '../support/alert-receivers.ts'
import { createTestDatabase, type TestDatabase } from '../support/services.ts'

const MB = 1024n * 1024n
/** The checker's clock starts at the catalog's, which dates the sent-alert records the gap is measured from. */
const T0 = Date.now()
const MINUTE = 60_000

describe('alert checker', () => {
  let db: TestDatabase
  let pool: pg.Pool
  let slack: SlackReceiver
  const mirrors: MirrorRow[] = []
  const retained = new Map<string, bigint>()

  const context = (env: Record<string, string> = {}): EngineContext =>
    ({
      catalog: pool,
      catalogUrl: db.url,
      alerts: new AlertStore(pool, undefined),
      alerting: loadAlertingConfig({
        PGMIRROR_ALERT_CHECK_INTERVAL_SECONDS: '60',
        PGMIRROR_SLACK_API_URL: slack.url,
        ...env,
      }),
      mirrors: { list: async () => mirrors },
      peers: { get: async (name: string) => ({ name, type: 'POSTGRES', config: {} }) },
      connectors: {
        source: () => ({
          slotInfo: async (slot: string) => ({ exists: true, retainedWalBytes: retained.get(slot) }),
          close: async () => undefined,
        }),
      },
      log: pino({ level: 'silent' }),
    }) as unknown as EngineContext

  const mirror = (name: string, over: Partial<MirrorRow> = {}): MirrorRow =>
    ({
      name,
      status: 'STATUS_RUNNING',
      sourcePeer: 'src',
      slotName: `slot_${name}`,
      lastError: null,
      lastBatchAt: null,
      ...over,
    }) as MirrorRow
  const callsFor = (mirrorName: string) => slack.calls.filter((c) => c.body.text.includes(`"${mirrorName}"`))

  before(async () => {
    slack = await startSlackReceiver()
    db = await createTestDatabase('alertchk')
    pool = new pg.Pool({ connectionString: db.url, max: 4 })
    const c = await pool.connect()
    try {
      await migrate(c)
    } finally {
      c.release()
    }
    await new AlertStore(pool, undefined).insert({
      name: 'ops',
      serviceType: 'slack',
      serviceConfig: {
        auth_token: 'xoxb-t',
        channel_ids: ['C1'],
        members: [],
        slot_lag_mb_alert_threshold: 1,
      },
      alertForMirrors: [],
    })
  })
  after(async () => {
    await pool?.end()
    await db?.drop()
    await slack?.close()
  })

  test('an error alerts once it has lasted a check; the gap holds the repeat back until it has passed', async () => {
    const checker = new AlertChecker(context())
    try {
      mirrors.splice(0, mirrors.length, mirror('err_m', { lastError: 'target unreachable' }))
      assert.equal(await checker.check(T0), true)
      assert.equal(callsFor('err_m').length, 0, 'a first sighting is not yet an alert')
      await checker.check(T0 + MINUTE)
      assert.equal(callsFor('err_m').length, 1)
      assert.match(callsFor('err_m')[0]!.body.text, /Mirror "err_m" is failing[\s\S]*target unreachable/)
      await checker.check(T0 + 10 * MINUTE)
      assert.equal(callsFor('err_m').length, 1, 'inside the 15-minute gap')
      await checker.check(T0 + 16 * MINUTE)
      assert.equal(callsFor('err_m').length, 2)

      // An error that clears and comes back starts its run again.
      mirrors.splice(0, mirrors.length, mirror('err_m'))
      await checker.check(T0 + 40 * MINUTE)
      mirrors.splice(0, mirrors.length, mirror('err_m', { lastError: 'again' }))
      await checker.check(T0 + 41 * MINUTE)
      assert.equal(callsFor('err_m').length, 2)
    } finally {
      await checker.stop()
    }
  })

  test('one leader: a second checker on the same catalog does nothing while the first holds the lock', async () => {
    const first = new AlertChecker(context())
    const second = new AlertChecker(context())
    try {
      mirrors.splice(0, mirrors.length, mirror('lag_m', { status: 'STATUS_PAUSED' }))
      retained.set('slot_lag_m', 3n * MB)
      assert.equal(await first.check(T0), true)
      assert.equal(await second.check(T0), false)
      assert.equal(callsFor('lag_m').length, 1)
      await first.stop()
      assert.equal(await second.check(T0), true, 'the lock is free once the leader stops')
    } finally {
      await first.stop()
      await second.stop()
    }
  })

  test('gap 0 turns sending off', async () => {
    const checker = new AlertChecker(context({ PEERDB_ALERTING_GAP_MINUTES: '0' }))
    try {
      mirrors.splice(0, mirrors.length, mirror('quiet_m', { status: 'STATUS_FAILED', lastError: 'boom' }))
      retained.set('slot_quiet_m', 30n * MB)
      await checker.check(T0)
      assert.equal(callsFor('quiet_m').length, 0)
      const n = await pool.query(`SELECT count(*)::int AS n FROM alerts WHERE mirror = 'quiet_m'`)
      assert.equal(n.rows[0].n, 0)
    } finally {
      await checker.stop()
    }
  })
})
