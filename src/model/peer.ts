/**
 * Peers: the databases and brokers pgmirror reads from and writes to.
 * The numeric type codes are PeerDB's DBType values, so `SELECT id, name, type FROM peers` reads the same.
 */

export const PeerTypes = { POSTGRES: 3, CLICKHOUSE: 8, KAFKA: 9 } as const
export type PeerTypeName = keyof typeof PeerTypes

export const peerTypeName = (code: number): PeerTypeName | undefined =>
  (Object.keys(PeerTypes) as PeerTypeName[]).find((k) => PeerTypes[k] === code)

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full'

export interface PostgresConfig {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
  readonly database: string
  readonly sslmode?: SslMode
  /** PEM text or a file path of the CA to verify against. */
  readonly sslrootcert?: string
  /** PeerDB's `root_ca`: inline PEM. */
  readonly root_ca?: string
  readonly tls_host?: string
  readonly require_tls?: boolean
  readonly disable_tls?: boolean
  readonly skip_cert_verification?: boolean
  /** libpq `options`, e.g. `-c statement_timeout=5s`. */
  readonly options?: string
  readonly connect_timeout?: number
  readonly application_name?: string
  readonly metadata_schema?: string
}

export interface ClickhouseConfig {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
  readonly database: string
  readonly disable_tls?: boolean
  readonly certificate?: string
  readonly private_key?: string
  readonly root_ca?: string
  readonly tls_host?: string
  readonly cluster?: string
}

export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'
export type KafkaPartitioner = 'LeastBackup' | 'Manual' | 'RoundRobin' | 'StickyKey' | 'Sticky' | 'Default'

export interface KafkaConfig {
  readonly servers: readonly string[]
  readonly user?: string
  readonly password?: string
  readonly sasl_mechanism?: SaslMechanism
  readonly disable_tls?: boolean
  readonly certificate?: string
  readonly private_key?: string
  readonly root_ca?: string
  readonly partitioner?: KafkaPartitioner
  readonly max_record_batch_bytes?: number
  readonly compression?: 'none' | 'gzip'
}

export type PeerConfig =
  | { readonly type: 'POSTGRES'; readonly config: PostgresConfig }
  | { readonly type: 'CLICKHOUSE'; readonly config: ClickhouseConfig }
  | { readonly type: 'KAFKA'; readonly config: KafkaConfig }

export type Peer = { readonly name: string } & PeerConfig

/** Keys whose values are secrets: never logged, listed, or stored in clear when an encryption key is set. */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  'password',
  'private_key',
  'secret_access_key',
  'auth_token',
])

export const REDACTED = '********'
