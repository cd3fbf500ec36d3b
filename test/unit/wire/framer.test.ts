import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Framer, MAX_STARTUP_PACKET_BYTES, type FramerResult } from '../../../src/wire/framer.ts'

// StartupMessage, protocol 3.0, user=u: length 16 = 4 (length) + 4 (version) + "user\0u\0\0" (8)
const STARTUP = Buffer.from('00000010' + '00030000' + '7573657200' + '7500' + '00', 'hex')
// SSLRequest: length 8, code 80877103
const SSL_REQUEST = Buffer.from('0000000804d2162f', 'hex')
// Query "select 1": 'Q', length 13, "select 1\0"
const QUERY = Buffer.from('510000000d' + Buffer.from('select 1\0').toString('hex'), 'hex')
// Sync: 'S', length 4
const SYNC = Buffer.from('5300000004', 'hex')

function drain(f: Framer): FramerResult[] {
  const out: FramerResult[] = []
  for (let r = f.next(); r !== null; r = f.next()) {
    out.push(r)
    if (r.kind === 'invalid') break
  }
  return out
}

describe('Framer', () => {
  it('reads the untyped startup packet, then typed messages', () => {
    const f = new Framer(1024)
    f.push(Buffer.concat([STARTUP, QUERY]))
    const frames = drain(f)
    assert.equal(frames.length, 2)
    assert.deepEqual(frames[0], { kind: 'untyped', body: STARTUP.subarray(4) })
    assert.deepEqual(frames[1], { kind: 'typed', code: 0x51, body: Buffer.from('select 1\0') })
    assert.equal(f.buffered, 0)
  })

  it('stays untyped after an SSLRequest', () => {
    const f = new Framer(1024)
    f.push(Buffer.concat([SSL_REQUEST, STARTUP, SYNC]))
    const frames = drain(f)
    assert.deepEqual(
      frames.map((r) => r?.kind),
      ['untyped', 'untyped', 'typed'],
    )
  })

  it('assembles messages split across chunks, byte by byte', () => {
    const f = new Framer(1024)
    const all = Buffer.concat([STARTUP, QUERY, SYNC])
    const frames: FramerResult[] = []
    for (const byte of all) {
      f.push(Buffer.from([byte]))
      frames.push(...drain(f))
    }
    assert.deepEqual(
      frames.map((r) => (r?.kind === 'typed' ? String.fromCharCode(r.code) : r?.kind)),
      ['untyped', 'Q', 'S'],
    )
  })

  it('returns every message of a pipelined chunk, keeping a partial tail for later', () => {
    const f = new Framer(1024)
    f.push(STARTUP)
    drain(f)
    const pipeline = Buffer.concat([QUERY, SYNC, QUERY, SYNC, QUERY.subarray(0, 7)])
    f.push(pipeline)
    assert.equal(drain(f).length, 4)
    assert.equal(f.buffered, 7)
    f.push(QUERY.subarray(7))
    const [last] = drain(f)
    assert.deepEqual(last, { kind: 'typed', code: 0x51, body: Buffer.from('select 1\0') })
  })

  it('refuses an oversized message as soon as its header arrives', () => {
    const f = new Framer(100)
    f.push(STARTUP)
    drain(f)
    f.push(Buffer.from('5100000069', 'hex')) // length 105 → body 101 > 100
    const [r] = drain(f)
    assert.equal(r?.kind, 'invalid')
    assert.equal(r?.kind === 'invalid' && r.error.sqlState, '08P01')
    assert.match(r?.kind === 'invalid' ? r.error.message : '', /exceeds the maximum of 100 bytes/)
  })

  it('accepts a message of exactly the maximum size', () => {
    const f = new Framer(100)
    f.push(STARTUP)
    drain(f)
    f.push(Buffer.concat([Buffer.from('5100000068', 'hex'), Buffer.alloc(100)]))
    const [r] = drain(f)
    assert.equal(r?.kind === 'typed' && r.body.length, 100)
  })

  for (const [label, header] of [
    ['negative', '51ffffffff'],
    ['below 4', '5100000003'],
  ] as const) {
    it(`refuses a ${label} length, and stays refused`, () => {
      const f = new Framer(1024)
      f.push(STARTUP)
      drain(f)
      f.push(Buffer.from(header, 'hex'))
      const [r] = drain(f)
      assert.equal(r?.kind === 'invalid' && r.error.sqlState, '08P01')
      f.push(SYNC)
      assert.equal(f.next()?.kind, 'invalid')
    })
  }

  it('refuses startup packets that are too short or too long', () => {
    const short = new Framer(1024)
    short.push(Buffer.from('0000000400030000', 'hex'))
    const [tooShort] = drain(short)
    assert.match(
      tooShort?.kind === 'invalid' ? tooShort.error.message : '',
      /invalid length of startup packet: 4/,
    )
    const first = new Framer(1 << 20)
    first.push(Buffer.from((MAX_STARTUP_PACKET_BYTES + 1).toString(16).padStart(8, '0'), 'hex'))
    const [r] = drain(first)
    assert.equal(r?.kind, 'invalid')
    assert.match(r?.kind === 'invalid' ? r.error.message : '', /invalid length of startup packet/)
  })

  it('refuses HTTP garbage sent instead of a startup packet', () => {
    const f = new Framer(64 * 1024 * 1024)
    f.push(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))
    const [r] = drain(f)
    assert.equal(r?.kind === 'invalid' && r.error.sqlState, '08P01')
  })
})
