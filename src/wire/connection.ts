import { PgMirrorError } from '../errors.ts'
import {
  authenticationOk,
  authenticationSasl,
  backendKeyData,
  errorResponse,
  negotiateProtocolVersion,
  parameterStatus,
  readyForQuery,
} from './backend.ts'
import type { CancelRegistry } from './cancel-registry.ts'
import { errorFields, isFatal, queryCanceled, sqlStateError } from './error-fields.ts'
import { ExtendedQuery } from './extended-query.ts'
import { Framer, type Frame } from './framer.ts'
import { decodeFrontend, decodeStartup, type FrontendMessage } from './frontend.ts'
import { FrontendCode, NegotiationAnswer } from './message-codes.ts'
import { Output } from './output.ts'
import { saslStep } from './sasl-exchange.ts'
import { SCRAM_MECHANISM, type ScramFirst, type ScramVerifier } from './scram.ts'
import type { SessionHandler, WireLog } from './session.ts'
import { runSimpleQuery } from './simple-query.ts'
import type { WireTransport } from './transport.ts'

/*
 * One client connection, driven by the frames its socket delivers, strictly one at a time.
 *
 *   ssl-negotiation ──SSLRequest──► startup ──StartupMessage──► authenticating ──SCRAM ok──► ready ◄─┐
 *        │  (GSSENCRequest → 'N', stays)   │                        │ (no password:              │ Query, Parse,
 *        │                                 │                        │  straight to ready)        │ Bind, …, Sync
 *        └──StartupMessage─────────────────┴────────────────────────┘                            ─┘
 *   any step ──Terminate / socket closed / FATAL / CancelRequest──► closed
 *
 * Ordering: frames are processed by one async pump; a frame's handler call finishes before the next frame starts.
 * Input backpressure: while the pump is busy and over INPUT_PAUSE_BYTES are buffered, the socket is paused.
 */

type Step =
  | { readonly kind: 'ssl-negotiation' }
  | { readonly kind: 'startup' }
  | {
      readonly kind: 'authenticating'
      readonly user: string
      readonly params: Readonly<Record<string, string>>
      /** null until the SASLInitialResponse arrived */
      readonly scram: ScramFirst | null
    }
  | { readonly kind: 'ready'; readonly handler: SessionHandler; readonly extended: ExtendedQuery }
  | { readonly kind: 'closed' }

export interface ConnectionContext {
  readonly scram: ScramVerifier | undefined
  readonly serverVersion: string
  readonly maxMessageBytes: number
  readonly cancels: CancelRegistry
  readonly createHandler: (info: { processId: number; remoteAddress: string }) => SessionHandler
  readonly log: WireLog | undefined
}

const INPUT_PAUSE_BYTES = 1024 * 1024
/** Postgres's authentication_timeout: a client that never finishes the handshake is dropped. */
const AUTH_TIMEOUT_MS = 60_000

