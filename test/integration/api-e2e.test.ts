// The REST API of a running pgmirror (the real process, with its worker and its gateway on :9900): a peer changed
// with allow_update is seen changed through SQL, and a mirror created over REST moves rows exactly as one created
// through SQL does.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createMirrorFixture, peerSql, type MirrorFixture } from '../support/mirror-fixture.ts'
import { waitFor } from '../support/services.ts'

const COLS = 'id, name, amount, updated_at'

describe('REST API against a running pgmirror', () => {
  let fx: MirrorFixture
  const http = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${fx.server.httpPort}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, text, json: JSON.parse(text) }
  }
  const peer = (name: string, database: string, extra: Record<string, unknown> = {}) => ({
    peer: {
      name,
      type: 'POSTGRES',
      postgres_config: {
        host: 'localhost',
        port: Number(new URL(fx.source.url).port),
        user: 'postgres',
        password: '',
        database,
        ...extra,
      },
    },
  })

  before(async () => {
    fx = await createMirrorFixture()
    await fx.src(`CREATE TABLE public.items (id bigint PRIMARY KEY, name text, amount numeric(20,6), updated_at timestamptz);
      INSERT INTO public.items SELECT g, 'item ' || g, g * 1.5, timestamptz '2024-01-01 00:00:00.123456+00' + g * interval '1 s'
      FROM generate_series(1, 5000) g`)
  })
  after(async () => {
    await fx?.close()
  })

  test('a peer changed with allow_update is changed for SQL too', async () => {
    let r = await http('POST', '/api/v1/peers/create', peer('rest_src', fx.source.name))
    assert.equal(r.status, 200, r.text)
    r = await http('POST', '/api/v1/peers/create', peer('rest_dst', fx.target.name))
    assert.equal(r.status, 200, r.text)
    r = await http('POST', '/api/v1/peers/create', {
      ...peer('rest_dst', fx.target.name, { application_name: 'changed_over_rest' }),
      allow_update: true,
    })
    assert.equal(r.status, 200, r.text)
    assert.equal(r.json.outcome, 'updated')
    const seen = await fx.sql(`SELECT config->>'application_name' AS app FROM peers WHERE name = 'rest_dst'`)
    assert.equal(seen.rows[0].app, 'changed_over_rest')
  })

  test('a mirror created over REST replicates like one created through SQL', async () => {
    await fx.sql(peerSql('sql_src', fx.source))
    await fx.sql(peerSql('sql_dst', fx.target))
    const r = await http('POST', '/api/v1/flows/cdc/create', {
      connection_configs: {
        flow_job_name: 'rest_m',
        source_name: 'rest_src',
        destination_name: 'rest_dst',
        idle_timeout_seconds: 1,
        table_mappings: [
          { source_table_identifier: 'public.items', destination_table_identifier: 'public.items_rest' },
        ],
      },
    })
    assert.equal(r.status, 200, r.text)
    await fx.sql(`CREATE MIRROR sql_m FROM sql_src TO sql_dst WITH TABLE MAPPING (public.items:public.items_sql)
      WITH (sync_interval = 1)`)
    await fx.waitForStatus('rest_m', 'STATUS_RUNNING')
    await fx.waitForStatus('sql_m', 'STATUS_RUNNING')

    await fx.src(`INSERT INTO public.items SELECT g, 'late ' || g, g / 3.0, now() FROM generate_series(5001, 5500) g;
      UPDATE public.items SET amount = amount + 1 WHERE id % 7 = 0; DELETE FROM public.items WHERE id % 11 = 0`)
    const viaRest = await fx.waitForSameRows('public.items', 'public.items_rest', COLS, 'id')
    const viaSql = await fx.waitForSameRows('public.items', 'public.items_sql', COLS, 'id')
    assert.equal(viaRest, viaSql)

    // Same definition apart from names: REST fills in exactly the defaults SQL does.
    const specs = await fx.sql(`SELECT name, spec->'options' AS options FROM mirrors ORDER BY name`)
    assert.deepEqual(JSON.parse(specs.rows[0].options), JSON.parse(specs.rows[1].options))

    const status = await waitFor(
      async () => {
        const s = await http('POST', '/api/v1/mirrors/status', {
          flowJobName: 'rest_m',
          includeFlowInfo: true,
        })
        return s.json.cdcStatus?.cdcBatches?.length > 0 ? s : undefined
      },
      { timeoutMs: 20_000, message: 'a CDC batch in the status of rest_m' },
    )
    assert.equal(status.json.currentFlowState, 'STATUS_RUNNING')
    assert.ok(BigInt(status.json.cdcStatus.rowsSynced) > 0n)
    assert.match(status.json.cdcStatus.cdcBatches[0].endLsn, /^\d+$/)
    assert.equal(status.json.cdcStatus.snapshotStatus.clones[0].numRowsSynced, '5000')
    const batches = await http('GET', '/api/v1/mirrors/cdc/batches/rest_m?limit=2')
    assert.equal(batches.status, 200)
    assert.ok(batches.json.cdcBatches.length >= 1)
  })

  test('pause, resume and drop through state_change', async () => {
    let r = await http('POST', '/api/v1/mirrors/state_change', {
      flowJobName: 'rest_m',
      requestedFlowState: 'STATUS_PAUSED',
    })
    assert.equal(r.status, 200, r.text)
    await fx.waitForStatus('rest_m', 'STATUS_PAUSED')
    r = await http('POST', '/api/v1/mirrors/state_change', {
      flowJobName: 'rest_m',
      requestedFlowState: 'STATUS_RUNNING',
    })
    assert.equal(r.status, 200, r.text)
    await fx.waitForStatus('rest_m', 'STATUS_RUNNING')
    await fx.src(`INSERT INTO public.items VALUES (9999999, 'after resume', 1, now())`)
    await fx.waitForSameRows('public.items', 'public.items_rest', COLS, 'id')

    r = await http('POST', '/api/v1/mirrors/state_change', {
      flowJobName: 'rest_m',
      requestedFlowState: 'STATUS_TERMINATED',
    })
    assert.equal(r.status, 200, r.text)
    await waitFor(
      async () => (await http('POST', '/api/v1/mirrors/status', { flowJobName: 'rest_m' })).status === 404,
      {
        timeoutMs: 30_000,
        message: 'rest_m to be dropped',
      },
    )
    const list = await http('GET', '/api/v1/mirrors/list')
    assert.deepEqual(
      list.json.mirrors.map((m: { name: string }) => m.name),
      ['sql_m'],
    )
  })
})
