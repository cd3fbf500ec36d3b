// Where the tests find the real services started by `scripts/services.sh`, and small helpers for using them.
// The variables carry a PGMIRROR_TEST_ prefix so they never mix with pgmirror's own runtime config (REDIS_URL, …).
import { randomBytes } from 'node:crypto'
import pg from 'pg'

function required(name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') {
    throw new Error(
      `${name} is not set: run \`bash scripts/services.sh start\` and source its services.env, or use \`npm test\``,
    )
  }
  return value
}

/** The superuser URL of the test cluster, pointed at `db` when given (the cluster's `postgres` database otherwise). */
export function testPgUrl(db?: string): string {
  const url = new URL(required('PGMIRROR_TEST_PG_URL'))
  if (db !== undefined) url.pathname = `/${encodeURIComponent(db)}`
  return url.toString()
}

export const redisUrl = (): string => required('PGMIRROR_TEST_REDIS_URL')
export const clickhouseUrl = (): string => required('PGMIRROR_TEST_CLICKHOUSE_URL')
export const clickhouseNativePort = (): number => Number(required('PGMIRROR_TEST_CLICKHOUSE_NATIVE_PORT'))
/** `host:port` of the Kafka-protocol broker; the port changes every time the mock starts. */
export const kafkaBrokers = (): string[] => required('PGMIRROR_TEST_KAFKA_BROKERS').split(',')

/** A lower-case name that no other test (or earlier run) uses: `prefix_` plus 10 random hex digits. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`.toLowerCase()
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testPgUrl() })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

export interface TestDatabase {
  readonly name: string
  readonly url: string
  /** Drops the database even while sessions or replication connections are still attached to it. */
  drop(): Promise<void>
}

/** Creates a fresh database for one test; pair it with `after(() => db.drop())`. */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const name = uniqueName(prefix)
  const quoted = pg.escapeIdentifier(name)
  await admin((client) => client.query(`CREATE DATABASE ${quoted}`))
  return {
    name,
    url: testPgUrl(name),
    drop: async () => {
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`))
    },
  }
}

export interface WaitOptions {
  readonly timeoutMs?: number
  readonly intervalMs?: number
  /** Says what was awaited, for the timeout error. */
  readonly message?: string
}

/**
 * Polls `fn` until it returns a truthy value and returns that value; rejects once the deadline passes.
 * An error thrown by `fn` ends the wait at once: a broken check should fail loudly, not look like slowness.
 */
export async function waitFor<T>(
  fn: () => Promise<T> | T,
  { timeoutMs = 10_000, intervalMs = 50, message = 'condition' }: WaitOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  while (true) {
    const value = await fn()
    if (value) return value as NonNullable<T>
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
