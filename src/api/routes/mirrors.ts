/**
 * /api/v1/flows/cdc/create and /api/v1/mirrors/*: PeerDB's mirror routes over the mirror commands SQL uses.
 */
import {
  addTablesToMirror,
  alterMirrorSet,
  checkMirrorChange,
  createMirror,
  dropMirror,
  mirrorStatus,
  pauseMirror,
  resumeMirror,
  resyncMirror,
  validateMirror,
  type RequestedEvent,
} from '../../engine/commands/mirrors.ts'
import type { EngineContext } from '../../engine/context.ts'
import { PgMirrorError } from '../../errors.ts'
import type { MirrorOptions, TableMapping } from '../../model/mirror.ts'
import { epochMs, flowStatus, lsnDecimal, rfc3339, rfc3339OrNull, sqlNamePart } from '../format.ts'
import { configUpdate, CREATE_BODY_FIELDS, createMirrorInput, renameField } from '../mirror-request.ts'
import { defineRoute, type RouteDef } from '../route.ts'
import {
  BatchesParams,
  BatchesQuery,
  BatchesRequest,
  BatchesResponse,
  CreateCdcFlowRequest,
  CreateCdcFlowResponse,
  Empty,
  ListMirrorsResponse,
  MirrorStatusRequest,
  MirrorStatusResponse,
  StateChangeRequest,
  StateChangeResponse,
  type FlowStatusName,
} from '../schemas.ts'

/** The stored definition in FlowConnectionConfigs' shape; sending it back to create is an identical repeat. */
function flowConfig(
  name: string,
  source: string,
  destination: string,
  spec: { mappings: readonly TableMapping[]; options: MirrorOptions },
) {
  const o = spec.options
  return {
    flowJobName: name,
    sourceName: source,
    destinationName: destination,
    tableMappings: spec.mappings.map((m) => ({
      sourceTableIdentifier: `${sqlNamePart(m.source.schema)}.${sqlNamePart(m.source.table)}`,
      destinationTableIdentifier: m.destination,
      partitionKey: m.partitionKey ?? '',
      exclude: [...m.exclude],
      columns: m.columns.map((c) => ({ sourceName: c.name, ordering: c.ordering })),
    })),
    doInitialSnapshot: o.do_initial_copy,
    initialSnapshotOnly: o.initial_snapshot_only,
    publicationName: o.publication_name ?? '',
    replicationSlotName: o.replication_slot_name ?? '',
    maxBatchSize: o.max_batch_size,
    idleTimeoutSeconds: o.sync_interval,
    snapshotNumRowsPerPartition: o.snapshot_num_rows_per_partition,
    snapshotMaxParallelWorkers: o.snapshot_max_parallel_workers,
    snapshotNumTablesInParallel: o.snapshot_num_tables_in_parallel,
    resync: o.resync,
    softDeleteColName: o.soft_delete ? o.soft_delete_col_name : '',
    syncedAtColName: o.synced_at_col_name,
  }
}

async function batches(ctx: EngineContext, name: string, limit: number) {
  const m = await ctx.mirrors.get(name)
  const rows = await ctx.mirrors.batches(m.id, limit)
  return {
    cdcBatches: rows.map((b) => ({
      batchId: b.batchId,
      startLsn: lsnDecimal(b.startLsn),
      endLsn: lsnDecimal(b.endLsn),
      numRows: String(b.rows),
      startTime: rfc3339(b.startedAt),
      endTime: rfc3339(b.finishedAt),
    })),
    // Batch ids run 1, 2, 3, … per generation, so the last id is the count.
    total: Number(m.lastBatchId),
    page: 1,
  }
}

const STATE_CHANGES = 'STATUS_PAUSED, STATUS_RUNNING, STATUS_RESYNC or STATUS_TERMINATED'

