/**
 * One client connection on :9900. It splits what the client sends into statements and routes each:
 *   pgmirror statements  → engine commands (CREATE PEER, CREATE MIRROR, ...)
 *   session statements   → answered here (SET, SHOW, BEGIN, COMMIT, ...)
 *   peer.schema.table    → forwarded to that Postgres peer, rows streamed back with the peer's column types
 *   DELETE FROM peers …  → DROP PEER
 *   anything else        → run read-only on the catalog (so `SELECT * FROM peers` and tools' catalog queries work)
 */
import pg from 'pg'
import { PgMirrorError, q, toPgMirrorError } from '../errors.ts'
import { analyzePassthrough } from '../sql/passthrough.ts'
import { isExtensionStatement } from '../sql/detect.ts'
import { parseExtension } from '../sql/parse.ts'
import { splitStatements } from '../sql/split.ts'
import { catalogGuard } from '../sql/catalog-guard.ts'
import { matchDeletePeer } from '../sql/catalog-statements.ts'
import type { PreparedInfo, ResultWriter, SessionHandler } from '../wire/session.ts'
import { describeConnectError, pgClientConfig } from '../sources/postgres/connect.ts'
import type { EngineContext } from './context.ts'
import { dropPeer } from './commands/peers.ts'
import { describeExtension, runExtension } from './extension-commands.ts'
import { cancelBackend, describeStatement, rawTextTypes, streamQuery } from './pg-runner.ts'
import { defaultSettings, parseSessionCommand, type SessionCommand } from './session-commands.ts'

/** Catalog tables a client may never read through the gateway. */
const HIDDEN_RELATIONS = /\bpeer_secrets\b|\balert_secrets\b|\bbullmq\b/i

type Route =
  | { readonly kind: 'extension'; readonly text: string; readonly offset: number }
  | { readonly kind: 'session'; readonly cmd: SessionCommand }
  | { readonly kind: 'peer'; readonly peer: string; readonly sql: string }
  | { readonly kind: 'delete-peer'; readonly name: string }
  | { readonly kind: 'catalog'; readonly sql: string }

interface PeerConn {
  readonly client: pg.Client
  readonly config: pg.ClientConfig
}

export class GatewaySession implements SessionHandler {
  private tx: 'I' | 'T' | 'E' = 'I'
  private readonly settings = new Map<string, string>()
  private catalogClient: pg.Client | undefined
  private readonly peerConns = new Map<string, PeerConn>()

  constructor(
    private readonly ctx: EngineContext,
    private readonly info: { processId: number; remoteAddress: string },
  ) {}

  async start(params: Readonly<Record<string, string>>): Promise<void> {
    if (params.application_name) this.settings.set('application_name', params.application_name)
    this.ctx.log.debug(
      { conn: this.info.processId, user: params.user, from: this.info.remoteAddress },
      'session start',
    )
  }

  transactionStatus(): 'I' | 'T' | 'E' {
    return this.tx
  }

  async end(): Promise<void> {
    const all = [...this.peerConns.values()].map((p) => p.client)
    if (this.catalogClient) all.push(this.catalogClient)
    this.peerConns.clear()
    this.catalogClient = undefined
    await Promise.all(all.map((c) => c.end().catch(() => undefined)))
  }

  async simpleQuery(sql: string, out: ResultWriter, signal: AbortSignal): Promise<void> {
    const parts = splitStatements(sql)
    if (parts.length === 0) {
      out.emptyQuery()
      return
    }
    for (const part of parts) {
      await this.runOne(part.text, part.offset, [], out, signal, true)
    }
  }

  async prepare(sql: string, paramTypes: readonly number[], signal: AbortSignal): Promise<PreparedInfo> {
    const parts = splitStatements(sql)
    if (parts.length > 1) {
      throw new PgMirrorError('syntax_error', 'cannot insert multiple commands into a prepared statement')
    }
    const part = parts[0]
    if (!part) return { paramTypes: [], fields: null }
    const route = await this.route(part.text, part.offset)
    signal.throwIfAborted()
    switch (route.kind) {
      case 'extension':
        return { paramTypes: [], fields: describeExtension(parseExtension(route.text, route.offset)) }
      case 'session':
        return {
          paramTypes: [],
          fields: route.cmd.kind === 'show' ? [{ name: route.cmd.name, typeOid: 25 }] : null,
        }
      case 'delete-peer':
        return { paramTypes: [], fields: null }
      case 'peer': {
        const conn = await this.peerConn(route.peer)
        return describeStatement(conn.client, route.sql, paramTypes)
      }
      case 'catalog': {
        const c = await this.catalog()
        return describeStatement(c, route.sql, paramTypes)
      }
    }
  }

