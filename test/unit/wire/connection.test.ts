import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { serialize } from 'pg-protocol'
import { scramVerifier } from '../../../src/wire/scram.ts'
import { MemoryClient, names, type Msg } from './memory-client.ts'

const STARTUP = serialize.startup({ user: 'alice', database: 'db', application_name: 'tests' })

async function connected(): Promise<MemoryClient> {
  const c = new MemoryClient()
  c.send(STARTUP)
  await c.ready(1)
  return c
}

const ofName = (ms: Msg[], name: string): Msg[] => ms.filter((m) => m.name === name)
const rows = (ms: Msg[]): unknown[][] => ofName(ms, 'dataRow').map((m) => m.fields as unknown[])

function rawDataRows(stream: Buffer): (Buffer | null)[][] {
  const out: (Buffer | null)[][] = []
  // every message is a type byte, an int32 length and the body
  for (let at = 0; at < stream.length; at += 1 + stream.readInt32BE(at + 1)) {
    if (stream[at] !== 'D'.charCodeAt(0)) continue
    const values: (Buffer | null)[] = []
    let p = at + 7
    for (let i = 0; i < stream.readInt16BE(at + 5); i++) {
      const len = stream.readInt32BE(p)
      values.push(len < 0 ? null : stream.subarray(p + 4, p + 4 + len))
      p += 4 + Math.max(len, 0)
    }
    out.push(values)
  }
  return out
}

describe('Connection: startup', () => {
  it('trust: AuthenticationOk, the parameters drivers need, BackendKeyData, ReadyForQuery', async () => {
    const c = new MemoryClient()
    c.send(STARTUP)
    const ms = await c.ready(1)
    assert.equal(ms[0]?.name, 'authenticationOk')
    const params = Object.fromEntries(
      ofName(ms, 'parameterStatus').map((m) => [m.parameterName, m.parameterValue]),
    )
    assert.deepEqual(params, {
      server_version: '15.0 (test)',
      server_encoding: 'UTF8',
      client_encoding: 'UTF8',
      DateStyle: 'ISO, MDY',
      integer_datetimes: 'on',
      TimeZone: 'UTC',
      standard_conforming_strings: 'on',
      application_name: 'tests',
      IntervalStyle: 'postgres',
      is_superuser: 'off',
      session_authorization: 'alice',
    })
    assert.deepEqual(names(ms).slice(-2), ['backendKeyData', 'readyForQuery'])
    assert.equal(ms.at(-1)?.status, 'I')
    assert.deepEqual(c.echo.handlers[0]?.startParams, {
      user: 'alice',
      database: 'db',
      application_name: 'tests',
      client_encoding: 'UTF8',
    })
  })

  it('works when every byte arrives on its own', async () => {
    const c = new MemoryClient()
    for (const b of Buffer.concat([STARTUP, serialize.query('select 7')])) c.send(Buffer.from([b]))
    const ms = await c.ready(2)
    assert.deepEqual(rows(ms), [['7']])
  })

  it('declines a newer 3.x minor and _pq_ options with NegotiateProtocolVersion, then goes on', async () => {
    const c = new MemoryClient()
    const params = Buffer.from('user\0bob\0_pq_.opt\0x\0\0')
    const len = Buffer.alloc(8)
    len.writeInt32BE(8 + params.length, 0)
    len.writeInt32BE((3 << 16) | 2, 4)
    c.send(len, params)
    await c.until(() => c.messages.some((m) => m.name === 'readyForQuery'))
    const first = c.raw[0] as Buffer
    assert.equal(first[0], 'v'.charCodeAt(0))
    assert.equal(first.readInt32BE(5), 0)
    assert.equal(first.readInt32BE(9), 1)
    assert.equal(first.subarray(13, 21).toString(), '_pq_.opt')
  })

  it('refuses protocol 2.0 with FATAL 0A000 and closes', async () => {
    const c = new MemoryClient()
    c.send(Buffer.from('0000000900020000' + '00', 'hex'))
    const ms = await c.closed()
    assert.deepEqual([ms[0]?.severity, ms[0]?.code], ['FATAL', '0A000'])
    assert.match(String(ms[0]?.message), /unsupported frontend protocol 2\.0/)
  })

  it('refuses a startup packet without a user (28000)', async () => {
    const c = new MemoryClient()
    c.send(serialize.startup({ database: 'x' }))
    const ms = await c.closed()
    assert.equal(ms[0]?.code, '28000')
  })

  it('a handler refusing start() ends the connection with its SQLSTATE, and still gets end()', async () => {
    const c = new MemoryClient()
    c.send(serialize.startup({ user: 'a', database: 'refuse' }))
    const ms = await c.closed()
    assert.deepEqual([ms.at(-1)?.severity, ms.at(-1)?.code], ['FATAL', '28P01'])
    await c.connection.finished
    assert.equal(c.echo.handlers[0]?.ended, true)
  })

  it('answers SSLRequest with N when TLS is not configured, then accepts the startup packet', async () => {
    const c = new MemoryClient()
    c.send(serialize.requestSsl())
    await c.until(() => c.raw.length > 0)
    assert.equal(c.raw[0]?.toString(), 'N')
    c.send(STARTUP)
    await c.until(() => c.raw.length > 1)
    assert.equal(c.raw[1]?.subarray(0, 9).toString('hex'), '52000000080000000' + '0')
  })
})

