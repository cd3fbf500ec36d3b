// The wire fuzzer's driver: sends fuzz inputs to a running gateway, each on its own connection, many at once, and
// between them checks that the server still answers on a long-lived connection and on a new one, that it never
// reports an internal error, that it closes every connection it is done with, and that its memory stays bounded.
import net from 'node:net'
import pg from 'pg'
import { serialize } from 'pg-protocol'
import { rssBytes } from './processes.ts'
import { ScramClient } from './scram-client.ts'
import { prng } from './prng.ts'
import { fuzzInput, type FuzzInput } from './wire-fuzz-inputs.ts'

export interface FuzzTarget {
  readonly port: number
  /** PEERDB_PASSWORD of the server, when it has one. */
  readonly password?: string
  /** The server's pid, for its RSS. */
  readonly pid: number
}

export interface FuzzOptions {
  readonly seed: number
  readonly inputs: number
  readonly concurrency: number
  /** Check the server (old and new connection, RSS) after this many inputs. */
  readonly checkEvery: number
  /** Called after every check, e.g. for progress output. */
  readonly onCheck?: (done: number, rss: number) => void
}

export interface FuzzReport {
  readonly seed: number
  readonly inputs: number
  readonly byPhase: Record<string, number>
  /** SQLSTATEs of the ErrorResponses the server sent, with counts. */
  readonly sqlStates: Record<string, number>
  readonly checks: number
  readonly baseRss: number
  readonly peakRss: number
  /** Highest RSS seen in the first and the second half of the run: a leak shows as growth between them. */
  readonly peakRssFirstHalf: number
  readonly peakRssSecondHalf: number
  readonly failures: readonly string[]
}

/** Silence after the input, with no close and no marker, after which we hang up ourselves. */
const IDLE_MS = 400
/** How long the server may take to close after our FIN, or to finish one input. */
const CLOSE_TIMEOUT_MS = 10_000
const MARKER = 'fz_marker_7f3a'
/**
 * XX000 errors that Postgres itself sends for such input (a Parse naming a type OID that does not exist), forwarded
 * as they are; any other XX000 is pgmirror failing internally.
 */
const POSTGRES_XX000 = /^cache lookup failed for type \d+$/
const MARKER_QUERY = serialize.query(`SELECT '${MARKER}'`)

interface ServerError {
  readonly code: string
  readonly message: string
}

/** The ErrorResponses in whatever the server sent; single-byte SSL answers and junk are skipped. */
function serverErrors(buf: Buffer): ServerError[] {
  const errors: ServerError[] = []
  let p = 0
  while (p + 5 <= buf.length) {
    const code = String.fromCharCode(buf[p] as number)
    const len = buf.readInt32BE(p + 1)
    if (len < 4 || p + 1 + len > buf.length) {
      p++
      continue
    }
    if (code === 'E') {
      const body = buf.subarray(p + 5, p + 1 + len)
      const fields = new Map<number, string>()
      let q = 0
      while (q < body.length && body[q] !== 0) {
        const end = body.indexOf(0, q + 1)
        if (end < 0) break
        fields.set(body[q] as number, body.subarray(q + 1, end).toString('utf8'))
        q = end + 1
      }
      errors.push({ code: fields.get(0x43) ?? '', message: fields.get(0x4d) ?? '' })
    }
    p += 1 + len
  }
  return errors
}

/** A socket with a buffer of what it received, and waits on it. */
class Conn {
  readonly socket: net.Socket
  received = Buffer.alloc(0)
  closed = false
  #waiters: (() => void)[] = []

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1')
    this.socket.setNoDelay(true)
    this.socket.on('data', (b: Buffer) => {
      this.received = Buffer.concat([this.received, b])
      this.#wake()
    })
    this.socket.on('error', () => undefined)
    this.socket.on('connect', () => this.#wake())
    this.socket.on('close', () => {
      this.closed = true
      this.#wake()
    })
  }

