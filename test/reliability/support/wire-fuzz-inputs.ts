// Inputs for the wire-protocol fuzzer, pure: valid frame sequences as real clients send them, then mutated
// (flipped bytes, wrong and huge lengths, truncation, inserted junk, bad UTF-8, swapped frame types), or plain
// random bytes. Every input is a function of the PRNG, so a seed replays a run exactly.
import { serialize } from 'pg-protocol'
import { prng, type Prng } from './prng.ts'

/**
 * Where the input starts:
 * - `raw`: from the first byte of the connection (startup, SSL and SASL frames get mutated too);
 * - `session`: after a correct startup and authentication (query-phase frames get mutated);
 * - `scram`: after the server's SCRAM challenge, as a mutated client-final message.
 */
export type FuzzPhase = 'raw' | 'session' | 'scram'

export interface FuzzInput {
  readonly phase: FuzzPhase
  /** What was done, for the failure report. */
  readonly label: string
  /**
   * Written in this order, each chunk as its own write, so frames also arrive split. `nonce` is the server's
   * combined SCRAM nonce (only known in the `scram` phase).
   */
  chunks(nonce: string): Buffer[]
}

/** Queries that are harmless whatever a mutation turns them into: reads, session statements, an unreachable peer. */
const QUERIES = [
  'SELECT 1',
  'SHOW PEERS',
  'SHOW MIRRORS',
  'SELECT name, type FROM peers ORDER BY name',
  "SELECT 'ünï ☃ 𝄞' AS t, $$x$$ AS d",
  'BEGIN; SELECT 2; COMMIT',
  "SET application_name = 'fuzz'; SHOW application_name",
  'SHOW server_version',
  "CREATE PEER fz FROM POSTGRES WITH (host = '127.0.0.1', port = 1, user = 'x', password = 'y', database = 'z', connect_timeout = 2)",
  'SHOW MIRROR nosuch',
  'DROP MIRROR IF EXISTS nosuch_fuzz',
  'SELECT * FROM nosuchpeer.public.t',
  '',
]

const BAD_UTF8 = [
  [0xff],
  [0x80],
  [0xc0, 0x80],
  [0xc3],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xe2, 0x82],
].map((b) => Buffer.from(b))

const INT32_EDGES = [
  0,
  1,
  3,
  4,
  5,
  7,
  8,
  -1,
  -4,
  -2147483648,
  2147483647,
  0x7ffffff0,
  10_000,
  10_001,
  64 * 1024 * 1024 + 1,
]

/** Frames of a session (after ReadyForQuery) that a real client could send. */
function sessionFrames(rnd: Prng): Buffer[] {
  const sql = rnd.pick(QUERIES)
  switch (rnd.int(6)) {
    case 0:
    case 1:
      return [serialize.query(sql)]
    case 2:
      return [
        serialize.parse({ text: 'SELECT $1::int AS x, $2::text AS y', types: [23, 25] }),
        serialize.bind({ values: [String(rnd.int(1000)), 'ü'] }),
        serialize.describe({ type: 'P' }),
        serialize.execute({ rows: rnd.int(3) }),
        serialize.sync(),
      ]
    case 3:
      return [
        serialize.parse({ name: 's1', text: sql.split(';')[0] ?? '' }),
        serialize.describe({ type: 'S', name: 's1' }),
        serialize.bind({ statement: 's1', portal: 'p1', binary: rnd.chance(0.5) }),
        serialize.execute({ portal: 'p1', rows: 1 }),
        serialize.close({ type: 'P', name: 'p1' }),
        serialize.close({ type: 'S', name: 's1' }),
        serialize.flush(),
        serialize.sync(),
      ]
    case 4:
      return [
        serialize.copyData(rnd.bytes(rnd.int(40))),
        serialize.copyDone(),
        serialize.copyFail('x'),
        typed('F', rnd.bytes(rnd.int(20))),
        serialize.query(sql),
      ]
    default:
      return [serialize.flush(), serialize.sync(), serialize.query(sql), serialize.sync()]
  }
}

