/**
 * The contract between the wire and whoever answers queries (the engine implements SessionHandler).
 * The wire owns framing, auth, statements/portals, formats and ordering; the handler only sees SQL text, text
 * parameters and a ResultWriter. One handler per connection; its calls never overlap.
 */

export interface FieldDescription {
  readonly name: string
  readonly tableOid?: number
  readonly columnAttr?: number
  readonly typeOid: number
  readonly typeSize?: number
  readonly typeMod?: number
}

export interface NoticeFields {
  readonly message: string
  readonly code?: string
  readonly detail?: string
  readonly hint?: string
  readonly severity?: 'NOTICE' | 'WARNING' | 'INFO'
}

export interface ResultWriter {
  /** RowDescription (simple query); in the extended protocol Describe reports fields, so this is ignored there. */
  columns(fields: readonly FieldDescription[]): void
  /** DataRow, values in text form (null = SQL NULL). */
  row(values: readonly (string | null)[]): void
  /** CommandComplete, e.g. 'SELECT 3', 'CREATE PEER'. */
  complete(tag: string): void
  /** NoticeResponse, sent at once. */
  notice(n: NoticeFields): void
  /** EmptyQueryResponse. */
  emptyQuery(): void
  /**
   * Resolves when the client socket can take more data. row() never blocks, so a handler that streams many rows
   * should await this every few thousand rows to keep memory bounded (it resolves at once when nothing is queued).
   */
  drained(): Promise<void>
}

export interface PreparedInfo {
  readonly paramTypes: readonly number[]
  /** null = the statement returns no rows (NoData). */
  readonly fields: readonly FieldDescription[] | null
}

export interface SessionHandler {
  /** After auth. params = StartupMessage parameters (user, database, application_name, …). Throw to refuse (FATAL). */
  start(params: Readonly<Record<string, string>>): Promise<void>
  /** Simple Query: the whole string, possibly several statements; the handler splits it and writes one result per statement. */
  simpleQuery(sql: string, out: ResultWriter, signal: AbortSignal): Promise<void>
  /** Parse: one statement. Throws on bad SQL. paramTypes given by the client (0 = unspecified). */
  prepare(sql: string, paramTypes: readonly number[], signal: AbortSignal): Promise<PreparedInfo>
  /** Execute a prepared statement with text params (null = SQL NULL). Writes rows (no columns() call needed) and complete(). */
  execute(
    sql: string,
    params: readonly (string | null)[],
    out: ResultWriter,
    signal: AbortSignal,
  ): Promise<void>
  /** 'I' idle, 'T' in a transaction block, 'E' failed transaction block: sent in every ReadyForQuery. */
  transactionStatus(): 'I' | 'T' | 'E'
  /** Connection gone (Terminate or socket close). */
  end(): Promise<void>
}

export interface WireLog {
  warn(obj: object, msg: string): void
  debug?(obj: object, msg: string): void
}

export interface WireServerOptions {
  readonly host: string
  /** 0 = ephemeral */
  readonly port: number
  /** set → SCRAM-SHA-256 with any user name; unset → trust */
  readonly password?: string
  /** set → SSLRequest answered 'S' */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer }
  /** default 64 MiB */
  readonly maxMessageBytes?: number
  /** ParameterStatus server_version; default DEFAULT_SERVER_VERSION */
  readonly serverVersion?: string
  readonly createHandler: (info: { processId: number; remoteAddress: string }) => SessionHandler
  readonly log?: WireLog
}

/** Drivers parse the leading number (node-pg, psycopg2, JDBC, libpq's PQserverVersion), so it must look like Postgres. */
export const DEFAULT_SERVER_VERSION = '15.0 (pgmirror)'

export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
