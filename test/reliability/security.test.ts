// Security: the wire refuses wrong and empty passwords with 28P01; a full run (peers with a recognisable password,
// an encryption key, a mirror with hostile table and column names, status, lists and failing commands) leaves no
// secret in any log line, SQL or REST response, or catalog table; and the hostile names replicate exactly.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import { after, before, describe, test } from 'node:test'
import { serialize } from 'pg-protocol'
import { uniqueName } from '../support/services.ts'
import { createRig, dropAndCheck, once, type Rig } from './support/rig.ts'
import { scramLogin } from './support/scram-client.ts'

const PEER_PASSWORD = `PeerPw-${randomBytes(6).toString('hex')}-ü`
const GATEWAY_PASSWORD = `GatewayPw-${randomBytes(6).toString('hex')}`
const KEY = randomBytes(32)
/** Unique: slot names are global to the shared test cluster. */
const MIRROR = uniqueName('sec')
const SECRETS: Record<string, string> = {
  'peer password': PEER_PASSWORD,
  'peer password, URL-encoded': encodeURIComponent(PEER_PASSWORD),
  'peer password, base64': Buffer.from(PEER_PASSWORD).toString('base64'),
  PEERDB_PASSWORD: GATEWAY_PASSWORD,
  'PEERDB_PASSWORD, base64': Buffer.from(GATEWAY_PASSWORD).toString('base64'),
  'encryption key, hex': KEY.toString('hex'),
  'encryption key, base64': KEY.toString('base64'),
  'encryption key, base64url': KEY.toString('base64url'),
}

/** A source schema with a dot (regression: the snapshot split table keys at the first dot) and a hostile target. */
const TABLE = `"we.ird Sch""ema"."Tab""le; DROP TABLE x; --"`
const TARGET = `"Sch ""ema; --"."Tab""le; DROP TABLE x; --"`
const COLS = `"id ""key""", "sp ace", "select", "ünï", "x'); DROP TABLE t; --", "Upper"`

/** The SQLSTATE of the ErrorResponse a server sends to a client that answers SASL with an empty PasswordMessage. */
async function emptyPasswordMessage(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1')
    let got = Buffer.alloc(0)
    s.on('data', (b: Buffer) => {
      got = Buffer.concat([got, b])
      for (let p = 0; p + 5 <= got.length; p += 1 + got.readInt32BE(p + 1)) {
        const end = p + 1 + got.readInt32BE(p + 1)
        if (end > got.length) return
        if (got[p] === 0x52 && got.readInt32BE(p + 5) === 10) s.write(serialize.password(''))
        if (got[p] === 0x45) {
          const fields = got
            .subarray(p + 5, end)
            .toString('latin1')
            .split('\0')
          resolve(fields.find((f) => f.startsWith('C'))?.slice(1) ?? '')
          s.destroy()
          return
        }
      }
    })
    s.on('error', reject)
    s.write(serialize.startup({ user: 'sec' }))
  })
}

/** Every place a secret occurs in the haystacks, with some context. */
function findSecrets(haystacks: Readonly<Record<string, string>>): string[] {
  const found: string[] = []
  for (const [where, text] of Object.entries(haystacks)) {
    for (const [what, secret] of Object.entries(SECRETS)) {
      const at = text.indexOf(secret)
      if (at >= 0) found.push(`${what} in ${where}: …${text.slice(Math.max(0, at - 150), at + 40)}…`)
    }
  }
  return found
}

