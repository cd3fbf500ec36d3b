// The foundation, as a user meets it: psql on the gateway, CREATE PEER, the catalog read back, auth and TLS.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import { startPgmirror, type PgmirrorProcess } from '../support/pgmirror-process.ts'
import { psql } from '../support/psql.ts'
import { createTestDatabase, testPgUrl, type TestDatabase } from '../support/services.ts'

const SECRET = 'Zq8-peer-secret-§-value'

/** A raw CancelRequest, as libpq sends it: length 16, code 80877102, process id, secret key. */
async function sendCancelRequest(port: number, pid: number, key: number): Promise<void> {
  const buf = Buffer.alloc(16)
  buf.writeInt32BE(16, 0)
  buf.writeInt32BE(80877102, 4)
  buf.writeInt32BE(pid, 8)
  buf.writeInt32BE(key, 12)
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(buf))
    s.on('close', () => resolve())
    s.on('error', reject)
  })
}
const pgPort = () => new URL(testPgUrl()).port

describe('gateway: peers through psql with PEERDB_PASSWORD', () => {
  let catalog: TestDatabase
  let source: TestDatabase
  let server: PgmirrorProcess
  let conn: string

  before(async () => {
    catalog = await createTestDatabase('catalog')
    source = await createTestDatabase('source')
    const c = new pg.Client({ connectionString: source.url })
    await c.connect()
    await c.query(
      `CREATE TABLE public.items (id int PRIMARY KEY, price numeric(12,4), name text, seen timestamptz)`,
    )
    await c.query(
      `INSERT INTO public.items VALUES (1, 12.3456, 'ok', '2024-01-02 03:04:05.123456+00'), (2, NULL, 'b''q', NULL)`,
    )
    await c.end()
    server = await startPgmirror({
      env: {
        PGMIRROR_CATALOG_URL: catalog.url,
        PEERDB_PASSWORD: 'peerdb',
        PGMIRROR_ENCRYPTION_KEY: 'a'.repeat(64),
      },
    })
    conn = `host=localhost port=${server.port} password=peerdb sslmode=disable`
  })

  after(async () => {
    await server?.stop()
    await catalog?.drop()
    await source?.drop()
  })

  test('CREATE PEER of a local Postgres, then SELECT id, name, type FROM peers returns type 3', async () => {
    const create = await psql(conn, [
      '-c',
      `CREATE PEER src FROM POSTGRES WITH (host = 'localhost', port = ${pgPort()}, user = 'postgres', password = '${SECRET}', database = '${source.name}')`,
    ])
    assert.equal(create.code, 0, create.stderr)
    assert.match(create.stdout, /CREATE PEER/)
    assert.match(create.stderr, /wal_level=logical/)
    const sel = await psql(conn, ['-At', '-c', 'SELECT id, name, type FROM peers'])
    assert.equal(sel.code, 0, sel.stderr)
    assert.match(sel.stdout.trim(), /^\d+\|src\|3$/)
  })

  test('a wrong password is refused with 28P01', async () => {
    const r = await psql(`host=127.0.0.1 port=${server.port} password=wrong sslmode=disable`, [
      '-c',
      'SELECT 1',
    ])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /password authentication failed/)
    const c = new pg.Client({ host: '127.0.0.1', port: server.port, password: 'wrong', user: 'x' })
    await assert.rejects(c.connect(), (e: { code?: string }) => e.code === '28P01')
  })

  test('secrets never show: not in peers, peer_secrets refused, encrypted at rest', async () => {
    const all = await psql(conn, ['-At', '-c', 'SELECT * FROM peers'])
    assert.equal(all.code, 0, all.stderr)
    assert.ok(!all.stdout.includes(SECRET))
    assert.match(all.stdout, /POSTGRES/)
    const show = await psql(conn, ['-At', '-c', 'SHOW PEERS'])
    assert.ok(!show.stdout.includes(SECRET))
    const hidden = await psql(conn, ['-c', 'SELECT * FROM peer_secrets'])
    assert.notEqual(hidden.code, 0)
    assert.match(hidden.stderr, /42501/)
    const direct = new pg.Client({ connectionString: catalog.url })
    await direct.connect()
    const raw = await direct.query<{ encoding: string; payload: string }>(
      'SELECT encoding, payload FROM peer_secrets',
    )
    await direct.end()
    assert.equal(raw.rows[0]?.encoding, 'aes-256-gcm')
    assert.ok(!raw.rows[0]?.payload.includes(SECRET))
    assert.ok(!server.logs().includes(SECRET), 'a log line carried the peer password')
  })

  test('errors carry their SQLSTATE: duplicate 42710, unknown 42704, bad option 22023, syntax 42601', async () => {
    const cases: [string, string][] = [
      [
        `CREATE PEER src FROM POSTGRES WITH (host='localhost', user='postgres', database='postgres')`,
        '42710',
      ],
      ['DROP PEER nosuch', '42704'],
      [
        `CREATE PEER p2 FROM POSTGRES WITH (host='localhost', user='postgres', database='postgres', colour='red')`,
        '22023',
      ],
      [
        `CREATE PEER p2 FROM POSTGRES WITH (host='localhost', port='abc', user='postgres', database='postgres')`,
        '22023',
      ],
      [
        `CREATE PEER p2 FROM POSTGRES WITH (host='localhost', user='postgres', database='postgres', sslmode='sometimes')`,
        '22023',
      ],
      ['CREATE PEER FROM POSTGRES', '42601'],
    ]
    for (const [sql, code] of cases) {
      const r = await psql(conn, ['-c', sql])
      assert.equal(r.code, 1, `${sql}: ${r.stderr}`)
      assert.match(r.stderr, new RegExp(code), `${sql} should fail with ${code}: ${r.stderr}`)
    }
  })

  test('a peer that cannot be reached is refused with a hint, and nothing is saved', async () => {
    const r = await psql(conn, [
      '-c',
      `CREATE PEER down FROM POSTGRES WITH (host='127.0.0.1', port=1, user='postgres', database='postgres', connect_timeout=3)`,
    ])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /08006/)
    assert.match(r.stderr, /HINT/)
    const sel = await psql(conn, ['-At', '-c', `SELECT count(*) FROM peers WHERE name = 'down'`])
    assert.equal(sel.stdout.trim(), '0')
  })

  test('IF NOT EXISTS with a different config keeps the peer and says so; ALTER PEER validates before saving', async () => {
    const r = await psql(conn, [
      '-c',
      `CREATE PEER IF NOT EXISTS src FROM POSTGRES WITH (host='127.0.0.1', port=${pgPort()}, user='postgres', database='postgres')`,
    ])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /different configuration/)
    const bad = await psql(conn, ['-c', `ALTER PEER src SET (database = 'no_such_db_here')`])
    assert.equal(bad.code, 1)
    const cfg = await psql(conn, ['-At', '-c', `SELECT config->>'database' FROM peers WHERE name = 'src'`])
    assert.equal(cfg.stdout.trim(), source.name)
  })

  test('SELECT from peer.schema.table runs on the peer with its column types', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: server.port, password: 'peerdb', user: 'anyone' })
    await c.connect()
    try {
      const r = await c.query('SELECT id, price, name, seen FROM src.public.items ORDER BY id')
      assert.deepEqual(
        r.fields.map((f) => f.dataTypeID),
        [23, 1700, 25, 1184],
      )
      assert.equal(r.rows.length, 2)
      assert.equal(r.rows[0].price, '12.3456')
      assert.equal(r.rows[1].name, "b'q")
      const p = await c.query('SELECT name FROM src.public.items WHERE id = $1', [2])
      assert.equal(p.rows[0].name, "b'q")
    } finally {
      await c.end()
    }
  })

  // Regression: pg drops its active query on ErrorResponse, and forwarded statements that failed used to hang.
  test('bug: an error from a peer or the catalog comes back with its SQLSTATE and the session goes on', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: server.port, password: 'peerdb', user: 'anyone' })
    await c.connect()
    try {
      await assert.rejects(
        c.query('SELECT nosuchcol FROM src.public.items'),
        (e: { code?: string }) => e.code === '42703',
      )
      await assert.rejects(
        c.query('SELECT * FROM no_such_catalog_table'),
        (e: { code?: string }) => e.code === '42P01',
      )
      await assert.rejects(
        c.query('SELECT $1::int FROM src.public.items', ['x']),
        (e: { code?: string }) => e.code === '22P02',
      )
      const ok = await c.query('SELECT count(*) AS n FROM src.public.items')
      assert.equal(ok.rows[0].n, '2')
    } finally {
      await c.end()
    }
  })

  test('a CancelRequest cancels a query forwarded to a peer', async () => {
    const cfg = { host: '127.0.0.1', port: server.port, password: 'peerdb', user: 'anyone' }
    const c = new pg.Client(cfg)
    await c.connect()
    try {
      const started = Date.now()
      const running = c.query('SELECT pg_sleep(20), id FROM src.public.items')
      await new Promise((r) => setTimeout(r, 500))
      const { processID, secretKey } = c as unknown as { processID: number; secretKey: number }
      await sendCancelRequest(server.port, processID, secretKey)
      await assert.rejects(running, (e: { code?: string }) => e.code === '57014')
      assert.ok(Date.now() - started < 10_000, 'the peer query must stop early')
      const after = await c.query('SELECT count(*) AS n FROM src.public.items')
      assert.equal(after.rows[0].n, '2')
    } finally {
      await c.end()
    }
  })

  test('a psql script under ON_ERROR_STOP stops at the first error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgm-'))
    const file = join(dir, 'script.sql')
    writeFileSync(
      file,
      [
        `CREATE PEER IF NOT EXISTS s2 FROM POSTGRES WITH (host='localhost', port=${pgPort()}, user='postgres', database='${source.name}');`,
        'DROP PEER nosuch_peer;',
        'DROP PEER s2;',
      ].join('\n'),
    )
    const r = await psql(conn, ['-v', 'ON_ERROR_STOP=1', '-f', file])
    assert.equal(r.code, 3)
    const left = await psql(conn, ['-At', '-c', `SELECT count(*) FROM peers WHERE name = 's2'`])
    assert.equal(left.stdout.trim(), '1')
    const del = await psql(conn, ['-c', `DELETE FROM peers WHERE name = 's2'`])
    assert.equal(del.code, 0, del.stderr)
    const gone = await psql(conn, ['-At', '-c', `SELECT count(*) FROM peers WHERE name = 's2'`])
    assert.equal(gone.stdout.trim(), '0')
  })
})

describe('gateway: TLS', () => {
  let catalog: TestDatabase
  let server: PgmirrorProcess

  before(async () => {
    catalog = await createTestDatabase('catalog')
    const dir = mkdtempSync(join(tmpdir(), 'pgm-tls-'))
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-days',
        '1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    )
    server = await startPgmirror({
      env: {
        PGMIRROR_CATALOG_URL: catalog.url,
        PEERDB_PASSWORD: 'peerdb',
        PGMIRROR_TLS_CERT: join(dir, 'cert.pem'),
        PGMIRROR_TLS_KEY: join(dir, 'key.pem'),
      },
    })
  })

  after(async () => {
    await server?.stop()
    await catalog?.drop()
  })

  test('psql connects under sslmode=require with a self-signed certificate', async () => {
    const r = await psql(`host=localhost port=${server.port} password=peerdb sslmode=require`, [
      '-c',
      '\\conninfo',
    ])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /SSL connection/)
  })
})
