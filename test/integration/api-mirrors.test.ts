// Mirror routes over real HTTP with two real databases: idempotent create, 409 on a different spec, validate,
// list, status, state_change and batches. No worker runs, so mirrors stay in their first states; the end-to-end
// replication over REST is in api-e2e.test.ts.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import { createTestDatabase, testPgUrl, type TestDatabase } from '../support/services.ts'
import { pgPeer, startApi, type ApiFixture } from './api-fixture.ts'

const flow = (name: string, extra: Record<string, unknown> = {}) => ({
  connection_configs: {
    flow_job_name: name,
    source_name: 'm_src',
    destination_name: 'm_dst',
    table_mappings: [
      { source_table_identifier: 'public.orders', destination_table_identifier: 'public.orders_copy' },
    ],
    ...extra,
  },
})

describe('REST API: mirrors', () => {
  let api: ApiFixture
  let source: TestDatabase
  let target: TestDatabase

  before(async () => {
    api = await startApi()
    source = await createTestDatabase('apisrc')
    target = await createTestDatabase('apidst')
    const c = new pg.Client({ connectionString: source.url })
    await c.connect()
    await c.query(`CREATE TABLE public.orders (id bigint PRIMARY KEY, item text, qty int);
      CREATE TABLE public.extra (id int PRIMARY KEY, note text);
      CREATE TABLE public.nokey (v text)`)
    await c.end()
    for (const [name, db] of [
      ['m_src', source],
      ['m_dst', target],
    ] as const) {
      const r = await api.request('POST', '/api/v1/peers/create', { peer: pgPeer(name, db) })
      assert.equal(r.status, 200, r.text)
    }
  })

  after(async () => {
    await api?.close()
    // A worker never ran, so no slot exists; this is only a safeguard before dropping the database.
    const admin = new pg.Client({ connectionString: testPgUrl() })
    await admin.connect()
    await admin
      .query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1`, [
        source?.name,
      ])
      .catch(() => undefined)
    await admin.end()
    await Promise.allSettled([source?.drop(), target?.drop()])
  })

  test('validate checks without creating', async () => {
    const ok = await api.request('POST', '/api/v1/mirrors/cdc/validate', flow('m_check'))
    assert.equal(ok.status, 200, ok.text)
    assert.deepEqual(ok.json, {})
    const noKey = await api.request(
      'POST',
      '/api/v1/mirrors/cdc/validate',
      flow('m_check', {
        table_mappings: [
          { source_table_identifier: 'public.nokey', destination_table_identifier: 'public.nokey' },
        ],
      }),
    )
    assert.equal(noKey.status, 409, noKey.text)
    assert.equal(noKey.json.sqlState, '55000')
    assert.match(noKey.json.message, /no primary key/)
    const missing = await api.request(
      'POST',
      '/api/v1/mirrors/cdc/validate',
      flow('m_check', {
        table_mappings: [{ source_table_identifier: 'public.absent', destination_table_identifier: 'x' }],
      }),
    )
    assert.equal(missing.status, 404, missing.text)
    const list = await api.request('GET', '/api/v1/mirrors/list')
    assert.deepEqual(list.json.mirrors, [])
  })

  test('create → identical repeat returns the existing mirror → different spec 409', async () => {
    const body = flow('m_one', { max_batch_size: 0, idle_timeout_seconds: 5, soft_delete_col_name: '' })
    const first = await api.request('POST', '/api/v1/flows/cdc/create', body)
    assert.equal(first.status, 200, first.text)
    assert.deepEqual(first.json, { workflowId: 'm_one', outcome: 'created' })

    const again = await api.request('POST', '/api/v1/flows/cdc/create', body)
    assert.equal(again.status, 200, again.text)
    assert.equal(again.json.outcome, 'unchanged')

    const different = await api.request(
      'POST',
      '/api/v1/flows/cdc/create',
      flow('m_one', { max_batch_size: 500, idle_timeout_seconds: 5 }),
    )
    assert.equal(different.status, 409, different.text)
    assert.equal(different.json.sqlState, '42710')
    assert.match(different.json.message, /mirror "m_one" already exists with a different definition/)

    const n = await api.ctx.catalog.query(`SELECT count(*)::int AS n FROM mirrors`)
    assert.equal(n.rows[0].n, 1)
  })

  test('the config read from status, sent back, is an identical repeat', async () => {
    const s = await api.request('POST', '/api/v1/mirrors/status', {
      flowJobName: 'm_one',
      includeFlowInfo: true,
    })
    assert.equal(s.status, 200, s.text)
    const cfg = s.json.cdcStatus.config
    assert.equal(cfg.idleTimeoutSeconds, 5)
    assert.equal(cfg.tableMappings[0].sourceTableIdentifier, 'public.orders')
    const r = await api.request('POST', '/api/v1/flows/cdc/create', { connectionConfigs: cfg })
    assert.equal(r.status, 200, r.text)
    assert.equal(r.json.outcome, 'unchanged')
  })

  test('ten identical concurrent creates make exactly one mirror', async () => {
    const body = flow('m_race')
    const rs = await Promise.all(
      Array.from({ length: 10 }, () => api.request('POST', '/api/v1/flows/cdc/create', body)),
    )
    assert.deepEqual(
      rs.map((r) => r.status),
      Array(10).fill(200),
      rs.map((r) => r.text).join('\n'),
    )
    assert.equal(rs.filter((r) => r.json.outcome === 'created').length, 1)
    const n = await api.ctx.catalog.query(`SELECT count(*)::int AS n FROM mirrors WHERE name = 'm_race'`)
    assert.equal(n.rows[0].n, 1)
  })

  test('bad create bodies are 400s naming the field', async () => {
    const cases: [unknown, string][] = [
      [flow('Bad-Name'), 'connectionConfigs.flowJobName'],
      [flow('m_bad', { max_batch_size: -1 }), 'connectionConfigs.maxBatchSize'],
      [flow('m_bad', { idle_timeout_seconds: 2 ** 40 }), 'connectionConfigs.idleTimeoutSeconds'],
      [flow('m_bad', { table_mappings: [] }), 'connectionConfigs.tableMappings'],
      [
        flow('m_bad', {
          table_mappings: [{ source_table_identifier: 'a.b.c.d', destination_table_identifier: 'x' }],
        }),
        'connectionConfigs.tableMappings[0]',
      ],
      [
        flow('m_bad', { do_initial_snapshot: false, initial_snapshot_only: true }),
        'connectionConfigs.initialSnapshotOnly',
      ],
      [flow('m_bad', { script: 'transform' }), 'connectionConfigs.script'],
      [flow('m_bad', { no_such_field: 1 }), 'connectionConfigs.noSuchField'],
    ]
    for (const [body, field] of cases) {
      const r = await api.request('POST', '/api/v1/flows/cdc/create', body)
      assert.equal(r.status, 400, `${field}: ${r.text}`)
      assert.equal(r.json.field, field, r.text)
    }
    const unknownPeer = await api.request(
      'POST',
      '/api/v1/flows/cdc/create',
      flow('m_bad', { source_name: 'nope' }),
    )
    assert.equal(unknownPeer.status, 404, unknownPeer.text)
    assert.equal(unknownPeer.json.field, 'connectionConfigs.sourceName')
  })

  test('list and status', async () => {
    const list = await api.request('GET', '/api/v1/mirrors/list')
    assert.equal(list.status, 200)
    const one = list.json.mirrors.find((m: { name: string }) => m.name === 'm_one')
    assert.equal(one.sourceName, 'm_src')
    assert.equal(one.sourceType, 'POSTGRES')
    assert.equal(one.destinationType, 'POSTGRES')
    assert.equal(one.status, 'STATUS_SETUP')
    assert.equal(one.isCdc, true)
    assert.ok(Math.abs(one.createdAt - Date.now()) < 600_000, String(one.createdAt))

    const s = await api.request('POST', '/api/v1/mirrors/status', { flow_job_name: 'm_one' })
    assert.equal(s.status, 200, s.text)
    assert.equal(s.json.flowJobName, 'm_one')
    assert.equal(s.json.currentFlowState, 'STATUS_SETUP')
    assert.equal(s.json.cdcStatus.config, undefined)
    assert.equal(s.json.cdcStatus.rowsSynced, '0')
    assert.equal(s.json.cdcStatus.slotName, 'pgmirror_slot_m_one')
    assert.deepEqual(
      s.json.cdcStatus.snapshotStatus.clones.map((c: { sourceTable: string; tableName: string }) => [
        c.sourceTable,
        c.tableName,
      ]),
      [['public.orders', 'public.orders_copy']],
    )

    const missing = await api.request('POST', '/api/v1/mirrors/status', { flowJobName: 'm_nope' })
    assert.equal(missing.status, 404)
    assert.match(missing.json.message, /mirror "m_nope" does not exist/)

    const batches = await api.request('GET', '/api/v1/mirrors/cdc/batches/m_one?limit=5')
    assert.equal(batches.status, 200, batches.text)
    assert.deepEqual(batches.json, { cdcBatches: [], total: 0, page: 1 })
    const noBatches = await api.request('GET', '/api/v1/mirrors/cdc/batches/m_nope')
    assert.equal(noBatches.status, 404)
    const badLimit = await api.request('POST', '/api/v1/mirrors/cdc/batches', {
      flowJobName: 'm_one',
      limit: 0,
    })
    assert.equal(badLimit.status, 400)
    assert.equal(badLimit.json.field, 'limit')
  })

  test('state_change: bad states are 400s; config updates and pause, resume, drop act', async () => {
    for (const state of ['STATUS_BOGUS', 'STATUS_SETUP', 42]) {
      const r = await api.request('POST', '/api/v1/mirrors/state_change', {
        flowJobName: 'm_one',
        requestedFlowState: state,
      })
      assert.equal(r.status, 400, `${state}: ${r.text}`)
      assert.equal(r.json.field, 'requestedFlowState')
    }
    const unknown = await api.request('POST', '/api/v1/mirrors/state_change', {
      flowJobName: 'm_nope',
      requestedFlowState: 'STATUS_PAUSED',
    })
    assert.equal(unknown.status, 404)

    const update = await api.request('POST', '/api/v1/mirrors/state_change', {
      flow_job_name: 'm_one',
      flow_config_update: { cdc_flow_config_update: { batch_size: 777, idle_timeout: 3 } },
    })
    assert.equal(update.status, 200, update.text)
    assert.equal(update.json.currentFlowState, 'STATUS_SETUP')
    const spec = await api.ctx.mirrors.get('m_one')
    assert.equal(spec.spec.options.max_batch_size, 777)
    assert.equal(spec.spec.options.sync_interval, 3)

    // The mirror is in SETUP: adding tables needs a running or paused mirror (409), and nothing changed.
    const add = await api.request('POST', '/api/v1/mirrors/state_change', {
      flowJobName: 'm_one',
      flowConfigUpdate: {
        cdcFlowConfigUpdate: {
          additionalTables: [
            { sourceTableIdentifier: 'public.extra', destinationTableIdentifier: 'public.extra' },
          ],
        },
      },
    })
    assert.equal(add.status, 409, add.text)
    assert.equal((await api.ctx.mirrors.get('m_one')).spec.mappings.length, 1)

    const pause = await api.request('POST', '/api/v1/mirrors/state_change', {
      flowJobName: 'm_one',
      requestedFlowState: 'STATUS_PAUSED',
    })
    assert.equal(pause.status, 200, pause.text)
    assert.match(pause.json.currentFlowState, /^STATUS_PAUS(ING|ED)$/)

    const drop = await api.request('POST', '/api/v1/mirrors/state_change', {
      flowJobName: 'm_race',
      requestedFlowState: 'STATUS_TERMINATED',
    })
    assert.equal(drop.status, 200, drop.text)
    assert.equal(drop.json.currentFlowState, 'STATUS_TERMINATING')
    const again = await api.request('POST', '/api/v1/mirrors/state_change', {
      flowJobName: 'm_race',
      requestedFlowState: 'STATUS_RUNNING',
    })
    assert.equal(again.status, 409, again.text)
    assert.equal(again.json.status, 'FAILED_PRECONDITION')
  })
})