describe('security', () => {
  let rig: Rig
  /** Every answer pgmirror gave, never the statements we sent (those hold the secrets on purpose). */
  const responses: string[] = []
  const record = (value: unknown) => responses.push(JSON.stringify(value))
  const sql = async (text: string) => {
    try {
      const r = await rig.sql(text)
      record({ fields: r.fields.map((f) => f.name), rows: r.rows })
      return r
    } catch (e) {
      const x = e as { code?: string; message?: string; detail?: string; hint?: string }
      record({ code: x.code, message: x.message, detail: x.detail, hint: x.hint })
      throw e
    }
  }

  before(async () => {
    rig = await createRig({
      env: {
        PEERDB_PASSWORD: GATEWAY_PASSWORD,
        PGMIRROR_ENCRYPTION_KEY: KEY.toString('hex'),
        PGMIRROR_LOG_LEVEL: 'debug',
      },
    })
  })

  after(async () => {
    await rig?.close()
  })

  test('a wrong or empty password is refused on the wire with 28P01; the right one is accepted', async () => {
    const port = rig.server.port
    assert.equal(await scramLogin(port, 'wrong'), '28P01')
    assert.equal(await scramLogin(port, `${GATEWAY_PASSWORD}x`), '28P01')
    assert.equal(await scramLogin(port, GATEWAY_PASSWORD.slice(0, -1)), '28P01')
    assert.equal(await scramLogin(port, ' '), '28P01')
    assert.equal(await scramLogin(port, ''), '28P01')
    assert.equal(await scramLogin(port, GATEWAY_PASSWORD), undefined)
    // A client with no password at all answers the SASL request with an empty cleartext password message: not
    // SASL, so it is refused as a protocol violation before any password check.
    assert.equal(await emptyPasswordMessage(port), '08P01')
  })

  test('catalog queries on the gateway run as a role that can read the public catalog tables only', async () => {
    const who = await rig.sql(
      `SELECT current_user AS u, r.rolsuper, r.rolcreaterole, r.rolreplication,
         has_schema_privilege('public', 'CREATE') AS create_public,
         (SELECT count(*) FROM pg_auth_members m WHERE m.member = r.oid) AS memberships
       FROM pg_roles r WHERE r.rolname = current_user`,
    )
    const row = who.rows[0]
    assert.match(row.u, /^pgmirror_reader_[0-9a-f]{12}$/)
    assert.deepEqual(
      [row.rolsuper, row.rolcreaterole, row.rolreplication, row.create_public, row.memberships],
      ['f', 'f', 'f', 'f', '0'],
    )
    // Every public catalog table is readable except the two that hold secrets.
    const tables = await rig.sql(
      `SELECT relname AS name, has_table_privilege(oid, 'SELECT') AS can FROM pg_class
       WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY relname`,
    )
    const readable = Object.fromEntries(
      tables.rows.map((t: { name: string; can: string }) => [t.name, t.can]),
    )
    assert.ok(Object.keys(readable).length >= 10, JSON.stringify(readable))
    for (const [name, can] of Object.entries(readable))
      assert.equal(can, name.endsWith('_secrets') ? 'f' : 't', `SELECT on ${name}`)
    // Postgres itself refuses what the statement guard lets through: views a superuser session could read.
    for (const text of [
      `SELECT * FROM pg_hba_file_rules`,
      `SELECT * FROM pg_config`,
      `SELECT * FROM pg_file_settings`,
    ]) {
      await assert.rejects(rig.sql(text), (e: { code?: string }) => e.code === '42501', text)
    }
    // What tools and users read still works.
    assert.ok((await rig.sql('SELECT name FROM peers')).rows.length >= 0)
    assert.ok((await rig.sql(`SELECT count(*) FROM pg_class WHERE relname = 'mirrors'`)).rows.length === 1)
  })

  test('hostile table and column names replicate exactly', async () => {
    await rig.src(`CREATE SCHEMA "we.ird Sch""ema"`)
    await rig.src(`CREATE TABLE ${TABLE} ("id ""key""" int PRIMARY KEY, "sp ace" text, "select" int, "ünï" text,
      "x'); DROP TABLE t; --" text, "Upper" numeric)`)
    await rig.src(`INSERT INTO ${TABLE} SELECT g, 'a b ' || g, g * 2, 'ü' || g, $$'); DROP$$ || g, g / 3.0
      FROM generate_series(1, 500) g`)
    const u = new URL(rig.source.url)
    const t = new URL(rig.target.url)
    await sql(`CREATE PEER src FROM POSTGRES WITH (host = '127.0.0.1', port = ${u.port}, user = 'postgres',
      password = '${PEER_PASSWORD}', database = '${rig.source.name}')`)
    await sql(`CREATE PEER dst FROM POSTGRES WITH (connection_string =
      'postgres://postgres:${encodeURIComponent(PEER_PASSWORD)}@127.0.0.1:${t.port}/${rig.target.name}')`)
    await sql(`CREATE MIRROR ${MIRROR} FROM src TO dst WITH TABLE MAPPING (${TABLE}:${TARGET})
      WITH (sync_interval = 1, snapshot_num_rows_per_partition = 100)`)
    await rig.waitForStatus(MIRROR, 'STATUS_RUNNING')
    await rig.waitForSameRows(TABLE, COLS, `"id ""key"""`, { target: TARGET })
    await rig.src(
      `UPDATE ${TABLE} SET "sp ace" = "sp ace" || ' ;--', "Upper" = -"Upper" WHERE "id ""key""" % 3 = 0`,
    )
    await rig.src(`DELETE FROM ${TABLE} WHERE "id ""key""" % 7 = 0`)
    await rig.src(`INSERT INTO ${TABLE} VALUES (1000, 'new', 1, 'ñ', $$"); --$$, 1.5)`)
    const same = await rig.waitForSameRows(TABLE, COLS, `"id ""key"""`, { target: TARGET })
    assert.match(same, /^4\d\d:[0-9a-f]{32}$/)
  })

  test('no secret appears in logs, SQL and REST responses, errors or the catalog', async () => {
    // Statuses, lists and catalog reads through the gateway.
    for (const text of [
      'SHOW PEERS',
      'SHOW MIRRORS',
      `SHOW MIRROR ${MIRROR}`,
      'SELECT * FROM peers',
      'SELECT * FROM mirrors',
    ]) {
      await sql(text)
    }
    for (const text of [
      'SELECT * FROM mirror_tables',
      'SELECT * FROM cdc_batches',
      'SELECT * FROM pg_stat_activity',
    ]) {
      await sql(text)
    }
    // Failures that carry the password in the statement: validation errors, a bad connection string, a bad value.
    const failing = [
      `CREATE PEER bad FROM POSTGRES WITH (host = '127.0.0.1', port = 1, user = 'postgres', password = '${PEER_PASSWORD}', database = 'x')`,
      `CREATE PEER bad FROM POSTGRES WITH (connection_string = 'postgres://postgres:${encodeURIComponent(PEER_PASSWORD)}@127.0.0.1:1/x')`,
      `CREATE PEER bad FROM POSTGRES WITH (host = 'no-such-host.invalid', user = 'postgres', password = '${PEER_PASSWORD}')`,
      `CREATE PEER bad FROM POSTGRES WITH (host = '127.0.0.1', user = 'nosuchuser', password = '${PEER_PASSWORD}', database = 'nosuchdb', port = ${new URL(rig.source.url).port})`,
      `CREATE PEER bad FROM POSTGRES WITH (connection_string = 'postgres://u:${encodeURIComponent(PEER_PASSWORD)}@[bad')`,
      `CREATE PEER bad FROM POSTGRES WITH (host = '127.0.0.1', user = 'u', password = '${PEER_PASSWORD}', colour = 'x')`,
      `ALTER PEER src SET (password = '${PEER_PASSWORD}', port = 1)`,
      `CREATE PEER src FROM POSTGRES WITH (host = '127.0.0.1', user = 'u', password = '${PEER_PASSWORD}')`,
      `CREATE PEER k FROM KAFKA WITH (servers = '127.0.0.1:1', user = 'u', password = '${PEER_PASSWORD}', sasl_mechanism = 'PLAIN')`,
      `CREATE PEER c FROM CLICKHOUSE WITH (host = '127.0.0.1', port = 1, user = 'u', password = '${PEER_PASSWORD}')`,
      `SELECT * FROM peer_secrets`,
    ]
    for (const text of failing) await sql(text).catch(() => undefined)
    assert.ok(
      responses.some((r) => r.includes('08006')),
      'the failing validations were refused',
    )

    // The same through REST.
    const auth = { authorization: `Basic ${Buffer.from(`u:${GATEWAY_PASSWORD}`).toString('base64')}` }
    const rest = async (path: string, body?: unknown) => {
      const r = await fetch(`http://127.0.0.1:${rig.server.httpPort}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      record({ path, status: r.status, body: await r.text() })
    }
    await rest('/api/v1/peers/list')
    await rest('/api/v1/mirrors/list')
    await rest('/api/v1/mirrors/status', { flowJobName: MIRROR, includeFlowInfo: true })
    await rest('/api/v1/peers/create', {
      peer: {
        name: 'bad',
        type: 'POSTGRES',
        postgresConfig: {
          host: '127.0.0.1',
          port: 1,
          user: 'postgres',
          password: PEER_PASSWORD,
          database: 'x',
        },
      },
    })

    // Everything the catalog holds, read directly, including the queue's tables.
    const tables = await rig.cat(
      `SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS t FROM pg_tables
       WHERE schemaname IN ('public', 'bullmq')`,
    )
    const catalog: string[] = []
    for (const { t } of tables.rows as { t: string }[]) {
      const r = await once(rig.catalog.url, `SELECT x::text AS row FROM ${t} x`)
      catalog.push(...r.rows.map((x: { row: string }) => `${t} ${x.row}`))
    }
    const secrets = await rig.cat(`SELECT encoding, payload FROM peer_secrets`)
    assert.ok(secrets.rows.length >= 2 && secrets.rows.every((r) => r.encoding === 'aes-256-gcm'))

    const haystacks: Record<string, string> = {
      logs: rig.allLogs(),
      responses: responses.join('\n'),
      catalog: catalog.join('\n'),
    }
    assert.ok(haystacks.logs!.includes('"msg"'), 'the logs were captured')
    assert.ok(responses.length > 20 && catalog.length > 10)
    // The search itself must work: it finds the password in the statements we sent, in plain and URL form.
    const control = findSecrets({ sent: failing.join('\n') })
    assert.ok(control.some((x) => x.startsWith('peer password in')) && control.some((x) => x.includes('URL')))
    assert.deepEqual(findSecrets(haystacks), [])
  })

  test('DROP MIRROR leaves no slot, publication or backend on the source', async () => {
    await dropAndCheck(rig, MIRROR)
  })
})
