import { PgMirrorError, toPgMirrorError, wireSqlState } from '../errors.ts'
import type { ErrorExtra } from '../errors.ts'
import type { ErrorFields } from './backend.ts'

/** Anything thrown → ErrorResponse fields. The single place where the wire maps errors to SQLSTATEs. */
export function errorFields(e: unknown, severity: 'ERROR' | 'FATAL'): ErrorFields {
  const err = toPgMirrorError(e)
  return {
    severity,
    code: wireSqlState(err),
    message: err.message,
    detail: err.detail,
    hint: err.hint,
    position: err.position,
  }
}

/**
 * An error with a protocol-level SQLSTATE that has no kind of its own in errors.ts (26000 unknown statement,
 * 34000 unknown portal, 42P05/42P03 duplicates, 22P03 bad binary data, 28000 no user). It travels as a forwarded
 * SQLSTATE, the same path a Postgres peer's own error takes.
 */
export function sqlStateError(sqlState: string, message: string, extra: ErrorExtra = {}): PgMirrorError {
  const err = toPgMirrorError({ code: sqlState, message, detail: extra.detail, hint: extra.hint })
  return extra.position === undefined ? err : Object.assign(err, { position: extra.position })
}

/** Protocol violations leave the byte stream in an unknown state: they end the connection. */
export const isFatal = (e: unknown): boolean => e instanceof PgMirrorError && e.kind === 'protocol_violation'

export const queryCanceled = (): PgMirrorError =>
  new PgMirrorError('query_canceled', 'canceling statement due to user request')