describe('Connection: SCRAM', () => {
  const sasl = createRequire(import.meta.url)('pg/lib/crypto/sasl.js') as {
    startSession(m: string[]): { response: string; mechanism: string }
    continueSession(s: object, password: string, data: string): Promise<void>
  }

  async function attempt(password: string): Promise<MemoryClient> {
    const c = new MemoryClient({ scram: await scramVerifier('right') })
    c.send(STARTUP)
    await c.until((ms) => ms.some((m) => m.name === 'authenticationSASL'))
    const session = sasl.startSession(['SCRAM-SHA-256'])
    c.send(serialize.sendSASLInitialResponseMessage(session.mechanism, session.response))
    const ms = await c.until((all) => all.some((m) => m.name === 'authenticationSASLContinue'))
    await sasl.continueSession(session, password, String(ms.at(-1)?.data))
    c.send(serialize.sendSCRAMClientFinalMessage(session.response))
    return c
  }

  it('the right password gets SASLFinal, AuthenticationOk and a session', async () => {
    const c = await attempt('right')
    const ms = await c.ready(1)
    assert.deepEqual(names(ms).slice(0, 4), [
      'authenticationSASL',
      'authenticationSASLContinue',
      'authenticationSASLFinal',
      'authenticationOk',
    ])
  })

  it('a wrong password gets FATAL 28P01 naming the user, and no handler is created', async () => {
    const c = await attempt('wrong')
    const ms = await c.closed()
    const err = ms.at(-1)
    assert.deepEqual(
      [err?.severity, err?.code, err?.message],
      ['FATAL', '28P01', 'password authentication failed for user "alice"'],
    )
    assert.equal(c.echo.handlers.length, 0)
  })

  it('garbage instead of a SASL response is a protocol violation', async () => {
    const c = new MemoryClient({ scram: await scramVerifier('right') })
    c.send(STARTUP, serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', 'garbage'))
    const ms = await c.closed()
    assert.deepEqual([ms.at(-1)?.code, ms.at(-1)?.message], ['08P01', 'malformed SCRAM message'])
  })

  it('a query before authentication is a protocol violation', async () => {
    const c = new MemoryClient({ scram: await scramVerifier('right') })
    c.send(STARTUP, serialize.query('select 1'))
    const ms = await c.closed()
    assert.equal(ms.at(-1)?.code, '08P01')
  })
})

describe('Connection: simple query', () => {
  it('runs several statements, then ReadyForQuery with the handler status', async () => {
    const c = await connected()
    c.send(serialize.query('begin; select 1; select 2'))
    const ms = await c.ready(2)
    assert.deepEqual(names(ms), [
      'commandComplete',
      'rowDescription',
      'dataRow',
      'commandComplete',
      'rowDescription',
      'dataRow',
      'commandComplete',
      'readyForQuery',
    ])
    assert.equal(ms.at(-1)?.status, 'T')
  })

  it('an empty query gets EmptyQueryResponse even though the handler wrote nothing', async () => {
    const c = await connected()
    c.send(serialize.query(''))
    assert.deepEqual(names(await c.ready(2)), ['emptyQuery', 'readyForQuery'])
  })

  it('an error carries code, message and position, and the connection goes on', async () => {
    const c = await connected()
    c.send(serialize.query('fail'), serialize.query('select 3'))
    const err = await c.ready(2)
    assert.deepEqual([err[0]?.severity, err[0]?.code, err[0]?.position], ['ERROR', '42601', '3'])
    assert.deepEqual(rows(await c.ready(3)), [['3']])
  })

  it('invalid UTF-8 in a query is 22021, not a crash', async () => {
    const c = await connected()
    c.send(Buffer.from([0x51, 0, 0, 0, 8, 0xff, 0xfe, 0x41, 0]))
    const ms = await c.ready(2)
    assert.deepEqual([ms[0]?.code, ms[1]?.name], ['22021', 'readyForQuery'])
  })

  it('notices pass through with their fields', async () => {
    const c = await connected()
    c.send(serialize.query('notice'))
    const ms = await c.ready(2)
    assert.deepEqual(
      [ms[0]?.name, ms[0]?.message, ms[0]?.detail],
      ['notice', 'hello from the echo handler', 'a detail'],
    )
  })
})

describe('Connection: extended protocol', () => {
  it('runs a pipelined Parse/Bind/Describe/Execute with a row limit, resuming the portal', async () => {
    const c = await connected()
    c.send(
      serialize.parse({ name: 's1', text: 'rows 5' }),
      serialize.bind({ portal: 'p1', statement: 's1' }),
      serialize.describe({ type: 'P', name: 'p1' }),
      serialize.execute({ portal: 'p1', rows: 2 }),
      serialize.execute({ portal: 'p1', rows: 2 }),
      serialize.execute({ portal: 'p1', rows: 2 }),
      serialize.sync(),
    )
    const ms = await c.ready(2)
    assert.deepEqual(names(ms), [
      'parseComplete',
      'bindComplete',
      'rowDescription',
      'dataRow',
      'dataRow',
      'portalSuspended',
      'dataRow',
      'dataRow',
      'portalSuspended',
      'dataRow',
      'commandComplete',
      'readyForQuery',
    ])
    assert.deepEqual(rows(ms).flat(), ['1', '2', '3', '4', '5'])
    assert.equal(ofName(ms, 'commandComplete')[0]?.text, 'SELECT 5')
  })

  it('after an error, discards everything until Sync', async () => {
    const c = await connected()
    c.send(
      serialize.parse({ text: 'fail' }),
      serialize.bind({}),
      serialize.describe({ type: 'P' }),
      serialize.execute({}),
      serialize.sync(),
      serialize.parse({ text: 'select 4' }),
      serialize.bind({}),
      serialize.execute({}),
      serialize.sync(),
    )
    assert.deepEqual(names(await c.ready(2)), ['error', 'readyForQuery'])
    assert.deepEqual(names(await c.ready(3)), [
      'parseComplete',
      'bindComplete',
      'dataRow',
      'commandComplete',
      'readyForQuery',
    ])
  })

  it('Describe S reports parameter types and columns; NoData for statements without rows', async () => {
    const c = await connected()
    c.send(
      serialize.parse({ name: 'a', text: 'select $1::text as v, $2::int8' }),
      serialize.describe({ type: 'S', name: 'a' }),
      serialize.parse({ name: 'b', text: 'begin' }),
      serialize.describe({ type: 'S', name: 'b' }),
      serialize.sync(),
    )
    const ms = await c.ready(2)
    const [pd, rd, , pd2, nd] = ms.slice(1)
    assert.deepEqual(pd?.dataTypeIDs, [25, 20])
    assert.deepEqual(
      (rd?.fields as { name: string; dataTypeID: number }[]).map((f) => [f.name, f.dataTypeID]),
      [
        ['v', 25],
        ['int8', 20],
      ],
    )
    assert.deepEqual([pd2?.dataTypeIDs, nd?.name], [[], 'noData'])
  })

  it('refuses to re-Parse an existing named statement (42P05); the unnamed one is replaced', async () => {
    const c = await connected()
    c.send(
      serialize.parse({ name: 'x', text: 'select 1' }),
      serialize.parse({ name: 'x', text: 'select 2' }),
      serialize.sync(),
      serialize.parse({ text: 'select 1' }),
      serialize.parse({ text: 'select 2' }),
      serialize.bind({}),
      serialize.execute({}),
      serialize.sync(),
    )
    const first = await c.ready(2)
    assert.equal(ofName(first, 'error')[0]?.code, '42P05')
    assert.deepEqual(rows(await c.ready(3)), [['2']])
  })

  it('Bind to a missing statement is 26000, Execute of a missing portal is 34000', async () => {
    const c = await connected()
    c.send(
      serialize.bind({ statement: 'nope' }),
      serialize.sync(),
      serialize.execute({ portal: 'nope' }),
      serialize.sync(),
    )
    assert.equal((await c.ready(2))[0]?.code, '26000')
    assert.equal((await c.ready(3))[0]?.code, '34000')
  })

  it('Bind with the wrong parameter count is an error, not the end of the connection', async () => {
    const c = await connected()
    c.send(serialize.parse({ text: 'select $1::text' }), serialize.bind({ values: [] }), serialize.sync())
    const ms = await c.ready(2)
    assert.deepEqual([ms[1]?.severity, ms[1]?.code], ['ERROR', '08P01'])
    assert.match(String(ms[1]?.message), /supplies 0 parameters, but unnamed prepared statement requires 1/)
    assert.equal(c.ended, false)
  })

  it('converts binary parameters to text and sends binary results when asked', async () => {
    const c = await connected()
    const four = Buffer.alloc(4)
    four.writeInt32BE(-7)
    c.send(
      serialize.parse({ text: 'select $1::int4, $2::text' }),
      serialize.bind({ values: [four, 'hé'], binary: true }),
      serialize.describe({ type: 'P' }),
      serialize.execute({}),
      serialize.sync(),
    )
    const ms = await c.ready(2)
    const rd = ofName(ms, 'rowDescription')[0]
    assert.deepEqual(
      (rd?.fields as { format: string }[]).map((f) => f.format),
      ['binary', 'binary'],
    )
    // pg-protocol's parser has no binary mode, so the DataRow is read from the raw bytes.
    const [v1, v2] = rawDataRows(Buffer.concat(c.raw))[0] as Buffer[]
    assert.deepEqual(v1, Buffer.from('fffffff9', 'hex'))
    assert.equal(v2?.toString(), 'hé')
  })

  it('refuses binary results for a type it cannot encode (0A000)', async () => {
    const c = await connected()
    c.send(
      serialize.parse({ text: 'select $1::numeric' }),
      serialize.bind({ values: ['1'], binary: true }),
      serialize.sync(),
    )
    assert.equal(ofName(await c.ready(2), 'error')[0]?.code, '0A000')
  })

  it('sends rows a NoData statement produced anyway', async () => {
    const c = await connected()
    c.send(
      serialize.parse({ text: 'nodata' }),
      serialize.bind({}),
      serialize.describe({ type: 'P' }),
      serialize.execute({}),
      serialize.sync(),
    )
    const ms = await c.ready(2)
    assert.deepEqual(names(ms), [
      'parseComplete',
      'bindComplete',
      'noData',
      'dataRow',
      'commandComplete',
      'readyForQuery',
    ])
    assert.deepEqual(rows(ms), [['surprise']])
  })

  it('Close answers CloseComplete and forgets the statement; portals end at Sync outside a transaction', async () => {
    const c = await connected()
    c.send(
      serialize.parse({ name: 's', text: 'select 1' }),
      serialize.close({ type: 'S', name: 's' }),
      serialize.bind({ statement: 's' }),
      serialize.sync(),
      serialize.parse({ name: 't', text: 'select 1' }),
      serialize.bind({ statement: 't', portal: 'q' }),
      serialize.sync(),
      serialize.execute({ portal: 'q' }),
      serialize.sync(),
    )
    const first = await c.ready(2)
    assert.deepEqual(names(first), ['parseComplete', 'closeComplete', 'error', 'readyForQuery'])
    await c.ready(3)
    assert.equal((await c.ready(4))[0]?.code, '34000')
  })

  it('an Execute without a tag from the handler on an empty statement gives EmptyQueryResponse', async () => {
    const c = await connected()
    c.send(serialize.parse({ text: '' }), serialize.bind({}), serialize.execute({}), serialize.sync())
    assert.deepEqual(names(await c.ready(2)), [
      'parseComplete',
      'bindComplete',
      'emptyQuery',
      'readyForQuery',
    ])
  })
})

describe('Connection: cancel, terminate, bad frames', () => {
  it('a CancelRequest with the right key aborts the running call (57014); a wrong key does nothing', async () => {
    const c = await connected()
    const key = ofName(c.messages, 'backendKeyData')[0] as Msg
    c.send(serialize.query('sleep'))
    await c.until(() => c.echo.handlers[0]?.seen.includes('sleep') ?? false)
    assert.equal(c.cancels.cancel(key.processID as number, (key.secretKey as number) ^ 1), false)
    assert.equal(c.cancels.cancel(key.processID as number, key.secretKey as number), true)
    const ms = await c.ready(2)
    assert.deepEqual([ms[0]?.code, ms[0]?.message], ['57014', 'canceling statement due to user request'])
  })

  it('pauses reading while a call runs and input piles up, and resumes once it is idle', async () => {
    const c = await connected()
    c.send(serialize.query('sleep'))
    await c.until(() => c.echo.handlers[0]?.seen.includes('sleep') ?? false)
    const filler = serialize.query(`select '${'x'.repeat(1000)}'`)
    for (let i = 0; i < 1100 && !c.paused; i++) c.send(filler)
    assert.equal(c.paused, true)
    const key = ofName(c.messages, 'backendKeyData')[0] as Msg
    c.cancels.cancel(key.processID as number, key.secretKey as number)
    await c.until(() => !c.paused && ofName(c.messages, 'readyForQuery').length > 100)
  })

  it('Terminate closes the connection and calls handler.end()', async () => {
    const c = await connected()
    c.send(serialize.end())
    await c.closed()
    await c.connection.finished
    assert.equal(c.echo.handlers[0]?.ended, true)
  })

  it('an unknown message type is FATAL 08P01', async () => {
    const c = await connected()
    c.send(Buffer.from('7a00000004', 'hex'))
    const ms = await c.closed()
    assert.deepEqual([ms.at(-1)?.severity, ms.at(-1)?.code], ['FATAL', '08P01'])
  })

  it('an oversized message is FATAL 08P01 before its body arrives', async () => {
    const c = new MemoryClient({ maxMessageBytes: 200 })
    c.send(STARTUP)
    await c.ready(1)
    c.send(Buffer.from('5100001000', 'hex'))
    const ms = await c.closed()
    assert.match(String(ms.at(-1)?.message), /message length 4092 exceeds the maximum of 200 bytes/)
  })
})
