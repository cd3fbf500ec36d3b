// A TCP proxy of the tests' own, put between pgmirror and a database so a test can break the network on command:
// drop every connection at once, or stall all traffic (both directions) and let it flow again later.
import net from 'node:net'
import type { AddressInfo } from 'node:net'

export interface TcpProxy {
  /** The port to give clients instead of the real one. */
  readonly port: number
  /** Connections open right now. */
  readonly open: number
  /** Connections accepted since the start. */
  readonly accepted: number
  /** Destroys every open connection on both sides (the peer sees a reset); returns how many there were. */
  dropAll(): number
  /**
   * Stops reading from both sides of every connection, present and future, until `resume()`. Bytes pile up in the
   * kernel buffers, so a sender soon blocks: to both ends the network looks hung, not closed.
   */
  stall(): void
  resume(): void
  /** While refusing, new connections are closed as soon as they are accepted (a database that is "down"). */
  refuse(on: boolean): void
  close(): Promise<void>
}

interface Pair {
  readonly client: net.Socket
  readonly server: net.Socket
}

function flow(p: Pair): void {
  p.client.pipe(p.server)
  p.server.pipe(p.client)
  p.client.resume()
  p.server.resume()
}

/** pipe() resumes a paused source on 'drain', so unpipe first: the pause must hold until flow() again. */
function hold(p: Pair): void {
  p.client.unpipe(p.server)
  p.server.unpipe(p.client)
  p.client.pause()
  p.server.pause()
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>()
  let stalled = false
  let refusing = false
  let accepted = 0

  const server = net.createServer((client) => {
    accepted++
    if (refusing) {
      client.destroy()
      return
    }
    const upstream = net.connect(target.port, target.host)
    const pair = { client, server: upstream }
    pairs.add(pair)
    const end = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
    if (stalled) hold(pair)
    else flow(pair)
  })
  server.on('error', () => undefined)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })

  return {
    port: (server.address() as AddressInfo).port,
    get open() {
      return pairs.size
    },
    get accepted() {
      return accepted
    },
    dropAll() {
      const n = pairs.size
      for (const p of [...pairs]) {
        // resetAndDestroy sends RST, like a broken network path rather than a polite close.
        p.client.resetAndDestroy()
        p.server.resetAndDestroy()
      }
      pairs.clear()
      return n
    },
    stall() {
      if (stalled) return
      stalled = true
      for (const p of pairs) hold(p)
    },
    resume() {
      if (!stalled) return
      stalled = false
      for (const p of pairs) flow(p)
    },
    refuse(on) {
      refusing = on
    },
    async close() {
      for (const p of [...pairs]) {
        p.client.destroy()
        p.server.destroy()
      }
      pairs.clear()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