function startupFrames(rnd: Prng): Buffer[] {
  const params: Record<string, string> = { user: rnd.pick(['fuzz', 'postgres', 'ü', '']), database: 'db' }
  if (rnd.chance(0.3)) params.application_name = rnd.pick(['psql', 'x'.repeat(200), 'ünï'])
  if (rnd.chance(0.1)) params['_pq_.fuzz'] = 'on'
  const frames = [serialize.startup(params)]
  if (rnd.chance(0.15)) frames.unshift(serialize.requestSsl())
  if (rnd.chance(0.05)) frames.unshift(untyped(80877104, Buffer.alloc(0)))
  if (rnd.chance(0.1)) {
    // another protocol version: 2.0, 3.1, 4.0 or anything
    const v = rnd.pick([2 << 16, (3 << 16) | 1, 4 << 16, rnd.int(2 ** 31)])
    frames[frames.length - 1] = untyped(v, Buffer.from('user\0fuzz\0\0'))
  }
  if (rnd.chance(0.05)) frames.push(serialize.cancel(rnd.int(2 ** 31), rnd.int(2 ** 31)))
  if (rnd.chance(0.05)) {
    // a startup packet crammed with parameters up to the size limit
    const many = Array.from({ length: rnd.between(100, 1200) }, (_, i) => `k${i}\0v\0`).join('')
    frames[frames.length - 1] = untyped(3 << 16, Buffer.from(`user\0fuzz\0${many}\0`))
  }
  return frames
}

/** The two SASL frames of a client that does not know the server's nonce: the final one is always wrong. */
function blindSaslFrames(rnd: Prng): Buffer[] {
  const nonce = rnd.bytes(18).toString('base64')
  const mech = rnd.pick(['SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS', 'PLAIN', ''])
  const first = rnd.pick([
    `n,,n=,r=${nonce}`,
    `y,,n=x,r=${nonce}`,
    `p=tls-server-end-point,,n=,r=${nonce}`,
    'junk',
  ])
  return [
    serialize.sendSASLInitialResponseMessage(mech, first),
    serialize.sendSCRAMClientFinalMessage(`c=biws,r=${nonce}x,p=${rnd.bytes(32).toString('base64')}`),
  ]
}

export function typed(code: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5)
  head.write(code, 0, 'latin1')
  head.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([head, body])
}

function untyped(code: number, body: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeInt32BE(body.length + 8, 0)
  head.writeInt32BE(code, 4)
  return Buffer.concat([head, body])
}

/** Offset of the int32 length inside a frame (untyped startup frames have none before it). */
const lengthOffset = (frame: Buffer, untypedFrame: boolean): number => (untypedFrame ? 0 : 1)

type Mutation = (frames: Buffer[], rnd: Prng, untypedCount: number) => string

const MUTATIONS: readonly Mutation[] = [
  function flipBytes(frames, rnd) {
    const i = rnd.int(frames.length)
    const f = Buffer.from(frames[i] as Buffer)
    const n = rnd.between(1, 4)
    for (let k = 0; k < n && f.length > 0; k++) f[rnd.int(f.length)] = rnd.int(256)
    frames[i] = f
    return `flip ${n} byte(s) in frame ${i}`
  },
  function wrongLength(frames, rnd, untypedCount) {
    const i = rnd.int(frames.length)
    const f = Buffer.from(frames[i] as Buffer)
    const at = lengthOffset(f, i < untypedCount)
    if (f.length < at + 4) return 'wrong length skipped'
    const real = f.readInt32BE(at)
    const v = rnd.chance(0.5) ? rnd.pick(INT32_EDGES) : real + rnd.between(-6, 6)
    f.writeInt32BE(v | 0, at)
    frames[i] = f
    return `length of frame ${i} ${real} -> ${v | 0}`
  },
  function truncate(frames, rnd) {
    const i = rnd.int(frames.length)
    const f = frames[i] as Buffer
    const keep = rnd.int(Math.max(1, f.length))
    frames.splice(i, frames.length - i, f.subarray(0, keep))
    return `truncate frame ${i} at ${keep} of ${f.length} and drop the rest`
  },
  function insertJunk(frames, rnd) {
    const i = rnd.int(frames.length)
    const f = frames[i] as Buffer
    const at = rnd.int(f.length + 1)
    const junk = rnd.bytes(rnd.between(1, 64))
    frames[i] = Buffer.concat([f.subarray(0, at), junk, f.subarray(at)])
    return `insert ${junk.length} random bytes in frame ${i} at ${at}`
  },
  function badUtf8(frames, rnd, untypedCount) {
    const i = rnd.int(frames.length)
    const f = frames[i] as Buffer
    const start = i < untypedCount ? 8 : 5
    if (f.length <= start) return 'bad utf-8 skipped'
    const at = rnd.between(start, f.length - 1)
    const seq = rnd.pick(BAD_UTF8)
    // same total length, so the frame stays well formed and only the text is bad
    const out = Buffer.from(f)
    seq.copy(out, at, 0, Math.min(seq.length, out.length - at - (f[f.length - 1] === 0 ? 1 : 0)))
    frames[i] = out
    return `bad utf-8 ${seq.toString('hex')} in frame ${i} at ${at}`
  },
  function swapType(frames, rnd, untypedCount) {
    const i = rnd.between(Math.min(untypedCount, frames.length - 1), frames.length - 1)
    const f = Buffer.from(frames[i] as Buffer)
    const from = String.fromCharCode(f[0] as number)
    f[0] = rnd.chance(0.7) ? 'BCDEFHPQSXdcfpz\0'.charCodeAt(rnd.int(16)) : rnd.int(256)
    frames[i] = f
    return `type of frame ${i} ${from} -> ${String.fromCharCode(f[0] as number)}`
  },
  function duplicateOrDrop(frames, rnd) {
    const i = rnd.int(frames.length)
    if (rnd.chance(0.5) && frames.length > 1) {
      frames.splice(i, 1)
      return `drop frame ${i}`
    }
    frames.splice(i, 0, frames[i] as Buffer)
    return `duplicate frame ${i}`
  },
  function hugeClaim(frames, rnd) {
    // claims a big body (under the server's limit) and sends only a little of it before the end of input
    const claim = rnd.pick([100_000, 1_000_000, 16 * 1024 * 1024, 64 * 1024 * 1024 - 8])
    const head = Buffer.alloc(5)
    head.write(rnd.pick(['Q', 'P', 'B', 'd']), 0, 'latin1')
    head.writeInt32BE(claim, 1)
    frames.push(Buffer.concat([head, Buffer.alloc(rnd.pick([0, 100, 4096, 65_536]), 0x41)]))
    return `claim a ${claim}-byte message and send a fraction`
  },
]

