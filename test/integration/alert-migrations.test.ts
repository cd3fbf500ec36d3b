// Migrations 0006 and 0007 on a catalog that already holds alert configs (made before alerts had names): each gets
// the name alert_<id>, and its sealed token moves to alert_secrets intact.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import pg from 'pg'
import { AlertStore } from '../../src/catalog/alert-store.ts'
import { loadMigrations, migrate } from '../../src/catalog/migrate.ts'
import { seal } from '../../src/catalog/secret-box.ts'
import { createTestDatabase, type TestDatabase } from '../support/services.ts'

let db: TestDatabase
let client: pg.Client

before(async () => {
  db = await createTestDatabase('alertmig')
  client = new pg.Client({ connectionString: db.url })
  await client.connect()
})
after(async () => {
  await client?.end()
  await db?.drop()
})

test('alert configs made before 0006 get names and keep their tokens', async () => {
  const all = loadMigrations()
  await migrate(
    client,
    all.filter((m) => m.version <= 5),
  )
  const s = seal({ auth_token: 'xoxb-old-token' }, undefined)
  await client.query(
    `INSERT INTO alert_configs (service_type, service_config, alert_for_mirrors, secret_encoding, secret_key_id, secret_payload)
     VALUES ('slack', '{"channel_ids": ["C1"]}', '{m1}', $1, $2, $3),
            ('email', '{"email_addresses": ["a@b.io"]}', '{}', 'plain-json', '', '{}')`,
    [s.encoding, s.keyId, s.payload],
  )
  assert.deepEqual(await migrate(client, all), [6, 7, 8])

  const stored = await new AlertStore(client, undefined).list()
  assert.deepEqual(
    stored.map((r) => [r.name, r.serviceType, r.serviceConfig, r.alertForMirrors]),
    [
      ['alert_1', 'slack', { channel_ids: ['C1'], auth_token: 'xoxb-old-token' }, ['m1']],
      ['alert_2', 'email', { email_addresses: ['a@b.io'] }, []],
    ],
  )
  const cols = await client.query(
    `SELECT column_name FROM information_schema.columns WHERE table_name = 'alert_configs' AND column_name LIKE 'secret%'`,
  )
  assert.equal(cols.rowCount, 0, 'no secret column is left in alert_configs')
  // A SQL user named config 3 "alert_4"; the next config made without a name (REST), id 4, gets another.
  const store = new AlertStore(client, undefined)
  await store.insert({
    name: 'alert_4',
    serviceType: 'email',
    serviceConfig: { email_addresses: ['x@y.io'] },
    alertForMirrors: [],
  })
  const id = await store.insert({
    serviceType: 'email',
    serviceConfig: { email_addresses: ['z@y.io'] },
    alertForMirrors: [],
  })
  assert.equal((await store.get(id))?.name, `alert_${id}_rest`)
})
