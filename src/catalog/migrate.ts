import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type pg from 'pg'
import { LockKeys } from './lock-keys.ts'

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url))

export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({
      version: Number(f.slice(0, 4)),
      name: f.replace(/\.sql$/, ''),
      sql: readFileSync(dir + f, 'utf8'),
    }))
}

/**
 * Applies forward-only migrations, each in its own transaction, under a session advisory lock so that several
 * processes starting together apply each one exactly once. A catalog that is ahead of this binary is accepted.
 */
export async function migrate(client: pg.ClientBase, migrations = loadMigrations()): Promise<number[]> {
  await client.query('SELECT pg_advisory_lock($1)', [LockKeys.migrations])
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS pgmirror_migrations (
      version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
    const done = new Set(
      (await client.query<{ version: number }>('SELECT version FROM pgmirror_migrations')).rows.map(
        (r) => r.version,
      ),
    )
    const applied: number[] = []
    for (const m of migrations) {
      if (done.has(m.version)) continue
      await client.query('BEGIN')
      try {
        await client.query(m.sql)
        await client.query('INSERT INTO pgmirror_migrations (version, name) VALUES ($1, $2)', [
          m.version,
          m.name,
        ])
        await client.query('COMMIT')
      } catch (e) {
        await client.query('ROLLBACK')
        throw new Error(`catalog migration ${m.name} failed: ${(e as Error).message}`, { cause: e })
      }
      applied.push(m.version)
    }
    return applied
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LockKeys.migrations])
  }
}
