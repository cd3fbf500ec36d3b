/**
 * A mirror whose destination is its own source database must not write a table it reads: each change it applied
 * would come back to it as a new change, forever (and its snapshot would copy a table onto itself). A REST create
 * with destination = source peer and `public.t → public.t` used to be accepted.
 */
import { PgMirrorError, q } from '../errors.ts'
import type { TableMapping } from '../model/mirror.ts'
import type { PeerConfig } from '../model/peer.ts'
import { tableKey } from '../model/record.ts'

/** Both peers name the same Postgres database (the same peer, or two peers with one address and database). */
export function sameDatabase(a: PeerConfig, b: PeerConfig): boolean {
  if (a.type !== 'POSTGRES' || b.type !== 'POSTGRES') return false
  return (
    a.config.host.toLowerCase() === b.config.host.toLowerCase() &&
    a.config.port === b.config.port &&
    a.config.database === b.config.database
  )
}

/** A destination as a `schema.table` key: an unqualified name is in schema public, as the Postgres sink reads it. */
const destinationKey = (destination: string): string =>
  destination.includes('.') ? destination : `public.${destination}`

/** Throws 22023 when a mapping writes into one of the mirror's own source tables on the same database. */
export function refuseWritesIntoSources(
  source: PeerConfig,
  destination: PeerConfig,
  mappings: readonly TableMapping[],
): void {
  if (!sameDatabase(source, destination)) return
  const sources = new Set(mappings.map((m) => tableKey(m.source)))
  const loop = mappings.find((m) => sources.has(destinationKey(m.destination)))
  if (loop === undefined) return
  throw new PgMirrorError(
    'invalid_parameter_value',
    `table mapping ${tableKey(loop.source)} → ${loop.destination} writes into ${q(destinationKey(loop.destination))}, a source table of this mirror on the same database`,
    {
      field: 'table_mappings',
      hint: 'on the source database itself, map each table to a table the mirror does not read',
    },
  )
}