  async execute(
    sql: string,
    params: readonly (string | null)[],
    out: ResultWriter,
    signal: AbortSignal,
  ): Promise<void> {
    const part = splitStatements(sql)[0]
    if (!part) {
      out.emptyQuery()
      return
    }
    await this.runOne(part.text, part.offset, params, out, signal, false)
  }

  private async runOne(
    text: string,
    offset: number,
    params: readonly (string | null)[],
    out: ResultWriter,
    signal: AbortSignal,
    sendColumns: boolean,
  ): Promise<void> {
    try {
      const route = await this.route(text, offset)
      if (
        this.tx === 'E' &&
        !(route.kind === 'session' && (route.cmd.kind === 'rollback' || route.cmd.kind === 'commit'))
      ) {
        throw new PgMirrorError(
          'invalid_transaction_state',
          'current transaction is aborted, commands ignored until end of transaction block',
        )
      }
      await this.dispatch(route, params, out, signal, sendColumns)
    } catch (e) {
      if (this.tx === 'T') this.tx = 'E'
      throw e
    }
  }

  private async route(text: string, offset: number): Promise<Route> {
    if (isExtensionStatement(text)) return { kind: 'extension', text, offset }
    const cmd = parseSessionCommand(text)
    if (cmd) return { kind: 'session', cmd }
    const analysis = analyzePassthrough(text)
    if (analysis.relations.length > 0) {
      const peers = new Set((await this.ctx.peers.list()).map((p) => p.name.toLowerCase()))
      const referenced = new Set(
        analysis.relations
          .filter((r) => r.length >= 2 && peers.has(r[0]!.toLowerCase()))
          .map((r) => r[0]!.toLowerCase()),
      )
      if (referenced.size > 1) {
        throw new PgMirrorError(
          'feature_not_supported',
          'queries touching multiple peers are not supported',
          {
            detail: `peers referenced: ${[...referenced].map(q).join(', ')}`,
          },
        )
      }
      const peer = [...referenced][0]
      if (peer) return { kind: 'peer', peer, sql: analysis.stripPrefix(peer) }
    }
    const del = matchDeletePeer(text)
    if (del) return { kind: 'delete-peer', name: del }
    if (HIDDEN_RELATIONS.test(text)) {
      throw new PgMirrorError(
        'insufficient_privilege',
        'permission denied: peer and alert secrets are not readable through pgmirror',
      )
    }
    const refused = catalogGuard(text)
    if (refused) throw new PgMirrorError('insufficient_privilege', `permission denied: ${refused}`)
    return { kind: 'catalog', sql: text }
  }

  private async dispatch(
    route: Route,
    params: readonly (string | null)[],
    out: ResultWriter,
    signal: AbortSignal,
    sendColumns: boolean,
  ): Promise<void> {
    switch (route.kind) {
      case 'extension': {
        if (params.length > 0) {
          throw new PgMirrorError('feature_not_supported', 'pgmirror statements do not take bind parameters')
        }
        const stmt = parseExtension(route.text, route.offset)
        if (stmt.kind === 'execute_on_peer') {
          const conn = await this.peerConn(stmt.peer)
          await this.withCancel(signal, conn.config, conn.client, () =>
            streamQuery(conn.client, stmt.sql, [], out, { sendColumns }),
          )
          return
        }
        await runExtension(this.ctx, stmt, out, { sendColumns, signal })
        return
      }
      case 'session':
        this.runSession(route.cmd, out, sendColumns)
        return
      case 'delete-peer': {
        const r = await dropPeer(this.ctx, route.name, true)
        out.complete(`DELETE ${r.dropped ? 1 : 0}`)
        return
      }
      case 'peer': {
        const conn = await this.peerConn(route.peer)
        await this.withCancel(signal, conn.config, conn.client, () =>
          streamQuery(conn.client, route.sql, params, out, { sendColumns }),
        )
        return
      }
      case 'catalog': {
        const c = await this.catalog()
        await this.withCancel(signal, { connectionString: this.catalogConnectUrl() }, c, async () => {
          await c.query('BEGIN TRANSACTION READ ONLY')
          try {
            await streamQuery(c, route.sql, params, out, { sendColumns })
          } finally {
            await c.query('ROLLBACK')
          }
        })
        return
      }
    }
  }

