import type pg from 'pg'
import { PgMirrorError, toPgMirrorError } from '../../errors.ts'
import { formatLsn, maxLsn } from '../../model/lsn.ts'
import type { Lsn } from '../../model/lsn.ts'
import type { PostgresConfig } from '../../model/peer.ts'
import type { ChangeStream, StreamEvent } from '../source.ts'
import { openClient } from './connect.ts'
import { decodePgoutput } from './pgoutput.ts'
import { quoteIdent, quoteLiteral } from './quote.ts'
import { TransactionAssembler } from './transaction-assembler.ts'
import { decodeWalMessage, encodeStandbyStatus } from './wal-messages.ts'

/*
 * The replication connection: node-postgres in walsender mode, START_REPLICATION submitted as a custom query
 * that receives each CopyData message. We do not use pg-logical-replication's service: with manual
 * acknowledgement its standby timer still reports the last *received* LSN as flushed, which moves
 * confirmed_flush_lsn past changes not yet durable downstream; it also acks lsn + 1 and has no backpressure.
 *
 *   starting ──CopyBothResponse──► streaming ──stop()──► stopped
 *       └──────────── error ─────────────┴──────────────► failed (iteration throws)
 */

export interface ReplicationStreamOptions {
  readonly slotName: string
  readonly publicationNames: readonly string[]
  /** 0 = wherever the slot's confirmed position is. */
  readonly startLsn: Lsn
  /** How often a status update goes out even without a request; must stay under wal_sender_timeout. */
  readonly statusIntervalMs?: number
  /** Pause reading the socket while this many changes wait for the consumer. */
  readonly highWaterChanges?: number
}

type Step = 'starting' | 'streaming' | 'stopped' | 'failed'

export function startReplicationSql(opts: ReplicationStreamOptions): string {
  const pubs = opts.publicationNames.map(quoteIdent).join(',')
  return (
    `START_REPLICATION SLOT ${quoteIdent(opts.slotName)} LOGICAL ${formatLsn(opts.startLsn)} ` +
    `(proto_version '1', publication_names ${quoteLiteral(pubs)})`
  )
}

/** CopyData ('d') framing for messages we send in copy-both mode. */
function copyDataFrame(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(5 + payload.length)
  frame[0] = 0x64
  frame.writeInt32BE(4 + payload.length, 1)
  payload.copy(frame, 5)
  return frame
}

interface Handlers {
  onStart(): void
  onCopyData(chunk: Buffer): void
  onError(err: unknown): void
  onDone(): void
}

/** The pg "Submittable" protocol: node-postgres calls these as backend messages for the query arrive. */
class StartReplicationQuery implements pg.Submittable {
  connection: pg.Connection | undefined

  constructor(
    readonly text: string,
    private readonly h: Handlers,
  ) {}

  submit(connection: pg.Connection): void {
    this.connection = connection
    connection.once('replicationStart', () => this.h.onStart())
    connection.query(this.text)
  }

  handleCopyData(msg: { chunk: Buffer }): void {
    this.h.onCopyData(msg.chunk)
  }

  handleError(err: unknown): void {
    this.h.onError(err)
  }

  handleReadyForQuery(): void {
    this.h.onDone()
  }

  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
}

export class ReplicationStream implements ChangeStream {
  private step: Step = 'starting'
  private closed = false
  private failure: PgMirrorError | undefined
  private readonly queue: StreamEvent[] = []
  private queuedChanges = 0
  private paused = false
  private wake: (() => void) | undefined
  private readonly assembler = new TransactionAssembler()
  private received: Lsn
  private confirmed: Lsn = 0n
  private timer: NodeJS.Timeout | undefined
  private readonly query: StartReplicationQuery
  private readonly highWater: number
  private readonly started: Promise<void>

  private constructor(
    private readonly client: pg.Client,
    private readonly cfg: PostgresConfig,
    private readonly opts: ReplicationStreamOptions,
  ) {
    this.received = opts.startLsn
    this.highWater = opts.highWaterChanges ?? 50_000
    let resolveStart!: () => void
    let rejectStart!: (e: unknown) => void
    this.started = new Promise<void>((res, rej) => {
      resolveStart = res
      rejectStart = rej
    })
    this.query = new StartReplicationQuery(startReplicationSql(opts), {
      onStart: () => {
        this.step = 'streaming'
        this.timer = setInterval(() => this.sendStatus(), opts.statusIntervalMs ?? 10_000)
        this.timer.unref()
        resolveStart()
      },
      onCopyData: (chunk) => this.onCopyData(chunk),
      onError: (err) => {
        const wasStarting = this.step === 'starting'
        this.fail(err)
        if (wasStarting && this.failure) rejectStart(this.failure)
      },
      onDone: () => this.fail(new Error('the server ended the replication stream')),
    })
    client.on('error', (err) => this.fail(err))
  }

