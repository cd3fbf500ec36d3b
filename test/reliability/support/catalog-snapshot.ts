// A snapshot of the catalog read directly (not through pgmirror): the list of relations, and every row of every
// pgmirror table (the queue's schema `bullmq` is left out: it is created and written on its own schedule). Equal snapshots before and after a bad input prove the input changed nothing.
import pg from 'pg'
import { rawTypes } from './rig.ts'

export interface CatalogSnapshot {
  readonly relations: readonly string[]
  /** table → rows as text, ordered */
  readonly rows: Readonly<Record<string, readonly string[]>>
}

export async function catalogSnapshot(url: string): Promise<CatalogSnapshot> {
  const c = new pg.Client({ connectionString: url, types: rawTypes })
  await c.connect()
  try {
    return await read(c)
  } finally {
    await c.end()
  }
}

async function read(c: pg.Client): Promise<CatalogSnapshot> {
  const rel = await c.query(
    `SELECT n.nspname || '.' || c.relname || ':' || c.relkind::text AS r FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'bullmq') ORDER BY 1`,
  )
  const tables = await c.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)
  const rows: Record<string, string[]> = {}
  for (const { tablename } of tables.rows as { tablename: string }[]) {
    const t = pg.escapeIdentifier(tablename)
    const r = await c.query(`SELECT x::text AS row FROM public.${t} x ORDER BY 1`)
    rows[tablename] = r.rows.map((x: { row: string }) => x.row)
  }
  return { relations: rel.rows.map((x: { r: string }) => x.r), rows }
}