export function mirrorRoutes(ctx: EngineContext): RouteDef[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/api/v1/flows/cdc/create',
      tag: 'mirrors',
      summary: 'Create a CDC mirror; an identical repeat returns the existing one, a different spec is a 409',
      body: CreateCdcFlowRequest,
      response: CreateCdcFlowResponse,
      errors: [400, 404, 409, 422],
      handler: async ({ body }) => {
        const input = createMirrorInput(body.connectionConfigs)
        const r = await createMirror(ctx, input).catch((e: unknown) => {
          throw renameField(e, CREATE_BODY_FIELDS)
        })
        return { workflowId: input.name, outcome: r.created ? 'created' : 'unchanged' }
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/mirrors/cdc/validate',
      tag: 'mirrors',
      summary: 'Run every check of create without creating anything',
      body: CreateCdcFlowRequest,
      response: Empty,
      errors: [400, 404, 409, 422],
      handler: async ({ body }) => {
        await validateMirror(ctx, createMirrorInput(body.connectionConfigs)).catch((e: unknown) => {
          throw renameField(e, CREATE_BODY_FIELDS)
        })
        return {}
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/mirrors/list',
      tag: 'mirrors',
      summary: 'All mirrors with their state',
      response: ListMirrorsResponse,
      errors: [],
      handler: async () => {
        const [mirrors, peers] = await Promise.all([ctx.mirrors.list(), ctx.peers.list()])
        const typeOf = new Map(peers.map((p) => [p.name, p.type]))
        return {
          mirrors: mirrors.map((m) => ({
            id: m.id,
            workflowId: m.name,
            name: m.name,
            sourceName: m.sourcePeer,
            sourceType: typeOf.get(m.sourcePeer),
            destinationName: m.destinationPeer,
            destinationType: typeOf.get(m.destinationPeer),
            createdAt: epochMs(m.createdAt),
            isCdc: true,
            status: flowStatus(m.status),
          })),
        }
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/mirrors/status',
      tag: 'mirrors',
      summary:
        'State, snapshot progress per table, rows synced, lag and recent batches; the config when asked',
      body: MirrorStatusRequest,
      response: MirrorStatusResponse,
      errors: [400, 404],
      handler: async ({ body }) => {
        const s = await mirrorStatus(ctx, body.flowJobName)
        const [src, dst, recent] = await Promise.all([
          ctx.peers.find(s.source),
          ctx.peers.find(s.destination),
          body.excludeBatches ? undefined : batches(ctx, s.name, 10),
        ])
        const clones = body.excludeSnapshotStatus
          ? []
          : s.tables.map((t) => ({
              flowJobName: s.name,
              mirrorName: s.name,
              sourceTable: t.sourceTable,
              tableName: t.destinationTable,
              snapshotState: t.snapshotState,
              numPartitionsCompleted: t.partitionsDone,
              numPartitionsTotal: t.partitionsTotal,
              numRowsSynced: t.rowsCopied,
              fetchCompleted: t.snapshotState === 'done' || t.snapshotState === 'skipped',
              consolidateCompleted: t.snapshotState === 'done' || t.snapshotState === 'skipped',
            }))
        return {
          flowJobName: s.name,
          currentFlowState: flowStatus(s.status),
          createdAt: rfc3339(s.createdAt),
          cdcStatus: {
            ...(body.includeFlowInfo ? { config: flowConfig(s.name, s.source, s.destination, s.spec) } : {}),
            sourceType: src?.type,
            destinationType: dst?.type,
            rowsSynced: s.rowsSynced,
            slotName: s.slotName,
            publicationName: s.publicationName,
            lastSyncedLsn: s.lastSyncedLsn,
            retainedWalBytes: s.retainedWalBytes,
            lagSeconds: s.lagSeconds,
            lastBatchAt: rfc3339OrNull(s.lastBatchAt),
            lastError: s.lastError,
            lastErrorAt: rfc3339OrNull(s.lastErrorAt),
            warning: s.warning,
            snapshotStatus: { clones },
            tables: s.tables.map((t) => ({
              sourceTable: t.sourceTable,
              destinationTable: t.destinationTable,
              rowsSynced: t.rowsSynced,
              inserts: t.inserts,
              updates: t.updates,
              deletes: t.deletes,
            })),
            cdcBatches: recent?.cdcBatches ?? [],
          },
        }
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/mirrors/state_change',
      tag: 'mirrors',
      summary: `Pause, resume, resync or drop a mirror (${STATE_CHANGES}); flowConfigUpdate changes batch size, sync interval and adds tables`,
      body: StateChangeRequest,
      response: StateChangeResponse,
      errors: [400, 404, 409, 422],
      handler: async ({ body }) => {
        const name = body.flowJobName
        const want = body.requestedFlowState
        // Everything is checked before anything changes, so a bad request leaves the mirror as it was.
        type Action = { event: RequestedEvent; run: () => Promise<FlowStatusName> }
        const drop: Action = {
          event: 'drop',
          run: async () => (await dropMirror(ctx, name, false), 'STATUS_TERMINATING'),
        }
        const actions: Partial<Record<FlowStatusName, Action>> = {
          STATUS_PAUSED: { event: 'pause', run: async () => flowStatus(await pauseMirror(ctx, name)) },
          STATUS_RUNNING: { event: 'resume', run: async () => flowStatus(await resumeMirror(ctx, name)) },
          STATUS_RESYNC: { event: 'resync', run: async () => flowStatus(await resyncMirror(ctx, name)) },
          STATUS_TERMINATING: drop,
          STATUS_TERMINATED: drop,
        }
        const action = want === undefined ? undefined : actions[want]
        if (want !== undefined && action === undefined) {
          throw new PgMirrorError('invalid_parameter_value', `illegal state change requested: ${want}`, {
            field: 'requestedFlowState',
            hint: `request ${STATE_CHANGES}`,
          })
        }
        if (body.skipDestinationDrop) {
          throw new PgMirrorError(
            'feature_not_supported',
            'skipDestinationDrop is not supported by pgmirror',
            {
              field: 'skipDestinationDrop',
            },
          )
        }
        if (body.flowConfigUpdate?.qrepFlowConfigUpdate) {
          throw new PgMirrorError(
            'feature_not_supported',
            'query replication mirrors are not supported by pgmirror',
            {
              field: 'flowConfigUpdate.qrepFlowConfigUpdate',
            },
          )
        }
        const cdc = body.flowConfigUpdate?.cdcFlowConfigUpdate
        const update = cdc ? configUpdate(cdc) : undefined
        const setsOptions = update !== undefined && Object.keys(update.changes).length > 0
        const tables = update?.additionalTables ?? []
        await checkMirrorChange(ctx, name, {
          setsOptions,
          tables,
          ...(action ? { event: action.event } : {}),
        })
        if (update && setsOptions) await alterMirrorSet(ctx, name, update.changes)
        if (tables.length > 0) await addTablesToMirror(ctx, name, tables)
        const state = action ? await action.run() : flowStatus((await ctx.mirrors.get(name)).status)
        return { flowJobName: name, currentFlowState: state }
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/mirrors/cdc/batches/:flowJobName',
      tag: 'mirrors',
      summary: 'Recent CDC batches of a mirror, newest first',
      params: BatchesParams,
      query: BatchesQuery,
      response: BatchesResponse,
      errors: [400, 404],
      handler: async ({ params, query }) => batches(ctx, params.flowJobName, query.limit),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/mirrors/cdc/batches',
      tag: 'mirrors',
      summary: 'Recent CDC batches of a mirror, newest first (body form)',
      body: BatchesRequest,
      response: BatchesResponse,
      errors: [400, 404],
      handler: async ({ body }) => batches(ctx, body.flowJobName, body.limit),
    }),
  ]
}