  /** Connects and issues START_REPLICATION; resolves once the server streams, rejects with its error otherwise. */
  static async start(cfg: PostgresConfig, opts: ReplicationStreamOptions): Promise<ReplicationStream> {
    const client = await openClient(cfg, { replication: 'database' })
    const stream = new ReplicationStream(client, cfg, opts)
    client.query(stream.query)
    try {
      await stream.started
    } catch (e) {
      await stream.stop()
      throw e
    }
    return stream
  }

  get confirmedLsn(): Lsn {
    return this.confirmed
  }

  confirm(lsn: Lsn): void {
    if (lsn <= this.confirmed) return
    this.confirmed = lsn
    this.sendStatus()
  }

  async stop(): Promise<void> {
    if (this.closed) return
    this.closed = true
    // The reader asked to stop, so queued events are dropped; a failure stays reported, otherwise iteration ends.
    if (this.step !== 'failed') this.step = 'stopped'
    this.clearTimer()
    this.queue.length = 0
    this.wake?.()
    // With START_REPLICATION active, end() destroys the socket rather than waiting for the server.
    await this.client.end().catch(() => undefined)
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
    try {
      for (;;) {
        const ev = this.queue.shift()
        if (ev) {
          if (ev.kind === 'transaction') this.release(ev.changes.length)
          yield ev
          continue
        }
        if (this.step === 'failed') throw this.failure
        if (this.step === 'stopped') return
        await new Promise<void>((resolve) => (this.wake = resolve))
        this.wake = undefined
      }
    } finally {
      // Leaving the loop (break, consumer error, or failure) ends the stream: there is one reader.
      await this.stop()
    }
  }

  private onCopyData(chunk: Buffer): void {
    if (this.step !== 'streaming') return
    try {
      const msg = decodeWalMessage(chunk)
      if (msg.kind === 'keepalive') {
        // Answering whenever the position moved, not only on request, stops the walsender from pinging again
        // on every wakeup while it is ahead of our last report.
        const moved = msg.walEnd > this.received
        this.received = maxLsn(this.received, msg.walEnd)
        if (msg.replyRequested || moved) this.sendStatus()
        if (!this.assembler.inTransaction) this.enqueueKeepalive(msg.walEnd)
        return
      }
      const ev = this.assembler.push(decodePgoutput(msg.payload))
      if (!ev) return
      if (ev.kind === 'transaction') {
        this.received = maxLsn(this.received, ev.endLsn)
        this.queuedChanges += ev.changes.length
        if (this.queuedChanges >= this.highWater && !this.paused) {
          this.paused = true
          this.client.connection.stream.pause()
        }
      }
      this.queue.push(ev)
      this.wake?.()
    } catch (e) {
      this.fail(e)
      void this.stop()
    }
  }

  /** Consecutive keepalives collapse into the newest: only the latest server position matters. */
  private enqueueKeepalive(serverWalEnd: Lsn): void {
    const last = this.queue[this.queue.length - 1]
    if (last?.kind === 'keepalive') this.queue[this.queue.length - 1] = { kind: 'keepalive', serverWalEnd }
    else this.queue.push({ kind: 'keepalive', serverWalEnd })
    this.wake?.()
  }

  private release(changes: number): void {
    this.queuedChanges -= changes
    if (this.paused && this.queuedChanges <= this.highWater / 2) {
      this.paused = false
      this.client.connection.stream.resume()
    }
  }

  /** Reports received as written, and only what the engine confirmed as flushed: the slot never runs ahead. */
  private sendStatus(): void {
    if (this.step !== 'streaming') return
    const socket = this.client.connection.stream
    if (!socket.writable) return
    const nowMicros = BigInt(Date.now()) * 1000n
    const status = { written: this.received, flushed: this.confirmed, applied: this.confirmed, nowMicros }
    socket.write(copyDataFrame(encodeStandbyStatus({ ...status, replyRequested: false })))
  }

  private fail(err: unknown): void {
    if (this.step === 'stopped' || this.step === 'failed') return
    this.step = 'failed'
    this.clearTimer()
    this.failure = this.describe(err)
    this.wake?.()
  }

  private describe(err: unknown): PgMirrorError {
    if (err instanceof PgMirrorError) return err
    const code = (err as { code?: unknown } | null)?.code
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return toPgMirrorError(err)
    const message = err instanceof Error ? err.message : String(err)
    return new PgMirrorError(
      'connection_failure',
      `replication connection to "${this.cfg.host}:${this.cfg.port}" failed: ${message}`,
      { detail: `slot "${this.opts.slotName}"` },
    )
  }

  private clearTimer(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }
}
