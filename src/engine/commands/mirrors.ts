/**
 * Mirror commands: one implementation behind the MIRROR statements on the wire and the /mirrors routes on REST.
 * Commands only validate, write the catalog and queue jobs; the mirror job does the work and follows the status.
 */
import { isDeepStrictEqual } from 'node:util'
import type { MirrorRow, MirrorSpec } from '../../catalog/mirror-store.ts'
import { PgMirrorError, q } from '../../errors.ts'
import { formatLsn } from '../../model/lsn.ts'
import type { MirrorOptionChanges, MirrorOptions, TableMapping } from '../../model/mirror.ts'
import { tableKey } from '../../model/record.ts'
import { pausedWalWarning } from '../alerting/checks.ts'
import type { EngineContext } from '../context.ts'
import { isActive, transition, type MirrorEvent, type MirrorState } from '../mirror-state.ts'
import { checkPeer } from '../peer-validation.ts'
import { refuseWritesIntoSources } from '../self-mirror.ts'

export interface CreateMirrorInput {
  readonly name: string
  readonly source: string
  readonly destination: string
  readonly mappings: readonly TableMapping[]
  readonly options: MirrorOptions
  /** `create`: error if it exists; `if-not-exists`: notice; `idempotent`: same spec → ok, different → 409. */
  readonly mode: 'create' | 'if-not-exists' | 'idempotent'
}

export interface CreateMirrorResult {
  readonly created: boolean
  readonly notices: readonly string[]
}

export const defaultSlotName = (mirror: string) => `pgmirror_slot_${mirror}`
export const defaultPublicationName = (mirror: string) => `pgmirror_pub_${mirror}`

export function validateMirrorName(name: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new PgMirrorError('invalid_parameter_value', `invalid mirror name ${q(name)}`, {
      field: 'name',
      hint: 'mirror names are lower case letters, digits and underscores, starting with a letter, at most 63 characters',
    })
  }
}

async function validateTables(
  ctx: EngineContext,
  sourcePeer: string,
  mappings: readonly TableMapping[],
): Promise<void> {
  const src = ctx.connectors.source(await ctx.peers.get(sourcePeer))
  try {
    await src.validate()
    const schemas = await src.describeTables(mappings.map((m) => m.source))
    src.ensurePullable(schemas.values())
    for (const m of mappings) {
      const schema = schemas.get(tableKey(m.source))!
      const names = new Set(schema.columns.map((c) => c.name))
      for (const ex of m.exclude) {
        if (!names.has(ex)) {
          throw new PgMirrorError(
            'undefined_object',
            `column ${q(ex)} of relation ${q(tableKey(m.source))} does not exist`,
            {
              field: 'exclude',
            },
          )
        }
        if (schema.primaryKey.includes(ex)) {
          throw new PgMirrorError(
            'invalid_parameter_value',
            `cannot exclude primary key column ${q(ex)} of ${q(tableKey(m.source))}`,
          )
        }
      }
      for (const c of m.columns) {
        if (!names.has(c.name)) {
          throw new PgMirrorError(
            'undefined_object',
            `column ${q(c.name)} of relation ${q(tableKey(m.source))} does not exist`,
          )
        }
      }
    }
  } finally {
    await src.close()
  }
}

/** What an existing mirror of the same name means for a create in `input.mode`; undefined when there is none. */
async function existingOutcome(
  ctx: EngineContext,
  input: CreateMirrorInput,
): Promise<CreateMirrorResult | undefined> {
  const existing = await ctx.mirrors.find(input.name)
  if (!existing) return undefined
  const spec: MirrorSpec = { mappings: input.mappings, options: input.options }
  const same =
    existing.sourcePeer === input.source &&
    existing.destinationPeer === input.destination &&
    isDeepStrictEqual(JSON.parse(JSON.stringify(existing.spec)), JSON.parse(JSON.stringify(spec)))
  switch (input.mode) {
    case 'create':
      throw new PgMirrorError('duplicate_object', `mirror ${q(input.name)} already exists`)
    case 'if-not-exists':
      return { created: false, notices: [`mirror ${q(input.name)} already exists, skipping`] }
    case 'idempotent':
      if (same) return { created: false, notices: [] }
      throw new PgMirrorError(
        'duplicate_object',
        `mirror ${q(input.name)} already exists with a different definition`,
      )
  }
}

