import { PgMirrorError } from '../errors.ts'
import type { MirrorOptionChanges, MirrorOptions } from '../model/mirror.ts'
import type { OptionContext, OptionInputs, OptionSchema } from './option-values.ts'
import { badValue, OptionReader, present } from './option-values.ts'

/** Defaults for options a CREATE MIRROR leaves out. */
export const MIRROR_OPTION_DEFAULTS = {
  do_initial_copy: true,
  initial_snapshot_only: false,
  max_batch_size: 100_000,
  sync_interval: 10,
  snapshot_num_rows_per_partition: 250_000,
  snapshot_max_parallel_workers: 4,
  snapshot_num_tables_in_parallel: 1,
  soft_delete: false,
  soft_delete_col_name: '_PEERDB_IS_DELETED',
  synced_at_col_name: '_PEERDB_SYNCED_AT',
  resync: false,
} as const satisfies Omit<MirrorOptions, 'publication_name' | 'replication_slot_name'>

export interface MirrorOptionDoc {
  readonly name: keyof MirrorOptions
  readonly aliases: readonly string[]
  readonly type: 'boolean' | 'integer' | 'string'
  /** `null`: none; pgmirror creates its own. */
  readonly default: boolean | number | string | null
  readonly description: string
}

/** Every CREATE MIRROR option with its default; the README's table is this one. */
export const MIRROR_OPTIONS: readonly MirrorOptionDoc[] = [
  doc('do_initial_copy', 'boolean', 'copy the existing rows before streaming changes', [
    'do_initial_snapshot',
  ]),
  doc(
    'initial_snapshot_only',
    'boolean',
    'copy the existing rows, then finish (no streaming); needs do_initial_copy',
    ['initial_copy_only'],
  ),
  doc('publication_name', 'string', 'use this existing publication instead of creating one for the mirror'),
  doc('replication_slot_name', 'string', 'use this replication slot instead of creating one for the mirror'),
  doc(
    'max_batch_size',
    'integer',
    'most changes in one batch (a transaction is never split, so this is a soft limit)',
  ),
  doc('sync_interval', 'integer', 'seconds a batch waits for more changes before it is written', [
    'idle_timeout_seconds',
  ]),
  doc('snapshot_num_rows_per_partition', 'integer', 'rows per snapshot partition'),
  doc('snapshot_max_parallel_workers', 'integer', 'partitions of one table copied at the same time'),
  doc('snapshot_num_tables_in_parallel', 'integer', 'tables copied at the same time'),
  doc('soft_delete', 'boolean', 'keep deleted rows on the target, flagged in soft_delete_col_name'),
  doc('soft_delete_col_name', 'string', 'name of the soft-delete flag column'),
  doc('synced_at_col_name', 'string', "name of the column holding each row's sync time; '' for none"),
  doc('resync', 'boolean', 'copy everything again into fresh tables and swap them in'),
]

function doc(
  name: keyof MirrorOptions,
  type: MirrorOptionDoc['type'],
  description: string,
  aliases: readonly string[] = [],
): MirrorOptionDoc {
  const defaults: Readonly<Record<string, boolean | number | string>> = MIRROR_OPTION_DEFAULTS
  return { name, aliases, type, default: defaults[name] ?? null, description }
}

const SCHEMA: OptionSchema = {
  keys: MIRROR_OPTIONS.map((o) => o.name),
  aliases: Object.fromEntries(MIRROR_OPTIONS.flatMap((o) => o.aliases.map((a) => [a, o.name]))),
  unknownMessage: (key) => `unrecognized mirror option "${key}"`,
}

/** Options `ALTER MIRROR … SET (…)` may change on a live mirror: they take effect from the next batch or snapshot. */
export const ALTERABLE_MIRROR_OPTIONS = [
  'max_batch_size',
  'sync_interval',
  'snapshot_num_rows_per_partition',
  'snapshot_max_parallel_workers',
  'snapshot_num_tables_in_parallel',
] as const satisfies readonly (keyof MirrorOptionChanges)[]

