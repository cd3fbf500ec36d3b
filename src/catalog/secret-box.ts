import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { PgMirrorError } from '../errors.ts'

export interface SealedSecrets {
  readonly encoding: 'plain-json' | 'aes-256-gcm'
  readonly keyId: string
  readonly payload: string
}

export const keyIdOf = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 8)

/** Seals a peer's secret options. The format is documented in migration 0001 and the README. */
export function seal(secrets: Readonly<Record<string, unknown>>, key: Buffer | undefined): SealedSecrets {
  const json = JSON.stringify(secrets)
  if (!key) return { encoding: 'plain-json', keyId: '', payload: json }
  const nonce = randomBytes(12)
  const c = createCipheriv('aes-256-gcm', key, nonce)
  const body = Buffer.concat([c.update(json, 'utf8'), c.final()])
  return {
    encoding: 'aes-256-gcm',
    keyId: keyIdOf(key),
    payload: Buffer.concat([nonce, body, c.getAuthTag()]).toString('base64'),
  }
}

export function unseal(s: SealedSecrets, key: Buffer | undefined): Record<string, unknown> {
  if (s.encoding === 'plain-json') return JSON.parse(s.payload) as Record<string, unknown>
  if (!key) {
    throw new PgMirrorError(
      'object_not_in_prerequisite_state',
      'peer secrets are encrypted but no encryption key is set',
      {
        hint: 'set PGMIRROR_ENCRYPTION_KEY to the key the secrets were written with',
      },
    )
  }
  if (keyIdOf(key) !== s.keyId) {
    throw new PgMirrorError(
      'object_not_in_prerequisite_state',
      'peer secrets were encrypted with a different key',
      {
        detail: `stored key id ${s.keyId}, configured key id ${keyIdOf(key)}`,
        hint: 'set PGMIRROR_ENCRYPTION_KEY to the key the secrets were written with',
      },
    )
  }
  const raw = Buffer.from(s.payload, 'base64')
  const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
  d.setAuthTag(raw.subarray(raw.length - 16))
  const json = Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString('utf8')
  return JSON.parse(json) as Record<string, unknown>
}
