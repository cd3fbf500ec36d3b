/**
 * Browsing a Postgres peer (what the mirror form needs): schemas, tables, columns, publications and slots.
 */
import {
  listAllTables,
  listColumns,
  listPublications,
  listSchemas,
  listSlots,
  listTables,
} from '../../engine/commands/browse.ts'
import type { EngineContext } from '../../engine/context.ts'
import { defineRoute, type RouteDef } from '../route.ts'
import {
  AllTablesResponse,
  ColumnsQuery,
  ColumnsResponse,
  PeerNameParams,
  PeerQuery,
  PublicationsResponse,
  SchemasResponse,
  SlotsQuery,
  SlotsResponse,
  TablesQuery,
  TablesResponse,
} from '../schemas.ts'

/** 400 bad query, 404 unknown peer or table, 422 peer unreachable (or not a postgres peer: 400). */
const ERRORS = [400, 404, 422]

export function browseRoutes(ctx: EngineContext): RouteDef[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/peers/schemas',
      tag: 'browse',
      summary: 'Schemas of a postgres peer',
      query: PeerQuery,
      response: SchemasResponse,
      errors: ERRORS,
      handler: async ({ query }) => ({ schemas: await listSchemas(ctx, query.peerName) }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/peers/tables',
      tag: 'browse',
      summary: 'Tables of one schema, with whether a mirror can replicate them',
      query: TablesQuery,
      response: TablesResponse,
      errors: ERRORS,
      handler: async ({ query }) => ({
        tables: await listTables(ctx, query.peerName, query.schemaName, query.cdcEnabled),
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/peers/tables/all',
      tag: 'browse',
      summary: 'Every table of a postgres peer as schema.table',
      query: PeerQuery,
      response: AllTablesResponse,
      errors: ERRORS,
      handler: async ({ query }) => ({ tables: await listAllTables(ctx, query.peerName) }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/peers/columns',
      tag: 'browse',
      summary: 'Columns of one table',
      query: ColumnsQuery,
      response: ColumnsResponse,
      errors: ERRORS,
      handler: async ({ query }) => ({
        columns: await listColumns(ctx, query.peerName, query.schemaName, query.tableName),
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/peers/publications',
      tag: 'browse',
      summary: 'Publications of a postgres peer',
      query: PeerQuery,
      response: PublicationsResponse,
      errors: ERRORS,
      handler: async ({ query }) => ({ publicationNames: await listPublications(ctx, query.peerName) }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/peers/slots/:peerName',
      tag: 'browse',
      summary: "Replication slots of the peer's database, with the WAL each holds back",
      params: PeerNameParams,
      query: SlotsQuery,
      response: SlotsResponse,
      errors: ERRORS,
      handler: async ({ params, query }) => ({
        slotData: (await listSlots(ctx, params.peerName, query.peerdbManagedOnly)).map((s) => ({
          slotName: s.slotName,
          plugin: s.plugin,
          active: s.active,
          restartLSN: s.restartLsn,
          confirmedFlushLSN: s.confirmedFlushLsn,
          currentLSN: s.currentLsn,
          walStatus: s.walStatus,
          lagInMb: s.lagInMb,
          restartToConfirmedMb: s.restartToConfirmedMb,
          confirmedToCurrentMb: s.confirmedToCurrentMb,
          managed: s.managed,
        })),
      }),
    }),
  ]
}