export class Connection {
  readonly #transport: WireTransport
  readonly #ctx: ConnectionContext
  readonly #output: Output
  readonly #framer: Framer
  #step: Step = { kind: 'ssl-negotiation' }
  #handler: SessionHandler | undefined
  #processId: number | undefined
  #running: AbortController | undefined
  #skipUntilSync = false
  #pumping = false
  #ended = false
  #resolveFinished: () => void = () => {}
  readonly #authTimer: NodeJS.Timeout
  /** Resolves once the connection is closed and handler.end() (if a handler was created) has returned. */
  readonly finished: Promise<void> = new Promise((resolve) => (this.#resolveFinished = resolve))

  constructor(transport: WireTransport, ctx: ConnectionContext) {
    this.#transport = transport
    this.#ctx = ctx
    this.#output = new Output(transport)
    this.#framer = new Framer(ctx.maxMessageBytes)
    this.#authTimer = setTimeout(() => {
      if (this.#step.kind !== 'ready') this.#close()
    }, AUTH_TIMEOUT_MS).unref()
  }

  get processId(): number | undefined {
    return this.#processId
  }

  /** Bytes from the socket. Never throws. */
  receive(chunk: Buffer): void {
    if (this.#step.kind === 'closed') return
    this.#framer.push(chunk)
    if (this.#pumping) {
      if (this.#framer.buffered > INPUT_PAUSE_BYTES) this.#transport.pause()
      return
    }
    void this.#pump()
  }

  /** The socket closed (by either side). Aborts a running handler call; handler.end() follows once it returns. */
  socketClosed(): void {
    this.#close()
  }

  /** Server shutdown: tell the client why, as Postgres does, then close. */
  shutdown(): void {
    if (this.#step.kind === 'closed') return
    this.#fatal(sqlStateError('57P01', 'terminating connection due to administrator command'))
  }

  async #pump(): Promise<void> {
    this.#pumping = true
    try {
      while (this.#step.kind !== 'closed') {
        const next = this.#framer.next()
        if (next === null) break
        if (next.kind === 'invalid') this.#fatal(next.error)
        else await this.#handle(next)
      }
    } catch (e) {
      this.#ctx.log?.warn({ err: e, processId: this.#processId }, 'wire connection failed unexpectedly')
      this.#fatal(new PgMirrorError('internal_error', 'internal error in the wire protocol'))
    } finally {
      this.#pumping = false
      this.#output.flush()
      if (this.#step.kind === 'closed') void this.#endHandler()
      else this.#transport.resume()
    }
  }

  async #handle(frame: Frame): Promise<void> {
    const step = this.#step
    switch (step.kind) {
      case 'ssl-negotiation':
      case 'startup':
        if (frame.kind !== 'untyped')
          return this.#fatal(new PgMirrorError('protocol_violation', 'expected startup'))
        return this.#startup(frame.body, step.kind)
      case 'authenticating':
        if (frame.kind !== 'typed')
          return this.#fatal(new PgMirrorError('protocol_violation', 'expected SASL response'))
        return this.#authenticate(frame.code, frame.body, step)
      case 'ready':
        if (frame.kind !== 'typed')
          return this.#fatal(new PgMirrorError('protocol_violation', 'unexpected startup'))
        return this.#ready(frame.code, frame.body, step)
      case 'closed':
        return
    }
  }

  async #startup(body: Buffer, step: 'ssl-negotiation' | 'startup'): Promise<void> {
    let req
    try {
      req = decodeStartup(body)
    } catch (e) {
      return this.#fatal(e)
    }
    switch (req.kind) {
      case 'ssl-request': {
        if (step !== 'ssl-negotiation') {
          return this.#fatal(new PgMirrorError('protocol_violation', 'SSL negotiation was already done'))
        }
        this.#step = { kind: 'startup' }
        const startTls = this.#transport.startTls
        if (!startTls) return this.#output.send(NegotiationAnswer.refuse)
        // Bytes sent before the handshake would be read as if they had been encrypted (CVE-2021-23214).
        if (this.#framer.buffered > 0) {
          return this.#fatal(
            new PgMirrorError('protocol_violation', 'received unencrypted data after SSL request'),
          )
        }
        this.#output.send(NegotiationAnswer.accept)
        this.#output.flush()
        try {
          return await startTls()
        } catch (e) {
          this.#ctx.log?.debug?.({ err: e }, 'TLS handshake failed')
          return this.#close()
        }
      }
      case 'gssenc-request':
        return this.#output.send(NegotiationAnswer.refuse)
      case 'cancel-request':
        this.#ctx.cancels.cancel(req.processId, req.secretKey)
        return this.#close()
      case 'startup':
        return this.#startupMessage(req.major, req.minor, req.params)
    }
  }

  async #startupMessage(major: number, minor: number, raw: Readonly<Record<string, string>>): Promise<void> {
    if (major !== 3) {
      const msg = `unsupported frontend protocol ${major}.${minor}: server supports 3.0 to 3.0`
      return this.#fatal(new PgMirrorError('feature_not_supported', msg))
    }
    // Protocol options (`_pq_.*`) and newer 3.x minors are declined with NegotiateProtocolVersion, like Postgres.
    const unknown = Object.keys(raw).filter((k) => k.startsWith('_pq_.'))
    if (minor > 0 || unknown.length > 0) this.#output.send(negotiateProtocolVersion(0, unknown))
    const params = Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('_pq_.')))
    const user = params.user
    if (!user)
      return this.#fatal(sqlStateError('28000', 'no PostgreSQL user name specified in startup packet'))
    if (this.#ctx.scram) {
      this.#step = { kind: 'authenticating', user, params, scram: null }
      return this.#output.send(authenticationSasl([SCRAM_MECHANISM]))
    }
    return this.#begin(user, params)
  }

  async #authenticate(
    code: number,
    body: Buffer,
    step: Extract<Step, { kind: 'authenticating' }>,
  ): Promise<void> {
    if (code === FrontendCode.terminate) return this.#close()
    let next
    try {
      next = saslStep(this.#ctx.scram as ScramVerifier, step.scram, step.user, code, body)
    } catch (e) {
      return this.#fatal(e)
    }
    this.#output.send(next.reply)
    if (next.kind === 'continue') {
      this.#step = { ...step, scram: next.scram }
      return
    }
    return this.#begin(step.user, step.params)
  }

  /** Authenticated: create the session and report the server's parameters. */
  async #begin(user: string, params: Readonly<Record<string, string>>): Promise<void> {
    this.#output.send(authenticationOk())
    const key = this.#ctx.cancels.register(() => this.#running?.abort())
    this.#processId = key.processId
    try {
      const handler = this.#ctx.createHandler({
        processId: key.processId,
        remoteAddress: this.#transport.remoteAddress,
      })
      this.#handler = handler
      await handler.start(params)
      if (this.#step.kind === 'closed') return
      const status: Record<string, string> = {
        server_version: this.#ctx.serverVersion,
        server_encoding: 'UTF8',
        client_encoding: 'UTF8',
        DateStyle: 'ISO, MDY',
        integer_datetimes: 'on',
        TimeZone: 'UTC',
        standard_conforming_strings: 'on',
        application_name: params.application_name ?? '',
        IntervalStyle: 'postgres',
        is_superuser: 'off',
        session_authorization: user,
      }
      for (const [name, value] of Object.entries(status)) this.#output.send(parameterStatus(name, value))
      this.#output.send(backendKeyData(key.processId, key.secretKey))
      this.#step = { kind: 'ready', handler, extended: new ExtendedQuery(handler, this.#output) }
      clearTimeout(this.#authTimer)
      this.#output.send(readyForQuery(handler.transactionStatus()))
    } catch (e) {
      this.#fatal(e)
    }
  }

  async #ready(code: number, body: Buffer, step: Extract<Step, { kind: 'ready' }>): Promise<void> {
    let msg: FrontendMessage
    try {
      msg = decodeFrontend(code, body)
    } catch (e) {
      if (isFatal(e)) return this.#fatal(e)
      if (this.#skipUntilSync) return
      // The frame was intact (e.g. bad UTF-8): fail this message only, as its kind would fail.
      if (code === FrontendCode.query) return this.#errorThenReady(e, step.handler)
      return this.#extendedError(e)
    }
    if (this.#skipUntilSync && msg.kind !== 'sync' && msg.kind !== 'terminate') return
    const { handler, extended } = step
    switch (msg.kind) {
      case 'query':
        extended.forgetUnnamed()
        try {
          await this.#call((signal) => runSimpleQuery(handler, msg.sql, this.#output, signal))
        } catch (e) {
          return this.#errorThenReady(e, handler)
        }
        this.#output.send(readyForQuery(handler.transactionStatus()))
        this.#output.flush()
        return this.#output.drained()
      case 'parse':
        return this.#extended(() => this.#call((signal) => extended.parse(msg, signal)))
      case 'bind':
        return this.#extended(async () => extended.bind(msg))
      case 'describe':
        return this.#extended(async () => extended.describe(msg))
      case 'execute':
        await this.#extended(() => this.#call((signal) => extended.execute(msg, signal)))
        return this.#output.drained()
      case 'close':
        return this.#extended(async () => extended.close(msg))
      case 'flush':
        return this.#output.flush()
      case 'sync':
        this.#skipUntilSync = false
        extended.sync(handler.transactionStatus())
        this.#output.send(readyForQuery(handler.transactionStatus()))
        return this.#output.flush()
      case 'terminate':
        return this.#close()
      case 'copy':
        return
      case 'function-call':
        return this.#errorThenReady(
          new PgMirrorError('feature_not_supported', 'the function call protocol is not supported'),
          handler,
        )
      case 'password':
        return this.#fatal(
          new PgMirrorError('protocol_violation', 'unexpected password message after authentication'),
        )
    }
  }

  /** A handler call with its own AbortSignal, which a matching CancelRequest aborts. */
  async #call(fn: (signal: AbortSignal) => Promise<void>): Promise<void> {
    const controller = new AbortController()
    this.#running = controller
    try {
      await fn(controller.signal)
    } catch (e) {
      throw controller.signal.aborted ? queryCanceled() : e
    } finally {
      this.#running = undefined
    }
  }

  async #extended(fn: () => Promise<void>): Promise<void> {
    try {
      await fn()
    } catch (e) {
      this.#extendedError(e)
    }
  }

  #extendedError(e: unknown): void {
    this.#output.send(errorResponse(errorFields(e, 'ERROR')))
    this.#output.flush()
    this.#skipUntilSync = true
  }

  #errorThenReady(e: unknown, handler: SessionHandler): void {
    this.#output.send(errorResponse(errorFields(e, 'ERROR')))
    this.#output.send(readyForQuery(handler.transactionStatus()))
    this.#output.flush()
  }

  #fatal(e: unknown): void {
    if (this.#step.kind === 'closed') return
    this.#ctx.log?.debug?.(
      { err: e, processId: this.#processId },
      'closing wire connection after a fatal error',
    )
    this.#output.send(errorResponse(errorFields(e, 'FATAL')))
    this.#close()
  }

  #close(): void {
    if (this.#step.kind === 'closed') return
    this.#step = { kind: 'closed' }
    clearTimeout(this.#authTimer)
    this.#running?.abort()
    if (this.#processId !== undefined) this.#ctx.cancels.unregister(this.#processId)
    this.#output.close()
    if (!this.#pumping) void this.#endHandler()
  }

  /** handler.end() exactly once, after its last call returned. */
  async #endHandler(): Promise<void> {
    if (this.#ended) return
    this.#ended = true
    try {
      await this.#handler?.end()
    } catch (e) {
      this.#ctx.log?.warn({ err: e, processId: this.#processId }, 'session handler end() failed')
    }
    this.#resolveFinished()
  }
}
