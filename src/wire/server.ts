import net from 'node:net'
import type { AddressInfo } from 'node:net'
import tls from 'node:tls'
import { CancelRegistry } from './cancel-registry.ts'
import { Connection, type ConnectionContext } from './connection.ts'
import { scramVerifier } from './scram.ts'
import { DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_SERVER_VERSION, type WireServerOptions } from './session.ts'
import type { WireTransport } from './transport.ts'

/** The only file that touches sockets: it adapts net/tls sockets to WireTransport and owns the listener. */

export interface WireServer {
  readonly port: number
  /** Stops listening, ends every connection (FATAL 57P01, as Postgres on shutdown) and waits for their handlers. */
  close(): Promise<void>
}

/** Clients that do not close their side after our FIN are destroyed after this long. */
const CLOSE_GRACE_MS = 5_000

export async function startWireServer(opts: WireServerOptions): Promise<WireServer> {
  const secureContext = opts.tls
    ? tls.createSecureContext({ cert: opts.tls.cert, key: opts.tls.key })
    : undefined
  const ctx: ConnectionContext = {
    scram: opts.password === undefined ? undefined : await scramVerifier(opts.password),
    serverVersion: opts.serverVersion ?? DEFAULT_SERVER_VERSION,
    maxMessageBytes: opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    cancels: new CancelRegistry(),
    createHandler: opts.createHandler,
    log: opts.log,
  }
  /** every open socket with its connection; an entry leaves when its socket closes */
  const live = new Map<Connection, () => net.Socket>()

  const server = net.createServer((raw) => {
    try {
      const { connection, socket } = accept(raw, ctx, secureContext)
      live.set(connection, socket)
      raw.once('close', () => live.delete(connection))
    } catch (e) {
      opts.log?.warn({ err: e }, 'could not accept a wire connection')
      raw.destroy()
    }
  })
  server.on('error', (err) => opts.log?.warn({ err }, 'wire server error'))

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject)
      resolve()
    })
  })

  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
      const connections = [...live.entries()]
      for (const [connection] of connections) connection.shutdown()
      const timer = setTimeout(() => {
        for (const [, socket] of connections) socket().destroy()
      }, CLOSE_GRACE_MS).unref()
      await Promise.all(connections.map(([connection]) => connection.finished))
      await stopped
      clearTimeout(timer)
    },
  }
}

function accept(
  raw: net.Socket,
  ctx: ConnectionContext,
  secureContext: tls.SecureContext | undefined,
): { connection: Connection; socket: () => net.Socket } {
  raw.setNoDelay(true)
  let current: net.Socket = raw
  const onData = (chunk: Buffer): void => connection.receive(chunk)
  const onError = (err: Error): void => ctx.log?.debug?.({ err }, 'wire socket error')
  const onClose = (): void => connection.socketClosed()

  const startTls = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      raw.off('data', onData)
      const secure = new tls.TLSSocket(raw, { isServer: true, secureContext })
      current = secure
      secure.on('error', onError)
      secure.on('close', onClose)
      secure.once('error', reject)
      secure.once('secure', () => {
        secure.off('error', reject)
        resolve()
      })
      secure.on('data', onData)
    })

  const transport: WireTransport = {
    remoteAddress: raw.remoteAddress ?? '',
    write: (data) => (current.destroyed ? false : current.write(data)),
    cork: () => current.cork(),
    uncork: () => current.uncork(),
    drain: () =>
      new Promise<void>((resolve) => {
        const socket = current
        if (!socket.writableNeedDrain || socket.destroyed) return resolve()
        const done = (): void => {
          socket.off('drain', done)
          socket.off('close', done)
          resolve()
        }
        socket.on('drain', done)
        socket.on('close', done)
      }),
    pause: () => current.pause(),
    resume: () => current.resume(),
    startTls: secureContext ? startTls : undefined,
    end: () => current.end(),
  }

  const connection = new Connection(transport, ctx)
  raw.on('data', onData)
  raw.on('error', onError)
  raw.on('close', onClose)
  return { connection, socket: () => current }
}
