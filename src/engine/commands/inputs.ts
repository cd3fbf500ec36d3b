/**
 * Command inputs given as data (REST bodies) rather than parsed SQL: they go through the very validators the SQL
 * statements use, so a bad value gets the same error on either door.
 */
import { PgMirrorError } from '../../errors.ts'
import type { MirrorOptionChanges, MirrorOptions, TableMapping } from '../../model/mirror.ts'
import { REDACTED, SECRET_KEYS, type PeerConfig } from '../../model/peer.ts'
import type { TableMappingNode } from '../../sql/ast.ts'
import { validateMirrorOptionChanges, validateMirrorOptions } from '../../sql/mirror-options.ts'
import type { OptionInputs } from '../../sql/option-values.ts'
import { validatePeerOptions } from '../../sql/peer-options.ts'
import { parseQualifiedName, toTableMappings } from '../../sql/table-mappings.ts'
import type { EngineContext } from '../context.ts'
import { validatePeerName, type RawOptions } from './peers.ts'

/** A peer's name and config as CREATE PEER would store them (camelCase keys accepted). Nothing is connected to. */
export function peerConfigFromRequest(name: string, type: string, options: RawOptions): PeerConfig {
  validatePeerName(name)
  return validatePeerOptions(type, options, 'rest')
}

const snakeCase = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

/**
 * Secrets sent back as ******** (the way they are shown) stand for the values stored for that peer, so a config
 * read from the API can be sent again unchanged. Without a stored value there is nothing to stand for.
 */
export async function resolveRedactedSecrets(
  ctx: EngineContext,
  peerName: string,
  options: RawOptions,
): Promise<RawOptions> {
  const redacted = Object.keys(options).filter(
    (k) => SECRET_KEYS.has(snakeCase(k)) && options[k] === REDACTED,
  )
  if (redacted.length === 0) return options
  const stored = (await ctx.peers.find(peerName)) ? await ctx.peers.get(peerName) : undefined
  const out: Record<string, RawOptions[string]> = { ...options }
  for (const key of redacted) {
    const value = (stored?.config as Readonly<Record<string, unknown>> | undefined)?.[snakeCase(key)]
    if (typeof value !== 'string') {
      throw new PgMirrorError('invalid_parameter_value', `option "${key}" must be the secret itself`, {
        field: key,
        hint: `******** stands for a stored value, and peer "${peerName}" has none`,
      })
    }
    out[key] = value
  }
  return out
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
      throw withField(e, `${field}[${i}]`)
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
