/**
 * `COPY … TO STDOUT` as a Readable of the COPY output, one chunk per socket read (see copy-out-frames.ts).
 *
 * It plugs into a pg Client the way pg-copy-streams' `to()` does: it is a submittable (`client.query(stream)`),
 * and when its turn comes it takes the socket's data from the driver's parser, sends the query, and reads the
 * copy's messages itself. At CopyDone, or at any other message (an ErrorResponse), it gives the socket back and
 * feeds the driver what it has not consumed, so the driver sees CommandComplete, ReadyForQuery or the error as
 * usual: an error reaches this stream through handleError and ends it with that error. A closed or broken
 * connection does the same (the driver fails its active query). When the consumer is slow, the socket is paused,
 * so the server waits rather than this process buffering the table.
 */
import { Readable } from 'node:stream'
import type pg from 'pg'
import { PgMirrorError } from '../../errors.ts'
import { CopyOutFrames } from './copy-out-frames.ts'

type DataListener = (chunk: Buffer) => void

export class CopyOutStream extends Readable {
  private readonly frames = new CopyOutFrames()
  private socket: pg.Connection['stream'] | undefined
  /** The driver's parser, while the copy holds the socket. */
  private driver: DataListener | undefined
  private paused = false

  constructor(private readonly text: string) {
    super()
  }

  /** Called by the pg Client when this query's turn comes. */
  submit(connection: pg.Connection): void {
    const socket = connection.stream
    const listeners = socket.listeners('data') as DataListener[]
    if (listeners.length !== 1 || listeners[0] === undefined)
      throw new PgMirrorError(
        'internal_error',
        `COPY expects one data listener on the socket, found ${listeners.length}`,
      )
    this.socket = socket
    this.driver = listeners[0]
    socket.removeListener('data', this.driver)
    socket.on('data', this.onData)
    connection.query(this.text)
  }

  private readonly onData = (chunk: Buffer): void => {
    let step
    try {
      step = this.frames.feed(chunk)
    } catch (e) {
      // Garbled framing: the connection cannot be trusted any more; the caller closes it (see finish()).
      this.release(undefined)
      this.destroy(e as Error)
      return
    }
    if (step.end === undefined) {
      if (step.data !== undefined && !this.push(step.data)) {
        this.paused = true
        this.socket?.pause()
      }
      return
    }
    // The driver parses the rest: CommandComplete and ReadyForQuery, or the error, which comes back through
    // handleError. The data before an error is dropped with the stream, as the partition fails anyway.
    if (step.end.kind === 'done' && step.data !== undefined) this.push(step.data)
    this.release(step.end.rest)
    if (step.end.kind === 'done') this.push(null)
  }

  /** Gives the socket back to the driver, with the bytes the copy did not consume. */
  private release(rest: Buffer | undefined): void {
    const { socket, driver } = this
    if (socket === undefined || driver === undefined) return
    this.driver = undefined
    socket.removeListener('data', this.onData)
    socket.on('data', driver)
    if (this.paused) {
      this.paused = false
      socket.resume()
    }
    if (rest !== undefined && rest.length > 0) driver(rest)
  }

  override _read(): void {
    if (this.paused && this.driver !== undefined) {
      this.paused = false
      this.socket?.resume()
    }
  }

  /** From the driver: an ErrorResponse, or the connection failed or closed. */
  handleError(err: Error): void {
    this.destroy(err)
  }

  handleCommandComplete(): void {}

  handleReadyForQuery(): void {}
}
