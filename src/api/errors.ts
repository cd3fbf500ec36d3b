/**
 * Every failure leaves the API as one JSON shape with an honest HTTP status, taken from the error kind table in
 * src/errors.ts. Only faults of our own are 500s, and they are logged, never explained to the client.
 */
import type { ZodError } from 'zod'
import { PgMirrorError, type ErrorKind } from '../errors.ts'
import type { Logger } from '../log.ts'

export interface ErrorBody {
  /** The HTTP status, repeated for clients that only read the body. */
  readonly code: number
  readonly message: string
  /** PeerDB's status enum name where the route has one (`FAILED`, `INVALID`), else the gRPC code name. */
  readonly status: string
  readonly sqlState: string
  readonly field?: string
  readonly hint?: string
  readonly detail?: string
}

/** grpc-gateway's names for the statuses we send, so PeerDB clients that read `status` see familiar values. */
const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  413: 'RESOURCE_EXHAUSTED',
  422: 'FAILED_PRECONDITION',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
}

const FAILED_PRECONDITION: ReadonlySet<ErrorKind> = new Set([
  'object_not_in_prerequisite_state',
  'dependent_objects_still_exist',
  'invalid_transaction_state',
])

const statusName = (e: PgMirrorError): string =>
  FAILED_PRECONDITION.has(e.kind) ? 'FAILED_PRECONDITION' : (STATUS_NAMES[e.httpStatus] ?? 'UNKNOWN')

/** A zod failure as a 400 naming the first offending field, in the camelCase the schemas use. */
export function fromZodError(err: ZodError, where: string): PgMirrorError {
  const issue = err.issues[0]
  const path = [...(issue?.path ?? [])]
  if (issue?.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0])
  const field = path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    '',
  )
  const what = issue?.code === 'unrecognized_keys' ? 'unknown field' : 'invalid value for field'
  const label = field === '' ? `invalid ${where}` : `${what} "${field}"`
  const reason = issue?.code === 'unrecognized_keys' ? '' : `: ${issue?.message ?? 'invalid'}`
  return new PgMirrorError('invalid_parameter_value', `${label}${reason}`, field === '' ? {} : { field })
}

/** What a fastify-level failure (body parsing, size limit) means for the client. */
function fromFrameworkError(err: {
  code?: string
  statusCode?: number
  message?: string
}): PgMirrorError | undefined {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new PgMirrorError('program_limit_exceeded', 'request body is larger than the 1 MiB limit')
  }
  // The router's own refusals (fastify answers 414 and its own body shape when left alone).
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return new PgMirrorError(
      'invalid_parameter_value',
      'a name in the request path is over 100 characters long',
      {
        hint: 'peer and mirror names are at most 63 characters',
      },
    )
  }
  if (err.code === 'FST_ERR_BAD_URL') {
    return new PgMirrorError('protocol_violation', 'the request path is not valid percent-encoded UTF-8')
  }
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return new PgMirrorError('protocol_violation', err.message ?? 'bad request')
  }
  return undefined
}

/** The status and body for anything a route threw. `failStatus` is the route's PeerDB status for failures. */
export function toErrorReply(
  thrown: unknown,
  failStatus: string | undefined,
  log: Logger,
  requestId: string,
): { statusCode: number; body: ErrorBody } {
  let e: PgMirrorError | undefined
  if (thrown instanceof PgMirrorError) e = thrown
  else if (thrown && typeof thrown === 'object') e = fromFrameworkError(thrown)
  if (e === undefined || e.httpStatus >= 500) {
    log.error({ err: thrown, requestId }, 'request failed with an internal error')
    return {
      statusCode: 500,
      body: {
        code: 500,
        message: `internal error; the server log has the details under request id ${requestId}`,
        status: failStatus ?? 'INTERNAL',
        sqlState: 'XX000',
      },
    }
  }
  const status = e.httpStatus
  return {
    statusCode: status,
    body: {
      code: status,
      message: e.message,
      status: status === 401 || status === 413 ? statusName(e) : (failStatus ?? statusName(e)),
      sqlState: e.sqlState,
      ...(e.field !== undefined ? { field: e.field } : {}),
      ...(e.hint !== undefined ? { hint: e.hint } : {}),
      ...(e.detail !== undefined ? { detail: e.detail } : {}),
    },
  }
}
