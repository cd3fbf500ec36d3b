/**
 * The one schema set of the REST API: every request is validated with these, and /api/v1/openapi.json is
 * generated from them. Field names are camelCase (requests in snake_case are renamed first, see keys.ts); shapes
 * follow PeerDB's route.proto so PeerDB clients keep working. The meaning of values (ports, names, option values)
 * is checked by the engine, with the same validators as SQL, so both doors reject the same things the same way.
 */
import { z } from 'zod'
import { EmailServiceConfig, SlackServiceConfig } from '../engine/commands/alerts.ts'
import { CLICKHOUSE_OPTION_KEYS, KAFKA_OPTION_KEYS, POSTGRES_OPTION_KEYS } from '../engine/commands/inputs.ts'
import { camelCase } from './keys.ts'

// ---- PeerDB enums (protos/flow.proto, peers.proto): names on output, name or number on input ----

export const FLOW_STATUS = {
  STATUS_UNKNOWN: 0,
  STATUS_RUNNING: 1,
  STATUS_PAUSED: 2,
  STATUS_PAUSING: 3,
  STATUS_SETUP: 4,
  STATUS_SNAPSHOT: 5,
  STATUS_TERMINATING: 6,
  STATUS_TERMINATED: 7,
  STATUS_COMPLETED: 8,
  STATUS_RESYNC: 9,
  STATUS_FAILED: 10,
  STATUS_MODIFYING: 11,
} as const
export type FlowStatusName = keyof typeof FLOW_STATUS

export const DB_TYPE = {
  BIGQUERY: 0,
  SNOWFLAKE: 1,
  MONGO: 2,
  POSTGRES: 3,
  S3: 5,
  SQLSERVER: 6,
  MYSQL: 7,
  CLICKHOUSE: 8,
  KAFKA: 9,
  PUBSUB: 10,
  EVENTHUBS: 11,
  ELASTICSEARCH: 12,
  COCKROACHDB: 13,
} as const