/** Splits a buffer into 1–4 chunks at random points. */
function chunked(rnd: Prng, buf: Buffer): Buffer[] {
  const cuts = Array.from({ length: rnd.int(4) }, () => rnd.int(buf.length + 1)).sort((a, b) => a - b)
  const out: Buffer[] = []
  let from = 0
  for (const c of [...cuts, buf.length]) {
    if (c > from) out.push(buf.subarray(from, c))
    from = Math.max(from, c)
  }
  return out.length ? out : [buf]
}

/** One fuzz input. `password` says whether the server asks for SCRAM (it changes what a raw startup is followed by). */
export function fuzzInput(rnd: Prng, password: boolean): FuzzInput {
  const roll = rnd.next()
  if (roll < 0.08) {
    const junk = rnd.bytes(rnd.between(1, 2048))
    const chunks = chunked(rnd, junk)
    return {
      phase: rnd.chance(0.5) ? 'raw' : 'session',
      label: `${junk.length} random bytes`,
      chunks: () => chunks,
    }
  }
  if (password && roll < 0.2) {
    const proof = rnd.bytes(32).toString('base64')
    const variants = [
      `c=biws,r=%NONCE%,p=${proof}`,
      `c=biws,r=%NONCE%x,p=${proof}`,
      `c=eSws,r=%NONCE%,p=${proof}`,
      `c=biws,r=%NONCE%,p=${proof.slice(0, rnd.int(44))}`,
      `c=biws,r=%NONCE%,x=1,p=${proof}`,
      `r=%NONCE%,p=${proof}`,
      rnd.bytes(rnd.int(200)).toString('latin1'),
    ]
    const text = rnd.pick(variants)
    // the mutation is chosen now and replayed on the real frame, so the input stays a function of the seed
    const mutation = rnd.chance(0.3) ? MUTATIONS[rnd.int(MUTATIONS.length)] : undefined
    const mutationSeed = rnd.int(2 ** 31)
    let label = 'unmutated'
    return {
      phase: 'scram',
      get label() {
        return `client-final "${text.slice(0, 60)}" ${label}`
      },
      chunks: (nonce) => {
        const frames = [serialize.sendSCRAMClientFinalMessage(text.replace('%NONCE%', nonce))]
        if (mutation) label = mutation(frames, prng(mutationSeed), 0)
        return frames
      },
    }
  }
  const raw = roll < 0.55
  const start = raw ? startupFrames(rnd) : []
  const frames = [...start, ...(raw && password ? blindSaslFrames(rnd) : sessionFrames(rnd))]
  const untypedCount = start.length
  const labels: string[] = []
  const n = rnd.between(raw && rnd.chance(0.2) ? 0 : 1, 3)
  for (let k = 0; k < n; k++) labels.push(MUTATIONS[rnd.int(MUTATIONS.length)]!(frames, rnd, untypedCount))
  if (rnd.chance(0.3)) frames.push(serialize.end())
  const chunks = chunked(rnd, Buffer.concat(frames))
  return { phase: raw ? 'raw' : 'session', label: labels.join('; ') || 'unmutated', chunks: () => chunks }
}
