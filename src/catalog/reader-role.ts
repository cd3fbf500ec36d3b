/**
 * The role the gateway's catalog queries run as. Statements that name no peer (`SELECT * FROM peers`, the catalog
 * queries of psql and GUI tools) run on the catalog database; run as pgmirror's own catalog user, often a
 * superuser, a read-only transaction alone would not keep them from the secret tables or the catalog host. So they
 * run as a login role that can read the public catalog tables and nothing else:
 * - no superuser, CREATEDB, CREATEROLE or REPLICATION, no membership in any role;
 * - USAGE on schema `public` and SELECT on its tables, except the secret tables (peer and alert secrets);
 * - no USAGE on the job queue's schema (`bullmq`).
 *
 * Its name is derived from the catalog database (roles are cluster-wide, and several catalogs may share a
 * cluster), and its password from the catalog user's own password, so every pgmirror process on the same catalog
 * derives the same credentials and none are stored anywhere. The grants are renewed at every start, after the
 * migrations, inside one transaction. Creating the role needs CREATEROLE; a catalog user without it gets a
 * warning and the gateway falls back to its own connection (still read-only, and still behind the statement
 * guard in src/sql/catalog-guard.ts).
 */
import { createHash, createHmac } from 'node:crypto'
import type pg from 'pg'
import { LockKeys } from './lock-keys.ts'

/** Tables no catalog query may read: they hold sealed (or, without an encryption key, plain) secrets. */
export const SECRET_TABLES: readonly string[] = ['peer_secrets', 'alert_secrets']

export interface ReaderCredentials {
  readonly user: string
  readonly password: string
}

/** `pgmirror_reader_` plus a digest of the database name: valid, short and distinct per catalog. */
export function readerRoleName(database: string): string {
  return `pgmirror_reader_${createHash('sha256').update(database).digest('hex').slice(0, 12)}`
}

/** Derived from what every process of this catalog already knows; never stored. */
export function readerPassword(catalogUrl: string): string {
  const u = new URL(catalogUrl)
  const secret = decodeURIComponent(u.password)
  return createHmac('sha256', `pgmirror catalog reader\0${secret}`)
    .update(`${decodeURIComponent(u.username)}\0${u.pathname}`)
    .digest('hex')
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`

/**
 * Creates or refreshes the reader role and its grants. Returns its credentials, or undefined (with the reason)
 * when the catalog user may not create roles.
 */
export async function ensureReaderRole(
  client: pg.ClientBase,
  catalogUrl: string,
): Promise<{ credentials: ReaderCredentials } | { refused: string }> {
  const db = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db
  const user = readerRoleName(db)
  const password = readerPassword(catalogUrl)
  const role = quoteIdent(user)
  await client.query('BEGIN')
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [LockKeys.readerRole])
    const exists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user])).rowCount! > 0
    const attributes = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS PASSWORD ${client.escapeLiteral(password)}`
    await client.query(`${exists ? 'ALTER' : 'CREATE'} ROLE ${role} WITH ${attributes}`)
    await client.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}`)
    await client.query(`GRANT USAGE ON SCHEMA public TO ${role}`)
    const tables = await client.query<{ name: string }>(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND NOT (tablename = ANY($1))`,
      [SECRET_TABLES],
    )
    if (tables.rows.length > 0) {
      const list = tables.rows.map((t) => `public.${quoteIdent(t.name)}`).join(', ')
      await client.query(`GRANT SELECT ON ${list} TO ${role}`)
    }
    await client.query('COMMIT')
    return { credentials: { user, password } }
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined)
    const err = e as { code?: string; message?: string }
    // 42501: no CREATEROLE (or not the role's owner); anything else is a real fault.
    if (err.code === '42501') return { refused: err.message ?? 'permission denied' }
    throw e
  }
}

/** The catalog URL with the reader's credentials in place of pgmirror's own. */
export function readerUrl(catalogUrl: string, c: ReaderCredentials): string {
  const u = new URL(catalogUrl)
  u.username = encodeURIComponent(c.user)
  u.password = encodeURIComponent(c.password)
  return u.toString()
}
