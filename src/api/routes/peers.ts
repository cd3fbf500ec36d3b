/**
 * /api/v1/peers/{validate,create,drop,list,info,type}: PeerDB's shapes over the peer commands SQL uses.
 */
import { peerConfigFromRequest, resolveRedactedSecrets } from '../../engine/commands/inputs.ts'
import {
  createPeer,
  describePeer,
  dropPeer,
  type CreatePeerInput,
  type RawOptions,
} from '../../engine/commands/peers.ts'
import type { EngineContext } from '../../engine/context.ts'
import { checkPeer } from '../../engine/peer-validation.ts'
import { PgMirrorError } from '../../errors.ts'
import { VERSION } from '../../version.ts'
import { camelKeys, snakeCase } from '../keys.ts'
import { rfc3339 } from '../format.ts'
import { defineRoute, type RouteDef } from '../route.ts'
import {
  CreatePeerRequest,
  CreatePeerResponse,
  DropPeerRequest,
  Empty,
  ListPeersResponse,
  PeerInfoResponse,
  PeerNameParams,
  PeerTypeResponse,
  PEERDB_ONLY_KEYS,
  ValidatePeerRequest,
  ValidatePeerResponse,
  type PeerInput,
} from '../schemas.ts'

const CONFIG_FIELDS = {
  POSTGRES: 'postgresConfig',
  CLICKHOUSE: 'clickhouseConfig',
  KAFKA: 'kafkaConfig',
} as const
type ConfigType = keyof typeof CONFIG_FIELDS

/** PeerDB's names for options pgmirror spells differently. */
const RENAMED: Readonly<Record<ConfigType, Readonly<Record<string, string>>>> = {
  POSTGRES: {},
  CLICKHOUSE: {},
  KAFKA: { username: 'user', sasl: 'sasl_mechanism' },
}

/** A value PeerDB's UI sends for a feature left unused. */
function isUnset(key: string, v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === false || v === 0) return true
  if (key === 'auth_type') return v === 'POSTGRES_PASSWORD'
  if (Array.isArray(v)) return v.length === 0
  return typeof v === 'object' && Object.values(v).every((x) => isUnset('', x))
}

/** `{type, postgresConfig: {...}}` → the type and the options CREATE PEER … WITH (…) would carry. */
function peerOptions(peer: PeerInput): { type: string; options: RawOptions } {
  const type = peer.type as ConfigType
  const field = CONFIG_FIELDS[type]
  for (const other of Object.values(CONFIG_FIELDS)) {
    if (other !== field && peer[other] !== undefined) {
      throw new PgMirrorError('invalid_parameter_value', `peer.${other} does not match type ${peer.type}`, {
        field: `peer.${other}`,
      })
    }
  }
  // A PeerDB type pgmirror lacks: the engine names it in its own error.
  if (field === undefined) return { type: peer.type, options: {} }
  const config = peer[field]
  if (config === undefined) {
    throw new PgMirrorError('invalid_parameter_value', `peer.${field} is required for type ${peer.type}`, {
      field: `peer.${field}`,
    })
  }
  const options: Record<string, RawOptions[string]> = {}
  for (const [given, value] of Object.entries(config)) {
    const key = snakeCase(given)
    if ((PEERDB_ONLY_KEYS[type] as readonly string[]).includes(key)) {
      if (isUnset(key, value)) continue
      throw new PgMirrorError('feature_not_supported', `option "${key}" is not supported by pgmirror`, {
        field: `peer.${field}.${given}`,
      })
    }
    if (value === null || value === undefined) continue
    options[RENAMED[type][key] ?? given] = value as RawOptions[string]
  }
  return { type, options }
}

/** Option errors name the option (`port`); the client needs the field of its request (`peer.postgresConfig.port`). */
function atPeerField(e: unknown, peer: PeerInput): unknown {
  if (!(e instanceof PgMirrorError) || e.field === undefined || e.field.startsWith('peer.')) return e
  const config = CONFIG_FIELDS[peer.type as ConfigType]
  const field =
    e.field === 'name' || e.field === 'type' || config === undefined
      ? `peer.${e.field}`
      : `peer.${config}.${e.field}`
  return new PgMirrorError(e.kind, e.message, {
    field,
    ...(e.hint !== undefined ? { hint: e.hint } : {}),
    ...(e.detail !== undefined ? { detail: e.detail } : {}),
  })
}

