/**
 * Configuration, parsed once from the environment and command-line flags. This is the only reader of process.env.
 * A bad value fails at boot with a message that names the variable.
 */
import { readFileSync } from 'node:fs'
import { homedir, hostname } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'

export type Role = 'all' | 'gateway' | 'api' | 'worker'

/** Alert checks and delivery (names follow PeerDB's dynamic settings where it has one). */
export interface AlertingConfig {
  /** Seconds between two checks of every mirror (PGMIRROR_ALERT_CHECK_INTERVAL_SECONDS). */
  readonly checkIntervalSeconds: number
  /** The same alert goes to the same destination at most once in this many minutes; 0 turns sending off. */
  readonly gapMinutes: number
  /** Retained WAL (MB) above which a slot-lag alert fires and a paused mirror warns; 0 = off. */
  readonly slotLagMbThreshold: number
  /** Minutes without a batch after which a running mirror alerts; 0 = off. */
  readonly staleBatchMinutes: number
  /** Slack Web API base URL; `${url}/chat.postMessage` is called. */
  readonly slackApiUrl: string
  readonly smtp: {
    readonly host: string | undefined
    readonly port: number
    readonly user: string | undefined
    readonly password: string | undefined
    /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
    readonly secure: boolean
    readonly from: string
  }
}

export interface Config {
  readonly role: Role
  readonly listenHost: string
  readonly port: number
  readonly httpPort: number
  /** SCRAM password for the gateway and HTTP Basic password for REST; undefined = no auth (trust). */
  readonly password: string | undefined
  /** undefined → the embedded catalog in dataDir. */
  readonly catalogUrl: string | undefined
  readonly dataDir: string
  /** Port of the embedded catalog cluster (loopback only). */
  readonly embeddedPort: number
  readonly redisUrl: string | undefined
  readonly redisPrefix: string
  readonly tls: { readonly cert: string; readonly key: string; readonly certPath: string } | undefined
  /** 32-byte AES key, or undefined (secrets then stored unencrypted in peer_secrets, with a warning). */
  readonly encryptionKey: Buffer | undefined
  readonly logLevel: string
  readonly workerConcurrency: number
  readonly alerting: AlertingConfig
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

export interface Flags {
  readonly role?: string
  readonly port?: string
  readonly httpPort?: string
  readonly catalogUrl?: string
  readonly dataDir?: string
  readonly host?: string
}

const port = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a port number` })
    .int(`${name} must be an integer`)
    .min(0, `${name} must be between 0 and 65535`)
    .max(65535, `${name} must be between 0 and 65535`)

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, name: string): T {
  const r = schema.safeParse(value)
  if (r.success) return r.data
  const issue = r.error.issues[0]
  throw new ConfigError(`invalid value for ${name}: ${issue?.message ?? 'invalid'} (got "${String(value)}")`)
}

function decodeKey(raw: string): Buffer {
  const t = raw.trim()
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex')
  const b = Buffer.from(t, 'base64')
  if (b.length === 32 && /^[A-Za-z0-9+/=_-]+$/.test(t)) return b
  throw new ConfigError(
    'invalid value for PGMIRROR_ENCRYPTION_KEY: it must be 32 bytes, as 64 hex digits or base64 ' +
      '(make one with `openssl rand -base64 32`)',
  )
}

function catalogUrlFromPeerDbVars(env: NodeJS.ProcessEnv): string | undefined {
  const host = env.PEERDB_CATALOG_HOST
  if (!host) return undefined
  const p = parseOrThrow(
    port('PEERDB_CATALOG_PORT'),
    env.PEERDB_CATALOG_PORT ?? '5432',
    'PEERDB_CATALOG_PORT',
  )
  const user = encodeURIComponent(env.PEERDB_CATALOG_USER ?? 'postgres')
  const pw = env.PEERDB_CATALOG_PASSWORD ? `:${encodeURIComponent(env.PEERDB_CATALOG_PASSWORD)}` : ''
  const db = encodeURIComponent(env.PEERDB_CATALOG_DATABASE ?? 'postgres')
  return `postgres://${user}${pw}@${host}:${p}/${db}`
}

function readPem(path: string, name: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (e) {
    throw new ConfigError(`cannot read ${name} "${path}": ${(e as Error).message}`)
  }
}

const wholeNumber = (max: number) =>
  z.coerce
    .number()
    .int('must be a whole number')
    .min(0, 'must be 0 or more')
    .max(max, `must be at most ${max}`)

