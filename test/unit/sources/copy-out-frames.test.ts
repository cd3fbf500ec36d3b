import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CopyOutFrames } from '../../../src/sources/postgres/copy-out-frames.ts'
import { randomChunkings, splitAt } from '../../support/chunkings.ts'

/** One backend message: type byte, Int32 length (itself included), body. */
function msg(type: string, body: Buffer | string = Buffer.alloc(0)): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body
  const head = Buffer.alloc(5)
  head[0] = type.charCodeAt(0)
  head.writeInt32BE(b.length + 4, 1)
  return Buffer.concat([head, b])
}

const rows = ['1\tone\n', '2\ttwo \\t tabs\n', '', '3\t' + 'x'.repeat(300) + '\n', '4\t\\N\n']
const copyOut = Buffer.from([0, 0, 2, 0, 0, 0, 0]) // text format, 2 columns
const payload = Buffer.from(rows.join(''))
const after = Buffer.concat([msg('C', 'COPY 4\0'), msg('Z', 'T')])
const stream = Buffer.concat([
  msg('H', copyOut),
  msg('d', rows[0]!),
  msg('N', 'SNOTICE\0Mhello\0\0'),
  msg('d', rows[1]!),
  msg('d', rows[2]!),
  msg('S', 'TimeZone\0UTC\0'),
  msg('d', rows[3]!),
  msg('d', rows[4]!),
  msg('c'),
  after,
])

/** Feeds `chunks` (fresh copies: the parser rewrites them) and collects what comes out. */
function run(chunks: readonly Buffer[]): {
  data: Buffer
  end: string | undefined
  rest: Buffer
  fed: number
} {
  const frames = new CopyOutFrames()
  const data: Buffer[] = []
  let end: string | undefined
  let rest = Buffer.alloc(0)
  let fed = 0
  for (const c of chunks) {
    fed++
    const step = frames.feed(Buffer.from(c))
    if (step.data) data.push(Buffer.from(step.data))
    if (step.end) {
      end = step.end.kind
      // What the driver gets: the rest of this chunk, then every later chunk.
      rest = Buffer.concat([step.end.rest, ...chunks.slice(fed)])
      break
    }
  }
  return { data: Buffer.concat(data), end, rest, fed }
}

describe('CopyOutFrames', () => {
  it('returns the CopyData payloads of a chunk concatenated, and the driver the bytes after CopyDone', () => {
    const r = run([stream])
    assert.deepEqual(r.data, payload)
    assert.equal(r.end, 'done')
    assert.deepEqual(r.rest, after)
  })

  it('gives the same result for the stream cut at any one byte, or at any two', () => {
    for (let i = 0; i <= stream.length; i++) {
      const r = run(splitAt(stream, [i]))
      assert.deepEqual(r.data, payload, `cut at ${i}`)
      assert.equal(r.end, 'done')
      assert.deepEqual(r.rest, after, `cut at ${i}`)
      for (let j = i; j <= stream.length; j += 7) {
        const r2 = run(splitAt(stream, [i, j]))
        assert.deepEqual(r2.data, payload, `cuts at ${i}, ${j}`)
        assert.deepEqual(r2.rest, after, `cuts at ${i}, ${j}`)
      }
    }
  })

  it('gives the same result byte by byte and in random chunkings', () => {
    for (const chunks of randomChunkings(stream, 300, 40)) {
      const r = run(chunks)
      assert.deepEqual(r.data, payload)
      assert.deepEqual(r.rest, after)
    }
  })

  it('stops at an ErrorResponse and hands it over whole, wherever the chunks are cut', () => {
    const error = Buffer.concat([msg('E', 'SERROR\0C42703\0Mcolumn "x" does not exist\0\0'), msg('Z', 'E')])
    const failing = Buffer.concat([msg('H', copyOut), msg('d', rows[0]!), error])
    for (let i = 0; i <= failing.length; i++) {
      const r = run(splitAt(failing, [i]))
      assert.equal(r.end, 'other', `cut at ${i}`)
      assert.deepEqual(r.rest, error, `cut at ${i}`)
      assert.deepEqual(r.data, Buffer.from(rows[0]!))
    }
  })

  it('hands over an error that comes instead of the copy (no CopyOutResponse)', () => {
    const error = Buffer.concat([msg('E', 'SERROR\0C42P01\0Mno such table\0\0'), msg('Z', 'I')])
    const r = run([error])
    assert.equal(r.end, 'other')
    assert.equal(r.data.length, 0)
    assert.deepEqual(r.rest, error)
  })

  it('passes binary COPY payloads through byte for byte', () => {
    const bin = Buffer.concat([
      Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'),
      Buffer.alloc(8),
      Buffer.from([0, 1]),
    ])
    const row = Buffer.from([0, 1, 0, 0, 0, 4, 0, 0, 0, 0x2a])
    const trailer = Buffer.from([0xff, 0xff])
    const s = Buffer.concat([
      msg('H', Buffer.from([1, 0, 1, 0, 1])),
      msg('d', Buffer.concat([bin, row])),
      msg('d', row),
      msg('d', trailer),
      msg('c'),
      after,
    ])
    for (let i = 0; i <= s.length; i++) {
      const r = run(splitAt(s, [i]))
      assert.deepEqual(r.data, Buffer.concat([bin, row, row, trailer]))
      assert.deepEqual(r.rest, after)
    }
  })

  it('refuses a length below 4 and anything fed after the end', () => {
    const bad = Buffer.from([0x64, 0, 0, 0, 3])
    assert.throws(() => new CopyOutFrames().feed(Buffer.from(bad)), /message length 3/)
    const frames = new CopyOutFrames()
    frames.feed(Buffer.from(stream))
    assert.throws(() => frames.feed(Buffer.from(after)), /after its end/)
  })
})
