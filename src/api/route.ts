/**
 * One declaration per route: its schemas, its handler and its documentation. Registering a route validates every
 * request against the schemas and records it for /api/v1/openapi.json, so the document cannot drift from the code.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { fromZodError } from './errors.ts'
import { normalizeKeys } from './keys.ts'
import { checkRequestValue } from './request-guard.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** PeerDB's status enum value that failures of this route carry (`FAILED`, `INVALID`). */
    failStatus?: string
  }
}

export interface RouteInput<B, Q, P> {
  readonly body: B
  readonly query: Q
  readonly params: P
}

export interface RouteDef<B = unknown, Q = unknown, P = unknown> {
  readonly method: 'GET' | 'POST' | 'DELETE'
  /** Fastify style, `:name` for path parameters. */
  readonly path: string
  readonly tag: string
  readonly summary: string
  readonly body?: z.ZodType<B>
  readonly query?: z.ZodType<Q>
  readonly params?: z.ZodType<P>
  readonly response: z.ZodType
  /** The error statuses this route can answer with (401, 413 and 500 apply to all). */
  readonly errors: readonly number[]
  readonly failStatus?: string
  /** Probes: reachable without credentials. */
  readonly public?: boolean
  /** Returns the response body; `reply.code` is only for a non-200 success (readiness answers 503). */
  readonly handler: (input: RouteInput<B, Q, P>, reply: { code(status: number): unknown }) => Promise<unknown>
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (schema === undefined) return undefined as T
  checkRequestValue(value, where)
  const r = schema.safeParse(normalizeKeys(value))
  if (!r.success) throw fromZodError(r.error, where)
  return r.data
}

/** Builds a RouteDef with its type parameters inferred from the schemas. */
export const defineRoute = <B = undefined, Q = undefined, P = undefined>(def: RouteDef<B, Q, P>): RouteDef =>
  def as unknown as RouteDef

/**
 * The query of a route that takes none: a parameter there is refused like an unknown body field, since a client
 * that sends `?status=STATUS_RUNNING` to a list expects a filter it would not get. Probes stay open to anything.
 */
const NoQuery = z.strictObject({})

export function registerRoutes(app: FastifyInstance, routes: readonly RouteDef[]): void {
  for (const def of routes) {
    const query = def.query ?? (def.public ? undefined : NoQuery)
    app.route({
      method: def.method,
      url: def.path,
      config: def.failStatus !== undefined ? { failStatus: def.failStatus } : {},
      handler: async (req: FastifyRequest, reply) => {
        const input = {
          body: parse(def.body, req.body ?? undefined, 'request body'),
          query: parse(query, req.query, 'query string'),
          params: parse(def.params, req.params, 'path'),
        }
        return def.handler(input, reply)
      },
    })
  }
}

// ---- OpenAPI 3.1 (whose schema dialect is JSON Schema 2020-12, what z.toJSONSchema emits) ----

type JsonSchema = Record<string, unknown>

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema
  return rest
}

const ERROR_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'malformed body or a bad value; `field` names it',
  401: 'missing or wrong HTTP Basic credentials',
  404: 'no such peer, mirror, table or alert config',
  409: 'conflicts with what exists (a different config under the same name, a wrong mirror state)',
  413: 'request body over 1 MiB',
  422: "the peer could not be reached or lacks what is needed; the message is the driver's, plus a hint",
  500: 'a fault of our own; logged under the request id',
  503: 'the catalog or the queue is unreachable',
}

export function openApiDocument(
  routes: readonly RouteDef[],
  info: { title: string; version: string; description: string },
  errorSchema: z.ZodType,
): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z]+)/g, '{$1}')
    const parameters: JsonSchema[] = []
    for (const [where, schema] of [
      ['path', r.params],
      ['query', r.query],
    ] as const) {
      if (!schema) continue
      const js = jsonSchema(schema, 'input')
      const props = (js.properties ?? {}) as Record<string, JsonSchema>
      const required = new Set((js.required ?? []) as string[])
      for (const [name, s] of Object.entries(props)) {
        parameters.push({
          name,
          in: where,
          required: where === 'path' || required.has(name),
          schema: s,
          ...(typeof s.description === 'string' ? { description: s.description } : {}),
        })
      }
    }
    const errors = [
      ...new Set([...r.errors, ...(r.public ? [] : [401]), ...(r.body ? [413] : []), 500]),
    ].sort()
    const responses: Record<string, unknown> = {
      '200': {
        description: 'success',
        content: { 'application/json': { schema: jsonSchema(r.response, 'output') } },
      },
    }
    for (const status of errors) {
      responses[String(status)] = {
        description: ERROR_DESCRIPTIONS[status] ?? 'error',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      }
    }
    paths[path] ??= {}
    paths[path][r.method.toLowerCase()] = {
      tags: [r.tag],
      summary: r.summary,
      operationId: `${r.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c?: string) => (c ?? '').toUpperCase())}`,
      ...(r.public ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(r.body
        ? {
            requestBody: {
              required: true,
              description: 'field names in camelCase or snake_case',
              content: { 'application/json': { schema: jsonSchema(r.body, 'input') } },
            },
          }
        : {}),
      responses,
    }
  }
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    security: [{ basicAuth: [] }],
    paths,
    components: {
      securitySchemes: {
        basicAuth: {
          type: 'http',
          scheme: 'basic',
          description: 'any user name; the password is PEERDB_PASSWORD (only enforced when it is set)',
        },
      },
      schemas: { Error: jsonSchema(errorSchema, 'output') },
    },
  }
}
