import { PgMirrorError } from '../errors.ts'
import type {
  ClickhouseConfig,
  KafkaConfig,
  KafkaPartitioner,
  PeerConfig,
  PostgresConfig,
  SaslMechanism,
  SslMode,
} from '../model/peer.ts'
import { PeerTypes } from '../model/peer.ts'
import { GRAMMAR_PEER_TYPES } from './ast.ts'
import type { OptionContext, OptionInputs, OptionSchema } from './option-values.ts'
import { badValue, missing, OptionReader, present } from './option-values.ts'

const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']
const SASL_MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']
const PARTITIONERS: readonly KafkaPartitioner[] = [
  'LeastBackup',
  'Manual',
  'RoundRobin',
  'StickyKey',
  'Sticky',
  'Default',
]

export const POSTGRES_OPTION_KEYS = [
  'host',
  'port',
  'user',
  'password',
  'database',
  'sslmode',
  'sslrootcert',
  'root_ca',
  'tls_host',
  'require_tls',
  'disable_tls',
  'skip_cert_verification',
  'options',
  'connect_timeout',
  'application_name',
  'metadata_schema',
  'connection_string',
] as const

export const CLICKHOUSE_OPTION_KEYS = [
  'host',
  'port',
  'user',
  'password',
  'database',
  'disable_tls',
  'certificate',
  'private_key',
  'root_ca',
  'tls_host',
  'cluster',
] as const

export const KAFKA_OPTION_KEYS = [
  'servers',
  'user',
  'password',
  'sasl_mechanism',
  'disable_tls',
  'certificate',
  'private_key',
  'root_ca',
  'partitioner',
  'max_record_batch_bytes',
  'compression',
] as const

/**
 * Turns `CREATE PEER … WITH (…)` options (ctx 'sql') or a REST body's config object (ctx 'rest') into a typed
 * peer config, with defaults filled in. Throws 22023 naming the key for unknown keys, bad values and missing
 * required keys, and 0A000 for peer types PeerDB has but pgmirror does not.
 */
export function validatePeerOptions(type: string, options: OptionInputs, ctx: OptionContext): PeerConfig {
  const upper = type.toUpperCase()
  const schema = (keys: readonly string[]): OptionSchema => ({
    keys,
    unknownMessage: (key: string) => `unrecognized option "${key}" for peer type ${upper.toLowerCase()}`,
  })
  switch (upper) {
    case 'POSTGRES':
      return { type: 'POSTGRES', config: postgresConfig(options, ctx, schema(POSTGRES_OPTION_KEYS)) }
    case 'CLICKHOUSE':
      return {
        type: 'CLICKHOUSE',
        config: clickhouseConfig(OptionReader.from(options, schema(CLICKHOUSE_OPTION_KEYS), ctx)),
      }
    case 'KAFKA':
      return {
        type: 'KAFKA',
        config: kafkaConfig(OptionReader.from(options, schema(KAFKA_OPTION_KEYS), ctx)),
      }
  }
  const supported = Object.keys(PeerTypes).join(', ')
  if ((GRAMMAR_PEER_TYPES as readonly string[]).includes(upper)) {
    throw new PgMirrorError(
      'feature_not_supported',
      `peer type "${upper.toLowerCase()}" is not supported by pgmirror`,
      {
        hint: `supported peer types are ${supported}`,
      },
    )
  }
  throw new PgMirrorError('invalid_parameter_value', `unrecognized peer type "${type}"`, {
    field: 'type',
    hint: `supported peer types are ${supported}`,
  })
}

function postgresConfig(options: OptionInputs, ctx: OptionContext, schema: OptionSchema): PostgresConfig {
  const explicit = OptionReader.from(options, schema, ctx)
  const url = explicit.string('connection_string')
  // Keys given alongside the URL override what the URL says.
  const r = url === undefined ? explicit : explicit.withFallbacks(parseConnectionString(url))
  const subject = 'peer type postgres'
  return {
    host: hostOption(r, subject, true),
    port: r.int('port', 1, 65535) ?? 5432,
    user: r.requiredString('user', subject),
    password: r.rawString('password') ?? '',
    database: r.requiredString('database', subject),
    ...present('sslmode', r.oneOf('sslmode', SSL_MODES)),
    ...present('sslrootcert', r.string('sslrootcert')),
    ...present('root_ca', r.string('root_ca')),
    ...present('tls_host', r.string('tls_host')),
    ...present('require_tls', r.bool('require_tls')),
    ...present('disable_tls', r.bool('disable_tls')),
    ...present('skip_cert_verification', r.bool('skip_cert_verification')),
    ...present('options', r.string('options')),
    ...present('connect_timeout', r.int('connect_timeout', 0, 2147483647)),
    ...present('application_name', r.string('application_name')),
    ...present('metadata_schema', r.string('metadata_schema')),
  }
}