const INT_MAX = 2147483647
const SLOT_NAME = /^[a-z0-9_]{1,63}$/

/** `CREATE MIRROR … WITH (…)` options (or a REST body's) → complete options with defaults. 22023 names the key at fault. */
export function validateMirrorOptions(options: OptionInputs, ctx: OptionContext): MirrorOptions {
  const r = OptionReader.from(options, SCHEMA, ctx)
  const d = MIRROR_OPTION_DEFAULTS
  const doInitialCopy = r.bool('do_initial_copy') ?? d.do_initial_copy
  const snapshotOnly = r.bool('initial_snapshot_only') ?? d.initial_snapshot_only
  if (snapshotOnly && !doInitialCopy) {
    throw new PgMirrorError(
      'invalid_parameter_value',
      'option "initial_snapshot_only" cannot be true when "do_initial_copy" is false',
      { field: 'initial_snapshot_only' },
    )
  }
  const tuning = readTuning(r)
  return {
    do_initial_copy: doInitialCopy,
    initial_snapshot_only: snapshotOnly,
    ...present('publication_name', pgName(r, 'publication_name')),
    ...present('replication_slot_name', pgName(r, 'replication_slot_name')),
    max_batch_size: tuning.max_batch_size ?? d.max_batch_size,
    sync_interval: tuning.sync_interval ?? d.sync_interval,
    snapshot_num_rows_per_partition:
      tuning.snapshot_num_rows_per_partition ?? d.snapshot_num_rows_per_partition,
    snapshot_max_parallel_workers: tuning.snapshot_max_parallel_workers ?? d.snapshot_max_parallel_workers,
    snapshot_num_tables_in_parallel:
      tuning.snapshot_num_tables_in_parallel ?? d.snapshot_num_tables_in_parallel,
    soft_delete: r.bool('soft_delete') ?? d.soft_delete,
    soft_delete_col_name: columnName(r, 'soft_delete_col_name', false) ?? d.soft_delete_col_name,
    synced_at_col_name: columnName(r, 'synced_at_col_name', true) ?? d.synced_at_col_name,
    resync: r.bool('resync') ?? d.resync,
  }
}

/** `ALTER MIRROR … SET (…)`: only the given keys, each of which must be one a live mirror can change. */
export function validateMirrorOptionChanges(options: OptionInputs, ctx: OptionContext): MirrorOptionChanges {
  const r = OptionReader.from(options, SCHEMA, ctx)
  for (const key of SCHEMA.keys) {
    if (r.has(key) && !(ALTERABLE_MIRROR_OPTIONS as readonly string[]).includes(key)) {
      throw new PgMirrorError(
        'feature_not_supported',
        `option "${key}" cannot be changed on an existing mirror`,
        {
          field: key,
          hint: `ALTER MIRROR … SET can change ${ALTERABLE_MIRROR_OPTIONS.join(', ')}`,
        },
      )
    }
  }
  return readTuning(r)
}

function readTuning(r: OptionReader): MirrorOptionChanges {
  const int = (key: (typeof ALTERABLE_MIRROR_OPTIONS)[number]) => present(key, r.int(key, 1, INT_MAX))
  return {
    ...int('max_batch_size'),
    ...int('sync_interval'),
    ...int('snapshot_num_rows_per_partition'),
    ...int('snapshot_max_parallel_workers'),
    ...int('snapshot_num_tables_in_parallel'),
  }
}

/** Publication and slot names: what Postgres allows for a slot, so one rule fits both. */
function pgName(r: OptionReader, key: string): string | undefined {
  const v = r.string(key)
  if (v !== undefined && !SLOT_NAME.test(v)) {
    throw badValue(key, v, 'lower-case letters, digits and underscores, at most 63 characters')
  }
  return v
}

function columnName(r: OptionReader, key: string, emptyAllowed: boolean): string | undefined {
  const v = emptyAllowed ? r.rawString(key) : r.string(key)
  if (v !== undefined && [...v].length > 63) throw badValue(key, v, 'a column name of at most 63 characters')
  return v
}
