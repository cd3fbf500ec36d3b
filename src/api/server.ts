/**
 * The HTTP API on :3000: PeerDB's REST routes under /api/v1, as thin adapters over the engine commands SQL uses.
 * Every request body is JSON (whatever its content type says, so `curl -d` works), at most 1 MiB.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import { createAlertStore } from '../engine/commands/alerts.ts'
import type { EngineContext } from '../engine/context.ts'
import { PgMirrorError } from '../errors.ts'
import { VERSION } from '../version.ts'
import { toErrorReply } from './errors.ts'
import { openApiDocument, registerRoutes, type RouteDef } from './route.ts'
import { alertRoutes } from './routes/alerts.ts'
import { browseRoutes } from './routes/browse.ts'
import { mirrorRoutes } from './routes/mirrors.ts'
import { peerRoutes } from './routes/peers.ts'
import { systemRoutes } from './routes/system.ts'
import { ErrorSchema } from './schemas.ts'

export interface ApiOptions {
  readonly host: string
  readonly port: number
  readonly password: string | undefined
  /** The key peer secrets are sealed with; alert-config secrets are sealed with it too. */
  readonly encryptionKey?: Buffer | undefined
}

const BODY_LIMIT = 1024 * 1024

/** Constant-time comparison of the Basic password (any user name), as PeerDB's UI does it. */
export function basicAuthOk(header: string | undefined, password: string): boolean {
  if (!header?.startsWith('Basic ')) return false
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8')
  const given = decoded.slice(decoded.indexOf(':') + 1)
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(password).digest()
  return decoded.includes(':') && timingSafeEqual(a, b)
}

/** JSON.parse's own message quotes the input, which may hold a password: report the position only. */
function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text)
  } catch (e) {
    const at = /position (\d+)/.exec((e as Error).message)?.[1]
    throw new PgMirrorError(
      'syntax_error',
      `malformed JSON in request body${at ? ` at position ${at}` : ''}`,
      {
        hint: 'send a JSON object, e.g. {"peer": {...}}',
      },
    )
  }
}

export async function buildApi(ctx: EngineContext, opts: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    // Bad percent-encoding and over-long path parameters are refused before any route runs: same error shape.
    frameworkErrors: (err, req, reply) => {
      const { statusCode, body } = toErrorReply(err, undefined, ctx.log, req.id)
      void (reply as FastifyReply).code(statusCode).send(body)
    },
  })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string))
    } catch (e) {
      done(e as Error, undefined)
    }
  })

  const alerts = { alerts: createAlertStore(ctx.catalog, opts.encryptionKey), log: ctx.log }
  const routes: RouteDef[] = [
    ...systemRoutes(ctx, () => doc),
    ...peerRoutes(ctx),
    ...browseRoutes(ctx),
    ...mirrorRoutes(ctx),
    ...alertRoutes(alerts),
  ]
  // Read lazily by the openapi route, once this is built.
  const doc = openApiDocument(
    routes,
    {
      title: 'pgmirror',
      version: VERSION,
      description:
        'PeerDB-compatible REST API. Requests accept camelCase and snake_case field names; responses are camelCase, enums by name, 64-bit integers as strings. Errors are {code, message, status, sqlState, field?, hint?, detail?} with an honest HTTP status.',
    },
    ErrorSchema,
  )

  if (opts.password !== undefined) {
    const pw = opts.password
    const open = new Set(routes.filter((r) => r.public).map((r) => r.path))
    app.addHook('onRequest', async (req, reply) => {
      if (open.has(req.url.split('?')[0] ?? '')) return
      if (!basicAuthOk(req.headers.authorization, pw)) {
        await reply.code(401).header('WWW-Authenticate', 'Basic realm="pgmirror", charset="UTF-8"').send({
          code: 401,
          status: 'UNAUTHENTICATED',
          sqlState: '28P01',
          message: 'authentication required: HTTP Basic with the PEERDB_PASSWORD password (any user name)',
        })
      }
    })
  }

  registerRoutes(app, routes)
  // The web UI: one static page that drives the same REST routes.
  const page = readFileSync(new URL('./ui/index.html', import.meta.url), 'utf8')
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(page))
  app.setNotFoundHandler(async (req, reply) => {
    const path = req.url.split('?')[0] ?? ''
    await reply.code(404).send({
      code: 404,
      status: 'NOT_FOUND',
      sqlState: '42704',
      message: `no route ${req.method} ${path}`,
      hint: 'GET /api/v1/openapi.json lists every route',
    })
  })
  app.setErrorHandler(async (err, req, reply) => {
    const { statusCode, body } = toErrorReply(err, req.routeOptions.config?.failStatus, ctx.log, req.id)
    await reply.code(statusCode).send(body)
  })
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