/** URL query parameters we take from a connection string, mapped to option keys (libpq names). */
const URL_PARAMS: Readonly<Record<string, string>> = {
  sslmode: 'sslmode',
  sslrootcert: 'sslrootcert',
  options: 'options',
  connect_timeout: 'connect_timeout',
  application_name: 'application_name',
  host: 'host',
  port: 'port',
  user: 'user',
  password: 'password',
  dbname: 'database',
}

/** `postgres://user:password@host:port/database?sslmode=…` → option entries. The URL is never echoed: it may hold a password. */
function parseConnectionString(text: string): [string, string][] {
  const fail = (why: string) =>
    new PgMirrorError('invalid_parameter_value', `invalid value for option "connection_string": ${why}`, {
      field: 'connection_string',
      hint: 'expected postgres://user:password@host:port/database?sslmode=require',
    })
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw fail('not a URL')
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw fail(`scheme "${url.protocol.slice(0, -1)}" is not postgres or postgresql`)
  }
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s)
    } catch {
      throw fail('bad percent-encoding')
    }
  }
  const out: [string, string][] = []
  const add = (key: string, value: string) => {
    if (value !== '') out.push([key, value])
  }
  add('host', url.hostname.replace(/^\[(.*)\]$/, '$1'))
  add('port', url.port)
  add('user', decode(url.username))
  add('password', decode(url.password))
  add('database', decode(url.pathname.replace(/^\//, '')))
  for (const [param, value] of url.searchParams) {
    const key = URL_PARAMS[param]
    if (key === undefined) throw fail(`unrecognized parameter "${param}"`)
    add(key, value)
  }
  return out
}

/** Letters and digits of any script, dots, dashes, underscores; IPv6 colons, brackets and a `%zone`. */
const HOST_NAME = /^[\p{L}\p{N}._:%[\]-]+$/u

/**
 * A host name or IP address (or, for postgres, a socket directory such as /var/run/postgresql). A host with spaces,
 * quotes or semicolons can never be reached; it was stored as given when REST skipped the connection check.
 */
function hostOption(r: OptionReader, subject: string, socketDirectory: boolean): string {
  const host = r.requiredString('host', subject)
  if (HOST_NAME.test(host) || (socketDirectory && host.startsWith('/') && !host.includes('\0'))) return host
  throw badValue(
    'host',
    host,
    `a host name or IP address${socketDirectory ? ' (or a socket directory)' : ''}`,
  )
}

function clickhouseConfig(r: OptionReader): ClickhouseConfig {
  return {
    host: hostOption(r, 'peer type clickhouse', false),
    // pgmirror talks to ClickHouse over its HTTP interface, so `port` is the HTTP port (8123), not PeerDB's native 9000.
    port: r.int('port', 1, 65535) ?? 8123,
    user: r.string('user') ?? 'default',
    password: r.rawString('password') ?? '',
    database: r.string('database') ?? 'default',
    ...present('disable_tls', r.bool('disable_tls')),
    ...present('certificate', r.string('certificate')),
    ...present('private_key', r.string('private_key')),
    ...present('root_ca', r.string('root_ca')),
    ...present('tls_host', r.string('tls_host')),
    ...present('cluster', r.string('cluster')),
  }
}

function kafkaConfig(r: OptionReader): KafkaConfig {
  const servers = r.list('servers')
  if (servers === undefined) throw missing('servers', 'peer type kafka')
  return {
    servers,
    ...present('user', r.string('user')),
    ...present('password', r.rawString('password')),
    ...present('sasl_mechanism', r.oneOf('sasl_mechanism', SASL_MECHANISMS)),
    ...present('disable_tls', r.bool('disable_tls')),
    ...present('certificate', r.string('certificate')),
    ...present('private_key', r.string('private_key')),
    ...present('root_ca', r.string('root_ca')),
    ...present('partitioner', r.oneOf('partitioner', PARTITIONERS)),
    ...present('max_record_batch_bytes', r.int('max_record_batch_bytes', 1, 2147483647)),
    ...present('compression', r.oneOf('compression', ['none', 'gzip'] as const)),
  }
}