  #wake(): void {
    const w = this.#waiters
    this.#waiters = []
    for (const f of w) f()
  }

  /** Resolves true once `cond` holds, false after `ms` of no news or once the socket closed without it. */
  async until(cond: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms
    while (!cond()) {
      if (this.closed || Date.now() >= deadline) return cond()
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()))
        this.#waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
    return true
  }

  /** The body of the first Authentication message with this sub-code after `from`, and where it ended. */
  auth(sub: number, from: number): { body: Buffer; end: number } | undefined {
    let p = from
    const b = this.received
    while (p + 5 <= b.length) {
      const len = b.readInt32BE(p + 1)
      if (p + 1 + len > b.length) return undefined
      if (b[p] === 0x52 && b.readInt32BE(p + 5) === sub)
        return { body: b.subarray(p + 9, p + 1 + len), end: p + 1 + len }
      p += 1 + len
    }
    return undefined
  }

  readyAt(from: number): boolean {
    return this.received.indexOf(Buffer.from('Z\0\0\0\x05'), from) >= 0
  }

  async write(chunks: readonly Buffer[]): Promise<void> {
    for (const c of chunks) {
      if (this.closed) return
      this.socket.write(c)
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
}

interface InputResult {
  readonly errors: ServerError[]
  readonly failure?: string
}

async function sendInput(
  target: FuzzTarget,
  scram: ScramClient | undefined,
  input: FuzzInput,
): Promise<InputResult> {
  const c = new Conn(target.port)
  try {
    await c.until(() => c.socket.readyState === 'open', CLOSE_TIMEOUT_MS)
    if (c.closed) return { errors: [], failure: 'connection refused or closed before the input' }
    let nonce = ''
    let from = 0
    if (input.phase !== 'raw') {
      c.socket.write(serialize.startup({ user: 'fuzz', database: 'db' }))
      if (scram) {
        if (!(await c.until(() => c.auth(10, 0) !== undefined, CLOSE_TIMEOUT_MS)))
          return { errors: [], failure: 'no SASL challenge' }
        const first = scram.first()
        c.socket.write(first.frame)
        const ok = await c.until(() => c.auth(11, 0) !== undefined, CLOSE_TIMEOUT_MS)
        const cont = c.auth(11, 0)
        if (!ok || !cont) return { errors: serverErrors(c.received), failure: 'no SASL continue' }
        const final = scram.final(first.bare, cont.body.toString('utf8'))
        nonce = final.nonce
        from = cont.end
        if (input.phase === 'session') c.socket.write(final.frame)
      }
      if (input.phase === 'session') {
        if (!(await c.until(() => c.readyAt(from), CLOSE_TIMEOUT_MS)))
          return { errors: serverErrors(c.received), failure: 'a correct login did not reach ReadyForQuery' }
      }
      from = c.received.length
    }
    await c.write([...input.chunks(nonce), MARKER_QUERY])
    // Done when the server hangs up, or has answered the marker query, or has gone quiet.
    const markerSeen = () => {
      const at = c.received.indexOf(MARKER, from)
      return at >= 0 && c.readyAt(at)
    }
    let seen = c.received.length
    while (!c.closed && !markerSeen()) {
      await c.until(() => c.received.length > seen || markerSeen(), IDLE_MS)
      if (c.received.length === seen) break
      seen = c.received.length
    }
    c.socket.end()
    const closed = await c.until(() => c.closed, CLOSE_TIMEOUT_MS)
    const errors = serverErrors(c.received)
    if (!closed) {
      return { errors, failure: `the server kept the connection open ${CLOSE_TIMEOUT_MS} ms after our FIN` }
    }
    const internal = errors.find((x) => x.code === 'XX000' && !POSTGRES_XX000.test(x.message))
    if (internal)
      return { errors, failure: `the server reported an internal error: XX000 ${internal.message}` }
    return { errors }
  } finally {
    c.socket.destroy()
  }
}

async function client(target: FuzzTarget): Promise<pg.Client> {
  const c = new pg.Client({
    host: '127.0.0.1',
    port: target.port,
    user: 'canary',
    ...(target.password !== undefined ? { password: target.password } : {}),
  })
  c.on('error', () => undefined)
  await c.connect()
  return c
}

/** Runs the fuzzer; never throws for a server fault, it reports it in `failures` (the caller asserts). */
export async function runWireFuzz(target: FuzzTarget, opts: FuzzOptions): Promise<FuzzReport> {
  const rnd = prng(opts.seed)
  const scram = target.password !== undefined ? new ScramClient(target.password) : undefined
  const byPhase: Record<string, number> = {}
  const sqlStates: Record<string, number> = {}
  const failures: string[] = []
  const rss: number[] = []
  const baseRss = (await rssBytes(target.pid)) ?? 0
  const canary = await client(target)
  let checks = 0

  const check = async (done: number) => {
    checks++
    try {
      const r = await canary.query(`SELECT ${done} AS n`)
      if (Number(r.rows[0]?.n) !== done)
        failures.push(`after ${done} inputs: the old connection answered wrong`)
    } catch (e) {
      failures.push(`after ${done} inputs: the old connection failed: ${(e as Error).message}`)
    }
    try {
      const fresh = await client(target)
      try {
        await fresh.query('SHOW PEERS')
      } finally {
        await fresh.end().catch(() => undefined)
      }
    } catch (e) {
      failures.push(`after ${done} inputs: a new connection failed: ${(e as Error).message}`)
    }
    const now = await rssBytes(target.pid)
    if (now === undefined) failures.push(`after ${done} inputs: the server process is gone`)
    else rss.push(now)
    opts.onCheck?.(done, now ?? 0)
  }

  let next = 0
  let completed = 0
  let nextCheck = opts.checkEvery
  const worker = async () => {
    while (next < opts.inputs && failures.length < 20) {
      const index = next++
      const input = fuzzInput(rnd, scram !== undefined)
      byPhase[input.phase] = (byPhase[input.phase] ?? 0) + 1
      const r = await sendInput(target, scram, input).catch((e: Error): InputResult => ({
        errors: [],
        failure: `driver error: ${e.message}`,
      }))
      for (const { code } of r.errors) sqlStates[code] = (sqlStates[code] ?? 0) + 1
      if (r.failure) failures.push(`input #${index} (${input.phase}: ${input.label}): ${r.failure}`)
      completed++
      if (completed >= nextCheck) {
        nextCheck += opts.checkEvery
        await check(completed)
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, worker))
    await check(completed)
  } finally {
    await canary.end().catch(() => undefined)
  }
  const half = Math.floor(rss.length / 2)
  return {
    seed: opts.seed,
    inputs: completed,
    byPhase,
    sqlStates,
    checks,
    baseRss,
    peakRss: Math.max(baseRss, ...rss),
    peakRssFirstHalf: Math.max(0, ...rss.slice(0, half)),
    peakRssSecondHalf: Math.max(0, ...rss.slice(half)),
    failures,
  }
}