export type MirrorValidation =
  | { readonly exists: true; readonly result: CreateMirrorResult }
  | { readonly exists: false; readonly sourceId: number; readonly destinationId: number }

/**
 * Everything CREATE MIRROR checks, without creating anything (REST's /mirrors/cdc/validate uses it alone): the
 * name, an existing mirror of that name (per `mode`), both peers, the source tables and the destination.
 */
export async function validateMirror(
  ctx: EngineContext,
  input: CreateMirrorInput,
): Promise<MirrorValidation> {
  validateMirrorName(input.name)
  const result = await existingOutcome(ctx, input)
  if (result) return { exists: true, result }
  if (input.mappings.length === 0) {
    throw new PgMirrorError('invalid_parameter_value', 'a mirror needs at least one table mapping', {
      field: 'table_mappings',
    })
  }
  const source = await ctx.peers.find(input.source)
  if (!source)
    throw new PgMirrorError('undefined_object', `peer ${q(input.source)} does not exist`, { field: 'source' })
  const destination = await ctx.peers.find(input.destination)
  if (!destination) {
    throw new PgMirrorError('undefined_object', `peer ${q(input.destination)} does not exist`, {
      field: 'destination',
    })
  }
  if (source.type !== 'POSTGRES') {
    throw new PgMirrorError(
      'feature_not_supported',
      `mirror source ${q(input.source)} must be a postgres peer`,
    )
  }
  const dst = await ctx.peers.get(input.destination)
  refuseWritesIntoSources(await ctx.peers.get(input.source), dst, input.mappings)
  await validateTables(ctx, input.source, input.mappings)
  ctx.connectors.sink(dst, { mirror: input.name, syncedAtColumn: '', softDeleteColumn: undefined })
  await checkPeer(dst)
  return { exists: false, sourceId: source.id, destinationId: destination.id }
}

export async function createMirror(
  ctx: EngineContext,
  input: CreateMirrorInput,
): Promise<CreateMirrorResult> {
  const v = await validateMirror(ctx, input)
  if (v.exists) return v.result
  const spec: MirrorSpec = { mappings: input.mappings, options: input.options }
  const o = input.options
  try {
    await ctx.mirrors.insert(input.name, v.sourceId, v.destinationId, spec, {
      slotName: o.replication_slot_name ?? defaultSlotName(input.name),
      publicationName: o.publication_name ?? defaultPublicationName(input.name),
      ownsSlot: true,
      ownsPublication: o.publication_name === undefined,
    })
  } catch (e) {
    if ((e as { code?: string }).code === '23505') {
      // A concurrent create of the same name won the race: judge this one against what it stored.
      const raced = input.mode === 'create' ? undefined : await existingOutcome(ctx, input)
      if (raced) return raced
      throw new PgMirrorError('duplicate_object', `mirror ${q(input.name)} already exists`)
    }
    throw e
  }
  await ctx.queue.add({ kind: 'mirror', mirror: input.name })
  ctx.log.info({ mirror: input.name, tables: input.mappings.length }, 'mirror created')
  return { created: true, notices: [] }
}

async function move(ctx: EngineContext, m: MirrorRow, event: MirrorEvent): Promise<MirrorState> {
  const next = transition(m.status as MirrorState, event)
  if (next !== m.status) {
    const moved = await ctx.mirrors.setStatus(m.id, next, m.status)
    if (!moved) {
      throw new PgMirrorError(
        'object_not_in_prerequisite_state',
        `mirror ${q(m.name)} changed state meanwhile; try again`,
      )
    }
  }
  return next
}

/** True when a mirror job for this mirror is queued or running somewhere. */
async function jobAlive(ctx: EngineContext, name: string): Promise<boolean> {
  const s = await ctx.queue.state({ kind: 'mirror', mirror: name })
  return s !== undefined && s.state !== 'failed' && s.state !== 'completed'
}

async function ensureJob(ctx: EngineContext, name: string): Promise<void> {
  await ctx.queue.removeFailed({ kind: 'mirror', mirror: name })
  await ctx.queue.add({ kind: 'mirror', mirror: name })
}

export async function pauseMirror(ctx: EngineContext, name: string): Promise<MirrorState> {
  const m = await ctx.mirrors.get(name)
  const next = await move(ctx, m, { kind: 'pause' })
  // Nothing runs to notice the request (no worker, or the job already ended): the mirror is paused now.
  if (next === 'STATUS_PAUSING' && !(await jobAlive(ctx, name))) {
    await ctx.mirrors.setStatus(m.id, 'STATUS_PAUSED', 'STATUS_PAUSING')
    return 'STATUS_PAUSED'
  }
  return next
}

