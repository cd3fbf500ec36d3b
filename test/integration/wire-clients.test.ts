// Real clients against the wire server with the echo handler: psql, node-postgres, postgres.js, psycopg2, and a raw
// socket sending malformed frames while a second client keeps working.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { serialize } from 'pg-protocol'
import { Parser } from 'pg-protocol/dist/parser'
import type { BackendMessage } from 'pg-protocol/dist/messages'
import postgres from 'postgres'
import { startWireServer, type WireServer } from '../../src/wire/server.ts'
import { echoHandlers } from '../support/echo-handler.ts'

const PASSWORD = 'pässword-1'
const dir = mkdtempSync(join(tmpdir(), 'pgmirror-wire-'))

interface Served {
  readonly server: WireServer
  readonly echo: ReturnType<typeof echoHandlers>
}

async function serve(opts: { password?: string; tls?: boolean } = {}): Promise<Served> {
  const echo = echoHandlers()
  const tls = opts.tls
    ? { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) }
    : undefined
  const server = await startWireServer({
    host: '127.0.0.1',
    port: 0,
    createHandler: echo.createHandler,
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...(tls ? { tls } : {}),
  })
  return { server, echo }
}

function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 20_000 }, (error, out, err) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
      resolve({ code, out: String(out), err: String(err) })
    })
  })
}

async function until(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setImmediate(resolve))
  }
}

let trust: Served
let scram: Served
let secure: Served

before(async () => {
  const gen = await run('openssl', [
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
  ])
  assert.equal(gen.code, 0, gen.err)
  ;[trust, scram, secure] = await Promise.all([
    serve(),
    serve({ password: PASSWORD }),
    serve({ password: PASSWORD, tls: true }),
  ])
})

after(async () => {
  await Promise.all([trust.server.close(), scram.server.close(), secure.server.close()])
  rmSync(dir, { recursive: true, force: true })
})

