/**
 * The HTTP API and UI on :3000. Routes are thin adapters over engine commands.
 */
import { timingSafeEqual, createHash } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import type { EngineContext } from '../engine/context.ts'
import { VERSION } from '../version.ts'

export interface ApiOptions {
  readonly host: string
  readonly port: number
  readonly password: string | undefined
}

const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/api/v1/health/live', '/api/v1/health/ready'])

/** Constant-time comparison of the Basic password (any user name), as PeerDB's UI does it. */
export function basicAuthOk(header: string | undefined, password: string): boolean {
  if (!header?.startsWith('Basic ')) return false
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8')
  const given = decoded.slice(decoded.indexOf(':') + 1)
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(password).digest()
  return decoded.includes(':') && timingSafeEqual(a, b)
}

export async function buildApi(ctx: EngineContext, opts: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 })
  if (opts.password !== undefined) {
    const pw = opts.password
    app.addHook('onRequest', async (req, reply) => {
      const path = req.url.split('?')[0] ?? ''
      if (PUBLIC_PATHS.has(path)) return
      if (!basicAuthOk(req.headers.authorization, pw)) {
        await reply.code(401).header('WWW-Authenticate', 'Basic realm="pgmirror", charset="UTF-8"').send({
          code: 401,
          status: 'UNAUTHENTICATED',
          message: 'authentication required: HTTP Basic with the PEERDB_PASSWORD password',
        })
      }
    })
  }
  app.get('/api/v1/version', async () => ({ version: VERSION }))
  const live = async () => ({ status: 'ok' })
  const ready = async (_req: unknown, reply: { code(n: number): unknown }) => {
    try {
      await ctx.catalog.query('SELECT 1')
      return { status: 'ok', catalog: 'ok' }
    } catch (e) {
      reply.code(503)
      return { status: 'unavailable', catalog: (e as Error).message }
    }
  }
  app.get('/healthz', live)
  app.get('/api/v1/health/live', live)
  app.get('/readyz', ready)
  app.get('/api/v1/health/ready', ready)
  return app
}

export async function startApiServer(
  ctx: EngineContext,
  opts: ApiOptions,
): Promise<{ port: number; close(): Promise<void> }> {
  const app = await buildApi(ctx, opts)
  await app.listen({ host: opts.host, port: opts.port })
  const addr = app.server.address()
  return { port: typeof addr === 'object' && addr ? addr.port : opts.port, close: () => app.close() }
}
