/**
 * Peer commands: the one implementation behind CREATE/ALTER/DROP PEER on the wire and the /peers routes on REST.
 */
import { isDeepStrictEqual } from 'node:util'
import { redactConfig } from '../../catalog/peer-store.ts'
import { PgMirrorError, q } from '../../errors.ts'
import type { PeerConfig, PeerTypeName } from '../../model/peer.ts'
import { validatePeerOptions } from '../../sql/peer-options.ts'
import type { EngineContext } from '../context.ts'
import { checkPeer, type PeerCheck } from '../peer-validation.ts'

export type RawOptions = Readonly<Record<string, string | number | boolean | readonly unknown[]>>

/**
 * - `create`: SQL CREATE PEER; an existing name is an error (42710).
 * - `if-not-exists`: an existing peer is kept; a NOTICE says so when its config differs.
 * - `replace`: CREATE OR REPLACE PEER / REST allow_update: a different config is validated and stored.
 * - `idempotent`: REST without allow_update; an identical repeat is a no-op, a different one a conflict (409).
 */
export type CreatePeerMode = 'create' | 'if-not-exists' | 'replace' | 'idempotent'

export interface CreatePeerInput {
  readonly name: string
  readonly type: string
  readonly options: RawOptions
  readonly mode: CreatePeerMode
  readonly source: 'sql' | 'rest'
  /** REST's disableValidation. Never used by SQL. */
  readonly skipValidation?: boolean
}

export interface PeerOutcome {
  readonly outcome: 'created' | 'updated' | 'unchanged'
  readonly check: PeerCheck | undefined
  readonly notices: readonly string[]
}

const sameConfig = (a: PeerConfig, b: PeerConfig): boolean =>
  a.type === b.type && isDeepStrictEqual(stripUndefined(a.config), stripUndefined(b.config))

function stripUndefined(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
}

export function validatePeerName(name: string): void {
  if (name.length === 0 || name.length > 63) {
    throw new PgMirrorError('invalid_parameter_value', 'peer name must be 1 to 63 characters long', {
      field: 'name',
    })
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new PgMirrorError('invalid_parameter_value', `invalid peer name ${q(name)}`, {
      field: 'name',
      hint: 'peer names start with a letter or underscore and contain only letters, digits and underscores',
    })
  }
}

export async function createPeer(ctx: EngineContext, input: CreatePeerInput): Promise<PeerOutcome> {
  validatePeerName(input.name)
  const pc = validatePeerOptions(input.type, input.options, input.source)
  const existing = await ctx.peers.find(input.name)
  if (existing) {
    const current = await ctx.peers.get(input.name)
    const same = sameConfig(current, pc)
    switch (input.mode) {
      case 'create':
        throw new PgMirrorError('duplicate_object', `peer ${q(input.name)} already exists`, {
          hint: 'use CREATE OR REPLACE PEER or ALTER PEER to change it',
        })
      case 'if-not-exists':
        return {
          outcome: 'unchanged',
          check: undefined,
          notices: [
            same
              ? `peer ${q(input.name)} already exists, skipping`
              : `peer ${q(input.name)} already exists with a different configuration; it was left unchanged (use CREATE OR REPLACE PEER to change it)`,
          ],
        }
      case 'idempotent':
        if (same) return { outcome: 'unchanged', check: undefined, notices: [] }
        throw new PgMirrorError(
          'duplicate_object',
          `peer ${q(input.name)} already exists with a different configuration`,
          {
            hint: 'send allow_update: true to change it',
          },
        )
      case 'replace': {
        if (same) return { outcome: 'unchanged', check: undefined, notices: [] }
        if (current.type !== pc.type)
          await refuseTypeChangeInUse(ctx, existing.id, input.name, current.type, pc.type)
        const check = input.skipValidation ? undefined : await checkPeer(pc)
        await ctx.peers.update(existing.id, pc)
        ctx.log.info({ peer: input.name, type: pc.type }, 'peer updated')
        return { outcome: 'updated', check, notices: [] }
      }
    }
  }
  const check = input.skipValidation ? undefined : await checkPeer(pc)
  try {
    await ctx.peers.insert(input.name, pc)
  } catch (e) {
    if ((e as { code?: string }).code === '23505') {
      throw new PgMirrorError('duplicate_object', `peer ${q(input.name)} already exists`)
    }
    throw e
  }
  ctx.log.info({ peer: input.name, type: pc.type }, 'peer created')
  return { outcome: 'created', check, notices: [] }
}

