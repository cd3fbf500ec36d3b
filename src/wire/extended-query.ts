import { PgMirrorError } from '../errors.ts'
import {
  bindComplete,
  closeComplete,
  commandComplete,
  dataRow,
  emptyQueryResponse,
  noData,
  noticeResponse,
  parameterDescription,
  parseComplete,
  portalSuspended,
  rowDescription,
} from './backend.ts'
import { binaryParamToText, canSendBinary, textToBinary } from './binary-format.ts'
import { decodeUtf8 } from './buffer-reader.ts'
import { sqlStateError } from './error-fields.ts'
import type { FrontendMessage } from './frontend.ts'
import { FormatCode } from './message-codes.ts'
import type { Output } from './output.ts'
import { noticeFields } from './simple-query.ts'
import type { FieldDescription, ResultWriter, SessionHandler } from './session.ts'

/**
 * The extended query protocol's bookkeeping: prepared statements and portals, parameter and result formats, and
 * row limits. The handler sees only SQL and text parameters. Methods throw on error; the connection answers with
 * ErrorResponse and skips to Sync.
 */

type Msg<K extends FrontendMessage['kind']> = Extract<FrontendMessage, { kind: K }>

interface Statement {
  readonly sql: string
  readonly paramTypes: readonly number[]
  readonly fields: readonly FieldDescription[] | null
}

interface Portal {
  readonly statement: Statement
  readonly params: readonly (string | null)[]
  /** per column; empty when the statement has no fields */
  readonly formats: readonly number[]
  state: 'new' | 'suspended' | 'done'
  /** encoded DataRows beyond an Execute's row limit, sent by later Executes */
  pending: Buffer[]
  /** what ends the result once every row is sent: the handler's tag, or EmptyQueryResponse */
  ending: { readonly kind: 'complete'; readonly tag: string } | { readonly kind: 'empty' }
}

const statementLabel = (name: string): string =>
  name === '' ? 'unnamed prepared statement' : `prepared statement "${name}"`

export class ExtendedQuery {
  readonly #statements = new Map<string, Statement>()
  readonly #portals = new Map<string, Portal>()
  readonly #handler: SessionHandler
  readonly #output: Output

  constructor(handler: SessionHandler, output: Output) {
    this.#handler = handler
    this.#output = output
  }

  async parse(msg: Msg<'parse'>, signal: AbortSignal): Promise<void> {
    if (msg.name === '') this.#statements.delete('')
    else if (this.#statements.has(msg.name)) {
      throw sqlStateError('42P05', `prepared statement "${msg.name}" already exists`)
    }
    const info = await this.#handler.prepare(msg.sql, msg.paramTypes, signal)
    const count = Math.max(info.paramTypes.length, msg.paramTypes.length)
    const paramTypes = Array.from({ length: count }, (_, i) => info.paramTypes[i] || msg.paramTypes[i] || 0)
    this.#statements.set(msg.name, { sql: msg.sql, paramTypes, fields: info.fields })
    this.#output.send(parseComplete())
  }

