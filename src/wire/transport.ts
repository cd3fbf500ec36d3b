/**
 * What a connection needs from its socket. server.ts implements it over net/tls; tests can implement it in memory.
 * Keeping sockets out of connection.ts keeps the state machine free of node:net.
 */
export interface WireTransport {
  readonly remoteAddress: string
  /** false = the socket's buffer is full; the caller should await drain() before writing much more */
  write(data: Buffer): boolean
  cork(): void
  uncork(): void
  /** Resolves when the socket buffer has room again, or the socket is gone. */
  drain(): Promise<void>
  /** Stop / restart reading: input backpressure while the handler is busy. */
  pause(): void
  resume(): void
  /** Present when TLS is configured: wraps the socket in a server TLS session; resolves after the handshake. */
  readonly startTls: (() => Promise<void>) | undefined
  /** Flush queued writes, then close. */
  end(): void
}
