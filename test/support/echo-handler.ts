import { PgMirrorError } from '../../src/errors.ts'
import type { FieldDescription, PreparedInfo, ResultWriter, SessionHandler } from '../../src/wire/session.ts'

/**
 * A tiny SessionHandler for wire tests. It understands:
 *   select <item>[, <item>…]   item = integer | 'text' | null | $n::type, each optionally "as name"
 *   begin | start transaction | commit | end | rollback   (tracks the transaction status)
 *   fail       → 42601 with position 3 (and marks an open transaction failed)
 *   sleep      → waits until the AbortSignal fires (for cancel tests)
 *   notice     → a NoticeResponse, then 'DO'
 *   rows <n>   → n rows of one int4 column
 *   nodata     → prepares as NoData but returns a row anyway
 *   set …      → 'SET'
 * Simple queries are split on ';'. An empty string writes nothing (the wire must answer EmptyQueryResponse itself).
 */

const TYPES: Readonly<Record<string, number>> = {
  int: 23,
  int4: 23,
  integer: 23,
  int8: 20,
  bigint: 20,
  int2: 21,
  smallint: 21,
  text: 25,
  varchar: 1043,
  bool: 16,
  boolean: 16,
  float4: 700,
  real: 700,
  float8: 701,
  bytea: 17,
  uuid: 2950,
  numeric: 1700,
}

type Item =
  | {
      readonly kind: 'literal'
      readonly value: string | null
      readonly typeOid: number
      readonly name: string
    }
  | { readonly kind: 'param'; readonly index: number; readonly typeOid: number; readonly name: string }

type Statement =
  | { readonly kind: 'select'; readonly items: readonly Item[] }
  | { readonly kind: 'begin' | 'commit' | 'rollback' | 'fail' | 'sleep' | 'notice' | 'nodata' | 'set' }
  | { readonly kind: 'rows'; readonly count: number }

function parseItem(text: string): Item {
  const m = /^(.*?)(?:\s+as\s+("?)(\w+)\2)?$/is.exec(text.trim())
  const expr = (m?.[1] ?? '').trim()
  const alias = m?.[3]
  const param = /^\$(\d+)::(\w+)$/i.exec(expr)
  if (param) {
    const typeName = (param[2] as string).toLowerCase()
    const typeOid = TYPES[typeName]
    if (typeOid === undefined) throw syntax(`type "${typeName}" does not exist`)
    return { kind: 'param', index: Number(param[1]) - 1, typeOid, name: alias ?? typeName }
  }
  if (/^-?\d+$/.test(expr)) return { kind: 'literal', value: expr, typeOid: 23, name: alias ?? '?column?' }
  if (/^null$/i.test(expr)) return { kind: 'literal', value: null, typeOid: 25, name: alias ?? '?column?' }
  const str = /^'((?:[^']|'')*)'$/.exec(expr)
  if (str)
    return {
      kind: 'literal',
      value: (str[1] as string).replaceAll("''", "'"),
      typeOid: 25,
      name: alias ?? '?column?',
    }
  throw syntax(`syntax error at or near "${expr.slice(0, 20)}"`)
}

function parseStatement(sql: string): Statement {
  const s = sql.trim().replace(/;$/, '').trim()
  const lower = s.toLowerCase()
  if (lower === 'begin' || lower === 'start transaction') return { kind: 'begin' }
  if (lower === 'commit' || lower === 'end') return { kind: 'commit' }
  if (lower === 'rollback') return { kind: 'rollback' }
  if (lower === 'fail' || lower === 'sleep' || lower === 'notice' || lower === 'nodata')
    return { kind: lower }
  if (lower.startsWith('set ')) return { kind: 'set' }
  const rows = /^rows\s+(\d+)$/.exec(lower)
  if (rows) return { kind: 'rows', count: Number(rows[1]) }
  if (lower.startsWith('select '))
    return { kind: 'select', items: splitOutsideQuotes(s.slice(7), ',').map(parseItem) }
  throw syntax(`syntax error at or near "${s.split(/\s/)[0] ?? ''}"`)
}

const syntax = (message: string): PgMirrorError => new PgMirrorError('syntax_error', message, { position: 3 })

function fieldsOf(st: Statement): FieldDescription[] | null {
  if (st.kind === 'select') return st.items.map((i) => ({ name: i.name, typeOid: i.typeOid }))
  if (st.kind === 'rows') return [{ name: 'n', typeOid: 23 }]
  return null
}

export class EchoHandler implements SessionHandler {
  status: 'I' | 'T' | 'E' = 'I'
  startParams: Readonly<Record<string, string>> | undefined
  ended = false
  /** every SQL string the handler was asked to run or prepare, in order */
  readonly seen: string[] = []

