/**
 * The one table of error kinds. Every front door translates from here and nowhere else:
 * the wire writes `sqlState`, REST maps `httpStatus`, jobs read `retryable`.
 * Messages follow Postgres style: lower case, no trailing period, identifiers in double quotes.
 */

export const ErrorKinds = {
  syntax_error: { sqlState: '42601', httpStatus: 400, retryable: false },
  undefined_object: { sqlState: '42704', httpStatus: 404, retryable: false },
  undefined_table: { sqlState: '42P01', httpStatus: 404, retryable: false },
  duplicate_object: { sqlState: '42710', httpStatus: 409, retryable: false },
  invalid_parameter_value: { sqlState: '22023', httpStatus: 400, retryable: false },
  feature_not_supported: { sqlState: '0A000', httpStatus: 400, retryable: false },
  object_not_in_prerequisite_state: { sqlState: '55000', httpStatus: 409, retryable: false },
  dependent_objects_still_exist: { sqlState: '2BP01', httpStatus: 409, retryable: false },
  invalid_password: { sqlState: '28P01', httpStatus: 401, retryable: false },
  insufficient_privilege: { sqlState: '42501', httpStatus: 422, retryable: false },
  connection_failure: { sqlState: '08006', httpStatus: 422, retryable: true },
  protocol_violation: { sqlState: '08P01', httpStatus: 400, retryable: false },
  program_limit_exceeded: { sqlState: '54000', httpStatus: 413, retryable: false },
  query_canceled: { sqlState: '57014', httpStatus: 500, retryable: true },
  invalid_transaction_state: { sqlState: '25000', httpStatus: 409, retryable: false },
  character_not_in_repertoire: { sqlState: '22021', httpStatus: 400, retryable: false },
  internal_error: { sqlState: 'XX000', httpStatus: 500, retryable: true },
} as const

export type ErrorKind = keyof typeof ErrorKinds

export interface ErrorExtra {
  readonly detail?: string
  readonly hint?: string
  /** 1-based character position in the statement, as Postgres reports it. */
  readonly position?: number
  /** The request field or option key at fault (REST names it in the body). */
  readonly field?: string
}

export class PgMirrorError extends Error {
  readonly kind: ErrorKind
  readonly detail: string | undefined
  readonly hint: string | undefined
  readonly position: number | undefined
  readonly field: string | undefined

  constructor(kind: ErrorKind, message: string, extra: ErrorExtra = {}) {
    super(message)
    this.name = 'PgMirrorError'
    this.kind = kind
    this.detail = extra.detail
    this.hint = extra.hint
    this.position = extra.position
    this.field = extra.field
  }

  get sqlState(): string {
    return ErrorKinds[this.kind].sqlState
  }

  get httpStatus(): number {
    return ErrorKinds[this.kind].httpStatus
  }

  get retryable(): boolean {
    return ErrorKinds[this.kind].retryable
  }
}

export const isPgMirrorError = (e: unknown): e is PgMirrorError => e instanceof PgMirrorError

/** Quote an identifier for an error message, Postgres style. */
export const q = (name: string): string => `"${name}"`

/**
 * Turns anything thrown into our error type. Errors that came back from a Postgres server keep their SQLSTATE
 * so a forwarded query reports exactly what the peer said.
 */
export function toPgMirrorError(e: unknown): PgMirrorError {
  if (e instanceof PgMirrorError) return e
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    const pe = e as { code: string; message?: string; detail?: string; hint?: string; position?: string }
    if (/^[0-9A-Z]{5}$/.test(pe.code)) {
      const err = new PgMirrorError(kindForSqlState(pe.code), pe.message ?? 'error', {
        ...(pe.detail !== undefined ? { detail: pe.detail } : {}),
        ...(pe.hint !== undefined ? { hint: pe.hint } : {}),
      })
      return Object.assign(err, { forwardedSqlState: pe.code })
    }
  }
  const msg = e instanceof Error ? e.message : String(e)
  return new PgMirrorError('internal_error', msg)
}

function kindForSqlState(code: string): ErrorKind {
  for (const [kind, v] of Object.entries(ErrorKinds)) if (v.sqlState === code) return kind as ErrorKind
  if (code.startsWith('08')) return 'connection_failure'
  if (code.startsWith('28')) return 'invalid_password'
  if (code.startsWith('42')) return 'syntax_error'
  return 'internal_error'
}

/** The SQLSTATE to put on the wire: a forwarded peer error keeps the peer's own code. */
export function wireSqlState(e: PgMirrorError): string {
  const fwd = (e as PgMirrorError & { forwardedSqlState?: string }).forwardedSqlState
  return fwd ?? e.sqlState
}
