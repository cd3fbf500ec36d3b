// The REST API over real HTTP against a real catalog: auth, error statuses and bodies, the OpenAPI document, peers
// (idempotent create, allow_update, redaction, unreachable peers) and browsing a peer.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import SwaggerParser from '@apidevtools/swagger-parser'
import pg from 'pg'
import { createTestDatabase, type TestDatabase } from '../support/services.ts'
import { pgPeer, startApi, type ApiFixture } from './api-fixture.ts'

const basic = (credentials: string) => ({
  authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
})

describe('REST API: auth', () => {
  let api: ApiFixture
  before(async () => {
    api = await startApi({ password: 'the-api-pw' })
  })
  after(async () => {
    await api?.close()
  })

  test('no credentials and wrong credentials get 401 with WWW-Authenticate', async () => {
    for (const headers of [
      {},
      basic(':wrong'),
      basic('the-api-pw'),
      { authorization: 'Bearer the-api-pw' },
    ]) {
      const r = await api.request('GET', '/api/v1/peers/list', undefined, headers)
      assert.equal(r.status, 401, JSON.stringify(headers))
      assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm="pgmirror"/)
      assert.equal(r.json.code, 401)
      assert.equal(r.json.status, 'UNAUTHENTICATED')
      assert.doesNotMatch(r.text, /the-api-pw/)
    }
  })

  test('the seed\'s base64(":" + password) works, and so does any user name', async () => {
    for (const headers of [basic(':the-api-pw'), basic('admin:the-api-pw')]) {
      const r = await api.request('GET', '/api/v1/peers/list', undefined, headers)
      assert.equal(r.status, 200)
      assert.deepEqual(r.json, { items: [], sourceItems: [], destinationItems: [] })
    }
  })

  test('probes are open; readiness checks the catalog and the queue', async () => {
    for (const path of ['/healthz', '/api/v1/health/live']) {
      const r = await api.request('GET', path)
      assert.equal(r.status, 200, path)
      assert.equal(r.json.status, 'ok')
    }
    for (const path of ['/readyz', '/api/v1/health/ready']) {
      const r = await api.request('GET', path)
      assert.equal(r.status, 200, path)
      assert.deepEqual(r.json, { status: 'ok', catalog: 'ok', queue: 'ok' })
    }
    const v = await api.request('GET', '/api/v1/version')
    assert.equal(v.status, 401)
  })
})