describe('psql', () => {
  const conn = (s: Served, extra = ''): string =>
    `host=127.0.0.1 port=${s.server.port} user=alice dbname=db ${extra}`

  it('runs -c and prints the row', async () => {
    const r = await run('psql', [conn(trust), '-X', '-A', '-t', '-c', 'select 42'])
    assert.deepEqual([r.code, r.out.trim()], [0, '42'])
  })

  it('stops a script at the first error under ON_ERROR_STOP=1 with exit code 3', async () => {
    const file = join(dir, 'script.sql')
    writeFileSync(file, 'select 1;\nfail;\nselect 2;\n')
    const r = await run('psql', [conn(trust), '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-f', file])
    assert.equal(r.code, 3)
    assert.equal(r.out.trim(), '1')
    assert.match(r.err, /syntax error at or near "fail"/)
  })

  it('authenticates with SCRAM using PGPASSWORD', async () => {
    const r = await run('psql', [conn(scram, 'sslmode=disable'), '-X', '-A', '-t', '-c', 'select 5'], {
      PGPASSWORD: PASSWORD,
    })
    assert.deepEqual([r.code, r.out.trim()], [0, '5'])
  })

  it('a wrong password exits 2 with "password authentication failed"', async () => {
    const r = await run('psql', [conn(scram, 'sslmode=disable'), '-X', '-c', 'select 5'], {
      PGPASSWORD: 'nope',
    })
    assert.equal(r.code, 2)
    assert.match(r.err, /password authentication failed for user "alice"/)
  })

  it('connects with sslmode=require over TLS (self-signed certificate)', async () => {
    const r = await run(
      'psql',
      [conn(secure, 'sslmode=require'), '-X', '-c', '\\conninfo', '-c', 'select 6'],
      {
        PGPASSWORD: PASSWORD,
      },
    )
    assert.equal(r.code, 0, r.err)
    assert.match(r.out, /SSL connection \(protocol: TLS/)
    assert.match(r.out, /\n\s+6\n/)
  })

  it('sslmode=require fails cleanly against a server without TLS', async () => {
    const r = await run('psql', [conn(trust, 'sslmode=require'), '-X', '-c', 'select 1'])
    assert.equal(r.code, 2)
    assert.match(r.err, /server does not support SSL/)
  })
})

describe('node-postgres', () => {
  let client: pg.Client
  before(async () => {
    client = new pg.Client({
      host: '127.0.0.1',
      port: scram.server.port,
      user: 'bob',
      database: 'db',
      password: PASSWORD,
    })
    await client.connect()
  })
  after(() => client.end())

  it('simple query', async () => {
    const r = await client.query('select 1')
    assert.deepEqual(r.rows, [{ '?column?': 1 }])
    assert.equal(r.command, 'SELECT')
  })

  it('parameterized query', async () => {
    const r = await client.query('select $1::text as v, $2::int8 as n', ['hé', '9007199254740993'])
    assert.deepEqual(r.rows, [{ v: 'hé', n: '9007199254740993' }])
  })

  it('a named prepared statement is parsed once and reused', async () => {
    const handler = scram.echo.handlers.at(-1)
    const q = { name: 'by_n', text: 'select $1::int as n' }
    assert.deepEqual((await client.query({ ...q, values: [1] })).rows, [{ n: 1 }])
    assert.deepEqual((await client.query({ ...q, values: [2] })).rows, [{ n: 2 }])
    assert.equal(handler?.seen.filter((s) => s === q.text).length, 3) // one prepare, two executes
  })

  it('pipelined queries come back in order', async () => {
    const results = await Promise.all([1, 2, 3, 4].map((n) => client.query(`select ${n}`)))
    assert.deepEqual(
      results.map((r) => r.rows[0]['?column?']),
      [1, 2, 3, 4],
    )
  })

  it('errors in simple and extended queries, then recovery', async () => {
    await assert.rejects(client.query('fail'), {
      code: '42601',
      position: '3',
      message: 'syntax error at or near "fail"',
    })
    await assert.rejects(client.query({ name: 'bad', text: 'fail' }), { code: '42601' })
    assert.deepEqual((await client.query('select $1::text as v', ['ok'])).rows, [{ v: 'ok' }])
  })

  it('tracks transaction status through begin/commit', async () => {
    await client.query('begin')
    await assert.rejects(client.query('fail'))
    await assert.rejects(client.query('select 1'), { code: '25000' })
    assert.equal((await client.query('commit')).command, 'ROLLBACK')
    assert.deepEqual((await client.query('select 2')).rows, [{ '?column?': 2 }])
  })

  it('a CancelRequest from another socket cancels the running query with 57014', async () => {
    const running = client.query('sleep')
    const handler = scram.echo.handlers.at(-1)
    await until(() => handler?.seen.at(-1) === 'sleep', 'the sleep to start')
    const { processID, secretKey } = client as unknown as { processID: number; secretKey: number }
    const cancel = net.connect(scram.server.port, '127.0.0.1')
    cancel.end(serialize.cancel(processID, secretKey))
    await assert.rejects(running, { code: '57014', message: 'canceling statement due to user request' })
    assert.deepEqual((await client.query('select 3')).rows, [{ '?column?': 3 }])
  })

  // pg sends Buffer values as binary parameters. (Its `binary: true` result mode cannot be the oracle for binary
  // results: pg-protocol decodes every value as UTF-8 first. The connection unit tests check those bytes instead.)
  it('a binary bytea parameter comes back as the same bytes', async () => {
    const r = await client.query('select $1::bytea as f', [Buffer.from([0, 255, 10])])
    assert.deepEqual(r.rows, [{ f: Buffer.from([0, 255, 10]) }])
  })

  it('connects over TLS with SCRAM (the client sends the "y" channel-binding flag)', async () => {
    const tlsClient = new pg.Client({
      host: '127.0.0.1',
      port: secure.server.port,
      user: 'bob',
      password: PASSWORD,
      ssl: { rejectUnauthorized: false },
    })
    await tlsClient.connect()
    try {
      assert.deepEqual((await tlsClient.query('select 8')).rows, [{ '?column?': 8 }])
    } finally {
      await tlsClient.end()
    }
  })

  it('streams a large result under backpressure', async () => {
    const r = await client.query('rows 100000')
    assert.equal(r.rowCount, 100000)
    assert.equal(r.rows.at(-1)?.n, 100000)
  })

  it('calls handler.end() when the client disconnects', async () => {
    const other = new pg.Client({ host: '127.0.0.1', port: trust.server.port, user: 'x' })
    await other.connect()
    const handler = trust.echo.handlers.at(-1)
    await other.end()
    await until(() => handler?.ended === true, 'handler.end()')
  })
})

describe('postgres.js (extended protocol only)', () => {
  let sql: postgres.Sql
  before(() => {
    sql = postgres({
      host: '127.0.0.1',
      port: secure.server.port,
      user: 'carol',
      database: 'db',
      pass: PASSWORD,
      ssl: { rejectUnauthorized: false },
      max: 1,
      fetch_types: false,
      onnotice: () => {},
    })
  })
  after(() => sql.end({ timeout: 5 }))

  it('tagged-template select with parameters', async () => {
    const rows = await sql`select ${'x'}::text as v, ${7}::int as n`
    assert.deepEqual([...rows], [{ v: 'x', n: 7 }])
  })

  it('an error rejects with its SQLSTATE, and the next query works', async () => {
    await assert.rejects(sql`fail`, { code: '42601' })
    assert.deepEqual([...(await sql`select ${'y'}::text as v`)], [{ v: 'y' }])
  })

  it('sql.begin runs a transaction block', async () => {
    const result = await sql.begin(async (tx) => {
      const [row] = await tx`select ${'in'}::text as v`
      return row?.v
    })
    assert.equal(result, 'in')
    assert.equal(secure.echo.handlers.at(-1)?.status, 'I')
  })

  it('a cursor fetches through a suspended portal', async () => {
    const batches: number[][] = []
    await sql`rows 7`.cursor(3, (rows) => {
      batches.push(rows.map((r) => Number(r.n)))
    })
    assert.deepEqual(batches, [[1, 2, 3], [4, 5, 6], [7]])
  })
})

describe('psycopg2', () => {
  it('connects, executes with a parameter, fetches, and reports an error', async () => {
    const script = `
import json, sys, psycopg2
conn = psycopg2.connect(host='127.0.0.1', port=int(sys.argv[1]), user='dave', dbname='db', password=sys.argv[2], sslmode='disable')
cur = conn.cursor()
cur.execute('select %s', (41,))
rows = cur.fetchall()
try:
    cur.execute('fail')
    err = None
except psycopg2.Error as e:
    err = [e.pgcode, e.pgerror.splitlines()[0]]
conn.rollback()
cur.execute("select %s as v", ("it's",))
after = cur.fetchall()
version = conn.server_version
conn.close()
print(json.dumps({'rows': rows, 'err': err, 'after': after, 'version': version}))
`
    const r = await run('/usr/bin/python3', ['-c', script, String(scram.server.port), PASSWORD])
    assert.equal(r.code, 0, r.err)
    assert.deepEqual(JSON.parse(r.out), {
      rows: [[41]],
      err: ['42601', 'ERROR:  syntax error at or near "fail"'],
      after: [["it's"]],
      version: 150000, // libpq parsed our server_version parameter
    })
  })
})

/** A raw socket speaking bytes; replies are parsed with pg-protocol. */
class Raw {
  readonly messages: (BackendMessage & Record<string, unknown>)[] = []
  readonly bytes: Buffer[] = []
  closed = false
  readonly socket: net.Socket
  readonly #parser = new Parser()

  constructor(port: number, parse = true) {
    this.socket = net.connect(port, '127.0.0.1')
    this.socket.on('data', (b) => {
      this.bytes.push(b)
      if (parse)
        this.#parser.parse(b, (m) => this.messages.push(m as BackendMessage & Record<string, unknown>))
    })
    this.socket.on('error', () => {})
    this.socket.on('close', () => (this.closed = true))
  }

  send(...b: Buffer[]): this {
    this.socket.write(Buffer.concat(b))
    return this
  }

  async started(): Promise<this> {
    this.send(serialize.startup({ user: 'raw', database: 'db' }))
    await until(() => this.messages.some((m) => m.name === 'readyForQuery'), 'startup')
    this.messages.length = 0
    return this
  }

  async error(): Promise<BackendMessage & Record<string, unknown>> {
    await until(() => this.messages.some((m) => m.name === 'error'), 'an ErrorResponse')
    return this.messages.find((m) => m.name === 'error') as BackendMessage & Record<string, unknown>
  }

  async fatal(code: string): Promise<void> {
    const e = await this.error()
    assert.deepEqual([e.severity, e.code], ['FATAL', code], String(e.message))
    await until(() => this.closed, 'the server to close the socket')
  }
}

describe('malformed frames on a raw socket (another client keeps working)', () => {
  let bystander: pg.Client
  before(async () => {
    bystander = new pg.Client({ host: '127.0.0.1', port: trust.server.port, user: 'bystander' })
    await bystander.connect()
  })
  after(async () => {
    await bystander.end()
  })

  const port = (): number => trust.server.port
  const msg = (code: string, body: Buffer, length = body.length + 4): Buffer => {
    const head = Buffer.alloc(5)
    head.write(code, 0, 'latin1')
    head.writeInt32BE(length, 1)
    return Buffer.concat([head, body])
  }

  const cases: [string, () => Promise<void>][] = [
    [
      'a length below 4',
      async () => (await new Raw(port()).started()).send(msg('Q', Buffer.alloc(0), 3)).fatal('08P01'),
    ],
    [
      'a negative length',
      async () => (await new Raw(port()).started()).send(msg('Q', Buffer.alloc(0), -5)).fatal('08P01'),
    ],
    [
      'a huge length',
      async () =>
        (await new Raw(port()).started()).send(msg('Q', Buffer.alloc(0), 0x7ffffff0)).fatal('08P01'),
    ],
    [
      'a truncated Parse body',
      async () => (await new Raw(port()).started()).send(msg('P', Buffer.from('abc'))).fatal('08P01'),
    ],
    [
      'an unknown message type',
      async () => (await new Raw(port()).started()).send(msg('z', Buffer.alloc(0))).fatal('08P01'),
    ],
    [
      'protocol version 2.0',
      async () =>
        new Raw(port()).send(Buffer.from('0000000d00020000', 'hex'), Buffer.from('user\0')).fatal('0A000'),
    ],
    [
      'HTTP garbage before startup',
      async () => new Raw(port()).send(Buffer.from('GET / HTTP/1.1\r\n\r\n')).fatal('08P01'),
    ],
    [
      'a second SSLRequest',
      async () => {
        const raw = new Raw(port(), false).send(serialize.requestSsl(), serialize.requestSsl())
        await until(() => raw.closed, 'close')
        assert.equal(Buffer.concat(raw.bytes).subarray(0, 1).toString(), 'N')
      },
    ],
    [
      'invalid UTF-8 in a query (22021, connection stays usable)',
      async () => {
        const raw = await new Raw(port()).started()
        raw.send(msg('Q', Buffer.from([0x80, 0x81, 0])))
        assert.equal((await raw.error()).code, '22021')
        raw.send(serialize.query('select 9'))
        await until(() => raw.messages.some((m) => m.name === 'dataRow'), 'the next query')
        raw.socket.destroy()
      },
    ],
    [
      'Bind to a missing statement (26000)',
      async () => {
        const raw = await new Raw(port()).started()
        raw.send(serialize.bind({ statement: 'missing' }), serialize.sync())
        assert.equal((await raw.error()).code, '26000')
        raw.socket.destroy()
      },
    ],
    [
      'Execute of a missing portal (34000)',
      async () => {
        const raw = await new Raw(port()).started()
        raw.send(serialize.execute({ portal: 'missing' }), serialize.sync())
        assert.equal((await raw.error()).code, '34000')
        raw.socket.destroy()
      },
    ],
    [
      'a SASL response with garbage (08P01)',
      async () => {
        const raw = new Raw(scram.server.port)
        raw.send(
          serialize.startup({ user: 'raw' }),
          serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', '\x01\x02junk'),
        )
        await raw.fatal('08P01')
      },
    ],
    [
      'garbage instead of a TLS handshake after SSLRequest (clean close)',
      async () => {
        const raw = new Raw(secure.server.port, false).send(serialize.requestSsl())
        await until(() => raw.bytes.length > 0, "the server's answer")
        assert.equal(Buffer.concat(raw.bytes).toString(), 'S')
        raw.send(Buffer.from('this is not a TLS ClientHello, not at all'))
        await until(() => raw.closed, 'close')
      },
    ],
    [
      'a client that vanishes mid-message',
      async () => {
        const raw = await new Raw(port()).started()
        raw.send(msg('Q', Buffer.from('select 1\0')).subarray(0, 7))
        raw.socket.destroy()
        await until(() => raw.closed, 'close')
      },
    ],
  ]

  for (const [label, body] of cases) {
    it(label, async () => {
      await body()
      assert.deepEqual((await bystander.query('select 1')).rows, [{ '?column?': 1 }])
    })
  }
})

describe('server shutdown', () => {
  it('close() ends live sessions with 57P01 and waits for handler.end()', async () => {
    const s = await serve()
    const client = new pg.Client({ host: '127.0.0.1', port: s.server.port, user: 'x' })
    const errors: { code?: string }[] = []
    client.on('error', (e) => errors.push(e as { code?: string }))
    await client.connect()
    await s.server.close()
    assert.equal(s.echo.handlers[0]?.ended, true)
    await until(() => errors.length > 0, 'the client to see the shutdown')
    assert.equal(errors[0]?.code, '57P01')
  })
})
