import pg from 'pg'
import { splitSecrets } from './peer-store.ts'
import { seal, unseal } from './secret-box.ts'
import { LockKeys } from './lock-keys.ts'

export type AlertServiceType = 'slack' | 'email'

export interface AlertConfigRecord {
  readonly id: number
  readonly name: string
  readonly serviceType: AlertServiceType
  /** The whole service config, secrets included: for sending and comparing, never for showing. */
  readonly serviceConfig: Readonly<Record<string, unknown>>
  readonly alertForMirrors: readonly string[]
  readonly createdAt: string
  readonly updatedAt: string
}

export interface AlertConfigInput {
  /** undefined on insert: named alert_<id> (REST has no names). */
  readonly name?: string
  readonly serviceType: AlertServiceType
  readonly serviceConfig: Readonly<Record<string, unknown>>
  readonly alertForMirrors: readonly string[]
}

const SELECT = `SELECT a.id, a.name, a.service_type, a.service_config, a.alert_for_mirrors,
  s.encoding AS secret_encoding, s.key_id AS secret_key_id, s.payload AS secret_payload,
  a.created_at::text AS created_at, a.updated_at::text AS updated_at
  FROM alert_configs a JOIN alert_secrets s ON s.alert_config_id = a.id`

/** The only code that reads and writes the alert_configs and alert_secrets tables. */
export class AlertStore {
  constructor(
    private readonly db: pg.Pool | pg.ClientBase,
    private readonly key: Buffer | undefined,
  ) {}

  async list(): Promise<AlertConfigRecord[]> {
    const r = await this.db.query(`${SELECT} ORDER BY a.id`)
    return r.rows.map((row) => this.toRecord(row))
  }

  async get(id: number): Promise<AlertConfigRecord | undefined> {
    const r = await this.db.query(`${SELECT} WHERE a.id = $1`, [id])
    return r.rows[0] ? this.toRecord(r.rows[0]) : undefined
  }

  async findByName(name: string): Promise<AlertConfigRecord | undefined> {
    const r = await this.db.query(`${SELECT} WHERE a.name = $1`, [name])
    return r.rows[0] ? this.toRecord(r.rows[0]) : undefined
  }

  /**
   * Inserts the config and its sealed secrets in one statement. Without a name it is called alert_<id> (or
   * alert_<id>_rest when a SQL user already took that name). A taken name fails with 23505.
   */
  async insert(cfg: AlertConfigInput): Promise<number> {
    const { publicConfig, secrets } = splitSecrets(cfg.serviceConfig)
    const s = seal(secrets, this.key)
    const r = await this.db.query<{ id: number }>(
      `WITH n AS (SELECT nextval(pg_get_serial_sequence('alert_configs', 'id'))::int AS id),
       a AS (
         INSERT INTO alert_configs (id, name, service_type, service_config, alert_for_mirrors)
         SELECT n.id, coalesce($1::text, CASE
             WHEN EXISTS (SELECT 1 FROM alert_configs WHERE name = 'alert_' || n.id) THEN 'alert_' || n.id || '_rest'
             ELSE 'alert_' || n.id END), $2, $3, $4
         FROM n RETURNING id)
       INSERT INTO alert_secrets (alert_config_id, encoding, key_id, payload)
       SELECT id, $5, $6, $7 FROM a RETURNING alert_config_id AS id`,
      [cfg.name ?? null, cfg.serviceType, publicConfig, cfg.alertForMirrors, s.encoding, s.keyId, s.payload],
    )
    return r.rows[0]!.id
  }

  /** Returns false when no config has this id. The name stays as it is. */
  async update(id: number, cfg: AlertConfigInput): Promise<boolean> {
    const { publicConfig, secrets } = splitSecrets(cfg.serviceConfig)
    const s = seal(secrets, this.key)
    const r = await this.db.query(
      `WITH a AS (
         UPDATE alert_configs SET service_type = $2, service_config = $3, alert_for_mirrors = $4, updated_at = now()
         WHERE id = $1 RETURNING id)
       UPDATE alert_secrets SET encoding = $5, key_id = $6, payload = $7
       WHERE alert_config_id = (SELECT id FROM a)`,
      [id, cfg.serviceType, publicConfig, cfg.alertForMirrors, s.encoding, s.keyId, s.payload],
    )
    return (r.rowCount ?? 0) > 0
  }

  async delete(id: number): Promise<boolean> {
    const r = await this.db.query('DELETE FROM alert_configs WHERE id = $1', [id])
    return (r.rowCount ?? 0) > 0
  }

  /**
   * Runs `fn` in a transaction that holds the creation lock, so a look-for-an-identical-config-then-insert is
   * atomic across concurrent requests and processes.
   */
  async exclusively<T>(fn: (store: AlertStore) => Promise<T>): Promise<T> {
    if (!(this.db instanceof pg.Pool)) throw new Error('AlertStore.exclusively needs a pool')
    const client = await this.db.connect()
    try {
      await client.query('BEGIN')
      await client.query('SELECT pg_advisory_xact_lock($1)', [LockKeys.alertConfigCreate])
      const result = await fn(new AlertStore(client, this.key))
      await client.query('COMMIT')
      return result
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw e
    } finally {
      client.release()
    }
  }

  private toRecord(row: {
    id: number
    name: string
    service_type: AlertServiceType
    service_config: Record<string, unknown>
    alert_for_mirrors: string[]
    secret_encoding: 'plain-json' | 'aes-256-gcm'
    secret_key_id: string
    secret_payload: string
    created_at: string
    updated_at: string
  }): AlertConfigRecord {
    const secrets = unseal(
      { encoding: row.secret_encoding, keyId: row.secret_key_id, payload: row.secret_payload },
      this.key,
    )
    return {
      id: row.id,
      name: row.name,
      serviceType: row.service_type,
      serviceConfig: { ...row.service_config, ...secrets },
      alertForMirrors: row.alert_for_mirrors,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    }
  }
}
