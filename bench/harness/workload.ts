// The benchmark table (~100 bytes a row) and the SQL that fills and changes it. Everything is derived from the
// row id, so two databases filled with the same statements hold identical rows.

export const TABLE = 'public.bench_rows'
/** The replicated columns, in order: what COPY moves and what the md5 check compares. */
export const COLS = 'id, qty, amount, note, created_at, active'

const COLUMN_DEFS = `id bigint NOT NULL, qty int NOT NULL, amount numeric(12,2) NOT NULL, note text NOT NULL,
  created_at timestamptz NOT NULL, active boolean NOT NULL`

export const createSourceTable = (): string => `CREATE TABLE ${TABLE} (${COLUMN_DEFS}, PRIMARY KEY (id))`

/** The layout pgmirror gives a target table (replicated columns, its synced-at column, the key). */
export const createTargetTable = (): string =>
  `CREATE TABLE ${TABLE} (${COLUMN_DEFS}, "_PEERDB_SYNCED_AT" timestamptz DEFAULT now(), PRIMARY KEY (id))`

/** Rows with ids from..to; the note is 40 characters. */
export const insertRows = (from: number, to: number): string =>
  `INSERT INTO ${TABLE} (${COLS})
   SELECT g, (g::bigint * 7919 % 100000)::int, (g::bigint * 31 % 10000000) / 100.0, substr(md5(g::text) || md5((g + 1)::text), 1, 40),
          timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', g % 3 = 0
   FROM generate_series(${from}, ${to}) g`

/** Fills the table in chunks, so no single transaction (and no single WAL burst) is huge. */
export async function fillRows(
  run: (sql: string) => Promise<unknown>,
  rows: number,
  chunk = 500_000,
): Promise<void> {
  for (let from = 1; from <= rows; from += chunk)
    await run(insertRows(from, Math.min(rows, from + chunk - 1)))
}

export interface ChangePlan {
  /** Rows present before the changes; updates and deletes hit these. */
  readonly baseRows: number
  readonly transactions: number
  readonly insertsPerTx: number
  readonly updatesPerTx: number
  readonly deletesPerTx: number
}

export const planTotal = (p: ChangePlan): number =>
  p.transactions * (p.insertsPerTx + p.updatesPerTx + p.deletesPerTx)

/** About `changes` row changes, 50 % inserts, 35 % updates, 15 % deletes, in transactions of `txSize` changes. */
export function planChanges(changes: number, txSize: number): ChangePlan {
  const transactions = Math.max(1, Math.round(changes / txSize))
  const insertsPerTx = Math.round(txSize * 0.5)
  const updatesPerTx = Math.round(txSize * 0.35)
  const deletesPerTx = Math.max(0, txSize - insertsPerTx - updatesPerTx)
  return {
    baseRows: transactions * (updatesPerTx + deletesPerTx),
    transactions,
    insertsPerTx,
    updatesPerTx,
    deletesPerTx,
  }
}

/**
 * One server-side loop committing each transaction: fast to produce, and every update and delete hits a row that
 * exists (updates take ids from 1 upwards, deletes the range above them, inserts go past the base rows).
 */
export function changesSql(p: ChangePlan): string {
  const updTotal = p.transactions * p.updatesPerTx
  return `DO $$
BEGIN
  FOR i IN 0..${p.transactions - 1} LOOP
    INSERT INTO ${TABLE} (${COLS})
      SELECT g, g % 1000, g / 100.0, substr(md5(g::text), 1, 40), timestamptz '2025-01-01 00:00:00+00' + g * interval '1 ms', true
      FROM generate_series(${p.baseRows} + 1 + i * ${p.insertsPerTx}, ${p.baseRows} + (i + 1) * ${p.insertsPerTx}) g;
    UPDATE ${TABLE} SET qty = qty + 1, amount = amount + 0.01, note = 'u' || substr(note, 2), active = NOT active
      WHERE id BETWEEN 1 + i * ${p.updatesPerTx} AND (i + 1) * ${p.updatesPerTx};
    DELETE FROM ${TABLE} WHERE id BETWEEN ${updTotal} + 1 + i * ${p.deletesPerTx} AND ${updTotal} + (i + 1) * ${p.deletesPerTx};
    COMMIT;
  END LOOP;
END $$`
}

/** Id of the marker row written after all changes: once it is on the target, everything before it is too. */
export const MARKER_ID = 0
export const insertMarker = (): string => insertRows(MARKER_ID, MARKER_ID)
