import type pg from 'pg'
import { PgMirrorError, q } from '../errors.ts'
import {
  type Peer,
  type PeerConfig,
  type PeerTypeName,
  PeerTypes,
  REDACTED,
  SECRET_KEYS,
} from '../model/peer.ts'
import { seal, unseal } from './secret-box.ts'

export interface PeerRow {
  readonly id: number
  readonly name: string
  readonly type: PeerTypeName
  /** Config without secret values. */
  readonly publicConfig: Readonly<Record<string, unknown>>
  readonly createdAt: string
  readonly updatedAt: string
}

/** Splits a config into what may be shown and what must be sealed. */
export function splitSecrets(config: Readonly<Record<string, unknown>>): {
  publicConfig: Record<string, unknown>
  secrets: Record<string, unknown>
} {
  const publicConfig: Record<string, unknown> = {}
  const secrets: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(config)) {
    if (v === undefined) continue
    if (SECRET_KEYS.has(k)) secrets[k] = v
    else publicConfig[k] = v
  }
  return { publicConfig, secrets }
}

/** The config as it may be shown anywhere: every secret that is set is replaced by asterisks. */
export function redactConfig(config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(config)) {
    if (v === undefined) continue
    out[k] = SECRET_KEYS.has(k) && v !== '' ? REDACTED : v
  }
  return out
}

type Db = pg.Pool | pg.ClientBase

/** The only code that reads and writes the peers and peer_secrets tables. */
export class PeerStore {
  constructor(
    private readonly db: Db,
    private readonly key: Buffer | undefined,
  ) {}

  async list(): Promise<PeerRow[]> {
    const r = await this.db.query(
      `SELECT id, name, type_name, config, created_at::text AS created_at, updated_at::text AS updated_at
       FROM peers ORDER BY name`,
    )
    return r.rows.map(toRow)
  }

  async find(name: string): Promise<PeerRow | undefined> {
    const r = await this.db.query(
      `SELECT id, name, type_name, config, created_at::text AS created_at, updated_at::text AS updated_at
       FROM peers WHERE name = $1`,
      [name],
    )
    return r.rows[0] ? toRow(r.rows[0]) : undefined
  }

  /** The full peer, secrets included: for connecting, never for showing. */
  async get(name: string): Promise<Peer & { readonly id: number }> {
    const r = await this.db.query(
      `SELECT p.id, p.name, p.type_name, p.config, s.encoding, s.key_id, s.payload
       FROM peers p LEFT JOIN peer_secrets s ON s.peer_id = p.id WHERE p.name = $1`,
      [name],
    )
    const row = r.rows[0]
    if (!row) throw new PgMirrorError('undefined_object', `peer ${q(name)} does not exist`)
    const secrets = row.encoding
      ? unseal({ encoding: row.encoding, keyId: row.key_id, payload: row.payload }, this.key)
      : {}
    return {
      id: row.id,
      name: row.name,
      type: row.type_name,
      config: { ...row.config, ...secrets },
    } as Peer & {
      id: number
    }
  }

  /** One statement writes the peer and its secrets, so no reader ever sees a peer without its password. */
  async insert(name: string, pc: PeerConfig): Promise<number> {
    const { publicConfig, secrets } = splitSecrets(pc.config as unknown as Record<string, unknown>)
    const s = seal(secrets, this.key)
    const r = await this.db.query<{ id: number }>(
      `WITH p AS (INSERT INTO peers (name, type, type_name, config) VALUES ($1, $2, $3, $4) RETURNING id)
       INSERT INTO peer_secrets (peer_id, encoding, key_id, payload) SELECT id, $5, $6, $7 FROM p RETURNING peer_id AS id`,
      [name, PeerTypes[pc.type], pc.type, publicConfig, s.encoding, s.keyId, s.payload],
    )
    return r.rows[0]!.id
  }

  async update(id: number, pc: PeerConfig): Promise<void> {
    const { publicConfig, secrets } = splitSecrets(pc.config as unknown as Record<string, unknown>)
    const s = seal(secrets, this.key)
    await this.db.query(
      `WITH p AS (UPDATE peers SET type = $2, type_name = $3, config = $4, updated_at = now() WHERE id = $1 RETURNING id)
       INSERT INTO peer_secrets (peer_id, encoding, key_id, payload) SELECT id, $5, $6, $7 FROM p
       ON CONFLICT (peer_id) DO UPDATE SET encoding = EXCLUDED.encoding, key_id = EXCLUDED.key_id, payload = EXCLUDED.payload`,
      [id, PeerTypes[pc.type], pc.type, publicConfig, s.encoding, s.keyId, s.payload],
    )
  }

  async delete(name: string): Promise<boolean> {
    const r = await this.db.query('DELETE FROM peers WHERE name = $1', [name])
    return (r.rowCount ?? 0) > 0
  }

  /** Names of the mirrors that use this peer as source or destination. */
  async mirrorsUsing(peerId: number): Promise<string[]> {
    const r = await this.db.query<{ name: string }>(
      'SELECT name FROM mirrors WHERE source_peer_id = $1 OR destination_peer_id = $1 ORDER BY name',
      [peerId],
    )
    return r.rows.map((x) => x.name)
  }
}

function toRow(r: {
  id: number
  name: string
  type_name: PeerTypeName
  config: Record<string, unknown>
  created_at: string
  updated_at: string
}): PeerRow {
  return {
    id: r.id,
    name: r.name,
    type: r.type_name,
    publicConfig: r.config,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}