/**
 * A mirror's peers keep their type: replacing its Postgres source with a ClickHouse peer (allow_update, CREATE OR
 * REPLACE PEER) used to be stored, leaving a mirror whose source could not be read.
 */
async function refuseTypeChangeInUse(
  ctx: EngineContext,
  id: number,
  name: string,
  from: PeerTypeName,
  to: PeerTypeName,
): Promise<void> {
  const users = await ctx.peers.mirrorsUsing(id)
  if (users.length === 0) return
  throw new PgMirrorError(
    'dependent_objects_still_exist',
    `cannot change peer ${q(name)} from ${from.toLowerCase()} to ${to.toLowerCase()} because mirrors use it`,
    {
      detail: `used by mirror${users.length > 1 ? 's' : ''} ${users.map(q).join(', ')}`,
      hint: 'drop those mirrors first, or create the new peer under another name',
    },
  )
}

/** ALTER PEER name SET (...): the given options replace those keys; the result is validated before it is stored. */
export async function alterPeer(ctx: EngineContext, name: string, options: RawOptions): Promise<PeerOutcome> {
  const current = await ctx.peers.get(name)
  const base: Record<string, unknown> = { ...(current.config as unknown as Record<string, unknown>) }
  if ('connection_string' in options) {
    for (const k of ['host', 'port', 'user', 'password', 'database']) delete base[k]
  }
  const merged = { ...base, ...options } as RawOptions
  const pc = validatePeerOptions(current.type, merged, 'rest')
  if (sameConfig(current, pc)) return { outcome: 'unchanged', check: undefined, notices: [] }
  const check = await checkPeer(pc)
  await ctx.peers.update(current.id, pc)
  ctx.log.info({ peer: name }, 'peer altered')
  return { outcome: 'updated', check, notices: [] }
}

export async function dropPeer(
  ctx: EngineContext,
  name: string,
  ifExists: boolean,
): Promise<{ dropped: boolean; notices: string[] }> {
  const existing = await ctx.peers.find(name)
  if (!existing) {
    if (ifExists) return { dropped: false, notices: [`peer ${q(name)} does not exist, skipping`] }
    throw new PgMirrorError('undefined_object', `peer ${q(name)} does not exist`)
  }
  const users = await ctx.peers.mirrorsUsing(existing.id)
  if (users.length > 0) {
    throw new PgMirrorError(
      'dependent_objects_still_exist',
      `cannot drop peer ${q(name)} because mirrors use it`,
      {
        detail: `used by mirror${users.length > 1 ? 's' : ''} ${users.map(q).join(', ')}`,
        hint: 'drop those mirrors first',
      },
    )
  }
  await ctx.peers.delete(name)
  ctx.log.info({ peer: name }, 'peer dropped')
  return { dropped: true, notices: [] }
}

export interface PeerView {
  readonly id: number
  readonly name: string
  readonly type: PeerTypeName
  readonly config: Readonly<Record<string, unknown>>
  readonly createdAt: string
  readonly updatedAt: string
}

/** A peer as it may be shown: secrets that are set appear as asterisks. */
export async function describePeer(ctx: EngineContext, name: string): Promise<PeerView> {
  const p = await ctx.peers.get(name)
  const row = await ctx.peers.find(name)
  return {
    id: p.id,
    name: p.name,
    type: p.type,
    config: redactConfig(p.config as unknown as Record<string, unknown>),
    createdAt: row?.createdAt ?? '',
    updatedAt: row?.updatedAt ?? '',
  }
}
