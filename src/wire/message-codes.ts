/**
 * Every message code of the v3 protocol that the server reads or writes, named once.
 * Reference: https://www.postgresql.org/docs/current/protocol-message-formats.html
 */

const code = (c: string): number => c.charCodeAt(0)

/** Type bytes of messages the client sends after the startup packet. */
export const FrontendCode = {
  bind: code('B'),
  close: code('C'),
  copyData: code('d'),
  copyDone: code('c'),
  copyFail: code('f'),
  describe: code('D'),
  execute: code('E'),
  flush: code('H'),
  functionCall: code('F'),
  parse: code('P'),
  /** PasswordMessage, SASLInitialResponse and SASLResponse share this byte; the auth step tells which it is. */
  password: code('p'),
  query: code('Q'),
  sync: code('S'),
  terminate: code('X'),
} as const

/** Type bytes of messages the server sends. */
export const BackendCode = {
  authentication: code('R'),
  backendKeyData: code('K'),
  bindComplete: code('2'),
  closeComplete: code('3'),
  commandComplete: code('C'),
  dataRow: code('D'),
  emptyQueryResponse: code('I'),
  errorResponse: code('E'),
  negotiateProtocolVersion: code('v'),
  noData: code('n'),
  noticeResponse: code('N'),
  parameterDescription: code('t'),
  parameterStatus: code('S'),
  parseComplete: code('1'),
  portalSuspended: code('s'),
  readyForQuery: code('Z'),
  rowDescription: code('T'),
} as const

/** The int32 after an Authentication ('R') message's length. */
export const AuthCode = {
  ok: 0,
  sasl: 10,
  saslContinue: 11,
  saslFinal: 12,
} as const

/**
 * The int32 that starts an untyped startup-phase packet: a protocol version, or one of the special request codes
 * (1234 in the high 16 bits so no real protocol version can collide with them).
 */
export const StartupCode = {
  protocol30: 3 << 16,
  cancelRequest: 80877102,
  sslRequest: 80877103,
  gssEncRequest: 80877104,
} as const

/** Fields of ErrorResponse and NoticeResponse. */
export const ErrorField = {
  severity: code('S'),
  /** The same severity, never localized (PostgreSQL 9.6+); clients prefer it when present. */
  severityNonLocalized: code('V'),
  code: code('C'),
  message: code('M'),
  detail: code('D'),
  hint: code('H'),
  position: code('P'),
} as const

/** Describe and Close name their target with one byte. */
export const TargetCode = {
  statement: code('S'),
  portal: code('P'),
} as const

/** The one-byte answers to SSLRequest and GSSENCRequest (not framed messages). */
export const NegotiationAnswer = {
  accept: Buffer.from('S'),
  refuse: Buffer.from('N'),
} as const

/** Format codes in Bind and RowDescription. */
export const FormatCode = {
  text: 0,
  binary: 1,
} as const