export function peerRoutes(ctx: EngineContext): RouteDef[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/api/v1/peers/validate',
      tag: 'peers',
      summary: 'Connect to a peer with the given settings and report whether it is usable; nothing is stored',
      body: ValidatePeerRequest,
      response: ValidatePeerResponse,
      errors: [400, 422],
      failStatus: 'INVALID',
      handler: async ({ body }) => {
        const { type, options } = peerOptions(body.peer)
        let config
        try {
          const resolved = await resolveRedactedSecrets(ctx, body.peer.name, options)
          config = peerConfigFromRequest(body.peer.name, type, resolved)
        } catch (e) {
          throw atPeerField(e, body.peer)
        }
        const check = await checkPeer(config)
        return { status: 'VALID', message: `${type} peer ${body.peer.name} is valid: ${check.summary}` }
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/peers/create',
      tag: 'peers',
      summary: 'Create a peer; an identical repeat is a no-op, a different config needs allowUpdate',
      body: CreatePeerRequest,
      response: CreatePeerResponse,
      errors: [400, 409, 422],
      failStatus: 'FAILED',
      handler: async ({ body }) => {
        const { type, options } = peerOptions(body.peer)
        let r
        try {
          const input: CreatePeerInput = {
            name: body.peer.name,
            type,
            options: await resolveRedactedSecrets(ctx, body.peer.name, options),
            mode: body.allowUpdate ? 'replace' : 'idempotent',
            source: 'rest',
            skipValidation: body.disableValidation,
          }
          r = await createPeer(ctx, input).catch((e: unknown) => {
            // Concurrent creates of one name: the losers of the insert race get 42710 before they have compared
            // configs. Once more, they find the winner's row and answer as a repeat would (200 or 409).
            if (!(e instanceof PgMirrorError && e.kind === 'duplicate_object')) throw e
            return createPeer(ctx, input)
          })
        } catch (e) {
          throw atPeerField(e, body.peer)
        }
        const name = body.peer.name
        const summary = r.check ? `: ${r.check.summary}` : ''
        const message =
          r.outcome === 'unchanged'
            ? `peer "${name}" already exists with this configuration`
            : `peer "${name}" ${r.outcome}${summary}`
        return { status: 'CREATED', message, outcome: r.outcome }
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/peers/drop',
      tag: 'peers',
      summary: 'Drop a peer that no mirror uses',
      body: DropPeerRequest,
      response: Empty,
      errors: [400, 404, 409],
      handler: async ({ body }) => {
        await dropPeer(ctx, body.peerName, false)
        return {}
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/peers/list',
      tag: 'peers',
      summary: 'All peers, and which can be mirror sources and destinations',
      response: ListPeersResponse,
      errors: [],
      handler: async () => {
        const items = (await ctx.peers.list()).map((p) => ({ name: p.name, type: p.type }))
        return { items, sourceItems: items.filter((p) => p.type === 'POSTGRES'), destinationItems: items }
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/peers/info/:peerName',
      tag: 'peers',
      summary: 'One peer and its config, secrets shown as ********',
      params: PeerNameParams,
      response: PeerInfoResponse,
      errors: [400, 404],
      handler: async ({ params }) => {
        const p = await describePeer(ctx, params.peerName)
        return {
          peer: { name: p.name, type: p.type, [CONFIG_FIELDS[p.type]]: camelKeys(p.config) },
          version: VERSION,
          createdAt: rfc3339(p.createdAt),
          updatedAt: rfc3339(p.updatedAt),
        }
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/peers/type/:peerName',
      tag: 'peers',
      summary: "A peer's type",
      params: PeerNameParams,
      response: PeerTypeResponse,
      errors: [400, 404],
      handler: async ({ params }) => ({ peerType: (await describePeer(ctx, params.peerName)).type }),
    }),
  ]
}
