import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'
import { PgMirrorError } from '../errors.ts'

/**
 * SCRAM-SHA-256 server side (RFC 5802, RFC 7677), as Postgres runs it: the user name inside the SCRAM message is
 * ignored (the startup packet names the user), channel binding is not offered, so the client's gs2 flag must be
 * `n` or `y`. Pure apart from random nonces/salts, which callers may inject.
 */

export const SCRAM_MECHANISM = 'SCRAM-SHA-256'
/** Postgres's default scram_iterations. */
export const SCRAM_ITERATIONS = 4096

export interface ScramVerifier {
  readonly salt: Buffer
  readonly iterations: number
  readonly storedKey: Buffer
  readonly serverKey: Buffer
}

/** What the server keeps between its first and final message. */
export interface ScramFirst {
  readonly gs2Header: string
  readonly clientFirstBare: string
  readonly serverFirst: string
  readonly nonce: string
}

export type ScramFinal = { readonly ok: true; readonly serverFinal: string } | { readonly ok: false }

const pbkdf2Async = promisify(pbkdf2)
const hmac = (key: Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest()
const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest()

/** Derived once per server: the password itself is never kept in the exchange. */
export async function scramVerifier(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations = SCRAM_ITERATIONS,
): Promise<ScramVerifier> {
  const salted = await pbkdf2Async(saslPrep(password), salt, iterations, 32, 'sha256')
  return {
    salt,
    iterations,
    storedKey: sha256(hmac(salted, 'Client Key')),
    serverKey: hmac(salted, 'Server Key'),
  }
}

/** client-first-message → server-first-message. Throws 08P01 on a malformed message. */
export function scramServerFirst(
  v: ScramVerifier,
  clientFirst: string,
  serverNonce: string = randomBytes(18).toString('base64'),
): ScramFirst {
  const m = /^(n|y|p=[^,]*),([^,]*),(.*)$/s.exec(clientFirst)
  if (!m) throw malformed('the client-first-message has no GS2 header')
  const [, cbind = '', authzid = '', bare = ''] = m
  if (cbind.startsWith('p='))
    throw malformed('the client requested channel binding, which this server does not offer')
  if (authzid !== '') {
    throw new PgMirrorError(
      'feature_not_supported',
      'client uses authorization identity, but it is not supported',
    )
  }
  const attrs = attributes(bare)
  if (attrs[0]?.key !== 'n' || attrs[1]?.key !== 'r') throw malformed('expected "n=" and "r=" attributes')
  if (attrs.some((a) => a.key === 'm')) throw malformed('mandatory SCRAM extensions are not supported')
  const clientNonce = attrs[1].value
  if (!/^[\x21-\x2b\x2d-\x7e]+$/.test(clientNonce))
    throw malformed('the client nonce is empty or not printable')
  const nonce = clientNonce + serverNonce
  const serverFirst = `r=${nonce},s=${v.salt.toString('base64')},i=${v.iterations}`
  return { gs2Header: `${cbind},${authzid},`, clientFirstBare: bare, serverFirst, nonce }
}

/** client-final-message → server-final-message, or ok:false when the proof does not match the password. */
export function scramServerFinal(v: ScramVerifier, first: ScramFirst, clientFinal: string): ScramFinal {
  const proofAt = clientFinal.lastIndexOf(',p=')
  if (proofAt < 0) throw malformed('the client-final-message has no proof')
  const withoutProof = clientFinal.slice(0, proofAt)
  const attrs = attributes(withoutProof)
  if (attrs[0]?.key !== 'c' || attrs[1]?.key !== 'r') throw malformed('expected "c=" and "r=" attributes')
  if (Buffer.from(attrs[0].value, 'base64').toString('latin1') !== first.gs2Header) {
    throw malformed('SCRAM channel binding check failed')
  }
  if (attrs[1].value !== first.nonce) throw malformed('unexpected SCRAM nonce')
  const proof = base64Exact(clientFinal.slice(proofAt + 3))
  if (proof.length !== 32) throw malformed('the client proof has the wrong length')

  const authMessage = `${first.clientFirstBare},${first.serverFirst},${withoutProof}`
  const clientSignature = hmac(v.storedKey, authMessage)
  const clientKey = Buffer.alloc(32)
  for (let i = 0; i < 32; i++) clientKey[i] = (proof[i] as number) ^ (clientSignature[i] as number)
  if (!timingSafeEqual(sha256(clientKey), v.storedKey)) return { ok: false }
  return { ok: true, serverFinal: `v=${hmac(v.serverKey, authMessage).toString('base64')}` }
}

function attributes(text: string): { key: string; value: string }[] {
  return text.split(',').map((part) => {
    if (!/^[A-Za-z]=/.test(part)) throw malformed(`invalid attribute "${part.slice(0, 20)}"`)
    return { key: part.slice(0, 1), value: part.slice(2) }
  })
}

function base64Exact(text: string): Buffer {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) {
    throw malformed('the client proof is not valid base64')
  }
  return Buffer.from(text, 'base64')
}

const malformed = (detail: string): PgMirrorError =>
  new PgMirrorError('protocol_violation', 'malformed SCRAM message', { detail })

/** RFC 3454 C.1.2: non-ASCII spaces, mapped to U+0020. */
const NON_ASCII_SPACES = new Set([0xa0, 0x1680, 0x202f, 0x205f, 0x3000])
/** RFC 3454 B.1: "commonly mapped to nothing". */
const MAPPED_TO_NOTHING = new Set([
  0xad, 0x34f, 0x1806, 0x180b, 0x180c, 0x180d, 0x200c, 0x200d, 0x2060, 0xfeff,
])

/**
 * SASLprep's mapping and normalization steps (RFC 4013 §2.1–2.2), which is what changes the bytes fed to PBKDF2.
 * Like Postgres and libpq we skip the prohibition checks, so odd passwords still work on both sides.
 */
export function saslPrep(password: string): string {
  let out = ''
  for (const ch of password) {
    const cp = ch.codePointAt(0) as number
    if (NON_ASCII_SPACES.has(cp) || (cp >= 0x2000 && cp <= 0x200b)) out += ' '
    else if (!MAPPED_TO_NOTHING.has(cp) && !(cp >= 0xfe00 && cp <= 0xfe0f)) out += ch
  }
  return out.normalize('NFKC')
}
