import { BufferWriter } from './buffer-writer.ts'
import { AuthCode, BackendCode, ErrorField, FormatCode } from './message-codes.ts'
import type { FieldDescription } from './session.ts'

/** One pure encoder per backend message. Each returns the complete framed message. */

/** The fields of ErrorResponse / NoticeResponse that we send. */
export interface ErrorFields {
  readonly severity: 'ERROR' | 'FATAL' | 'NOTICE' | 'WARNING' | 'INFO'
  readonly code: string
  readonly message: string
  readonly detail?: string | undefined
  readonly hint?: string | undefined
  readonly position?: number | undefined
}

const empty = (code: number): Buffer => new BufferWriter(8).message(code)

export const authenticationOk = (): Buffer =>
  new BufferWriter(16).int32(AuthCode.ok).message(BackendCode.authentication)

export function authenticationSasl(mechanisms: readonly string[]): Buffer {
  const w = new BufferWriter().int32(AuthCode.sasl)
  for (const m of mechanisms) w.cstring(m)
  return w.int8(0).message(BackendCode.authentication)
}

export const authenticationSaslContinue = (data: string): Buffer =>
  new BufferWriter().int32(AuthCode.saslContinue).string(data).message(BackendCode.authentication)

export const authenticationSaslFinal = (data: string): Buffer =>
  new BufferWriter().int32(AuthCode.saslFinal).string(data).message(BackendCode.authentication)

export const parameterStatus = (name: string, value: string): Buffer =>
  new BufferWriter().cstring(name).cstring(value).message(BackendCode.parameterStatus)

export const backendKeyData = (processId: number, secretKey: number): Buffer =>
  new BufferWriter(16).int32(processId).int32(secretKey).message(BackendCode.backendKeyData)

/** Sent when the client asks for a newer 3.x minor version or `_pq_.` options we do not know. */
export function negotiateProtocolVersion(minor: number, unknownOptions: readonly string[]): Buffer {
  const w = new BufferWriter().int32(minor).int32(unknownOptions.length)
  for (const o of unknownOptions) w.cstring(o)
  return w.message(BackendCode.negotiateProtocolVersion)
}

export const readyForQuery = (status: 'I' | 'T' | 'E'): Buffer =>
  new BufferWriter(8).int8(status.charCodeAt(0)).message(BackendCode.readyForQuery)

/** `formats[i]` is the format of column i (text when absent). */
export function rowDescription(fields: readonly FieldDescription[], formats: readonly number[] = []): Buffer {
  const w = new BufferWriter(32 + fields.length * 32).int16(fields.length)
  fields.forEach((f, i) => {
    w.cstring(f.name)
      .int32(f.tableOid ?? 0)
      .int16(f.columnAttr ?? 0)
      .int32(f.typeOid)
      .int16(f.typeSize ?? -1)
      .int32(f.typeMod ?? -1)
      .int16(formats[i] ?? FormatCode.text)
  })
  return w.message(BackendCode.rowDescription)
}

export function parameterDescription(typeOids: readonly number[]): Buffer {
  const w = new BufferWriter(8 + typeOids.length * 4).int16(typeOids.length)
  for (const oid of typeOids) w.int32(oid | 0)
  return w.message(BackendCode.parameterDescription)
}

/** Values are text (encoded as UTF-8), already-encoded binary, or null. Sized exactly, so one allocation per row. */
export function dataRow(values: readonly (string | Buffer | null)[]): Buffer {
  let size = 7
  for (const v of values)
    size += 4 + (v === null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length)
  const out = Buffer.allocUnsafe(size)
  out[0] = BackendCode.dataRow
  out.writeInt32BE(size - 1, 1)
  out.writeInt16BE(values.length, 5)
  let at = 7
  for (const v of values) {
    if (v === null) {
      out.writeInt32BE(-1, at)
      at += 4
    } else if (typeof v === 'string') {
      const len = out.write(v, at + 4, 'utf8')
      out.writeInt32BE(len, at)
      at += 4 + len
    } else {
      out.writeInt32BE(v.length, at)
      out.set(v, at + 4)
      at += 4 + v.length
    }
  }
  return out
}

export const commandComplete = (tag: string): Buffer =>
  new BufferWriter().cstring(tag).message(BackendCode.commandComplete)

export const emptyQueryResponse = (): Buffer => empty(BackendCode.emptyQueryResponse)
export const parseComplete = (): Buffer => empty(BackendCode.parseComplete)
export const bindComplete = (): Buffer => empty(BackendCode.bindComplete)
export const closeComplete = (): Buffer => empty(BackendCode.closeComplete)
export const noData = (): Buffer => empty(BackendCode.noData)
export const portalSuspended = (): Buffer => empty(BackendCode.portalSuspended)

export const errorResponse = (f: ErrorFields): Buffer => fields(BackendCode.errorResponse, f)
export const noticeResponse = (f: ErrorFields): Buffer => fields(BackendCode.noticeResponse, f)

function fields(code: number, f: ErrorFields): Buffer {
  const w = new BufferWriter()
  w.int8(ErrorField.severity).cstring(f.severity)
  w.int8(ErrorField.severityNonLocalized).cstring(f.severity)
  w.int8(ErrorField.code).cstring(f.code)
  w.int8(ErrorField.message).cstring(f.message)
  if (f.detail !== undefined) w.int8(ErrorField.detail).cstring(f.detail)
  if (f.hint !== undefined) w.int8(ErrorField.hint).cstring(f.hint)
  if (f.position !== undefined) w.int8(ErrorField.position).cstring(String(f.position))
  return w.int8(0).message(code)
}
