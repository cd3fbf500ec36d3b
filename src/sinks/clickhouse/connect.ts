import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client'
import { PgMirrorError } from '../../errors.ts'
import type { ClickhouseConfig } from '../../model/peer.ts'
import { dialectFor, parseServerVersion } from './server-version.ts'

/** pgmirror talks to ClickHouse over its HTTP interface; `port` is the HTTP(S) port (8123 / 8443). */
export function clickhouseClient(
  cfg: ClickhouseConfig,
  extra: { requestTimeoutMs?: number; sessionId?: string } = {},
): ClickHouseClient {
  const scheme = cfg.disable_tls === false || cfg.certificate || cfg.root_ca ? 'https' : 'http'
  const tls =
    scheme === 'https' && cfg.root_ca
      ? cfg.certificate && cfg.private_key
        ? {
            ca_cert: Buffer.from(cfg.root_ca),
            cert: Buffer.from(cfg.certificate),
            key: Buffer.from(cfg.private_key),
          }
        : { ca_cert: Buffer.from(cfg.root_ca) }
      : undefined
  return createClient({
    url: `${scheme}://${cfg.host}:${cfg.port}`,
    username: cfg.user,
    password: cfg.password,
    database: cfg.database,
    request_timeout: extra.requestTimeoutMs ?? 30_000,
    application: 'pgmirror',
    // Every failure reaches the caller as an error, which pgmirror reports; the client's own console logging
    // would only repeat it outside pgmirror's log.
    log: { level: ClickHouseLogLevel.OFF },
    ...(extra.sessionId !== undefined ? { session_id: extra.sessionId } : {}),
    ...(tls ? { tls } : {}),
  })
}

function describe(cfg: ClickhouseConfig, e: unknown): PgMirrorError {
  const msg = e instanceof Error ? e.message : String(e)
  const local = ['localhost', '127.0.0.1', '::1'].includes(cfg.host)
  return new PgMirrorError(
    'connection_failure',
    `could not connect to clickhouse peer at "${cfg.host}:${cfg.port}": ${msg}`,
    {
      hint: local
        ? `"${cfg.host}" is the machine pgmirror runs on; check that clickhouse-server listens there on its HTTP port (usually 8123), not the native port 9000`
        : 'check host, port (the HTTP interface, usually 8123 or 8443 with TLS), user and password',
    },
  )
}

/**
 * Connects, checks the server is recent enough (server-version.ts), then proves the right to create tables by
 * creating and dropping a probe table.
 */
export async function validateClickhouse(cfg: ClickhouseConfig): Promise<{ version: string }> {
  const client = clickhouseClient(cfg, { requestTimeoutMs: 15_000 })
  try {
    const ping = await client.ping()
    if (!ping.success) throw describe(cfg, ping.error)
    let version: string
    try {
      const rs = await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })
      version = ((await rs.json()) as { v: string }[])[0]?.v ?? 'unknown'
    } catch (e) {
      throw new PgMirrorError(
        'connection_failure',
        `clickhouse peer rejected the login: ${(e as Error).message}`,
        {
          hint: 'check user, password and database',
        },
      )
    }
    // Refuses a server older than the sink supports now, not at the first mirror.
    dialectFor(parseServerVersion(version))
    const probe = `_pgmirror_probe_${process.pid}_${Date.now()}`
    try {
      await client.command({
        query: `CREATE TABLE \`${cfg.database}\`.\`${probe}\` (x UInt8) ENGINE = Memory`,
      })
      await client.command({ query: `DROP TABLE \`${cfg.database}\`.\`${probe}\`` })
    } catch (e) {
      throw new PgMirrorError(
        'insufficient_privilege',
        `clickhouse user "${cfg.user}" cannot create tables in database "${cfg.database}": ${(e as Error).message}`,
        { hint: 'grant CREATE TABLE and INSERT on that database, or pick another database' },
      )
    }
    return { version }
  } catch (e) {
    if (e instanceof PgMirrorError) throw e
    throw describe(cfg, e)
  } finally {
    await client.close()
  }
}