/** The alerting settings alone: every role needs the slot-lag threshold (SHOW MIRROR warns with it). */
export function loadAlertingConfig(env: NodeJS.ProcessEnv): AlertingConfig {
  const num = (name: string, fallback: string, max = 2_147_483_647) =>
    parseOrThrow(wholeNumber(max), env[name] || fallback, name)
  const slackApiUrl = env.PGMIRROR_SLACK_API_URL || 'https://slack.com/api'
  if (!/^https?:\/\/[^/]/.test(slackApiUrl)) {
    throw new ConfigError(
      'invalid value for PGMIRROR_SLACK_API_URL: expected a URL like https://slack.com/api',
    )
  }
  const secure = parseOrThrow(
    z.enum(['true', 'false'], { error: 'must be true or false' }),
    (env.PGMIRROR_SMTP_SECURE || 'false').toLowerCase(),
    'PGMIRROR_SMTP_SECURE',
  )
  const interval = num('PGMIRROR_ALERT_CHECK_INTERVAL_SECONDS', '60', 86_400)
  if (interval === 0)
    throw new ConfigError('invalid value for PGMIRROR_ALERT_CHECK_INTERVAL_SECONDS: must be at least 1')
  return {
    checkIntervalSeconds: interval,
    gapMinutes: num('PEERDB_ALERTING_GAP_MINUTES', '15'),
    slotLagMbThreshold: num('PEERDB_SLOT_LAG_MB_ALERT_THRESHOLD', '5000'),
    staleBatchMinutes: num('PEERDB_INTERVAL_SINCE_LAST_NORMALIZE_THRESHOLD_MINUTES', '240'),
    slackApiUrl: slackApiUrl.replace(/\/+$/, ''),
    smtp: {
      host: env.PGMIRROR_SMTP_HOST || undefined,
      port: parseOrThrow(
        port('PGMIRROR_SMTP_PORT'),
        env.PGMIRROR_SMTP_PORT || (secure === 'true' ? '465' : '587'),
        'PGMIRROR_SMTP_PORT',
      ),
      user: env.PGMIRROR_SMTP_USER || undefined,
      password: env.PGMIRROR_SMTP_PASSWORD || undefined,
      secure: secure === 'true',
      from:
        env.PGMIRROR_SMTP_FROM || env.PEERDB_ALERTING_EMAIL_SENDER_SOURCE_EMAIL || `pgmirror@${hostname()}`,
    },
  }
}

export function loadConfig(env: NodeJS.ProcessEnv, flags: Flags = {}): Config {
  const role = parseOrThrow(
    z.enum(['all', 'gateway', 'api', 'worker'], { error: 'must be one of all, gateway, api, worker' }),
    flags.role ?? env.PGMIRROR_ROLE ?? 'all',
    '--role',
  )
  const portValue = parseOrThrow(
    port('PGMIRROR_PORT'),
    flags.port ?? env.PGMIRROR_PORT ?? '9900',
    'PGMIRROR_PORT',
  )
  const httpPort = parseOrThrow(
    port('PGMIRROR_HTTP_PORT'),
    flags.httpPort ?? env.PGMIRROR_HTTP_PORT ?? '3000',
    'PGMIRROR_HTTP_PORT',
  )
  const password =
    env.PEERDB_PASSWORD === undefined || env.PEERDB_PASSWORD === '' ? undefined : env.PEERDB_PASSWORD

  let catalogUrl = flags.catalogUrl ?? env.PGMIRROR_CATALOG_URL ?? catalogUrlFromPeerDbVars(env)
  if (catalogUrl !== undefined) {
    try {
      const u = new URL(catalogUrl)
      if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Error('scheme')
    } catch {
      throw new ConfigError(
        'invalid value for PGMIRROR_CATALOG_URL: expected a URL like postgres://user:pass@host:5432/db',
      )
    }
  }
  if (catalogUrl === '') catalogUrl = undefined

  const redisPrefix = parseOrThrow(
    z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only, at most 64'),
    env.PGMIRROR_REDIS_PREFIX ?? 'pgmirror',
    'PGMIRROR_REDIS_PREFIX',
  )
  const redisUrl = env.REDIS_URL || undefined
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError('invalid value for REDIS_URL: expected a URL like redis://host:6379')
  }

  const certPath = env.PGMIRROR_TLS_CERT ?? env.PEERDB_TLS_CERT
  const keyPath = env.PGMIRROR_TLS_KEY ?? env.PEERDB_TLS_KEY
  if ((certPath && !keyPath) || (!certPath && keyPath)) {
    throw new ConfigError('PGMIRROR_TLS_CERT and PGMIRROR_TLS_KEY must be set together')
  }
  const tls =
    certPath && keyPath
      ? { cert: readPem(certPath, 'PGMIRROR_TLS_CERT'), key: readPem(keyPath, 'PGMIRROR_TLS_KEY'), certPath }
      : undefined

  const rawKey = env.PGMIRROR_ENCRYPTION_KEY
  const encryptionKey = rawKey ? decodeKey(rawKey) : undefined

  const logLevel = parseOrThrow(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    }),
    env.PGMIRROR_LOG_LEVEL ?? 'info',
    'PGMIRROR_LOG_LEVEL',
  )
  const workerConcurrency = parseOrThrow(
    z.coerce.number().int('must be an integer').min(1, 'must be at least 1').max(256, 'must be at most 256'),
    env.PGMIRROR_WORKER_CONCURRENCY ?? '8',
    'PGMIRROR_WORKER_CONCURRENCY',
  )
  // Without a password nothing is authenticated, so listen on loopback only unless told otherwise.
  const listenHost = flags.host ?? env.PGMIRROR_LISTEN_HOST ?? (password ? '0.0.0.0' : '127.0.0.1')
  const defaultDataDir =
    process.getuid?.() === 0 ? '/var/lib/pgmirror' : join(homedir(), '.local/share/pgmirror')
  const dataDir = flags.dataDir ?? env.PGMIRROR_DATA_DIR ?? defaultDataDir

  const embeddedPort = parseOrThrow(
    port('PGMIRROR_EMBEDDED_PORT'),
    env.PGMIRROR_EMBEDDED_PORT ?? '54329',
    'PGMIRROR_EMBEDDED_PORT',
  )

  return {
    role,
    listenHost,
    port: portValue,
    httpPort,
    password,
    catalogUrl,
    dataDir,
    embeddedPort,
    redisUrl,
    redisPrefix,
    tls,
    encryptionKey,
    logLevel,
    workerConcurrency,
    alerting: loadAlertingConfig(env),
  }
}
