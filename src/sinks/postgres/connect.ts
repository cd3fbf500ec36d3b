/**
 * PostgresConfig → node-postgres options for the target. This deliberately repeats the mapping in
 * src/sources/postgres/connect.ts (sinks may not import sources): the TLS, CA, options, timeout and
 * application_name rules must stay identical, so a change to one belongs in both.
 */
import { readFileSync } from 'node:fs'
import type { ConnectionOptions } from 'node:tls'
import type pg from 'pg'
import { PgMirrorError } from '../../errors.ts'
import type { PostgresConfig } from '../../model/peer.ts'

const keepText = (value: string): string => value

/**
 * Every OID parses to the server's own text, per client (never on pg's shared registry): values read back from the
 * target (TOAST fill-ins, checkpoints) stay exact and never meet a JS Number or Date.
 */
export const rawTextTypes: pg.CustomTypesConfig = {
  getTypeParser: (() => keepText) as unknown as pg.CustomTypesConfig['getTypeParser'],
}

type TlsMode = 'disable' | 'require' | 'verify-ca' | 'verify-full'

/** Explicit sslmode wins; otherwise PeerDB's rule. node-postgres cannot fall back, so allow/prefer mean disable. */
function resolveTlsMode(cfg: PostgresConfig): TlsMode {
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

/** `root_ca`/`sslrootcert` hold PEM text or, libpq style, a file path. */
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

function tlsOptions(cfg: PostgresConfig, mode: TlsMode): ConnectionOptions | false {
  if (mode === 'disable') return false
  const ca = loadCa(cfg)
  const opts: ConnectionOptions = {}
  if (ca !== undefined) opts.ca = ca
  if (cfg.tls_host) opts.servername = cfg.tls_host
  // libpq: with a root CA present, "require" behaves like "verify-ca".
  const verify = mode === 'require' ? (ca !== undefined ? 'verify-ca' : 'none') : mode
  if (verify === 'none' || cfg.skip_cert_verification) {
    opts.rejectUnauthorized = false
  } else {
    opts.rejectUnauthorized = true
    if (verify === 'verify-ca') opts.checkServerIdentity = () => undefined
  }
  return opts
}

export function targetClientConfig(cfg: PostgresConfig): pg.ClientConfig {
  const out: pg.ClientConfig = {
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    // An empty string would make node-postgres fall back to PGPASSWORD from our own environment.
    password: cfg.password === '' ? () => '' : cfg.password,
    database: cfg.database,
    ssl: tlsOptions(cfg, resolveTlsMode(cfg)),
    application_name: cfg.application_name ?? 'pgmirror',
    types: rawTextTypes,
    keepAlive: true,
  }
  if (cfg.options) out.options = cfg.options
  if (cfg.connect_timeout !== undefined && cfg.connect_timeout > 0)
    out.connectionTimeoutMillis = cfg.connect_timeout * 1000
  return out
}

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

function hintFor(err: DriverError, cfg: PostgresConfig): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `is the server running on host "${cfg.host}" and accepting TCP/IP connections on port ${cfg.port}?`
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name "${cfg.host}" could not be resolved; check the host option`
    case '28P01':
    case '28000':
      return 'check the user and password options of the target peer'
    case '3D000':
      return `create the database or fix the database option (currently "${cfg.database}")`
  }
  if (/timeout/i.test(driverMessage(err))) return 'the server did not answer within connect_timeout'
  return 'check host, port, TLS settings and that the target accepts connections from the pgmirror machine'
}

/** A failed connect as one retryable error naming the target; the driver's own words are kept. */
export function describeConnectError(err: unknown, cfg: PostgresConfig): PgMirrorError {
  if (err instanceof PgMirrorError) return err
  const e = (err ?? {}) as DriverError
  return new PgMirrorError(
    'connection_failure',
    `could not connect to target "${cfg.host}:${cfg.port}": ${driverMessage(e)}`,
    { hint: hintFor(e, cfg) },
  )
}
