/** Postgres target connections: the mapping every peer connection shares (src/pgclient/options.ts). */
import type pg from 'pg'
import type { PgMirrorError } from '../../errors.ts'
import type { PostgresConfig } from '../../model/peer.ts'
import { describeConnectError as describe, pgClientConfig } from '../../pgclient/options.ts'

export { rawTextTypes } from '../../pgclient/options.ts'

export const targetClientConfig = (cfg: PostgresConfig): pg.ClientConfig => pgClientConfig(cfg)

/** A failed connect as one retryable error naming the target; the driver's own words are kept. */
export const describeConnectError = (err: unknown, cfg: PostgresConfig): PgMirrorError =>
  describe(err, cfg, 'target')
