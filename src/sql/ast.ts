/**
 * The AST of pgmirror's SQL extensions, built by grammar/peerdb.peggy and rendered back by render.ts.
 * Names are already normalised: unquoted identifiers lower-cased (Postgres' rule), quoted ones kept as written.
 * Optional fields are absent, never `undefined`, so a parsed node deep-equals the parse of its rendering.
 */

/** How an option value was written; validation (peer-options.ts, mirror-options.ts) decides what it means. */
export type ScalarOptionValue =
  | { readonly kind: 'string'; readonly value: string }
  /** Kept as written (`5432`, `-1`, `0.5`) so rendering is exact; validators parse it. */
  | { readonly kind: 'number'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  /** A bare word such as `require` or `SCRAM-SHA-256`, kept with its case. */
  | { readonly kind: 'word'; readonly value: string }

/** `('a', 'b')` or `['a', 'b']`: a list of plain values, rendered in the parenthesised form. */
export type OptionValue =
  ScalarOptionValue | { readonly kind: 'list'; readonly items: readonly ScalarOptionValue[] }

export interface OptionNode {
  readonly key: string
  readonly value: OptionValue
}

/** One or two name parts: `[table]` or `[schema, table]`. */
export type QualifiedName = readonly string[]

/** A mapping's destination: a table name, or a quoted string (Kafka topics may contain `-` and `.`). */
export type MappingTarget =
  | { readonly kind: 'name'; readonly parts: QualifiedName }
  | { readonly kind: 'string'; readonly value: string }

export interface ColumnOrderNode {
  readonly name: string
  readonly ordering: number
}

/** `src:dst`, or `{from: src, to: dst, key: k, exclude: [...], columns: [...]}` when there are extras. */
export interface TableMappingNode {
  readonly source: QualifiedName
  readonly destination: MappingTarget
  readonly exclude: readonly string[]
  readonly key?: string
  readonly columns: readonly ColumnOrderNode[]
}

/** Every peer type PeerDB's grammar knows; only POSTGRES, CLICKHOUSE and KAFKA pass validation. */
export const GRAMMAR_PEER_TYPES = [
  'POSTGRES',
  'CLICKHOUSE',
  'KAFKA',
  'MYSQL',
  'COCKROACHDB',
  'S3',
  'SNOWFLAKE',
  'BIGQUERY',
  'MONGO',
  'PUBSUB',
  'EVENTHUBS',
  'ELASTICSEARCH',
  'SQLSERVER',
] as const
export type GrammarPeerType = (typeof GRAMMAR_PEER_TYPES)[number]

export interface CreatePeer {
  readonly kind: 'create_peer'
  readonly orReplace: boolean
  readonly ifNotExists: boolean
  readonly name: string
  readonly peerType: GrammarPeerType
  readonly options: readonly OptionNode[]
}

export interface AlterPeer {
  readonly kind: 'alter_peer'
  readonly name: string
  readonly options: readonly OptionNode[]
}

export interface DropPeer {
  readonly kind: 'drop_peer'
  readonly ifExists: boolean
  readonly name: string
}

export type AlertServiceName = 'slack' | 'email'

/** `CREATE ALERT [IF NOT EXISTS] name FOR SLACK|EMAIL WITH (...)`: a named alert destination. */
export interface CreateAlert {
  readonly kind: 'create_alert'
  readonly ifNotExists: boolean
  readonly name: string
  readonly serviceType: AlertServiceName
  readonly options: readonly OptionNode[]
}

export interface AlterAlert {
  readonly kind: 'alter_alert'
  readonly name: string
  readonly options: readonly OptionNode[]
}

export interface DropAlert {
  readonly kind: 'drop_alert'
  readonly ifExists: boolean
  readonly name: string
}

export interface ShowAlerts {
  readonly kind: 'show_alerts'
}

export interface CreateMirror {
  readonly kind: 'create_mirror'
  readonly ifNotExists: boolean
  readonly name: string
  readonly source: string
  readonly destination: string
  readonly mappings: readonly TableMappingNode[]
  readonly options: readonly OptionNode[]
}

/** DROP, PAUSE, RESUME and RESYNC MIRROR share one shape. */
export interface MirrorAction {
  readonly kind: 'drop_mirror' | 'pause_mirror' | 'resume_mirror' | 'resync_mirror'
  readonly ifExists: boolean
  readonly name: string
}

export interface AlterMirrorAddTables {
  readonly kind: 'alter_mirror_add_tables'
  readonly name: string
  readonly mappings: readonly TableMappingNode[]
}

export interface AlterMirrorSet {
  readonly kind: 'alter_mirror_set'
  readonly name: string
  readonly options: readonly OptionNode[]
}

export interface ShowMirror {
  readonly kind: 'show_mirror'
  readonly name: string
}

export interface ShowMirrors {
  readonly kind: 'show_mirrors'
}

export interface ShowPeers {
  readonly kind: 'show_peers'
}

/** `EXECUTE peer('raw sql')`: the text goes to the peer unmodified. */
export interface ExecuteOnPeer {
  readonly kind: 'execute_on_peer'
  readonly peer: string
  readonly sql: string
}

export type Statement =
  | CreatePeer
  | AlterPeer
  | DropPeer
  | CreateAlert
  | AlterAlert
  | DropAlert
  | ShowAlerts
  | CreateMirror
  | MirrorAction
  | AlterMirrorAddTables
  | AlterMirrorSet
  | ShowMirror
  | ShowMirrors
  | ShowPeers
  | ExecuteOnPeer

export type StatementKind = Statement['kind']
