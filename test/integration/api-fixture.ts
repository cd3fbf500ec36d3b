// The REST API in-process, listening on an ephemeral port over a fresh migrated catalog, built the way main.ts
// builds it (no worker: mirrors stay queued, which is all the API tests need).
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { pino } from 'pino'
import { buildApi } from '../../src/api/server.ts'
import { AlertStore } from '../../src/catalog/alert-store.ts'
import { migrate } from '../../src/catalog/migrate.ts'
import { MirrorStore } from '../../src/catalog/mirror-store.ts'
import { PeerStore } from '../../src/catalog/peer-store.ts'
import { loadAlertingConfig } from '../../src/config.ts'
import type { EngineContext } from '../../src/engine/context.ts'
import { JobQueue } from '../../src/engine/queue.ts'
import { connectors } from '../../src/engine/registry.ts'
import { createTestDatabase, testPgUrl, waitFor, type TestDatabase } from '../support/services.ts'

export interface ApiResponse {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary response shapes
  readonly json: any
}

export interface ApiFixture {
  readonly base: string
  readonly ctx: EngineContext
  readonly catalog: TestDatabase
  readonly encryptionKey: Buffer
  request(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse>
  close(): Promise<void>
}

async function adminQuery(text: string, values: unknown[]): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: testPgUrl() })
  await c.connect()
  try {
    return await c.query(text, values)
  } finally {
    await c.end()
  }
}

export async function startApi(opts: { password?: string } = {}): Promise<ApiFixture> {
  const catalog = await createTestDatabase('apicat')
  const pool = new pg.Pool({ connectionString: catalog.url, max: 20 })
  const client = await pool.connect()
  try {
    await migrate(client)
  } finally {
    client.release()
  }
  const encryptionKey = randomBytes(32)
  const queue = new JobQueue({ catalogUrl: catalog.url, redisUrl: undefined })
  const ctx: EngineContext = {
    catalog: pool,
    catalogUrl: catalog.url,
    peers: new PeerStore(pool, encryptionKey),
    mirrors: new MirrorStore(pool),
    alerts: new AlertStore(pool, encryptionKey),
    alerting: loadAlertingConfig({}),
    queue,
    connectors,
    log: pino({ level: 'silent' }),
  }
  const app = await buildApi(ctx, { host: '127.0.0.1', port: 0, password: opts.password, encryptionKey })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const addr = app.server.address()
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`
  return {
    base,
    ctx,
    catalog,
    encryptionKey,
    async request(method, path, body, headers = {}) {
      const res = await fetch(base + path, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      })
      const text = await res.text()
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      return { status: res.status, headers: res.headers, text, json }
    },
    async close() {
      await app.close()
      await queue.close()
      await pool.end()
      // pool.end() resolves before its sockets have closed; a forced drop now would kill them mid-close and
      // surface as an uncaught error.
      await waitFor(
        async () =>
          (
            await adminQuery('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [
              catalog.name,
            ])
          ).rows[0].n === 0,
        { message: `connections to ${catalog.name} to close` },
      )
      await catalog.drop()
    },
  }
}

/** A postgres peer body for a database of the test cluster (trust auth, so any password is accepted). */
export function pgPeer(name: string, db: TestDatabase, extra: Record<string, unknown> = {}) {
  const u = new URL(db.url)
  return {
    name,
    type: 'POSTGRES',
    postgres_config: {
      host: u.hostname,
      port: Number(u.port),
      user: decodeURIComponent(u.username),
      password: 'sekret-pw-123',
      database: db.name,
      ...extra,
    },
  }
}
