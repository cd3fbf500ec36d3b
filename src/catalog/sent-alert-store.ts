import type pg from 'pg'

export type AlertKind = 'slot_lag' | 'mirror_error' | 'stale_batches'

export interface SentAlert {
  readonly alertConfigId: number
  readonly alertConfigName: string
  readonly alertKey: string
  readonly kind: AlertKind
  readonly mirror: string
  readonly message: string
  readonly delivered: boolean
  readonly error: string | null
}

/** The only code that reads and writes the `alerts` table: alerts sent (or tried), the de-duplication window. */
export class SentAlertStore {
  constructor(private readonly db: pg.Pool | pg.ClientBase) {}

  /** When this alert last went (or was tried) to this destination; undefined when never. */
  async lastSentAt(alertConfigId: number, alertKey: string): Promise<Date | undefined> {
    const r = await this.db.query<{ created_at: Date }>(
      `SELECT created_at FROM alerts WHERE alert_config_id = $1 AND alert_key = $2
       ORDER BY created_at DESC LIMIT 1`,
      [alertConfigId, alertKey],
    )
    return r.rows[0]?.created_at
  }

  async record(a: SentAlert): Promise<void> {
    await this.db.query(
      `INSERT INTO alerts (alert_config_id, alert_config_name, alert_key, kind, mirror, message, delivered, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [a.alertConfigId, a.alertConfigName, a.alertKey, a.kind, a.mirror, a.message, a.delivered, a.error],
    )
  }
}
