import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PgMirrorError } from '../../../src/errors.ts'
import { decodeFrontend, decodeSaslInitialResponse, decodeStartup } from '../../../src/wire/frontend.ts'

// Fixtures are written out by hand from the protocol docs; these helpers only spell out big-endian integers.
const i16 = (n: number): Buffer => Buffer.from([(n >> 8) & 0xff, n & 0xff])
const i32 = (n: number): Buffer =>
  Buffer.from([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff])
const z = (s: string): Buffer => Buffer.from(`${s}\0`)
const bytes = (...parts: Buffer[]): Buffer => Buffer.concat(parts)
const code = (c: string): number => c.charCodeAt(0)

function sqlStateOf(fn: () => unknown): string {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof PgMirrorError, `expected PgMirrorError, got ${String(e)}`)
    return e.sqlState
  }
  assert.fail('expected an error')
}

describe('decodeStartup', () => {
  it('decodes a 3.0 StartupMessage with its parameters', () => {
    const body = Buffer.from(
      '00030000' + '7573657200' + '616c69636500' + '646174616261736500' + '646200' + '00',
      'hex',
    )
    assert.deepEqual(decodeStartup(body), {
      kind: 'startup',
      major: 3,
      minor: 0,
      params: { user: 'alice', database: 'db' },
    })
  })

  it('reports other protocol versions as they are', () => {
    const req = decodeStartup(Buffer.from('0002000000', 'hex'))
    assert.equal(req.kind === 'startup' && `${req.major}.${req.minor}`, '2.0')
  })

  it('decodes SSLRequest, GSSENCRequest and CancelRequest', () => {
    assert.deepEqual(decodeStartup(Buffer.from('04d2162f', 'hex')), { kind: 'ssl-request' })
    assert.deepEqual(decodeStartup(Buffer.from('04d21630', 'hex')), { kind: 'gssenc-request' })
    assert.deepEqual(decodeStartup(Buffer.from('04d2162e' + '00003039' + 'fffffffe', 'hex')), {
      kind: 'cancel-request',
      processId: 12345,
      secretKey: -2,
    })
  })

  it('refuses trailing bytes and unterminated parameters', () => {
    assert.equal(
      sqlStateOf(() => decodeStartup(Buffer.from('04d2162f00', 'hex'))),
      '08P01',
    )
    assert.equal(
      sqlStateOf(() => decodeStartup(Buffer.from('000300007573', 'hex'))),
      '08P01',
    )
  })
})

