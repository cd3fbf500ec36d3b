/**
 * PostgresConfig → node-postgres options, and failed connects → one error a user can act on. Shared by the
 * Postgres source, the Postgres sink and the engine, so TLS, CA, options, timeout and application_name behave the
 * same for every connection pgmirror opens to a peer.
 */
import { readFileSync } from 'node:fs'
import type { ConnectionOptions } from 'node:tls'
import type pg from 'pg'
import { PgMirrorError } from '../errors.ts'
import type { PostgresConfig } from '../model/peer.ts'

const keepText = (value: string): string => value

/**
 * Type parsers that hand back every value exactly as the server printed it. Installed per client (never on pg's
 * global registry, which other code shares) so numeric, int8, timestamps and json pass through untouched: no JS
 * Number or Date ever sees a replicated value.
 */
export const rawTextTypes: pg.CustomTypesConfig = {
  getTypeParser: (() => keepText) as unknown as pg.CustomTypesConfig['getTypeParser'],
}

/** node-postgres options plus the startup parameter its typings leave out. */
export type PgClientConfig = pg.ClientConfig & { replication?: 'database' }

export interface ClientOptions {
  /** `'database'` opens a walsender connection (replication commands plus plain SQL). */
  readonly replication?: 'database'
  readonly applicationName?: string
}

/** The TLS behaviour we can actually deliver with node-postgres, which has no "try TLS, fall back" mode. */
export type TlsMode = 'disable' | 'require' | 'verify-ca' | 'verify-full'

/**
 * Decides the TLS mode. An explicit `sslmode` wins; without it PeerDB's rule applies (TLS iff `require_tls`, or
 * `disable_tls` explicitly false). `require_tls` upgrades the weak modes. `allow`/`prefer` mean "try TLS, fall back"
 * in libpq, but node-postgres cannot fall back (it fails on the server's 'N'), so they behave like `disable`.
 */
export function resolveTlsMode(cfg: PostgresConfig): TlsMode {
  const explicit = cfg.sslmode ?? (cfg.require_tls || cfg.disable_tls === false ? 'require' : 'disable')
  switch (explicit) {
    case 'disable':
    case 'allow':
    case 'prefer':
      return cfg.require_tls ? 'require' : 'disable'
    case 'require':
    case 'verify-ca':
    case 'verify-full':
      return explicit
  }
}

/** `sslrootcert`/`root_ca` hold either PEM text or, libpq style, the path of a PEM file. */
function loadCa(cfg: PostgresConfig): string | undefined {
  const value = cfg.root_ca ?? cfg.sslrootcert
  if (value === undefined || value === '') return undefined
  if (value.includes('-----BEGIN')) return value
  try {
    return readFileSync(value, 'utf8')
  } catch (e) {
    throw new PgMirrorError(
      'invalid_parameter_value',
      `could not read root certificate file "${value}": ${(e as Error).message}`,
      { hint: 'give the CA as PEM text or as a path readable by the pgmirror process', field: 'root_ca' },
    )
  }
}

/** Builds node-tls options for the mode; `false` means plain TCP. */
export function tlsOptions(
  cfg: PostgresConfig,
  mode: TlsMode,
  ca: string | undefined,
): ConnectionOptions | false {
  if (mode === 'disable') return false
  const opts: ConnectionOptions = {}
  if (ca !== undefined) opts.ca = ca
  if (cfg.tls_host) opts.servername = cfg.tls_host
  // libpq: with a root CA present, "require" behaves like "verify-ca".
  const verify = mode === 'require' ? (ca !== undefined ? 'verify-ca' : 'none') : mode
  if (verify === 'none' || cfg.skip_cert_verification) {
    opts.rejectUnauthorized = false
  } else {
    opts.rejectUnauthorized = true
    // verify-ca checks the chain only; the host name is verify-full's job.
    if (verify === 'verify-ca') opts.checkServerIdentity = () => undefined
  }
  return opts
}

/** Maps our peer config to node-postgres options; every client gets the raw-text type parsers. */
export function pgClientConfig(cfg: PostgresConfig, opts: ClientOptions = {}): PgClientConfig {
  const mode = resolveTlsMode(cfg)
  const out: PgClientConfig = {
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    // An empty string would make node-postgres fall back to PGPASSWORD from our own environment.
    password: cfg.password === '' ? () => '' : cfg.password,
    database: cfg.database,
    ssl: tlsOptions(cfg, mode, mode === 'disable' ? undefined : loadCa(cfg)),
    application_name: opts.applicationName ?? cfg.application_name ?? 'pgmirror',
    types: rawTextTypes,
    keepAlive: true,
  }
  if (cfg.options) out.options = cfg.options
  if (cfg.connect_timeout !== undefined && cfg.connect_timeout > 0) {
    out.connectionTimeoutMillis = cfg.connect_timeout * 1000
  }
  if (opts.replication) out.replication = opts.replication
  return out
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]'])

interface DriverError {
  code?: string
  message?: string
  errors?: readonly { message?: string }[]
}

/** Node 20 reports a refused dual-stack connect as an AggregateError with an empty message. */
function driverMessage(err: DriverError): string {
  if (err.message) return err.message
  const inner = (err.errors ?? []).map((e) => e.message).filter((m): m is string => !!m)
  return inner.length > 0 ? inner.join('; ') : (err.code ?? 'unknown error')
}

function hintFor(err: DriverError, cfg: PostgresConfig): string | undefined {
  const local = LOCAL_HOSTS.has(cfg.host)
    ? `host "${cfg.host}" is the machine running pgmirror itself; if the database runs elsewhere (another container or host), use that machine's address`
    : undefined
  const msg = driverMessage(err)
  const join = (...parts: (string | undefined)[]): string | undefined =>
    parts.filter((p): p is string => !!p).join('; ') || undefined
  switch (err.code) {
    case 'ECONNREFUSED':
      return join(
        `is the server running on host "${cfg.host}" and accepting TCP/IP connections on port ${cfg.port}?`,
        local,
      )
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name "${cfg.host}" could not be resolved; check the host option`
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return join(
        'check that the address is reachable from the pgmirror machine and no firewall drops the traffic',
        local,
      )
    case '28P01':
    case '28000':
      return 'check the user and password options of the peer'
    case '3D000':
      return `create the database or fix the database option (currently "${cfg.database}")`
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return 'the server certificate is not trusted: pass its CA as root_ca, or set skip_cert_verification = true'
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return 'the server certificate does not name this host: set tls_host to the name it carries, or use sslmode verify-ca'
  }
  if (/does not support SSL/i.test(msg))
    return 'the server has TLS off: set require_tls = false (or sslmode = disable)'
  if (/timeout/i.test(msg)) return join('the server did not answer within connect_timeout', local)
  return local
}

/**
 * Turns a failed connect into one error a user can act on. The driver's own message is kept verbatim;
 * wrong passwords and missing databases are reported as connection failures because, for a peer, that is what they are.
 */
export function describeConnectError(
  err: unknown,
  cfg: PostgresConfig,
  what = 'postgres peer',
): PgMirrorError {
  if (err instanceof PgMirrorError) return err
  const e = (err ?? {}) as DriverError
  const hint = hintFor(e, cfg)
  return new PgMirrorError(
    'connection_failure',
    `could not connect to ${what} at "${cfg.host}:${cfg.port}": ${driverMessage(e)}`,
    hint !== undefined ? { hint } : {},
  )
}