describe('REST API: peers, errors and the OpenAPI document', () => {
  let api: ApiFixture
  let db: TestDatabase
  before(async () => {
    api = await startApi()
    db = await createTestDatabase('apipeer')
    const c = new pg.Client({ connectionString: db.url })
    await c.connect()
    await c.query(`CREATE TABLE public.with_pk (id int PRIMARY KEY, v text);
      CREATE TABLE public.no_pk (v text);
      CREATE TABLE public.full_ri (v text); ALTER TABLE public.full_ri REPLICA IDENTITY FULL;
      CREATE SCHEMA other; CREATE TABLE other."Mixed" (k bigint, n numeric, PRIMARY KEY (k));
      CREATE PUBLICATION api_pub FOR TABLE public.with_pk`)
    await c.end()
  })
  after(async () => {
    await api?.close()
    await db?.drop()
  })

  test('version', async () => {
    const r = await api.request('GET', '/api/v1/version')
    assert.equal(r.status, 200)
    assert.match(r.json.version, /^\d+\.\d+\.\d+/)
  })

  test('create → identical repeat unchanged → different config 409 → allow_update changes it', async () => {
    const body = { peer: pgPeer('p_main', db), allow_update: false }
    const first = await api.request('POST', '/api/v1/peers/create', body)
    assert.equal(first.status, 200, first.text)
    assert.equal(first.json.status, 'CREATED')
    assert.equal(first.json.outcome, 'created')

    const again = await api.request('POST', '/api/v1/peers/create', body)
    assert.equal(again.status, 200, again.text)
    assert.equal(again.json.outcome, 'unchanged')

    const changed = pgPeer('p_main', db, { metadata_schema: 'meta_two' })
    const conflict = await api.request('POST', '/api/v1/peers/create', { peer: changed })
    assert.equal(conflict.status, 409, conflict.text)
    assert.equal(conflict.json.code, 409)
    assert.equal(conflict.json.status, 'FAILED')
    assert.equal(conflict.json.sqlState, '42710')
    assert.match(conflict.json.hint, /allow_update/)
    let info = await api.request('GET', '/api/v1/peers/info/p_main')
    assert.equal(info.json.peer.postgresConfig.metadataSchema, undefined)

    // camelCase works as well as snake_case
    const updated = await api.request('POST', '/api/v1/peers/create', { peer: changed, allowUpdate: true })
    assert.equal(updated.status, 200, updated.text)
    assert.equal(updated.json.outcome, 'updated')
    info = await api.request('GET', '/api/v1/peers/info/p_main')
    assert.equal(info.json.peer.postgresConfig.metadataSchema, 'meta_two')
  })

  test('info hides the password, and ******** sent back keeps the stored one', async () => {
    const info = await api.request('GET', '/api/v1/peers/info/p_main')
    assert.equal(info.status, 200)
    assert.equal(info.json.peer.type, 'POSTGRES')
    assert.equal(info.json.peer.postgresConfig.password, '********')
    assert.doesNotMatch(info.text, /sekret-pw-123/)
    assert.match(info.json.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/)

    // The config as shown, sent back with allow_update: unchanged, and the real password is still stored.
    const shown = { name: 'p_main', type: 'POSTGRES', postgresConfig: info.json.peer.postgresConfig }
    const r = await api.request('POST', '/api/v1/peers/create', { peer: shown, allowUpdate: true })
    assert.equal(r.status, 200, r.text)
    assert.equal(r.json.outcome, 'unchanged')
    const stored = await api.ctx.peers.get('p_main')
    assert.equal(stored.type === 'POSTGRES' && stored.config.password, 'sekret-pw-123')

    const orphan = await api.request('POST', '/api/v1/peers/create', {
      peer: { ...shown, name: 'p_never_stored' },
    })
    assert.equal(orphan.status, 400)
    assert.equal(orphan.json.field, 'peer.postgresConfig.password')
  })

  test('unreachable peer: 422 with the driver message and a hint, and nothing is stored', async () => {
    const peer = pgPeer('p_down', db, { host: '127.0.0.1', port: 1 })
    for (const path of ['/api/v1/peers/create', '/api/v1/peers/validate']) {
      const r = await api.request('POST', path, { peer })
      assert.equal(r.status, 422, r.text)
      assert.equal(r.json.code, 422)
      assert.equal(r.json.status, path.endsWith('create') ? 'FAILED' : 'INVALID')
      assert.equal(r.json.sqlState, '08006')
      assert.match(
        r.json.message,
        /could not connect to postgres peer at "127\.0\.0\.1:1": .*ECONNREFUSED|refused/i,
      )
      assert.match(r.json.hint, /accepting TCP\/IP connections on port 1/)
      assert.doesNotMatch(r.text, /sekret-pw-123/)
    }
    const list = await api.request('GET', '/api/v1/peers/list')
    assert.deepEqual(
      list.json.items.map((p: { name: string }) => p.name),
      ['p_main'],
    )
  })

  test('validate a reachable peer', async () => {
    const r = await api.request('POST', '/api/v1/peers/validate', { peer: pgPeer('p_check', db) })
    assert.equal(r.status, 200, r.text)
    assert.equal(r.json.status, 'VALID')
    assert.match(r.json.message, /POSTGRES peer p_check is valid: postgres 1\d/)
  })

  test('bad values are 400s that name the field', async () => {
    const cases: [unknown, string][] = [
      [{ peer: pgPeer('p_bad', db, { port: 'abc' }) }, 'peer.postgresConfig.port'],
      [{ peer: pgPeer('p_bad', db, { sslmode: 'sometimes' }) }, 'peer.postgresConfig.sslmode'],
      [{ peer: pgPeer('p_bad', db, { no_such_option: 1 }) }, 'peer.postgresConfig.noSuchOption'],
      [{ peer: pgPeer('bad name!', db) }, 'peer.name'],
      [{ peer: { ...pgPeer('p_bad', db), type: 'ORACLE' } }, 'peer.type'],
      [{ peer: { name: 'p_bad', type: 'POSTGRES' } }, 'peer.postgresConfig'],
      [{ peer: pgPeer('p_bad', db), allowUpdate: 'yes' }, 'allowUpdate'],
      [{ peer: pgPeer('p_bad', db), allow_updates: true }, 'allowUpdates'],
      [{ peer: pgPeer('p_bad', db), allow_update: true, allowUpdate: true }, 'allowUpdate'],
    ]
    for (const [body, field] of cases) {
      const r = await api.request('POST', '/api/v1/peers/create', body)
      assert.equal(r.status, 400, `${field}: ${r.text}`)
      assert.equal(r.json.code, 400)
      assert.equal(r.json.field, field, r.text)
      assert.equal(typeof r.json.message, 'string')
      assert.doesNotMatch(r.text, /sekret-pw-123/)
    }
    const unsupported = await api.request('POST', '/api/v1/peers/create', {
      peer: { ...pgPeer('p_bad', db), type: 'SNOWFLAKE', postgres_config: undefined },
    })
    assert.equal(unsupported.status, 400)
    assert.equal(unsupported.json.sqlState, '0A000')
  })

  test('ten identical concurrent creates make exactly one peer', async () => {
    const body = { peer: pgPeer('p_race', db) }
    const rs = await Promise.all(
      Array.from({ length: 10 }, () => api.request('POST', '/api/v1/peers/create', body)),
    )
    assert.deepEqual(
      rs.map((r) => r.status),
      Array(10).fill(200),
      rs.map((r) => r.text).join('\n'),
    )
    assert.equal(rs.filter((r) => r.json.outcome === 'created').length, 1)
    const n = await api.ctx.catalog.query(`SELECT count(*)::int AS n FROM peers WHERE name = 'p_race'`)
    assert.equal(n.rows[0].n, 1)
  })

  test('list, type, drop; unknown peers are 404s', async () => {
    const list = await api.request('GET', '/api/v1/peers/list')
    assert.equal(list.status, 200)
    assert.deepEqual(list.json.items, [
      { name: 'p_main', type: 'POSTGRES' },
      { name: 'p_race', type: 'POSTGRES' },
    ])
    assert.deepEqual(list.json.sourceItems, list.json.items)
    const type = await api.request('GET', '/api/v1/peers/type/p_race')
    assert.deepEqual(type.json, { peerType: 'POSTGRES' })

    const drop = await api.request('POST', '/api/v1/peers/drop', { peer_name: 'p_race' })
    assert.equal(drop.status, 200, drop.text)
    assert.deepEqual(drop.json, {})
    for (const [method, path, body] of [
      ['POST', '/api/v1/peers/drop', { peerName: 'p_race' }],
      ['GET', '/api/v1/peers/info/p_race', undefined],
      ['GET', '/api/v1/peers/schemas?peer_name=p_race', undefined],
    ] as const) {
      const r = await api.request(method, path, body)
      assert.equal(r.status, 404, `${path}: ${r.text}`)
      assert.equal(r.json.status, 'NOT_FOUND')
      assert.equal(r.json.sqlState, '42704')
      assert.match(r.json.message, /peer "p_race" does not exist/)
    }
  })

  test('browse: schemas, tables with canMirror, columns, publications, slots', async () => {
    const schemas = await api.request('GET', '/api/v1/peers/schemas?peer_name=p_main')
    assert.equal(schemas.status, 200, schemas.text)
    assert.deepEqual(schemas.json.schemas, ['other', 'public'])

    const tables = await api.request('GET', '/api/v1/peers/tables?peerName=p_main&schemaName=public')
    assert.equal(tables.status, 200, tables.text)
    const can = Object.fromEntries(
      tables.json.tables.map((t: { tableName: string; canMirror: boolean }) => [t.tableName, t.canMirror]),
    )
    assert.deepEqual(can, { full_ri: true, no_pk: false, with_pk: true })
    const all = await api.request(
      'GET',
      '/api/v1/peers/tables?peer_name=p_main&schema_name=public&cdc_enabled=false',
    )
    assert.ok(all.json.tables.every((t: { canMirror: boolean }) => t.canMirror))

    const every = await api.request('GET', '/api/v1/peers/tables/all?peer_name=p_main')
    assert.deepEqual(every.json.tables, ['other.Mixed', 'public.full_ri', 'public.no_pk', 'public.with_pk'])

    const cols = await api.request(
      'GET',
      '/api/v1/peers/columns?peer_name=p_main&schema_name=other&table_name=Mixed',
    )
    assert.equal(cols.status, 200, cols.text)
    assert.deepEqual(cols.json.columns, [
      { name: 'k', type: 'bigint', isKey: true, qkind: 'int64', isReplicaIdentity: true },
      { name: 'n', type: 'numeric', isKey: false, qkind: 'numeric', isReplicaIdentity: false },
    ])
    const missing = await api.request(
      'GET',
      '/api/v1/peers/columns?peer_name=p_main&schema_name=public&table_name=nope',
    )
    assert.equal(missing.status, 404)
    const badQuery = await api.request('GET', '/api/v1/peers/tables?peer_name=p_main')
    assert.equal(badQuery.status, 400)
    assert.equal(badQuery.json.field, 'schemaName')

    const pubs = await api.request('GET', '/api/v1/peers/publications?peer_name=p_main')
    assert.deepEqual(pubs.json.publicationNames, ['api_pub'])

    const c = new pg.Client({ connectionString: db.url })
    await c.connect()
    const slot = `api_slot_${Date.now()}`
    await c.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot])
    try {
      const slots = await api.request('GET', '/api/v1/peers/slots/p_main')
      assert.equal(slots.status, 200, slots.text)
      const s = slots.json.slotData.find((x: { slotName: string }) => x.slotName === slot)
      assert.ok(s, slots.text)
      assert.equal(s.active, false)
      assert.equal(s.managed, false)
      assert.match(s.restartLSN, /^[0-9A-F]+\/[0-9A-F]+$/)
      assert.equal(typeof s.lagInMb, 'number')
      const managed = await api.request('GET', '/api/v1/peers/slots/p_main?peerdb_managed_only=true')
      assert.deepEqual(managed.json.slotData, [])
    } finally {
      await c.query(`SELECT pg_drop_replication_slot($1)`, [slot])
      await c.end()
    }
  })

  test('malformed JSON is a 400 that does not echo the body', async () => {
    const r = await api.request('POST', '/api/v1/peers/create', '{"peer": {"password": "hunter2-secret", ')
    assert.equal(r.status, 400)
    assert.equal(r.json.code, 400)
    assert.match(r.json.message, /malformed JSON/)
    assert.doesNotMatch(r.text, /hunter2/)
    // `curl -d` sends form content-type; the body is still read as JSON.
    const form = await api.request('POST', '/api/v1/peers/drop', '{"peerName": "nope"}', {
      'content-type': 'application/x-www-form-urlencoded',
    })
    assert.equal(form.status, 404)
  })

  test('a body over 1 MiB is a 413', async () => {
    const huge = JSON.stringify({ peer: { name: 'x'.repeat(1024 * 1024 + 10) } })
    const r = await api.request('POST', '/api/v1/peers/create', huge)
    assert.equal(r.status, 413)
    assert.equal(r.json.code, 413)
    assert.match(r.json.message, /1 MiB/)
  })

  test('an unknown route is a JSON 404', async () => {
    const r = await api.request('GET', '/api/v1/no/such/route')
    assert.equal(r.status, 404)
    assert.equal(r.json.code, 404)
    assert.match(r.json.message, /no route GET \/api\/v1\/no\/such\/route/)
  })

  test('openapi.json is a valid OpenAPI 3 document listing every route', async () => {
    const r = await api.request('GET', '/api/v1/openapi.json')
    assert.equal(r.status, 200)
    assert.match(r.json.openapi, /^3\./)
    // SwaggerParser.validate checks the document against the official OpenAPI schema (and resolves every $ref).
    await SwaggerParser.validate(structuredClone(r.json))
    const routes = Object.entries(r.json.paths as Record<string, Record<string, unknown>>).flatMap(
      ([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    )
    for (const expected of [
      'POST /api/v1/peers/validate',
      'POST /api/v1/peers/create',
      'POST /api/v1/peers/drop',
      'GET /api/v1/peers/list',
      'GET /api/v1/peers/info/{peerName}',
      'GET /api/v1/peers/schemas',
      'GET /api/v1/peers/tables',
      'GET /api/v1/peers/columns',
      'GET /api/v1/peers/slots/{peerName}',
      'POST /api/v1/flows/cdc/create',
      'POST /api/v1/mirrors/cdc/validate',
      'GET /api/v1/mirrors/list',
      'POST /api/v1/mirrors/status',
      'POST /api/v1/mirrors/state_change',
      'GET /api/v1/mirrors/cdc/batches/{flowJobName}',
      'GET /api/v1/alerts/config',
      'POST /api/v1/alerts/config',
      'DELETE /api/v1/alerts/config/{id}',
      'GET /api/v1/version',
      'GET /api/v1/health/ready',
    ]) {
      assert.ok(routes.includes(expected), `${expected} missing from ${routes.join(', ')}`)
    }
    const create = r.json.paths['/api/v1/peers/create'].post
    assert.ok(create.requestBody.content['application/json'].schema.properties.peer)
    assert.ok(create.responses['409'])
  })
})