describe('decodeFrontend', () => {
  it('decodes Query', () => {
    assert.deepEqual(decodeFrontend(code('Q'), z('select 1')), { kind: 'query', sql: 'select 1' })
  })

  it('answers invalid UTF-8 with 22021 naming the bytes', () => {
    const body = Buffer.from([0x73, 0xc3, 0x28, 0x00])
    assert.throws(
      () => decodeFrontend(code('Q'), body),
      (e: unknown) =>
        e instanceof PgMirrorError &&
        e.sqlState === '22021' &&
        e.message === 'invalid byte sequence for encoding "UTF8": 0xc3 0x28',
    )
  })

  it('refuses a Query with no terminator, or with bytes after it', () => {
    assert.equal(
      sqlStateOf(() => decodeFrontend(code('Q'), Buffer.from('select 1'))),
      '08P01',
    )
    assert.equal(
      sqlStateOf(() => decodeFrontend(code('Q'), Buffer.from('select 1\0x'))),
      '08P01',
    )
  })

  it('decodes Parse with parameter type oids (unsigned)', () => {
    const body = bytes(z('s1'), z('select $1, $2'), i16(2), i32(23), i32(0xfffffffe))
    assert.deepEqual(decodeFrontend(code('P'), body), {
      kind: 'parse',
      name: 's1',
      sql: 'select $1, $2',
      paramTypes: [23, 0xfffffffe],
    })
  })

  it('decodes Bind, expanding a single parameter format code to every parameter', () => {
    const body = bytes(z('p'), z('s'), i16(1), i16(1), i16(2), i32(4), i32(7), i32(-1), i16(1), i16(0))
    assert.deepEqual(decodeFrontend(code('B'), body), {
      kind: 'bind',
      portal: 'p',
      statement: 's',
      paramFormats: [1, 1],
      params: [Buffer.from([0, 0, 0, 7]), null],
      resultFormats: [0],
    })
  })

  it('decodes Bind with no format codes as all text, and per-parameter codes as given', () => {
    const none = decodeFrontend(
      code('B'),
      bytes(z(''), z(''), i16(0), i16(1), i32(1), Buffer.from('x'), i16(0)),
    )
    assert.equal(none.kind === 'bind' && none.paramFormats.join(), '0')
    const each = decodeFrontend(
      code('B'),
      bytes(z(''), z(''), i16(2), i16(0), i16(1), i16(2), i32(0), i32(0), i16(0)),
    )
    assert.equal(each.kind === 'bind' && each.paramFormats.join(), '0,1')
  })

  it('refuses Bind format code 2 (22023) and a format count that matches nothing (08P01)', () => {
    assert.equal(
      sqlStateOf(() => decodeFrontend(code('B'), bytes(z(''), z(''), i16(1), i16(2), i16(0), i16(0)))),
      '22023',
    )
    const mismatched = bytes(z(''), z(''), i16(2), i16(0), i16(0), i16(3), i32(-1), i32(-1), i32(-1), i16(0))
    assert.equal(
      sqlStateOf(() => decodeFrontend(code('B'), mismatched)),
      '08P01',
    )
  })

  it('refuses a Bind whose parameter is longer than the message', () => {
    assert.equal(
      sqlStateOf(() => decodeFrontend(code('B'), bytes(z(''), z(''), i16(0), i16(1), i32(99)))),
      '08P01',
    )
  })

  it('decodes Describe, Execute and Close', () => {
    assert.deepEqual(decodeFrontend(code('D'), bytes(Buffer.from('S'), z('s1'))), {
      kind: 'describe',
      target: 'statement',
      name: 's1',
    })
    assert.deepEqual(decodeFrontend(code('D'), bytes(Buffer.from('P'), z(''))), {
      kind: 'describe',
      target: 'portal',
      name: '',
    })
    assert.deepEqual(decodeFrontend(code('E'), bytes(z('p'), i32(10))), {
      kind: 'execute',
      portal: 'p',
      maxRows: 10,
    })
    assert.deepEqual(decodeFrontend(code('C'), bytes(Buffer.from('P'), z('p'))), {
      kind: 'close',
      target: 'portal',
      name: 'p',
    })
    assert.equal(
      sqlStateOf(() => decodeFrontend(code('D'), bytes(Buffer.from('X'), z('')))),
      '08P01',
    )
  })

  it('decodes the bodiless messages and refuses a body on them', () => {
    assert.deepEqual(decodeFrontend(code('S'), Buffer.alloc(0)), { kind: 'sync' })
    assert.deepEqual(decodeFrontend(code('H'), Buffer.alloc(0)), { kind: 'flush' })
    assert.deepEqual(decodeFrontend(code('X'), Buffer.alloc(0)), { kind: 'terminate' })
    assert.equal(
      sqlStateOf(() => decodeFrontend(code('S'), Buffer.from([0]))),
      '08P01',
    )
  })

  it('keeps password-message bodies raw, and refuses unknown message types', () => {
    assert.deepEqual(decodeFrontend(code('p'), Buffer.from('abc')), {
      kind: 'password',
      body: Buffer.from('abc'),
    })
    assert.throws(
      () => decodeFrontend(code('z'), Buffer.alloc(0)),
      (e: unknown) =>
        e instanceof PgMirrorError && e.sqlState === '08P01' && /message type 122/.test(e.message),
    )
  })
})

describe('decodeSaslInitialResponse', () => {
  it('reads the mechanism and the client-first-message', () => {
    const data = 'n,,n=*,r=abc'
    const body = bytes(z('SCRAM-SHA-256'), i32(data.length), Buffer.from(data))
    assert.deepEqual(decodeSaslInitialResponse(body), { mechanism: 'SCRAM-SHA-256', data })
  })

  it('refuses a length beyond the message', () => {
    assert.equal(
      sqlStateOf(() => decodeSaslInitialResponse(bytes(z('SCRAM-SHA-256'), i32(50), Buffer.from('n,,')))),
      '08P01',
    )
  })
})
