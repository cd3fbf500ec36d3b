/** Postgres source connections: the shared mapping (src/pgclient) plus opening a client with it. */
import pg from 'pg'
import type { PostgresConfig } from '../../model/peer.ts'
import { describeConnectError, pgClientConfig, type ClientOptions } from '../../pgclient/options.ts'

export {
  describeConnectError,
  pgClientConfig,
  resolveTlsMode,
  tlsOptions,
  type ClientOptions,
  type PgClientConfig,
  type TlsMode,
} from '../../pgclient/options.ts'

/** Opens a client with raw-text types, reporting failures through describeConnectError. */
export async function openClient(cfg: PostgresConfig, opts: ClientOptions = {}): Promise<pg.Client> {
  const client = new pg.Client(pgClientConfig(cfg, opts))
  try {
    await client.connect()
  } catch (e) {
    // A half-open client still holds a socket; end() after a failed connect never throws.
    await client.end().catch(() => undefined)
    throw describeConnectError(e, cfg)
  }
  // A server-side disconnect of an idle client is emitted as 'error', which would crash the process unheard;
  // the next query on the client reports it instead.
  client.on('error', () => undefined)
  return client
}