  async start(params: Readonly<Record<string, string>>): Promise<void> {
    if (params.database === 'refuse')
      throw new PgMirrorError('invalid_password', 'database "refuse" refuses you')
    this.startParams = params
  }

  async simpleQuery(sql: string, out: ResultWriter, signal: AbortSignal): Promise<void> {
    this.seen.push(sql)
    for (const part of splitStatements(sql)) {
      const st = parseStatement(part)
      const fields = fieldsOf(st)
      if (fields && st.kind !== 'nodata') out.columns(fields)
      await this.#run(st, [], out, signal)
    }
  }

  async prepare(sql: string, _paramTypes: readonly number[], _signal: AbortSignal): Promise<PreparedInfo> {
    this.seen.push(sql)
    if (sql.trim() === '') return { paramTypes: [], fields: null }
    const st = parseStatement(sql)
    if (st.kind === 'fail') throw syntax('syntax error at or near "fail"')
    const params = st.kind === 'select' ? st.items.filter((i) => i.kind === 'param') : []
    const paramTypes: number[] = []
    for (const p of params) paramTypes[p.index] = p.typeOid
    return { paramTypes: Array.from(paramTypes, (t) => t ?? 0), fields: fieldsOf(st) }
  }

  async execute(
    sql: string,
    params: readonly (string | null)[],
    out: ResultWriter,
    signal: AbortSignal,
  ): Promise<void> {
    this.seen.push(sql)
    if (sql.trim() === '') return
    await this.#run(parseStatement(sql), params, out, signal)
  }

  transactionStatus(): 'I' | 'T' | 'E' {
    return this.status
  }

  async end(): Promise<void> {
    this.ended = true
  }

  async #run(
    st: Statement,
    params: readonly (string | null)[],
    out: ResultWriter,
    signal: AbortSignal,
  ): Promise<void> {
    if (this.status === 'E' && st.kind !== 'commit' && st.kind !== 'rollback') {
      throw new PgMirrorError(
        'invalid_transaction_state',
        'current transaction is aborted, commands ignored until end of transaction block',
      )
    }
    try {
      await this.#runStatement(st, params, out, signal)
    } catch (e) {
      if (this.status === 'T') this.status = 'E'
      throw e
    }
  }

  async #runStatement(
    st: Statement,
    params: readonly (string | null)[],
    out: ResultWriter,
    signal: AbortSignal,
  ): Promise<void> {
    switch (st.kind) {
      case 'select':
        out.row(st.items.map((i) => (i.kind === 'literal' ? i.value : (params[i.index] ?? null))))
        return out.complete('SELECT 1')
      case 'rows':
        for (let n = 1; n <= st.count; n++) {
          out.row([String(n)])
          if (n % 1000 === 0) await out.drained()
        }
        return out.complete(`SELECT ${st.count}`)
      case 'begin':
        this.status = 'T'
        return out.complete('BEGIN')
      case 'commit':
        out.complete(this.status === 'E' ? 'ROLLBACK' : 'COMMIT')
        this.status = 'I'
        return
      case 'rollback':
        this.status = 'I'
        return out.complete('ROLLBACK')
      case 'fail':
        throw syntax('syntax error at or near "fail"')
      case 'sleep':
        await new Promise<void>((resolve) => {
          if (signal.aborted) resolve()
          signal.addEventListener('abort', () => resolve(), { once: true })
        })
        throw new Error('sleep was aborted')
      case 'notice':
        out.notice({ message: 'hello from the echo handler', detail: 'a detail', severity: 'NOTICE' })
        return out.complete('DO')
      case 'nodata':
        out.row(['surprise'])
        return out.complete('SELECT 1')
      case 'set':
        return out.complete('SET')
    }
  }
}

function splitStatements(sql: string): string[] {
  return splitOutsideQuotes(sql, ';').filter((s) => s.trim() !== '')
}

/** Splits on a separator outside single quotes. */
function splitOutsideQuotes(text: string, sep: string): string[] {
  const out: string[] = []
  let cur = ''
  let quoted = false
  for (const ch of text) {
    if (ch === "'") quoted = !quoted
    if (ch === sep && !quoted) {
      out.push(cur)
      cur = ''
    } else cur += ch
  }
  out.push(cur)
  return out
}

/** A createHandler for startWireServer that remembers every handler it made. */
export function echoHandlers(): {
  readonly handlers: EchoHandler[]
  readonly createHandler: (info: { processId: number; remoteAddress: string }) => SessionHandler
} {
  const handlers: EchoHandler[] = []
  return {
    handlers,
    createHandler: () => {
      const h = new EchoHandler()
      handlers.push(h)
      return h
    },
  }
}
