// Alert configs over real HTTP: create, idempotent repeat (also ten at once), list with secrets hidden, update
// keeping a secret sent back as ********, validation errors and delete.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createAlertStore } from '../../src/engine/commands/alerts.ts'
import { startApi, type ApiFixture } from './api-fixture.ts'

const TOKEN = 'xoxb-very-secret-token-42'

const slack = (extra: Record<string, unknown> = {}) => ({
  config: {
    id: -1,
    service_type: 'slack',
    // PeerDB sends the service config as JSON text.
    service_config: JSON.stringify({
      auth_token: TOKEN,
      channel_ids: ['C001'],
      slot_lag_mb_alert_threshold: 100,
    }),
    alert_for_mirrors: ['m_b', 'm_a'],
    ...extra,
  },
})

describe('REST API: alert configs', () => {
  let api: ApiFixture
  let slackId: number

  before(async () => {
    api = await startApi()
  })
  after(async () => {
    await api?.close()
  })

  test('create, then the same config again returns the same id and no duplicate', async () => {
    const first = await api.request('POST', '/api/v1/alerts/config', slack())
    assert.equal(first.status, 200, first.text)
    assert.equal(first.json.outcome, 'created')
    slackId = first.json.id
    assert.equal(typeof slackId, 'number')

    // The same config, as an object, in camelCase, with the mirror list in another order.
    const again = await api.request('POST', '/api/v1/alerts/config', {
      config: {
        serviceType: 'slack',
        serviceConfig: { authToken: TOKEN, channelIds: ['C001'], slotLagMbAlertThreshold: 100 },
        alertForMirrors: ['m_a', 'm_b'],
      },
    })
    assert.equal(again.status, 200, again.text)
    assert.deepEqual(again.json, { id: slackId, outcome: 'unchanged' })
    const n = await api.ctx.catalog.query('SELECT count(*)::int AS n FROM alert_configs')
    assert.equal(n.rows[0].n, 1)
  })

  test('ten identical concurrent creates make exactly one config', async () => {
    const body = {
      config: {
        id: -1,
        service_type: 'email',
        service_config: { email_addresses: ['ops@example.com'] },
        alert_for_mirrors: [],
      },
    }
    const rs = await Promise.all(
      Array.from({ length: 10 }, () => api.request('POST', '/api/v1/alerts/config', body)),
    )
    assert.deepEqual(
      rs.map((r) => r.status),
      Array(10).fill(200),
    )
    assert.equal(new Set(rs.map((r) => r.json.id)).size, 1)
    assert.equal(rs.filter((r) => r.json.outcome === 'created').length, 1)
    const n = await api.ctx.catalog.query(
      `SELECT count(*)::int AS n FROM alert_configs WHERE service_type = 'email'`,
    )
    assert.equal(n.rows[0].n, 1)
  })

  test('list shows every config with the token hidden; the catalog holds it encrypted', async () => {
    const r = await api.request('GET', '/api/v1/alerts/config')
    assert.equal(r.status, 200)
    assert.doesNotMatch(r.text, new RegExp(TOKEN))
    const s = r.json.configs.find((c: { id: number }) => c.id === slackId)
    assert.equal(s.serviceType, 'slack')
    assert.deepEqual(s.alertForMirrors, ['m_a', 'm_b'])
    const cfg = JSON.parse(s.serviceConfig)
    assert.equal(cfg.auth_token, '********')
    assert.deepEqual(cfg.channel_ids, ['C001'])
    assert.equal(cfg.slot_lag_mb_alert_threshold, 100)
    const raw = await api.ctx.catalog.query('SELECT row_to_json(a)::text AS t FROM alert_configs a')
    for (const row of raw.rows) assert.doesNotMatch(row.t, new RegExp(TOKEN))
  })

  test('update by id: ******** keeps the stored token, a new one replaces it', async () => {
    const store = createAlertStore(api.ctx.catalog, api.encryptionKey)
    const shown = JSON.parse(
      (await api.request('GET', '/api/v1/alerts/config')).json.configs.find(
        (c: { id: number }) => c.id === slackId,
      ).serviceConfig,
    )
    const keep = await api.request('POST', '/api/v1/alerts/config', {
      config: {
        id: slackId,
        serviceType: 'slack',
        serviceConfig: { ...shown, channel_ids: ['C001', 'C002'] },
      },
    })
    assert.equal(keep.status, 200, keep.text)
    assert.deepEqual(keep.json, { id: slackId, outcome: 'updated' })
    let stored = await store.get(slackId)
    assert.equal(stored?.serviceConfig.auth_token, TOKEN)
    assert.deepEqual(stored?.serviceConfig.channel_ids, ['C001', 'C002'])
    assert.deepEqual(stored?.alertForMirrors, [])

    const replace = await api.request('POST', '/api/v1/alerts/config', {
      config: {
        id: slackId,
        serviceType: 'slack',
        serviceConfig: { auth_token: 'xoxb-new', channel_ids: ['C9'] },
      },
    })
    assert.equal(replace.status, 200, replace.text)
    stored = await store.get(slackId)
    assert.equal(stored?.serviceConfig.auth_token, 'xoxb-new')

    const unknown = await api.request('POST', '/api/v1/alerts/config', {
      config: { id: 999999, serviceType: 'slack', serviceConfig: { auth_token: 'x', channel_ids: ['C'] } },
    })
    assert.equal(unknown.status, 404)
    assert.equal(unknown.json.field, 'id')
  })

  test('bad configs are 400s naming the field, without echoing the token', async () => {
    const cases: [unknown, string][] = [
      [{ config: { serviceType: 'pager', serviceConfig: {} } }, 'config.serviceType'],
      [{ config: { serviceType: 'slack', serviceConfig: '{not json' } }, 'config.serviceConfig'],
      [
        { config: { serviceType: 'slack', serviceConfig: { auth_token: TOKEN, channel_ids: [] } } },
        'service_config.channel_ids',
      ],
      [
        { config: { serviceType: 'slack', serviceConfig: { channel_ids: ['C'] } } },
        'service_config.auth_token',
      ],
      [
        { config: { serviceType: 'slack', serviceConfig: { auth_token: '********', channel_ids: ['C'] } } },
        'service_config.auth_token',
      ],
      [
        {
          config: {
            serviceType: 'slack',
            serviceConfig: { auth_token: TOKEN, channel_ids: ['C'], webhook: 'x' },
          },
        },
        'service_config.webhook',
      ],
      [
        { config: { serviceType: 'email', serviceConfig: { email_addresses: ['not-an-address'] } } },
        'service_config.email_addresses.0',
      ],
      [
        {
          config: {
            serviceType: 'email',
            serviceConfig: { email_addresses: ['a@b.io'] },
            alertForMirrors: ['Bad!'],
          },
        },
        'alert_for_mirrors',
      ],
    ]
    for (const [body, field] of cases) {
      const r = await api.request('POST', '/api/v1/alerts/config', body)
      assert.equal(r.status, 400, `${field}: ${r.text}`)
      assert.equal(r.json.field, field, r.text)
      assert.doesNotMatch(r.text, new RegExp(TOKEN))
    }
  })

  test('delete, then delete again is a 404', async () => {
    const del = await api.request('DELETE', `/api/v1/alerts/config/${slackId}`)
    assert.equal(del.status, 200, del.text)
    assert.deepEqual(del.json, {})
    const again = await api.request('DELETE', `/api/v1/alerts/config/${slackId}`)
    assert.equal(again.status, 404)
    const bad = await api.request('DELETE', '/api/v1/alerts/config/abc')
    assert.equal(bad.status, 400)
    assert.equal(bad.json.field, 'id')
    const left = await api.request('GET', '/api/v1/alerts/config')
    assert.deepEqual(
      left.json.configs.map((c: { serviceType: string }) => c.serviceType),
      ['email'],
    )
  })
})
