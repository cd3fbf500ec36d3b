// A steady write load on `public.t (id int PRIMARY KEY, v text)` for crash tests: each transaction inserts 50 new
// rows, appends to 20 random rows and deletes 5 random rows, until stopped.
import pg from 'pg'

export interface WriteLoad {
  /** Stops after the transaction in flight; resolves with how many transactions committed. */
  stop(): Promise<number>
}

/** New ids start at `firstId`, so they never collide with rows the test loaded before. */
export function startWriter(url: string, firstId: number): WriteLoad {
  let running = true
  let txs = 0
  const done = (async () => {
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    let id = firstId
    try {
      while (running) {
        await c.query('BEGIN')
        await c.query(
          `INSERT INTO public.t SELECT g, 'w' || g FROM generate_series($1::int, $1::int + 49) g`,
          [id],
        )
        await c.query(
          `UPDATE public.t SET v = v || '+' WHERE id IN (SELECT id FROM public.t ORDER BY random() LIMIT 20)`,
        )
        await c.query(`DELETE FROM public.t WHERE id IN (SELECT id FROM public.t ORDER BY random() LIMIT 5)`)
        await c.query('COMMIT')
        id += 50
        txs++
      }
    } finally {
      await c.end()
    }
  })()
  return {
    async stop() {
      running = false
      await done
      return txs
    },
  }
}