/** An enum given by name (any case) or by PeerDB's number; resolves to the name. */
function enumInput<T extends Record<string, number>>(values: T, what: string) {
  const names = Object.keys(values) as (keyof T & string)[]
  return z
    .union([z.string(), z.number().int()])
    .transform((v, ctx) => {
      const found =
        typeof v === 'number'
          ? names.find((n) => values[n] === v)
          : names.find((n) => n.toLowerCase() === v.trim().toLowerCase())
      if (found === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown ${what} ${JSON.stringify(v)}; expected one of ${names.join(', ')}`,
        })
        return z.NEVER
      }
      return found
    })
    .describe(`${what}: one of ${names.join(', ')} (or its number)`)
}

const FlowStatusInput = enumInput(FLOW_STATUS, 'flow state')
const DbTypeInput = enumInput(DB_TYPE, 'peer type')
const FlowStatusOutput = z.enum(Object.keys(FLOW_STATUS) as [FlowStatusName, ...FlowStatusName[]])
const PeerTypeOutput = z.enum(['POSTGRES', 'CLICKHOUSE', 'KAFKA'])

/** 64-bit integers travel as strings, as protobuf JSON sends them. */
const Int64 = z
  .string()
  .regex(/^-?\d+$/)
  .describe('64-bit integer as a decimal string')
const Timestamp = z.string().describe('RFC 3339 timestamp')
const name = z.string().min(1)
const count = z.number().int().min(0)

// ---- peers ----

const OptionValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string()), z.null()])

/** A peer config object: the keys of `CREATE PEER … WITH (…)` in camelCase (or snake_case), checked by the engine. */
function peerConfig(keys: readonly string[], extra: readonly string[], description: string) {
  const shape = Object.fromEntries([
    ...keys.map((k) => [camelCase(k), OptionValue.optional()] as const),
    ...extra.map((k) => [camelCase(k), z.unknown().optional()] as const),
  ])
  return z.looseObject(shape).describe(description)
}

/** PeerDB config fields pgmirror accepts when empty (as PeerDB's UI sends them) and refuses otherwise. */
export const PEERDB_ONLY_KEYS = {
  POSTGRES: ['auth_type', 'ssh_config', 'aws_auth', 'client_tls'],
  CLICKHOUSE: [
    's3_path',
    'access_key_id',
    'secret_access_key',
    'region',
    'endpoint',
    's3',
    'replicated',
    'tls_certificate_directory',
  ],
  KAFKA: [],
} as const

export const PostgresConfigInput = peerConfig(
  POSTGRES_OPTION_KEYS,
  PEERDB_ONLY_KEYS.POSTGRES,
  'postgres connection settings; password is a secret',
)
export const ClickhouseConfigInput = peerConfig(
  CLICKHOUSE_OPTION_KEYS,
  PEERDB_ONLY_KEYS.CLICKHOUSE,
  'clickhouse settings; port is the HTTP port (8123)',
)
export const KafkaConfigInput = peerConfig(
  KAFKA_OPTION_KEYS,
  ['username', 'sasl'],
  "kafka settings; PeerDB's username and sasl are accepted for user and sasl_mechanism",
)

export const PeerInput = z.strictObject({
  name,
  type: DbTypeInput,
  postgresConfig: PostgresConfigInput.optional(),
  clickhouseConfig: ClickhouseConfigInput.optional(),
  kafkaConfig: KafkaConfigInput.optional(),
})
export type PeerInput = z.output<typeof PeerInput>

export const ValidatePeerRequest = z.strictObject({ peer: PeerInput })
export const CreatePeerRequest = z.strictObject({
  peer: PeerInput,
  allowUpdate: z.boolean().default(false).describe('replace the config of an existing peer of that name'),
  disableValidation: z.boolean().default(false).describe('store without connecting to the peer first'),
})
export const DropPeerRequest = z.strictObject({ peerName: name })
export const PeerNameParams = z.strictObject({ peerName: name })

export const ValidatePeerResponse = z.object({ status: z.literal('VALID'), message: z.string() })
export const CreatePeerResponse = z.object({
  status: z.literal('CREATED'),
  message: z.string(),
  outcome: z.enum(['created', 'updated', 'unchanged']),
})
export const Empty = z.object({})
const PeerListItem = z.object({ name: z.string(), type: PeerTypeOutput })
export const ListPeersResponse = z.object({
  items: z.array(PeerListItem),
  sourceItems: z.array(PeerListItem),
  destinationItems: z.array(PeerListItem),
})
const RedactedConfig = z
  .record(z.string(), z.unknown())
  .describe('camelCase keys; secrets that are set read ********')
export const PeerInfoResponse = z.object({
  peer: z.object({
    name: z.string(),
    type: PeerTypeOutput,
    postgresConfig: RedactedConfig.optional(),
    clickhouseConfig: RedactedConfig.optional(),
    kafkaConfig: RedactedConfig.optional(),
  }),
  version: z.string(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
})
export const PeerTypeResponse = z.object({ peerType: PeerTypeOutput })

// ---- browsing a postgres peer ----

const boolQuery = z.enum(['true', 'false']).transform((v) => v === 'true')
export const PeerQuery = z.strictObject({ peerName: name })
export const TablesQuery = z.strictObject({
  peerName: name,
  schemaName: name,
  cdcEnabled: boolQuery.default(true).describe('false: every table counts as mirrorable'),
})
export const ColumnsQuery = z.strictObject({ peerName: name, schemaName: name, tableName: name })
export const SlotsQuery = z.strictObject({ peerdbManagedOnly: boolQuery.default(false) })

export const SchemasResponse = z.object({ schemas: z.array(z.string()) })
export const TablesResponse = z.object({
  tables: z.array(
    z.object({
      tableName: z.string(),
      canMirror: z.boolean().describe('has a primary key or REPLICA IDENTITY FULL'),
      tableSize: z.string(),
      isReplicaIdentityFull: z.boolean(),
      hasPrimaryKey: z.boolean(),
    }),
  ),
})
export const AllTablesResponse = z.object({ tables: z.array(z.string().describe('schema.table')) })
export const ColumnsResponse = z.object({
  columns: z.array(
    z.object({
      name: z.string(),
      type: z.string(),
      isKey: z.boolean(),
      qkind: z.string(),
      isReplicaIdentity: z.boolean(),
    }),
  ),
})
export const PublicationsResponse = z.object({ publicationNames: z.array(z.string()) })
export const SlotsResponse = z.object({
  slotData: z.array(
    z.object({
      slotName: z.string(),
      plugin: z.string().nullable(),
      active: z.boolean(),
      restartLSN: z.string().nullable(),
      confirmedFlushLSN: z.string().nullable(),
      currentLSN: z.string(),
      walStatus: z.string().nullable(),
      lagInMb: z.number(),
      restartToConfirmedMb: z.number(),
      confirmedToCurrentMb: z.number(),
      managed: z.boolean(),
    }),
  ),
})

// ---- mirrors ----

const ColumnSettingInput = z.strictObject({
  name: name.optional(),
  sourceName: name.optional().describe("PeerDB's spelling of name"),
  ordering: count.default(0).describe('position in the ClickHouse ORDER BY key; 0 = not part of it'),
  destinationName: z.string().optional().describe('renames are not supported: empty or equal to name'),
  destinationType: z.string().optional().describe('type overrides are not supported: empty'),
  partitioning: count.optional().describe('not supported: 0'),
  nullableEnabled: z.boolean().optional().describe('not supported: false'),
})

export const TableMappingInput = z.strictObject({
  sourceTableIdentifier: name.describe('schema.table (or table, in schema public)'),
  destinationTableIdentifier: name.describe('schema.table, table, or a Kafka topic'),
  partitionKey: z.string().optional().describe('column that splits the initial snapshot'),
  exclude: z.array(name).default([]),
  columns: z.array(ColumnSettingInput).default([]),
  engine: z.union([z.string(), z.number()]).optional().describe('ClickHouse table engine: only the default'),
  shardingKey: z.string().optional().describe('not supported: empty'),
  policyName: z.string().optional().describe('not supported: empty'),
  partitionByExpr: z.string().optional().describe('not supported: empty'),
})
export type TableMappingInput = z.output<typeof TableMappingInput>

const batchTuning = count.describe('0 = default')

export const FlowConnectionConfigsInput = z.strictObject({
  flowJobName: name.describe('mirror name: lower case letters, digits, underscores'),
  sourceName: name,
  destinationName: name,
  tableMappings: z.array(TableMappingInput).min(1),
  doInitialSnapshot: z.boolean().optional().describe('copy existing rows first (default true)'),
  initialSnapshotOnly: z.boolean().optional(),
  publicationName: z.string().optional().describe('use this existing publication; empty = create one'),
  replicationSlotName: z.string().optional().describe('use this slot; empty = create one'),
  maxBatchSize: batchTuning.optional(),
  idleTimeoutSeconds: batchTuning.optional().describe('sync interval in seconds; 0 = default'),
  snapshotNumRowsPerPartition: batchTuning.optional(),
  snapshotMaxParallelWorkers: batchTuning.optional(),
  snapshotNumTablesInParallel: batchTuning.optional(),
  snapshotNumPartitionsOverride: count.optional().describe('not supported: 0'),
  snapshotStagingPath: z.string().optional().describe('warehouse staging; ignored'),
  cdcStagingPath: z.string().optional().describe('warehouse staging; ignored'),
  resync: z.boolean().optional(),
  softDeleteColName: z.string().optional().describe('non-empty: keep deleted rows, flagged in this column'),
  syncedAtColName: z.string().optional().describe("column holding each row's sync time; empty = none"),
  script: z.string().optional().describe('Lua scripts are not supported: empty'),
  system: z.union([z.string(), z.number()]).optional().describe('type system: only Q'),
  env: z.record(z.string(), z.string()).optional().describe('per-mirror settings: not supported, empty'),
  version: z.union([z.number(), z.string()]).optional().describe('set by the server; ignored'),
  flags: z.array(z.string()).optional().describe('set by the server; ignored'),
  skipValidation: z.boolean().optional().describe('ignored: a mirror is always validated'),
})
export type FlowConnectionConfigsInput = z.output<typeof FlowConnectionConfigsInput>

export const CreateCdcFlowRequest = z.strictObject({
  connectionConfigs: FlowConnectionConfigsInput,
  attachToExisting: z
    .boolean()
    .optional()
    .describe('ignored: an identical existing mirror is always returned'),
})
export const CreateCdcFlowResponse = z.object({
  workflowId: z.string(),
  outcome: z.enum(['created', 'unchanged']),
})

const ColumnSettingOutput = z.object({ sourceName: z.string(), ordering: z.number() })
const TableMappingOutput = z.object({
  sourceTableIdentifier: z.string(),
  destinationTableIdentifier: z.string(),
  partitionKey: z.string(),
  exclude: z.array(z.string()),
  columns: z.array(ColumnSettingOutput),
})
export const FlowConnectionConfigsOutput = z.object({
  flowJobName: z.string(),
  sourceName: z.string(),
  destinationName: z.string(),
  tableMappings: z.array(TableMappingOutput),
  doInitialSnapshot: z.boolean(),
  initialSnapshotOnly: z.boolean(),
  publicationName: z.string(),
  replicationSlotName: z.string(),
  maxBatchSize: z.number(),
  idleTimeoutSeconds: z.number(),
  snapshotNumRowsPerPartition: z.number(),
  snapshotMaxParallelWorkers: z.number(),
  snapshotNumTablesInParallel: z.number(),
  resync: z.boolean(),
  softDeleteColName: z.string(),
  syncedAtColName: z.string(),
})

export const ListMirrorsResponse = z.object({
  mirrors: z.array(
    z.object({
      id: z.number(),
      workflowId: z.string(),
      name: z.string(),
      sourceName: z.string(),
      sourceType: PeerTypeOutput,
      destinationName: z.string(),
      destinationType: PeerTypeOutput,
      createdAt: z.number().describe('epoch milliseconds'),
      isCdc: z.boolean(),
      status: FlowStatusOutput,
    }),
  ),
})

export const MirrorStatusRequest = z.strictObject({
  flowJobName: name,
  includeFlowInfo: z.boolean().default(false).describe('add the mirror definition (cdcStatus.config)'),
  excludeBatches: z.boolean().default(false),
  excludeSnapshotStatus: z.boolean().default(false),
})

const CdcBatch = z.object({
  batchId: Int64,
  startLsn: Int64,
  endLsn: Int64,
  numRows: Int64,
  startTime: Timestamp,
  endTime: Timestamp,
})

export const MirrorStatusResponse = z.object({
  flowJobName: z.string(),
  currentFlowState: FlowStatusOutput,
  createdAt: Timestamp,
  cdcStatus: z.object({
    config: FlowConnectionConfigsOutput.optional(),
    sourceType: PeerTypeOutput,
    destinationType: PeerTypeOutput,
    rowsSynced: Int64,
    slotName: z.string().nullable(),
    publicationName: z.string().nullable(),
    lastSyncedLsn: z.string().nullable(),
    retainedWalBytes: Int64.nullable().describe(
      'WAL the slot holds back; null when the source is unreachable',
    ),
    lagSeconds: z.number().nullable(),
    lastBatchAt: Timestamp.nullable(),
    lastError: z.string().nullable(),
    lastErrorAt: Timestamp.nullable(),
    warning: z
      .string()
      .nullable()
      .describe('set while the mirror is paused and its slot retains more WAL than the slot-lag threshold'),
    snapshotStatus: z.object({
      clones: z.array(
        z.object({
          flowJobName: z.string(),
          mirrorName: z.string(),
          sourceTable: z.string(),
          tableName: z.string(),
          snapshotState: z.string(),
          numPartitionsCompleted: z.number(),
          numPartitionsTotal: z.number(),
          numRowsSynced: Int64,
          fetchCompleted: z.boolean(),
          consolidateCompleted: z.boolean(),
        }),
      ),
    }),
    tables: z.array(
      z.object({
        sourceTable: z.string(),
        destinationTable: z.string(),
        rowsSynced: Int64,
        inserts: Int64,
        updates: Int64,
        deletes: Int64,
      }),
    ),
    cdcBatches: z.array(CdcBatch),
  }),
})

const CdcFlowConfigUpdate = z.strictObject({
  additionalTables: z.array(TableMappingInput).default([]),
  batchSize: batchTuning.optional(),
  idleTimeout: batchTuning.optional().describe('sync interval in seconds'),
  snapshotNumRowsPerPartition: batchTuning.optional(),
  snapshotMaxParallelWorkers: batchTuning.optional(),
  snapshotNumTablesInParallel: batchTuning.optional(),
  snapshotNumPartitionsOverride: count.optional().describe('not supported: 0'),
  numberOfSyncs: count.optional().describe('obsolete; ignored'),
  removedTables: z.array(TableMappingInput).default([]).describe('not supported: empty'),
  updatedEnv: z.record(z.string(), z.string()).optional().describe('not supported: empty'),
  skipInitialSnapshotForTableAdditions: z.boolean().optional().describe('not supported: false'),
})

export const StateChangeRequest = z.strictObject({
  flowJobName: name,
  requestedFlowState: FlowStatusInput.optional().describe(
    'STATUS_PAUSED, STATUS_RUNNING (resume), STATUS_RESYNC or STATUS_TERMINATED (drop); absent: only apply flowConfigUpdate',
  ),
  flowConfigUpdate: z
    .strictObject({
      cdcFlowConfigUpdate: CdcFlowConfigUpdate.optional(),
      qrepFlowConfigUpdate: z.record(z.string(), z.unknown()).optional().describe('not supported'),
    })
    .optional(),
  dropMirrorStats: z.boolean().optional().describe('accepted; a resync always starts the statistics afresh'),
  skipDestinationDrop: z.boolean().optional().describe('not supported: false'),
})
export const StateChangeResponse = z.object({ flowJobName: z.string(), currentFlowState: FlowStatusOutput })

export const BatchesParams = z.strictObject({ flowJobName: name })
export const BatchesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
})
export const BatchesRequest = z.strictObject({
  flowJobName: name,
  limit: z.number().int().min(1).max(1000).default(50),
})
export const BatchesResponse = z.object({
  cdcBatches: z.array(CdcBatch).describe('newest first'),
  total: z.number(),
  page: z.number(),
})

// ---- alerts ----

const keysOf = (schema: z.ZodObject) => Object.keys(schema.shape).join(', ')

/** Alert config ids are the catalog's 32-bit serials; a larger one reached Postgres and came back a 500. */
const INT4_MAX = 2_147_483_647

export const AlertConfigInput = z.strictObject({
  id: z
    .number()
    .int()
    .min(-1)
    .max(INT4_MAX)
    .default(-1)
    .describe('-1 creates (or returns an identical existing config); else updates'),
  serviceType: z.enum(['slack', 'email']),
  serviceConfig: z
    .union([z.string(), z.record(z.string(), z.unknown())])
    .describe(
      `the service settings, as an object or (PeerDB style) a JSON string. slack: ${keysOf(SlackServiceConfig)}; ` +
        `email: ${keysOf(EmailServiceConfig)}`,
    ),
  alertForMirrors: z.array(name).default([]).describe('mirror names; empty = all mirrors'),
})
export const PostAlertConfigRequest = z.strictObject({ config: AlertConfigInput })
export const PostAlertConfigResponse = z.object({
  id: z.number(),
  outcome: z.enum(['created', 'updated', 'unchanged']),
})
export const ListAlertConfigsResponse = z.object({
  configs: z.array(
    z.object({
      id: z.number(),
      name: z.string().describe('the name SQL uses (ALTER / DROP ALERT); alert_<id> for configs made here'),
      serviceType: z.enum(['slack', 'email']),
      serviceConfig: z.string().describe('JSON text, snake_case keys; auth_token reads ********'),
      alertForMirrors: z.array(z.string()),
    }),
  ),
})
export const AlertIdParams = z.strictObject({
  id: z
    .string()
    .regex(/^\d{1,10}$/, 'expected an alert config id (digits)')
    .transform(Number)
    .pipe(z.number().max(INT4_MAX)),
})

// ---- system ----

export const ErrorSchema = z.object({
  code: z.number().describe('the HTTP status'),
  message: z.string(),
  status: z
    .string()
    .describe("PeerDB's status name where the route has one (FAILED, INVALID), else the gRPC code name"),
  sqlState: z.string().describe('the SQLSTATE the same failure has on the SQL port'),
  field: z.string().optional().describe('the request field at fault'),
  hint: z.string().optional(),
  detail: z.string().optional(),
})

export const VersionResponse = z.object({ version: z.string() })
export const HealthResponse = z.object({
  status: z.enum(['ok', 'unavailable']),
  catalog: z.string().optional(),
  queue: z.string().optional(),
})
