/**
 * PeerDB's FlowConnectionConfigs (and its CDCFlowConfigUpdate) → the inputs of the mirror commands. This is field
 * renaming only: the values are checked by the same validators `CREATE MIRROR` uses. PeerDB fields pgmirror has no
 * feature for are accepted at their "unused" value (PeerDB's UI sends them all) and refused otherwise.
 */
import {
  mirrorOptionChangesFromRequest,
  mirrorOptionsFromRequest,
  tableMappingsFromRequest,
  type TableMappingRequest,
} from '../engine/commands/inputs.ts'
import type { CreateMirrorInput } from '../engine/commands/mirrors.ts'
import { PgMirrorError } from '../errors.ts'
import type { MirrorOptionChanges, TableMapping } from '../model/mirror.ts'
import type { FlowConnectionConfigsInput, TableMappingInput } from './schemas.ts'

type OptionValue = string | number | boolean

function refuse(field: string, what: string): never {
  throw new PgMirrorError('feature_not_supported', `${field}: ${what} is not supported by pgmirror`, {
    field,
  })
}

/** Which request field an option error is about (the validators name the option, e.g. sync_interval). */
export function renameField(e: unknown, fields: Readonly<Record<string, string>>): unknown {
  if (!(e instanceof PgMirrorError) || e.field === undefined || fields[e.field] === undefined) return e
  return new PgMirrorError(e.kind, e.message, {
    field: fields[e.field],
    ...(e.hint !== undefined ? { hint: e.hint } : {}),
    ...(e.detail !== undefined ? { detail: e.detail } : {}),
  })
}

function mappingRequest(m: TableMappingInput, at: string): TableMappingRequest {
  if (m.shardingKey) refuse(`${at}.shardingKey`, 'a sharding key')
  if (m.policyName) refuse(`${at}.policyName`, 'a storage policy')
  if (m.partitionByExpr) refuse(`${at}.partitionByExpr`, 'a PARTITION BY expression')
  if (m.engine !== undefined && m.engine !== 0 && m.engine !== 'CH_ENGINE_REPLACING_MERGE_TREE') {
    refuse(`${at}.engine`, `table engine ${JSON.stringify(m.engine)}`)
  }
  const columns = m.columns.flatMap((c, i) => {
    const cat = `${at}.columns[${i}]`
    const name = c.name ?? c.sourceName
    if (name === undefined) {
      throw new PgMirrorError('invalid_parameter_value', `${cat}.name is required`, { field: `${cat}.name` })
    }
    if (c.destinationName && c.destinationName !== name) refuse(`${cat}.destinationName`, 'renaming a column')
    if (c.destinationType) refuse(`${cat}.destinationType`, 'a destination type override')
    if (c.partitioning) refuse(`${cat}.partitioning`, 'PARTITION BY columns')
    if (c.nullableEnabled) refuse(`${cat}.nullableEnabled`, 'nullable_enabled')
    return c.ordering > 0 ? [{ name, ordering: c.ordering }] : []
  })
  return {
    source: m.sourceTableIdentifier,
    destination: m.destinationTableIdentifier,
    exclude: m.exclude,
    ...(m.partitionKey ? { partitionKey: m.partitionKey } : {}),
    columns,
  }
}

export function tableMappings(list: readonly TableMappingInput[], field: string): TableMapping[] {
  return tableMappingsFromRequest(
    list.map((m, i) => mappingRequest(m, `${field}[${i}]`)),
    field,
  )
}

/** Fields the mirror commands name, as the create body spells them. */
export const CREATE_BODY_FIELDS: Readonly<Record<string, string>> = {
  name: 'connectionConfigs.flowJobName',
  source: 'connectionConfigs.sourceName',
  destination: 'connectionConfigs.destinationName',
  table_mappings: 'connectionConfigs.tableMappings',
  exclude: 'connectionConfigs.tableMappings',
}

/** PeerDB sends 0 for "default". */
const nonZero = (n: number | undefined) => (n === 0 ? undefined : n)

const CREATE_FIELDS: Readonly<Record<string, string>> = {
  do_initial_copy: 'connectionConfigs.doInitialSnapshot',
  initial_snapshot_only: 'connectionConfigs.initialSnapshotOnly',
  publication_name: 'connectionConfigs.publicationName',
  replication_slot_name: 'connectionConfigs.replicationSlotName',
  max_batch_size: 'connectionConfigs.maxBatchSize',
  sync_interval: 'connectionConfigs.idleTimeoutSeconds',
  snapshot_num_rows_per_partition: 'connectionConfigs.snapshotNumRowsPerPartition',
  snapshot_max_parallel_workers: 'connectionConfigs.snapshotMaxParallelWorkers',
  snapshot_num_tables_in_parallel: 'connectionConfigs.snapshotNumTablesInParallel',
  soft_delete_col_name: 'connectionConfigs.softDeleteColName',
  synced_at_col_name: 'connectionConfigs.syncedAtColName',
}

