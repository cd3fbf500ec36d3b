import { PgMirrorError } from '../errors.ts'
import { authenticationSaslContinue, authenticationSaslFinal } from './backend.ts'
import { decodeSaslInitialResponse } from './frontend.ts'
import { FrontendCode } from './message-codes.ts'
import {
  SCRAM_MECHANISM,
  scramServerFinal,
  scramServerFirst,
  type ScramFirst,
  type ScramVerifier,
} from './scram.ts'

/**
 * One client message of the SASL exchange → the server's reply, pure. Throws PgMirrorError, always fatal here:
 * 08P01 for anything malformed or out of place, 28P01 for a wrong password.
 */
export type SaslStep =
  | { readonly kind: 'continue'; readonly reply: Buffer; readonly scram: ScramFirst }
  | { readonly kind: 'authenticated'; readonly reply: Buffer }

export function saslStep(
  verifier: ScramVerifier,
  scram: ScramFirst | null,
  user: string,
  code: number,
  body: Buffer,
): SaslStep {
  if (code !== FrontendCode.password) {
    const got = String.fromCharCode(code)
    throw new PgMirrorError('protocol_violation', `expected SASL response, got message type "${got}"`)
  }
  if (scram === null) {
    const initial = decodeSaslInitialResponse(body)
    if (initial.mechanism !== SCRAM_MECHANISM) {
      throw new PgMirrorError(
        'protocol_violation',
        'client selected an invalid SASL authentication mechanism',
      )
    }
    const first = scramServerFirst(verifier, initial.data)
    return { kind: 'continue', reply: authenticationSaslContinue(first.serverFirst), scram: first }
  }
  const result = scramServerFinal(verifier, scram, body.toString('utf8'))
  if (!result.ok)
    throw new PgMirrorError('invalid_password', `password authentication failed for user "${user}"`)
  return { kind: 'authenticated', reply: authenticationSaslFinal(result.serverFinal) }
}