export async function resumeMirror(ctx: EngineContext, name: string): Promise<MirrorState> {
  const m = await ctx.mirrors.get(name)
  const tables = await ctx.mirrors.tables(m.id)
  const next = await move(ctx, m, {
    kind: 'resume',
    setupDone: m.consistentLsn !== null,
    snapshotDone: tables.every((t) => t.snapshotState === 'done' || t.snapshotState === 'skipped'),
  })
  if (isActive(next)) await ensureJob(ctx, name)
  return next
}

export async function dropMirror(
  ctx: EngineContext,
  name: string,
  ifExists: boolean,
): Promise<{ notices: string[] }> {
  const m = await ctx.mirrors.find(name)
  if (!m) {
    if (ifExists) return { notices: [`mirror ${q(name)} does not exist, skipping`] }
    throw new PgMirrorError('undefined_object', `mirror ${q(name)} does not exist`)
  }
  if (m.status !== 'STATUS_TERMINATING') await move(ctx, m, { kind: 'drop' })
  await ctx.queue.removeFailed({ kind: 'drop', mirror: name })
  await ctx.queue.add({ kind: 'drop', mirror: name })
  ctx.log.info({ mirror: name }, 'mirror drop requested')
  return { notices: [] }
}

export async function resyncMirror(ctx: EngineContext, name: string): Promise<MirrorState> {
  const m = await ctx.mirrors.get(name)
  const next = await move(ctx, m, { kind: 'resync' })
  await ctx.mirrors.newGeneration(m.id)
  await ensureJob(ctx, name)
  return next
}

function refuseSetWhileDropping(m: MirrorRow): void {
  if (m.status === 'STATUS_TERMINATING') {
    throw new PgMirrorError('object_not_in_prerequisite_state', `mirror ${q(m.name)} is being dropped`)
  }
}

export async function alterMirrorSet(
  ctx: EngineContext,
  name: string,
  changes: MirrorOptionChanges,
): Promise<void> {
  const m = await ctx.mirrors.get(name)
  refuseSetWhileDropping(m)
  await ctx.mirrors.setSpec(m.id, { ...m.spec, options: { ...m.spec.options, ...changes } })
}

/** Everything ADD TABLE checks before it writes: new names, readable tables, no table written into itself. */
async function checkTablesToAdd(
  ctx: EngineContext,
  m: MirrorRow,
  mappings: readonly TableMapping[],
): Promise<void> {
  const known = new Set(m.spec.mappings.map((x) => tableKey(x.source)))
  const knownDest = new Set(m.spec.mappings.map((x) => x.destination))
  for (const t of mappings) {
    if (known.has(tableKey(t.source))) {
      throw new PgMirrorError(
        'duplicate_object',
        `table ${q(tableKey(t.source))} is already part of mirror ${q(m.name)}`,
      )
    }
    if (knownDest.has(t.destination)) {
      throw new PgMirrorError(
        'duplicate_object',
        `destination ${q(t.destination)} is already used by mirror ${q(m.name)}`,
      )
    }
  }
  const [src, dst] = await Promise.all([ctx.peers.get(m.sourcePeer), ctx.peers.get(m.destinationPeer)])
  refuseWritesIntoSources(src, dst, [...m.spec.mappings, ...mappings])
  await validateTables(ctx, m.sourcePeer, mappings)
}

export async function addTablesToMirror(
  ctx: EngineContext,
  name: string,
  mappings: readonly TableMapping[],
): Promise<void> {
  const m = await ctx.mirrors.get(name)
  await checkTablesToAdd(ctx, m, mappings)
  await move(ctx, m, { kind: 'tables_added' })
  await ctx.mirrors.setSpec(m.id, { ...m.spec, mappings: [...m.spec.mappings, ...mappings] })
  await ctx.mirrors.addTables(m.id, mappings)
  await ensureJob(ctx, name)
}

/** The state events a REST state change can request; resume's flags do not decide whether it is allowed. */
export type RequestedEvent = 'pause' | 'resume' | 'resync' | 'drop'

