/**
 * ALTER … DELETE / UPDATE run as mutations that ClickHouse applies in the background; the sink waits for them,
 * because what follows depends on the result (a resync must not see the old checkpoint; readers of a table that
 * gained an array column must see NULL, not [], in the older rows).
 */
import type { ClickHouseClient } from '@clickhouse/client'
import { PgMirrorError } from '../../errors.ts'
import { queryRows } from './client-io.ts'
import { quoteIdent, quoteString } from './quote.ts'

const MUTATION_TIMEOUT_MS = 120_000

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs `ALTER TABLE db.table <action>` and resolves once every mutation of that table is done. */
export async function mutate(
  client: ClickHouseClient,
  database: string,
  table: string,
  action: string,
): Promise<void> {
  await client.command({ query: `ALTER TABLE ${quoteIdent(database)}.${quoteIdent(table)} ${action}` })
  const deadline = Date.now() + MUTATION_TIMEOUT_MS
  for (let wait = 10; ; wait = Math.min(wait * 2, 500)) {
    const pending = await queryRows<{ n: string }>(
      client,
      `SELECT count() AS n FROM system.mutations
       WHERE database = ${quoteString(database)} AND table = ${quoteString(table)} AND is_done = 0`,
    )
    if (pending[0]?.n === '0') return
    if (Date.now() > deadline)
      throw new PgMirrorError(
        'internal_error',
        `clickhouse did not finish "ALTER TABLE ${database}.${table} ${action.slice(0, 60)}" within ${MUTATION_TIMEOUT_MS / 1000} s`,
        { hint: 'see system.mutations on the clickhouse server' },
      )
    await pause(wait)
  }
}