/** `connectionConfigs` → CREATE MIRROR's input, idempotent as REST promises (same spec → 200, different → 409). */
export function createMirrorInput(c: FlowConnectionConfigsInput): CreateMirrorInput {
  const at = 'connectionConfigs'
  if (c.snapshotNumPartitionsOverride)
    refuse(`${at}.snapshotNumPartitionsOverride`, 'a partition count override')
  if (c.script) refuse(`${at}.script`, 'a Lua script')
  if (c.system !== undefined && c.system !== 'Q' && c.system !== 0) refuse(`${at}.system`, 'type system PG')
  if (c.env && Object.keys(c.env).length > 0) refuse(`${at}.env`, 'per-mirror settings')
  const raw: Record<string, OptionValue | undefined> = {
    do_initial_copy: c.doInitialSnapshot,
    initial_snapshot_only: c.initialSnapshotOnly,
    publication_name: c.publicationName,
    replication_slot_name: c.replicationSlotName,
    max_batch_size: nonZero(c.maxBatchSize),
    sync_interval: nonZero(c.idleTimeoutSeconds),
    snapshot_num_rows_per_partition: nonZero(c.snapshotNumRowsPerPartition),
    snapshot_max_parallel_workers: nonZero(c.snapshotMaxParallelWorkers),
    snapshot_num_tables_in_parallel: nonZero(c.snapshotNumTablesInParallel),
    resync: c.resync,
    // PeerDB has no separate switch: a soft-delete column name turns soft delete on.
    ...(c.softDeleteColName === undefined
      ? {}
      : c.softDeleteColName === ''
        ? { soft_delete: false }
        : { soft_delete: true, soft_delete_col_name: c.softDeleteColName }),
    synced_at_col_name: c.syncedAtColName,
  }
  const options = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) as Record<
    string,
    OptionValue
  >
  let validated
  try {
    validated = mirrorOptionsFromRequest(options)
  } catch (e) {
    throw renameField(e, CREATE_FIELDS)
  }
  return {
    name: c.flowJobName,
    source: c.sourceName,
    destination: c.destinationName,
    mappings: tableMappings(c.tableMappings, `${at}.tableMappings`),
    options: validated,
    mode: 'idempotent',
  }
}

export interface ConfigUpdate {
  readonly changes: MirrorOptionChanges
  readonly additionalTables: readonly TableMapping[]
}

interface CdcFlowConfigUpdate {
  readonly additionalTables: readonly TableMappingInput[]
  readonly batchSize?: number | undefined
  readonly idleTimeout?: number | undefined
  readonly snapshotNumRowsPerPartition?: number | undefined
  readonly snapshotMaxParallelWorkers?: number | undefined
  readonly snapshotNumTablesInParallel?: number | undefined
  readonly snapshotNumPartitionsOverride?: number | undefined
  readonly removedTables: readonly TableMappingInput[]
  readonly updatedEnv?: Readonly<Record<string, string>> | undefined
  readonly skipInitialSnapshotForTableAdditions?: boolean | undefined
}

const UPDATE_FIELDS: Readonly<Record<string, string>> = {
  max_batch_size: 'flowConfigUpdate.cdcFlowConfigUpdate.batchSize',
  sync_interval: 'flowConfigUpdate.cdcFlowConfigUpdate.idleTimeout',
  snapshot_num_rows_per_partition: 'flowConfigUpdate.cdcFlowConfigUpdate.snapshotNumRowsPerPartition',
  snapshot_max_parallel_workers: 'flowConfigUpdate.cdcFlowConfigUpdate.snapshotMaxParallelWorkers',
  snapshot_num_tables_in_parallel: 'flowConfigUpdate.cdcFlowConfigUpdate.snapshotNumTablesInParallel',
}

/** `cdcFlowConfigUpdate` → ALTER MIRROR … SET options and ADD TABLE mappings. Zero values mean "unchanged". */
export function configUpdate(u: CdcFlowConfigUpdate): ConfigUpdate {
  const at = 'flowConfigUpdate.cdcFlowConfigUpdate'
  if (u.removedTables.length > 0) refuse(`${at}.removedTables`, 'removing tables from a mirror')
  if (u.updatedEnv && Object.keys(u.updatedEnv).length > 0) refuse(`${at}.updatedEnv`, 'per-mirror settings')
  if (u.snapshotNumPartitionsOverride)
    refuse(`${at}.snapshotNumPartitionsOverride`, 'a partition count override')
  if (u.skipInitialSnapshotForTableAdditions) {
    refuse(`${at}.skipInitialSnapshotForTableAdditions`, 'adding tables without a snapshot')
  }
  const raw: Record<string, number | undefined> = {
    max_batch_size: nonZero(u.batchSize),
    sync_interval: nonZero(u.idleTimeout),
    snapshot_num_rows_per_partition: nonZero(u.snapshotNumRowsPerPartition),
    snapshot_max_parallel_workers: nonZero(u.snapshotMaxParallelWorkers),
    snapshot_num_tables_in_parallel: nonZero(u.snapshotNumTablesInParallel),
  }
  let changes
  try {
    changes = mirrorOptionChangesFromRequest(
      Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) as Record<string, number>,
    )
  } catch (e) {
    throw renameField(e, UPDATE_FIELDS)
  }
  return { changes, additionalTables: tableMappings(u.additionalTables, `${at}.additionalTables`) }
}