const requested = (kind: RequestedEvent): MirrorEvent =>
  kind === 'resume' ? { kind, setupDone: true, snapshotDone: true } : { kind }

/**
 * REST's state_change does up to three things in one request: option changes, added tables, then a state event.
 * This runs every check of all three against the mirror as it is, so a request that would fail part-way (a resync
 * the state forbids, a table already mapped) is refused before its first write instead of after it.
 */
export async function checkMirrorChange(
  ctx: EngineContext,
  name: string,
  change: {
    readonly setsOptions: boolean
    readonly tables: readonly TableMapping[]
    readonly event?: RequestedEvent
  },
): Promise<void> {
  const m = await ctx.mirrors.get(name)
  if (change.setsOptions) refuseSetWhileDropping(m)
  let state = m.status as MirrorState
  if (change.tables.length > 0) {
    await checkTablesToAdd(ctx, m, change.tables)
    state = transition(state, { kind: 'tables_added' })
  }
  if (change.event !== undefined) transition(state, requested(change.event))
}

export interface MirrorStatusView {
  readonly name: string
  readonly status: string
  readonly source: string
  readonly destination: string
  readonly slotName: string | null
  readonly publicationName: string | null
  readonly lastSyncedLsn: string | null
  /** Live from the source; null when the source can't be reached right now. */
  readonly retainedWalBytes: string | null
  readonly lagSeconds: number | null
  readonly lastBatchId: string
  readonly lastBatchAt: string | null
  readonly rowsSynced: string
  readonly lastError: string | null
  readonly lastErrorAt: string | null
  /** Set when the mirror is paused and its slot retains more WAL than the slot-lag alert threshold. */
  readonly warning: string | null
  readonly createdAt: string
  readonly spec: MirrorSpec
  readonly tables: readonly {
    readonly sourceTable: string
    readonly destinationTable: string
    readonly snapshotState: string
    readonly partitionsDone: number
    readonly partitionsTotal: number
    readonly rowsCopied: string
    readonly rowsSynced: string
    readonly inserts: string
    readonly updates: string
    readonly deletes: string
  }[]
}

export async function mirrorStatus(ctx: EngineContext, name: string): Promise<MirrorStatusView> {
  const m = await ctx.mirrors.get(name)
  const tables = await ctx.mirrors.tables(m.id)
  let retained: bigint | undefined
  let lagSeconds: number | null = null
  if (m.slotName) {
    const src = ctx.connectors.source(await ctx.peers.get(m.sourcePeer))
    try {
      const info = await src.slotInfo(m.slotName)
      retained = info.retainedWalBytes
      const behind =
        info.confirmedFlushLsn !== undefined &&
        info.retainedWalBytes !== undefined &&
        info.retainedWalBytes > 0n
      if (m.lastCommitTime && info.exists) {
        lagSeconds = behind ? Math.max(0, (Date.now() - Date.parse(m.lastCommitTime)) / 1000) : 0
      }
    } catch {
      retained = undefined
    } finally {
      await src.close()
    }
  }
  return {
    name: m.name,
    status: m.status,
    source: m.sourcePeer,
    destination: m.destinationPeer,
    slotName: m.slotName,
    publicationName: m.publicationName,
    lastSyncedLsn: m.lastSyncedLsn === null ? null : formatLsn(m.lastSyncedLsn),
    retainedWalBytes: retained === undefined ? null : retained.toString(),
    lagSeconds: lagSeconds === null ? null : Math.round(lagSeconds * 10) / 10,
    lastBatchId: m.lastBatchId.toString(),
    lastBatchAt: m.lastBatchAt,
    rowsSynced: m.rowsSynced.toString(),
    lastError: m.lastError,
    lastErrorAt: m.lastErrorAt,
    warning: pausedWalWarning(m.status, retained, ctx.alerting.slotLagMbThreshold),
    createdAt: m.createdAt,
    spec: m.spec,
    tables: tables.map((t) => ({
      sourceTable: t.sourceTable,
      destinationTable: t.destinationTable,
      snapshotState: t.snapshotState,
      partitionsDone: t.partitionsDone,
      partitionsTotal: t.partitionsTotal,
      rowsCopied: t.rowsCopied.toString(),
      rowsSynced: (t.inserts + t.updates + t.deletes).toString(),
      inserts: t.inserts.toString(),
      updates: t.updates.toString(),
      deletes: t.deletes.toString(),
    })),
  }
}
