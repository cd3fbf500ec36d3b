import { PgMirrorError } from '../errors.ts'
import { BufferReader } from './buffer-reader.ts'
import { FormatCode, FrontendCode, StartupCode, TargetCode } from './message-codes.ts'

/**
 * Frame → message, pure. Decoders throw PgMirrorError: `protocol_violation` means the stream can no longer be
 * trusted (the connection closes); any other kind (bad UTF-8, bad format code) fails only that message.
 */

export type StartupRequest =
  | { readonly kind: 'ssl-request' }
  | { readonly kind: 'gssenc-request' }
  | { readonly kind: 'cancel-request'; readonly processId: number; readonly secretKey: number }
  | {
      readonly kind: 'startup'
      readonly major: number
      readonly minor: number
      readonly params: Readonly<Record<string, string>>
    }

export type DescribeTarget = 'statement' | 'portal'

export type FrontendMessage =
  | { readonly kind: 'query'; readonly sql: string }
  | {
      readonly kind: 'parse'
      readonly name: string
      readonly sql: string
      readonly paramTypes: readonly number[]
    }
  | {
      readonly kind: 'bind'
      readonly portal: string
      readonly statement: string
      /** one format per parameter, already expanded from the 0/1/n-code forms */
      readonly paramFormats: readonly number[]
      readonly params: readonly (Buffer | null)[]
      /** as sent: empty = all text, one = applies to all columns, else one per column */
      readonly resultFormats: readonly number[]
    }
  | { readonly kind: 'describe'; readonly target: DescribeTarget; readonly name: string }
  | { readonly kind: 'execute'; readonly portal: string; readonly maxRows: number }
  | { readonly kind: 'close'; readonly target: DescribeTarget; readonly name: string }
  | { readonly kind: 'flush' }
  | { readonly kind: 'sync' }
  | { readonly kind: 'terminate' }
  /** PasswordMessage / SASLInitialResponse / SASLResponse: only the auth step knows which, so it decodes the body */
  | { readonly kind: 'password'; readonly body: Buffer }
  /** COPY sub-protocol messages; we never start COPY, and Postgres ignores these outside it */
  | { readonly kind: 'copy' }
  | { readonly kind: 'function-call' }

export function decodeStartup(body: Buffer): StartupRequest {
  const r = new BufferReader(body)
  const request = r.int32()
  switch (request) {
    case StartupCode.sslRequest:
      r.end()
      return { kind: 'ssl-request' }
    case StartupCode.gssEncRequest:
      r.end()
      return { kind: 'gssenc-request' }
    case StartupCode.cancelRequest: {
      const processId = r.int32()
      const secretKey = r.int32()
      r.end()
      return { kind: 'cancel-request', processId, secretKey }
    }
  }
  const major = request >>> 16
  const minor = request & 0xffff
  // Other major versions lay out the rest differently; the caller refuses them by version alone.
  if (major !== 3) return { kind: 'startup', major, minor, params: {} }
  const params: Record<string, string> = {}
  while (true) {
    const key = r.cstring()
    if (key === '') break
    params[key] = r.cstring()
  }
  r.end()
  return { kind: 'startup', major, minor, params }
}

export function decodeFrontend(code: number, body: Buffer): FrontendMessage {
  const r = new BufferReader(body)
  const msg = decodeBody(code, r)
  r.end()
  return msg
}

function decodeBody(code: number, r: BufferReader): FrontendMessage {
  switch (code) {
    case FrontendCode.query:
      return { kind: 'query', sql: r.cstring() }
    case FrontendCode.parse: {
      const name = r.cstring()
      const sql = r.cstring()
      const paramTypes = Array.from({ length: count(r) }, () => r.uint32())
      return { kind: 'parse', name, sql, paramTypes }
    }
    case FrontendCode.bind:
      return decodeBind(r)
    case FrontendCode.describe:
      return { kind: 'describe', target: target(r.byte()), name: r.cstring() }
    case FrontendCode.execute:
      return { kind: 'execute', portal: r.cstring(), maxRows: r.int32() }
    case FrontendCode.close:
      return { kind: 'close', target: target(r.byte()), name: r.cstring() }
    case FrontendCode.flush:
      return { kind: 'flush' }
    case FrontendCode.sync:
      return { kind: 'sync' }
    case FrontendCode.terminate:
      return { kind: 'terminate' }
    case FrontendCode.password:
      return { kind: 'password', body: r.bytes(r.remaining) }
    case FrontendCode.copyData:
    case FrontendCode.copyDone:
    case FrontendCode.copyFail:
      r.bytes(r.remaining)
      return { kind: 'copy' }
    case FrontendCode.functionCall:
      r.bytes(r.remaining)
      return { kind: 'function-call' }
    default:
      throw new PgMirrorError('protocol_violation', `invalid frontend message type ${code}`)
  }
}

function decodeBind(r: BufferReader): FrontendMessage {
  const portal = r.cstring()
  const statement = r.cstring()
  const formatCodes = Array.from({ length: count(r) }, () => format(r.int16()))
  const params = Array.from({ length: count(r) }, () => {
    const len = r.int32()
    return len === -1 ? null : r.bytes(len)
  })
  const resultFormats = Array.from({ length: count(r) }, () => format(r.int16()))
  if (formatCodes.length > 1 && formatCodes.length !== params.length) {
    throw new PgMirrorError(
      'protocol_violation',
      `bind message has ${formatCodes.length} parameter formats but ${params.length} parameters`,
    )
  }
  const paramFormats = params.map((_, i) => formatCodes[formatCodes.length === 1 ? 0 : i] ?? FormatCode.text)
  return { kind: 'bind', portal, statement, paramFormats, params, resultFormats }
}

function count(r: BufferReader): number {
  const n = r.int16()
  if (n < 0) throw new PgMirrorError('protocol_violation', 'invalid message format')
  return n
}

function format(code: number): number {
  if (code !== FormatCode.text && code !== FormatCode.binary) {
    throw new PgMirrorError('invalid_parameter_value', `unsupported format code: ${code}`)
  }
  return code
}

function target(code: number): DescribeTarget {
  if (code === TargetCode.statement) return 'statement'
  if (code === TargetCode.portal) return 'portal'
  throw new PgMirrorError('protocol_violation', `invalid DESCRIBE/CLOSE message subtype ${code}`)
}

/** SASLInitialResponse: the mechanism chosen and the client-first-message. */
export function decodeSaslInitialResponse(body: Buffer): {
  readonly mechanism: string
  readonly data: string
} {
  const r = new BufferReader(body)
  const mechanism = r.cstring()
  const len = r.int32()
  const data = len === -1 ? '' : r.bytes(len).toString('utf8')
  r.end()
  return { mechanism, data }
}
