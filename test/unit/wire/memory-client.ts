import { Parser } from 'pg-protocol/dist/parser'
import type { BackendMessage } from 'pg-protocol/dist/messages'
import { CancelRegistry } from '../../../src/wire/cancel-registry.ts'
import { Connection, type ConnectionContext } from '../../../src/wire/connection.ts'
import type { ScramVerifier } from '../../../src/wire/scram.ts'
import type { WireTransport } from '../../../src/wire/transport.ts'
import { echoHandlers } from '../../support/echo-handler.ts'

export type Msg = BackendMessage & Record<string, unknown>

/**
 * A Connection wired to memory instead of a socket: bytes in through receive(), backend messages out through
 * pg-protocol's parser. until() waits on writes (no sleeps).
 */
export class MemoryClient {
  readonly messages: Msg[] = []
  readonly raw: Buffer[] = []
  ended = false
  /** whether the connection has paused reading (input backpressure) */
  paused = false
  readonly cancels = new CancelRegistry()
  readonly echo = echoHandlers()
  readonly connection: Connection
  readonly #parser = new Parser()
  #wake: (() => void)[] = []

  constructor(opts: { scram?: ScramVerifier; maxMessageBytes?: number } = {}) {
    const transport: WireTransport = {
      remoteAddress: 'memory',
      write: (data) => {
        this.raw.push(Buffer.from(data))
        this.#parser.parse(Buffer.from(data), (m) => this.messages.push(m as Msg))
        this.#notify()
        return true
      },
      cork: () => {},
      uncork: () => {},
      drain: async () => {},
      pause: () => {
        this.paused = true
        this.#notify()
      },
      resume: () => {
        this.paused = false
        this.#notify()
      },
      startTls: undefined,
      end: () => {
        this.ended = true
        this.#notify()
      },
    }
    const ctx: ConnectionContext = {
      scram: opts.scram,
      serverVersion: '15.0 (test)',
      maxMessageBytes: opts.maxMessageBytes ?? 1024 * 1024,
      cancels: this.cancels,
      createHandler: this.echo.createHandler,
      log: undefined,
    }
    this.connection = new Connection(transport, ctx)
  }

  send(...buffers: Buffer[]): void {
    this.connection.receive(Buffer.concat(buffers))
  }

  /** Resolves once pred holds for the messages so far; rejects after a deadline with what arrived. */
  async until(pred: (messages: Msg[]) => boolean, timeoutMs = 3000): Promise<Msg[]> {
    const deadline = Date.now() + timeoutMs
    while (!pred(this.messages)) {
      const left = deadline - Date.now()
      if (left <= 0) {
        throw new Error(`timed out; got ${this.messages.map((m) => m.name).join(',')} ended=${this.ended}`)
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.#wake.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    return this.messages
  }

  /** Waits for the n-th ReadyForQuery (counting from the start) and returns the messages since the previous one. */
  async ready(n: number): Promise<Msg[]> {
    const all = await this.until((ms) => ms.filter((m) => m.name === 'readyForQuery').length >= n)
    const idx = all.map((m, i) => (m.name === 'readyForQuery' ? i : -1)).filter((i) => i >= 0)
    return all.slice((idx[n - 2] ?? -1) + 1, (idx[n - 1] as number) + 1)
  }

  async closed(): Promise<Msg[]> {
    return this.until(() => this.ended)
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = []
    for (const w of wake) w()
  }
}

export const names = (ms: Msg[]): string[] => ms.map((m) => m.name)