  private runSession(cmd: SessionCommand, out: ResultWriter, sendColumns: boolean): void {
    switch (cmd.kind) {
      case 'begin':
        if (this.tx !== 'I')
          out.notice({
            message: 'there is already a transaction in progress',
            severity: 'WARNING',
            code: '25001',
          })
        this.tx = 'T'
        out.complete('BEGIN')
        return
      case 'commit':
        if (this.tx === 'I')
          out.notice({ message: 'there is no transaction in progress', severity: 'WARNING', code: '25P01' })
        out.complete(this.tx === 'E' ? 'ROLLBACK' : 'COMMIT')
        this.tx = 'I'
        return
      case 'rollback':
        if (this.tx === 'I')
          out.notice({ message: 'there is no transaction in progress', severity: 'WARNING', code: '25P01' })
        this.tx = 'I'
        out.complete('ROLLBACK')
        return
      case 'set':
        this.settings.set(cmd.name, cmd.value)
        out.complete('SET')
        return
      case 'reset':
        if (cmd.name === undefined) this.settings.clear()
        else this.settings.delete(cmd.name)
        out.complete('RESET')
        return
      case 'noop':
        out.complete(cmd.tag)
        return
      case 'show': {
        if (cmd.name === 'all') {
          if (sendColumns) {
            out.columns([
              { name: 'name', typeOid: 25 },
              { name: 'setting', typeOid: 25 },
            ])
          }
          const all = { ...defaultSettings, ...Object.fromEntries(this.settings) }
          for (const [k, v] of Object.entries(all).sort()) out.row([k, v])
          out.complete(`SHOW ${Object.keys(all).length}`)
          return
        }
        const value = this.settings.get(cmd.name) ?? defaultSettings[cmd.name]
        if (value === undefined) {
          throw new PgMirrorError('undefined_object', `unrecognized configuration parameter ${q(cmd.name)}`)
        }
        if (sendColumns) out.columns([{ name: cmd.name, typeOid: 25 }])
        out.row([value])
        out.complete('SHOW')
        return
      }
    }
  }

  private async withCancel<T>(
    signal: AbortSignal,
    config: pg.ClientConfig,
    client: pg.Client,
    fn: () => Promise<T>,
  ): Promise<T> {
    signal.throwIfAborted()
    const onAbort = () => void cancelBackend(config, client).catch(() => undefined)
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      return await fn()
    } catch (e) {
      if (signal.aborted) {
        throw new PgMirrorError('query_canceled', 'canceling statement due to user request')
      }
      throw toPgMirrorError(e)
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  private catalogConnectUrl(): string {
    return this.ctx.catalogReaderUrl ?? this.ctx.catalogUrl
  }

  private async catalog(): Promise<pg.Client> {
    if (this.catalogClient) return this.catalogClient
    const c = new pg.Client({
      connectionString: this.catalogConnectUrl(),
      types: rawTextTypes,
      application_name: 'pgmirror_gateway',
    })
    c.on('error', () => {
      if (this.catalogClient === c) this.catalogClient = undefined
    })
    await c.connect()
    this.catalogClient = c
    return c
  }

  private async peerConn(name: string): Promise<PeerConn> {
    const cached = this.peerConns.get(name)
    if (cached) return cached
    const peer = await this.ctx.peers.get(name)
    if (peer.type !== 'POSTGRES') {
      throw new PgMirrorError(
        'feature_not_supported',
        `queries can be forwarded only to postgres peers; ${q(name)} is ${peer.type.toLowerCase()}`,
      )
    }
    const config = {
      ...pgClientConfig(peer.config, { applicationName: 'pgmirror_gateway' }),
      types: rawTextTypes,
    }
    const client = new pg.Client(config)
    client.on('error', () => this.peerConns.delete(name))
    try {
      await client.connect()
    } catch (e) {
      throw describeConnectError(e, peer.config)
    }
    const conn = { client, config }
    this.peerConns.set(name, conn)
    return conn
  }
}
