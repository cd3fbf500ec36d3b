/**
 * Runs one statement on a Postgres connection and streams its result to a ResultWriter, values as raw text.
 * Used for queries forwarded to a peer and for read-only catalog queries.
 */
import { EventEmitter } from 'node:events'
import pg from 'pg'
import type { FieldDescription, ResultWriter } from '../wire/session.ts'

/** Type parsers that return the server's text unchanged: no JS Date or Number ever touches a forwarded value. */
export const rawTextTypes = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig

/** The parts of pg's internal Connection a submittable drives (pg calls `submit(connection)`). */
interface WireConnection extends EventEmitter {
  parse(msg: { text: string; name: string; types: number[] }): void
  bind(msg: { portal: string; statement: string; values: (string | null)[]; binary: boolean }): void
  describe(msg: { type: 'S' | 'P'; name: string }): void
  execute(msg: { portal: string; rows: number }): void
  sync(): void
  sendCopyFail(message: string): void
  readonly stream: { pause(): void; resume(): void }
}

/** Rows between checks of the client's socket buffer: a slow client pauses the peer connection, bounding memory. */
const BACKPRESSURE_EVERY = 1000

interface PgField {
  name: string
  tableID: number
  columnID: number
  dataTypeID: number
  dataTypeSize: number
  dataTypeModifier: number
}

const toField = (f: PgField): FieldDescription => ({
  name: f.name,
  tableOid: f.tableID,
  columnAttr: f.columnID,
  typeOid: f.dataTypeID,
  typeSize: f.dataTypeSize,
  typeMod: f.dataTypeModifier,
})

/**
 * A pg "submittable" that streams rows straight to the writer instead of collecting them, so a large result
 * never sits whole in memory. It speaks the extended protocol with text parameters.
 */
class StreamingQuery extends EventEmitter {
  private done!: (err?: Error) => void
  readonly finished: Promise<void>
  private connection: WireConnection | undefined
  private rows = 0

  constructor(
    private readonly text: string,
    private readonly values: readonly (string | null)[],
    private readonly out: ResultWriter,
    private readonly sendColumns: boolean,
  ) {
    super()
    this.finished = new Promise((resolve, reject) => {
      this.done = (err) => (err ? reject(err) : resolve())
    })
  }

  submit(connection: WireConnection): void {
    this.connection = connection
    connection.parse({ text: this.text, name: '', types: [] })
    connection.bind({ portal: '', statement: '', values: [...this.values], binary: false })
    connection.describe({ type: 'P', name: '' })
    connection.execute({ portal: '', rows: 0 })
    connection.sync()
  }

  handleRowDescription(msg: { fields: PgField[] }): void {
    if (this.sendColumns) this.out.columns(msg.fields.map(toField))
  }

  handleDataRow(msg: { fields: (string | null)[] }): void {
    this.out.row(msg.fields)
    if (++this.rows % BACKPRESSURE_EVERY === 0 && this.connection) {
      const socket = this.connection.stream
      socket.pause()
      void this.out.drained().then(
        () => socket.resume(),
        () => socket.resume(),
      )
    }
  }

  handleCommandComplete(msg: { text: string }): void {
    this.out.complete(msg.text)
  }

  handleEmptyQuery(): void {
    this.out.emptyQuery()
  }

  // pg forgets the active query when an ErrorResponse arrives, so ReadyForQuery never reaches us after an error:
  // settle here. The Sync we sent in submit() still brings the connection back to idle for the next query.
  handleError(err: Error): void {
    this.done(err)
  }

  handleReadyForQuery(): void {
    this.done()
  }

  handlePortalSuspended(): void {}
  handleCopyInResponse(connection: WireConnection): void {
    connection.sendCopyFail('COPY is not supported through pgmirror')
  }
  handleCopyData(): void {}
}

export async function streamQuery(
  client: pg.Client,
  sql: string,
  params: readonly (string | null)[],
  out: ResultWriter,
  opts: { sendColumns: boolean },
): Promise<void> {
  const q = new StreamingQuery(sql, params, out, opts.sendColumns)
  client.query(q as unknown as pg.QueryConfig)
  await q.finished
}

/** Parse + Describe without executing: the parameter types and result columns of a statement. */
class DescribeQuery extends EventEmitter {
  private done!: (err?: Error) => void
  readonly finished: Promise<void>
  paramTypes: number[] = []
  fields: FieldDescription[] | null = null

  constructor(
    private readonly text: string,
    private readonly types: readonly number[],
  ) {
    super()
    this.finished = new Promise((resolve, reject) => {
      this.done = (err) => (err ? reject(err) : resolve())
    })
  }

  submit(connection: WireConnection): void {
    const onParams = (msg: { dataTypeIDs: number[] }) => {
      this.paramTypes = msg.dataTypeIDs
    }
    connection.once('parameterDescription', onParams)
    this.finished
      .finally(() => connection.removeListener('parameterDescription', onParams))
      .catch(() => undefined)
    connection.parse({ text: this.text, name: '', types: [...this.types] })
    connection.describe({ type: 'S', name: '' })
    connection.sync()
  }

  handleRowDescription(msg: { fields: PgField[] }): void {
    this.fields = msg.fields.map(toField)
  }

  // pg forgets the active query when an ErrorResponse arrives, so ReadyForQuery never reaches us after an error:
  // settle here. The Sync we sent in submit() still brings the connection back to idle for the next query.
  handleError(err: Error): void {
    this.done(err)
  }

  handleReadyForQuery(): void {
    this.done()
  }

  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
}

export async function describeStatement(
  client: pg.Client,
  sql: string,
  paramTypes: readonly number[],
): Promise<{ paramTypes: number[]; fields: FieldDescription[] | null }> {
  const q = new DescribeQuery(sql, paramTypes)
  client.query(q as unknown as pg.QueryConfig)
  await q.finished
  return { paramTypes: q.paramTypes, fields: q.fields }
}

/** Cancels whatever `client` is running, through a second connection with the same settings. */
export async function cancelBackend(config: pg.ClientConfig, client: pg.Client): Promise<void> {
  const pid = (client as unknown as { processID?: number }).processID
  if (!pid) return
  const c = new pg.Client(config)
  try {
    await c.connect()
    await c.query('SELECT pg_cancel_backend($1)', [pid])
  } finally {
    await c.end().catch(() => undefined)
  }
}
