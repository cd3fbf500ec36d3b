/**
 * Command inputs given as data (REST bodies) rather than parsed SQL: they go through the very validators the SQL
 * statements use, so a bad value gets the same error on either door.
 */
import { PgMirrorError } from '../../errors.ts'
import type { MirrorOptionChanges, MirrorOptions, TableMapping } from '../../model/mirror.ts'
import type { PeerConfig } from '../../model/peer.ts'
import type { TableMappingNode } from '../../sql/ast.ts'
import { validateMirrorOptionChanges, validateMirrorOptions } from '../../sql/mirror-options.ts'
import type { OptionInputs } from '../../sql/option-values.ts'
import { validatePeerOptions } from '../../sql/peer-options.ts'
import { parseQualifiedName, toTableMappings } from '../../sql/table-mappings.ts'
import { validatePeerName, type RawOptions } from './peers.ts'

/** A peer's name and config as CREATE PEER would store them (camelCase keys accepted). Nothing is connected to. */
export function peerConfigFromRequest(name: string, type: string, options: RawOptions): PeerConfig {
  validatePeerName(name)
  return validatePeerOptions(type, options, 'rest')
}

/** Mirror options keyed as in `CREATE MIRROR … WITH (…)` (camelCase and PeerDB's aliases accepted), defaults filled in. */
export function mirrorOptionsFromRequest(options: OptionInputs): MirrorOptions {
  return validateMirrorOptions(options, 'rest')
}

/** The options a live mirror may change, as `ALTER MIRROR … SET (…)` takes them. */
export function mirrorOptionChangesFromRequest(options: OptionInputs): MirrorOptionChanges {
  return validateMirrorOptionChanges(options, 'rest')
}

export interface TableMappingRequest {
  /** `schema.table` or `table` (schema public); double quotes keep case, as in SQL. */
  readonly source: string
  readonly destination: string
  readonly exclude: readonly string[]
  readonly partitionKey?: string
  readonly columns: readonly { readonly name: string; readonly ordering: number }[]
}

/**
 * Table mappings as data → the model's, checked as `WITH TABLE MAPPING (…)` is. A destination that is not a table
 * name (a Kafka topic such as `cdc-events.v1`) is kept as given. `field` prefixes the field named in errors.
 */
export function tableMappingsFromRequest(
  mappings: readonly TableMappingRequest[],
  field: string,
): TableMapping[] {
  const nodes = mappings.map((m, i): TableMappingNode => {
    let source
    try {
      source = parseQualifiedName(m.source)
    } catch (e) {
      throw withField(e, `${field}[${i}].source_table_identifier`)
    }
    let destination: TableMappingNode['destination']
    try {
      destination = { kind: 'name', parts: parseQualifiedName(m.destination) }
    } catch {
      destination = { kind: 'string', value: m.destination }
    }
    return {
      source,
      destination,
      exclude: m.exclude,
      ...(m.partitionKey ? { key: m.partitionKey } : {}),
      columns: m.columns,
    }
  })
  try {
    return toTableMappings(nodes)
  } catch (e) {
    throw withField(e, field)
  }
}

function withField(e: unknown, field: string): unknown {
  if (!(e instanceof PgMirrorError)) return e
  return new PgMirrorError(e.kind, e.message, {
    field,
    ...(e.hint !== undefined ? { hint: e.hint } : {}),
    ...(e.detail !== undefined ? { detail: e.detail } : {}),
  })
}

/** The option keys of each peer type (REST documents them; the validators above enforce them). */
export { CLICKHOUSE_OPTION_KEYS, KAFKA_OPTION_KEYS, POSTGRES_OPTION_KEYS } from '../../sql/peer-options.ts'
