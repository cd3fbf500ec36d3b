import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { PgMirrorError } from '../../../src/errors.ts'
import { saslPrep, scramServerFinal, scramServerFirst, scramVerifier } from '../../../src/wire/scram.ts'

/** node-postgres's own SCRAM client is the oracle for our server side. */
interface ClientSession {
  response: string
  message: string
}
const sasl = createRequire(import.meta.url)('pg/lib/crypto/sasl.js') as {
  startSession(mechanisms: string[], stream?: object): ClientSession
  continueSession(
    session: ClientSession,
    password: string,
    serverData: string,
    stream?: object,
  ): Promise<void>
  finalizeSession(session: ClientSession, serverData: string): void
}

const isMalformed = (e: unknown): boolean =>
  e instanceof PgMirrorError && e.sqlState === '08P01' && e.message === 'malformed SCRAM message'

describe('SCRAM-SHA-256 server', () => {
  it('completes an exchange with the pg client, which verifies our server signature', async () => {
    const v = await scramVerifier('sekrit')
    const client = sasl.startSession(['SCRAM-SHA-256'])
    const first = scramServerFirst(v, client.response)
    assert.match(first.serverFirst, /^r=[^,]+,s=[A-Za-z0-9+/=]+,i=4096$/)
    await sasl.continueSession(client, 'sekrit', first.serverFirst)
    const final = scramServerFinal(v, first, client.response)
    assert.equal(final.ok, true)
    assert.doesNotThrow(() => sasl.finalizeSession(client, final.ok ? final.serverFinal : ''))
  })

  it('accepts the "y" flag a TLS client sends when channel binding is not offered', async () => {
    const v = await scramVerifier('sekrit')
    const stream = {}
    const client = sasl.startSession(['SCRAM-SHA-256'], stream)
    assert.match(client.response, /^y,,/)
    const first = scramServerFirst(v, client.response)
    await sasl.continueSession(client, 'sekrit', first.serverFirst, stream)
    assert.equal(scramServerFinal(v, first, client.response).ok, true)
  })

  it('rejects a wrong password without throwing', async () => {
    const v = await scramVerifier('sekrit')
    const client = sasl.startSession(['SCRAM-SHA-256'])
    const first = scramServerFirst(v, client.response)
    await sasl.continueSession(client, 'wrong', first.serverFirst)
    assert.deepEqual(scramServerFinal(v, first, client.response), { ok: false })
  })

  it('normalizes the password like the client (SASLprep), so non-ASCII spaces match', async () => {
    const v = await scramVerifier('a\u00a0b')
    const client = sasl.startSession(['SCRAM-SHA-256'])
    const first = scramServerFirst(v, client.response)
    await sasl.continueSession(client, 'a b', first.serverFirst)
    assert.equal(scramServerFinal(v, first, client.response).ok, true)
  })

  it('refuses a changed nonce, a wrong channel-binding echo and a broken proof as malformed', async () => {
    const v = await scramVerifier('sekrit')
    const client = sasl.startSession(['SCRAM-SHA-256'])
    const first = scramServerFirst(v, client.response)
    await sasl.continueSession(client, 'sekrit', first.serverFirst)
    const final = client.response
    assert.throws(() => scramServerFinal(v, first, final.replace(/,r=([^,]+)/, ',r=$1x')), isMalformed)
    assert.throws(() => scramServerFinal(v, first, final.replace(/^c=biws/, 'c=eSws')), isMalformed)
    assert.throws(() => scramServerFinal(v, first, final.replace(/,p=.*$/, ',p=!!!')), isMalformed)
    assert.throws(() => scramServerFinal(v, first, final.replace(/,p=.*$/, '')), isMalformed)
    assert.throws(() => scramServerFinal(v, first, 'garbage'), isMalformed)
  })

  it('refuses malformed client-first messages', async () => {
    const v = await scramVerifier('sekrit')
    for (const bad of [
      '',
      'garbage',
      'n,,r=abc',
      'n,,n=,r=',
      'p=tls-server-end-point,,n=,r=abc',
      'n,,n=,r=abc,m=ext',
    ]) {
      assert.throws(() => scramServerFirst(v, bad), isMalformed, bad)
    }
    assert.throws(
      () => scramServerFirst(v, 'n,a=someone,n=,r=abc'),
      (e: unknown) => e instanceof PgMirrorError && e.sqlState === '0A000',
    )
  })

  it('builds the server nonce from the client nonce plus its own', async () => {
    const v = await scramVerifier('x', Buffer.from('salt'), 4096)
    const first = scramServerFirst(v, 'n,,n=,r=client', 'server')
    assert.equal(first.serverFirst, `r=clientserver,s=${Buffer.from('salt').toString('base64')},i=4096`)
    assert.equal(first.gs2Header, 'n,,')
  })
})

describe('saslPrep', () => {
  it('maps non-ASCII spaces to space, drops mapped-to-nothing characters, applies NFKC', () => {
    assert.equal(saslPrep('a\u2003b'), 'a b')
    assert.equal(saslPrep('a\u00adb\u200d'), 'ab')
    assert.equal(saslPrep('\u2168'), 'IX')
    assert.equal(saslPrep('plain'), 'plain')
  })
})
