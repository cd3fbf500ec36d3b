/**
 * Version, probes and the OpenAPI document. The probes are open without credentials, as orchestrators need.
 */
import type { EngineContext } from '../../engine/context.ts'
import { VERSION } from '../../version.ts'
import { defineRoute, type RouteDef } from '../route.ts'
import { HealthResponse, VersionResponse } from '../schemas.ts'
import { z } from 'zod'

async function probe(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn()
    return 'ok'
  } catch (e) {
    return (e as Error).message || 'unreachable'
  }
}

export function systemRoutes(ctx: EngineContext, openApi: () => unknown): RouteDef[] {
  const live = async () => ({ status: 'ok' })
  const ready = async (_: unknown, reply: { code(status: number): unknown }) => {
    const [catalog, queue] = await Promise.all([
      probe(() => ctx.catalog.query('SELECT 1')),
      probe(() => ctx.queue.ping()),
    ])
    const ok = catalog === 'ok' && queue === 'ok'
    if (!ok) reply.code(503)
    return { status: ok ? 'ok' : 'unavailable', catalog, queue }
  }
  const probes = (path: string, summary: string, handler: typeof live | typeof ready): RouteDef =>
    defineRoute({
      method: 'GET',
      path,
      tag: 'system',
      summary,
      response: HealthResponse,
      errors: [],
      public: true,
      handler,
    })
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/version',
      tag: 'system',
      summary: 'The pgmirror version',
      response: VersionResponse,
      errors: [],
      handler: async () => ({ version: VERSION }),
    }),
    probes('/api/v1/health/live', 'Liveness: the process answers', live),
    probes('/healthz', 'Liveness (short path)', live),
    probes(
      '/api/v1/health/ready',
      'Readiness: the catalog and the job queue are reachable (503 if not)',
      ready,
    ),
    probes('/readyz', 'Readiness (short path)', ready),
    defineRoute({
      method: 'GET',
      path: '/api/v1/openapi.json',
      tag: 'system',
      summary: 'This document',
      response: z.record(z.string(), z.unknown()),
      errors: [],
      handler: async () => openApi(),
    }),
  ]
}