  bind(msg: Msg<'bind'>): void {
    const statement = this.#statements.get(msg.statement)
    if (!statement) throw sqlStateError('26000', `${statementLabel(msg.statement)} does not exist`)
    if (msg.portal !== '' && this.#portals.has(msg.portal)) {
      throw sqlStateError('42P03', `cursor "${msg.portal}" already exists`)
    }
    if (msg.params.length !== statement.paramTypes.length) {
      throw new PgMirrorError(
        'protocol_violation',
        `bind message supplies ${msg.params.length} parameters, but ${statementLabel(msg.statement)} requires ${statement.paramTypes.length}`,
      )
    }
    const params = msg.params.map((raw, i) => {
      if (raw === null) return null
      if (msg.paramFormats[i] === FormatCode.binary)
        return binaryParamToText(statement.paramTypes[i] ?? 0, raw, i)
      return decodeUtf8(raw)
    })
    const formats = resultFormats(statement.fields, msg.resultFormats)
    this.#portals.set(msg.portal, {
      statement,
      params,
      formats,
      state: 'new',
      pending: [],
      ending: { kind: 'empty' },
    })
    this.#output.send(bindComplete())
  }

  describe(msg: Msg<'describe'>): void {
    if (msg.target === 'statement') {
      const statement = this.#statements.get(msg.name)
      if (!statement) throw sqlStateError('26000', `${statementLabel(msg.name)} does not exist`)
      this.#output.send(parameterDescription(statement.paramTypes))
      this.#output.send(statement.fields ? rowDescription(statement.fields) : noData())
      return
    }
    const portal = this.#portal(msg.name)
    const fields = portal.statement.fields
    this.#output.send(fields ? rowDescription(fields, portal.formats) : noData())
  }

  async execute(msg: Msg<'execute'>, signal: AbortSignal): Promise<void> {
    const portal = this.#portal(msg.portal)
    const limit = msg.maxRows > 0 ? msg.maxRows : Infinity
    if (portal.state === 'new') {
      portal.state = 'suspended'
      try {
        await this.#run(portal, limit, signal)
      } catch (e) {
        // A failed portal cannot be resumed; Postgres drops it too.
        this.#portals.delete(msg.portal)
        throw e
      }
    } else {
      const batch = portal.pending.splice(0, limit)
      for (const row of batch) this.#output.send(row)
    }
    if (portal.pending.length > 0) {
      this.#output.send(portalSuspended())
      return
    }
    portal.state = 'done'
    this.#output.send(
      portal.ending.kind === 'complete' ? commandComplete(portal.ending.tag) : emptyQueryResponse(),
    )
  }

  close(msg: Msg<'close'>): void {
    if (msg.target === 'statement') this.#statements.delete(msg.name)
    else this.#portals.delete(msg.name)
    this.#output.send(closeComplete())
  }

  /** At Sync outside a transaction block the implicit transaction ends, and portals end with it (as in Postgres). */
  sync(status: 'I' | 'T' | 'E'): void {
    if (status === 'I') this.#portals.clear()
  }

  /** A simple Query replaces the unnamed statement and portal. */
  forgetUnnamed(): void {
    this.#statements.delete('')
    this.#portals.delete('')
  }

  #portal(name: string): Portal {
    const portal = this.#portals.get(name)
    if (!portal) throw sqlStateError('34000', `portal "${name}" does not exist`)
    return portal
  }

  /** Runs the handler once; rows past the limit are kept encoded for the next Execute of this portal. */
  async #run(portal: Portal, limit: number, signal: AbortSignal): Promise<void> {
    const { fields } = portal.statement
    let open = true
    let sent = 0
    let rows = 0
    let tag: string | undefined
    const out: ResultWriter = {
      columns: () => {},
      row: (values) => {
        if (!open) return
        rows++
        const encoded = dataRow(encodeRow(values, fields, portal.formats))
        if (sent < limit) {
          sent++
          this.#output.send(encoded)
        } else {
          portal.pending.push(encoded)
        }
      },
      complete: (t) => {
        if (open) tag = t
      },
      notice: (n) => {
        if (!open) return
        this.#output.send(noticeResponse(noticeFields(n)))
        this.#output.flush()
      },
      emptyQuery: () => {},
      drained: () => this.#output.drained(),
    }
    try {
      await this.#handler.execute(portal.statement.sql, portal.params, out, signal)
    } finally {
      open = false
    }
    if (tag !== undefined) portal.ending = { kind: 'complete', tag }
    else if (rows > 0) portal.ending = { kind: 'complete', tag: `SELECT ${rows}` }
  }
}

/** Bind's 0/1/n result format codes → one per column, refusing binary where we cannot produce it. */
function resultFormats(fields: readonly FieldDescription[] | null, codes: readonly number[]): number[] {
  if (!fields) return []
  if (codes.length > 1 && codes.length !== fields.length) {
    throw new PgMirrorError(
      'protocol_violation',
      `bind message has ${codes.length} result formats but query has ${fields.length} columns`,
    )
  }
  return fields.map((f, i) => {
    const format = codes.length === 0 ? FormatCode.text : (codes[codes.length === 1 ? 0 : i] as number)
    if (format === FormatCode.binary && !canSendBinary(f.typeOid)) {
      throw new PgMirrorError(
        'feature_not_supported',
        `binary result format is not supported for column "${f.name}" (type oid ${f.typeOid})`,
        { hint: 'request text format for this column' },
      )
    }
    return format
  })
}

function encodeRow(
  values: readonly (string | null)[],
  fields: readonly FieldDescription[] | null,
  formats: readonly number[],
): (string | Buffer | null)[] {
  if (!fields || !formats.includes(FormatCode.binary)) return values as (string | null)[]
  return values.map((v, i) => {
    const field = fields[i]
    return v === null || formats[i] !== FormatCode.binary || !field ? v : textToBinary(field.typeOid, v)
  })
}
