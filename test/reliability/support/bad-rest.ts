// The catalogue of bad REST requests, each with the HTTP status pgmirror must answer, and its runner. They run
// against an API process whose catalog holds what prepareBadSql makes: peers `p1` (source, with table public.t) and
// `p2` (target), mirror `m1` (p1 → p2, in STATUS_SETUP, no worker). None may change the catalog, and every answer
// must be the API's JSON error: a message, the status repeated in `code`, a SQLSTATE; no stack trace, no secret.
import { BAD_REST_MIRRORS } from './bad-rest-mirrors.ts'
import { BAD_REST_PEERS } from './bad-rest-peers.ts'
import { catalogSnapshot } from './catalog-snapshot.ts'
import { SECRET, type BadRest, type BadRestEnv } from './rest-request.ts'

export type { BadRest } from './rest-request.ts'

export const BAD_REST: readonly BadRest[] = [...BAD_REST_PEERS, ...BAD_REST_MIRRORS]

export interface BadRestResult {
  readonly inputs: number
  readonly refusedAsExpected: number
  readonly failures: string[]
}

/** What is wrong with an error answer, or undefined. */
function checkAnswer(
  c: BadRest,
  status: number,
  contentType: string,
  text: string,
  secrets: readonly string[],
) {
  if (status !== c.status) return `expected ${c.status}, got ${status}: ${text.slice(0, 300)}`
  if (!contentType.startsWith('application/json')) return `content type ${contentType}: ${text.slice(0, 200)}`
  if (/\n\s+at |node_modules|\.ts:\d+|<html/i.test(text))
    return `a stack trace or page: ${text.slice(0, 300)}`
  const secret = secrets.find((s) => text.includes(s))
  if (secret !== undefined) return `the answer holds a secret: ${text.slice(0, 300)}`
  let body: { code?: unknown; message?: unknown; sqlState?: unknown }
  try {
    body = JSON.parse(text) as typeof body
  } catch {
    return `not JSON: ${text.slice(0, 200)}`
  }
  if (typeof body.message !== 'string' || body.message === '') return `no message: ${text.slice(0, 200)}`
  if (body.code !== status) return `code ${String(body.code)} is not the status ${status}`
  if (typeof body.sqlState !== 'string' || !/^[0-9A-Z]{5}$/.test(body.sqlState)) return `no SQLSTATE: ${text}`
  if (c.messageMatch && !c.messageMatch.test(body.message)) {
    return `message ${JSON.stringify(body.message)} does not match ${String(c.messageMatch)}`
  }
  return undefined
}

/**
 * Sends every request of `BAD_REST` to the API at `baseUrl` (`http://host:port`) with `auth` (headers), checks each
 * answer, and compares the catalog (read directly) with its state before, after each one. At the end the server
 * must still answer its liveness probe. `failures` names each wrong answer, each catalog change and each hang.
 */
export async function runBadRest(
  baseUrl: string,
  auth: Readonly<Record<string, string>>,
  catalogUrl: string,
): Promise<BadRestResult> {
  const env: BadRestEnv = { pgPort: new URL(catalogUrl).port || '5432' }
  const password = /^Basic (.+)$/.exec(auth.authorization ?? '')?.[1]
  const secrets = [
    SECRET,
    ...(password ? [Buffer.from(password, 'base64').toString().split(':').slice(1).join(':')] : []),
  ]
  let before = JSON.stringify(await catalogSnapshot(catalogUrl))
  const failures: string[] = []
  let refusedAsExpected = 0
  for (const c of BAD_REST) {
    const headers = Object.fromEntries(
      Object.entries({ 'content-type': 'application/json', ...auth, ...c.headers }).filter(
        ([, v]) => v !== '',
      ),
    )
    const body = typeof c.body === 'function' ? c.body(env) : c.body
    let problem: string | undefined
    try {
      const res = await fetch(`${baseUrl}${c.path}`, {
        method: c.method,
        headers,
        ...(c.method === 'GET' ? {} : { body }),
        signal: AbortSignal.timeout(60_000),
      })
      const text = await res.text()
      problem = checkAnswer(c, res.status, res.headers.get('content-type') ?? '', text, secrets)
    } catch (e) {
      problem = `no answer: ${(e as Error).message}`
    }
    // Against the catalog just before this request, so that one change is blamed on the request that made it.
    const after = JSON.stringify(await catalogSnapshot(catalogUrl))
    const unchanged = after === before
    before = after
    if (problem !== undefined) failures.push(`${c.name}: ${problem}\n    ${c.method} ${c.path.slice(0, 120)}`)
    if (!unchanged) failures.push(`${c.name}: the catalog changed`)
    if (problem === undefined && unchanged) refusedAsExpected++
  }
  const live = await fetch(`${baseUrl}/api/v1/health/live`, { signal: AbortSignal.timeout(10_000) }).catch(
    (e: Error) => e,
  )
  if (live instanceof Error || live.status !== 200) {
    failures.push(
      `the server stopped answering after the catalogue: ${live instanceof Error ? live.message : live.status}`,
    )
  }
  return { inputs: BAD_REST.length, refusedAsExpected, failures }
}
