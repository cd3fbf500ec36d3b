/**
 * The three ways the sink talks to ClickHouse beyond DDL: streaming a RowBinary (or, for the snapshot's fast
 * path, TabSeparated) body into an INSERT, reading a
 * RowBinary result whole (small lookups only), and reading JSON rows (bookkeeping). 64-bit integers arrive as
 * strings in JSON output, so nothing here passes an LSN or batch id through a JS number.
 */
import { Readable } from 'node:stream'
import type { ClickHouseClient } from '@clickhouse/client'
import { quoteList } from './quote.ts'

/** Resolves once ClickHouse acknowledged the insert (the response ends only after the data is written). */
export async function insertRowBinary(
  client: ClickHouseClient,
  tableSql: string,
  columns: readonly string[],
  body: Readable | readonly Buffer[],
  format: 'RowBinary' | 'TabSeparated' = 'RowBinary',
): Promise<void> {
  const values = body instanceof Readable ? body : Readable.from(body, { objectMode: false })
  const res = await client.exec({
    query: `INSERT INTO ${tableSql} (${quoteList(columns)}) FORMAT ${format}`,
    values,
  })
  for await (const _ of res.stream) {
    // An INSERT answers with an empty body; draining it lets the connection go back to the pool.
  }
}

export async function readRowBinary(client: ClickHouseClient, sql: string): Promise<Buffer> {
  const res = await client.exec({ query: `${sql} FORMAT RowBinary` })
  const parts: Buffer[] = []
  for await (const chunk of res.stream as AsyncIterable<Buffer>) parts.push(chunk)
  return Buffer.concat(parts)
}

export async function queryRows<T>(client: ClickHouseClient, sql: string): Promise<T[]> {
  const rs = await client.query({ query: sql, format: 'JSONEachRow' })
  return rs.json<T>()
}
