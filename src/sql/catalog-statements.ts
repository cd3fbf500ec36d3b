import { parse, type Statement } from 'pgsql-ast-parser'

/**
 * `DELETE FROM peers WHERE name = 'x'` is how PeerDB users remove a peer by hand; pgmirror treats exactly that
 * shape as DROP PEER x. Returns the peer name, or undefined for any other statement.
 */
export function matchDeletePeer(sql: string): string | undefined {
  // Only a DELETE can match: spare every other statement a full parse.
  if (!/^\s*delete\b/i.test(sql)) return undefined
  let stmts: Statement[]
  try {
    stmts = parse(sql)
  } catch {
    return undefined
  }
  const s = stmts[0]
  if (stmts.length !== 1 || !s || s.type !== 'delete') return undefined
  if (s.from.name !== 'peers' || (s.from.schema !== undefined && s.from.schema !== 'public')) return undefined
  const w = s.where
  if (!w || w.type !== 'binary' || w.op !== '=') return undefined
  const [col, lit] = w.left.type === 'ref' ? [w.left, w.right] : [w.right, w.left]
  if (col.type !== 'ref' || col.name !== 'name' || lit.type !== 'string') return undefined
  return lit.value
}
