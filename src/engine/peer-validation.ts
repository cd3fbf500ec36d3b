import pg from 'pg'
import { PgMirrorError } from '../errors.ts'
import type { PeerConfig } from '../model/peer.ts'
import { validateClickhouse } from '../sinks/clickhouse/connect.ts'
import { validateKafka } from '../sinks/kafka/connect.ts'
import { describeConnectError, pgClientConfig } from '../sources/postgres/connect.ts'

export interface PeerCheck {
  /** One line for a NOTICE or the REST message, e.g. `postgres 15.4, wal_level=logical, replication: yes`. */
  readonly summary: string
  readonly details: Readonly<Record<string, string | boolean>>
}

/** Connects with exactly the settings given and checks what the peer type needs. Throws a PgMirrorError on failure. */
export async function checkPeer(pc: PeerConfig): Promise<PeerCheck> {
  switch (pc.type) {
    case 'POSTGRES': {
      const client = new pg.Client(pgClientConfig(pc.config, { applicationName: 'pgmirror_validate' }))
      // A connection that breaks mid-check emits 'error' besides failing the query; unheard it ends the process.
      client.on('error', () => undefined)
      try {
        await client.connect()
      } catch (e) {
        throw describeConnectError(e, pc.config)
      }
      try {
        const r = await client.query<{
          version: string
          wal_level: string
          replication: boolean
          superuser: boolean
        }>(
          `SELECT current_setting('server_version') AS version, current_setting('wal_level') AS wal_level,
                  rolreplication AS replication, rolsuper AS superuser
           FROM pg_roles WHERE rolname = current_user`,
        )
        const row = r.rows[0]
        if (!row) throw new PgMirrorError('internal_error', 'could not read the role of the current user')
        const replication = row.replication || row.superuser
        return {
          summary: `postgres ${row.version}, wal_level=${row.wal_level}, replication privilege: ${replication ? 'yes' : 'no'}`,
          details: { serverVersion: row.version, walLevel: row.wal_level, replication },
        }
      } finally {
        await client.end().catch(() => undefined)
      }
    }
    case 'CLICKHOUSE': {
      const { version } = await validateClickhouse(pc.config)
      return { summary: `clickhouse ${version}, can create tables`, details: { serverVersion: version } }
    }
    case 'KAFKA': {
      const { brokers } = await validateKafka(pc.config)
      return { summary: `kafka metadata from ${brokers.join(', ')}`, details: { brokers: brokers.join(',') } }
    }
  }
}
