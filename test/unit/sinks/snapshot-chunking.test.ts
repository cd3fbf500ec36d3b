// The snapshot converters must not care how the COPY stream is cut: the source hands over one buffer per socket
// read, so a chunk holds many rows, and rows (and UTF-8 characters, and escapes) are split across chunks
// anywhere. Each converter gets the same COPY text whole, cut in two at every byte, and in random chunkings
// down to single bytes, and must give the same output every time.
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Transform } from 'node:stream'
import { describe, it } from 'node:test'
import type { Value } from '../../../src/model/record.ts'
import { CopyToRowBinary } from '../../../src/sinks/clickhouse/copy-to-row-binary.ts'
import { CopyToTsv, tsvEligible } from '../../../src/sinks/clickhouse/copy-to-tsv.ts'
import { copyTextRows } from '../../../src/sinks/kafka/copy-text-reader.ts'
import { everySplit, randomChunkings, splitAt } from '../../support/chunkings.ts'
import { chTarget, col } from '../../support/clickhouse-target.ts'

/** The benchmark table's columns: what the TabSeparated path takes. */
const BASE = [
  col('id', 'bigint', false),
  col('qty', 'integer'),
  col('amount', 'numeric(12,2)'),
  col('note', 'text'),
  col('created_at', 'timestamp with time zone'),
  col('active', 'boolean'),
]

/** Rows as COPY text prints them: escapes, NULLs, multi-byte characters, numeric NaN and infinities. */
const BASE_LINES = [
  '1\t7919\t0.31\tc4ca4238a0b923820dcc509a6f75849b\t2024-01-01 00:00:01+00\tf',
  '2\t-15838\t-0.62\ttab\\there\\\\back\\nnew line\t2024-01-01 00:00:02.123456+00\tt',
  '3\t\\N\tNaN\tZürich ✓ 😀\t\\N\t\\N',
  '4\t0\tInfinity\t\t1999-12-31 23:59:59.999999+00\tt',
  '5\t2147483647\t-Infinity\t\\\\N is not NULL\t2024-02-29 12:00:00+00\tf',
  '6\t-2147483648\t9999999999.99\t' + 'long '.repeat(60) + '\t2024-03-01 00:00:00+00\tt',
]

const WIDE = [
  ...BASE,
  col('ratio', 'double precision'),
  col('tags', 'text[]'),
  col('blob', 'bytea'),
  col('u', 'uuid'),
]

const WIDE_LINES = BASE_LINES.map(
  (line, i) =>
    line +
    [
      ['\t0.14285714285714285', '\t1e-300', '\tNaN', '\t-Infinity', '\t\\N', '\t-0'][i],
      ['\t{a,"b c",NULL}', '\t{}', '\t\\N', '\t{"x\\\\ty"}', '\t{1,2,3}', '\t{Zürich}'][i],
      ['\t\\\\x00ff10', '\t\\\\x', '\t\\N', '\t\\\\x5c', '\t\\\\xdeadbeef', '\t\\\\x0a'][i],
      ['\ta0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\t\\N', '\t00000000-0000-0000-0000-000000000000'][i % 3],
    ].join(''),
)

const copyText = (lines: readonly string[]): Buffer => Buffer.from(lines.map((l) => `${l}\n`).join(''))

/** Runs the chunks (fresh copies: the TSV converter rewrites its input in place) through a converter. */
async function convert(make: () => Transform & { rows: number }, chunks: readonly Buffer[]): Promise<string> {
  const conv = make()
  const out: Buffer[] = []
  await pipeline(
    Readable.from(chunks.map((c) => Buffer.from(c))),
    conv,
    async (src: AsyncIterable<Buffer>) => {
      for await (const b of src) out.push(b)
    },
  )
  return `${conv.rows} rows: ${Buffer.concat(out).toString('hex')}`
}

async function readRows(chunks: readonly Buffer[]): Promise<Value[][]> {
  const out: Value[][] = []
  for await (const rows of copyTextRows(Readable.from(chunks.map((c) => Buffer.from(c))))) out.push(...rows)
  return out
}

/** Every two-way cut and 200 random chunkings must give `expected`. */
async function holdsForEveryChunking<T>(
  text: Buffer,
  run: (chunks: readonly Buffer[]) => Promise<T>,
  expected: T,
): Promise<void> {
  for (const chunks of everySplit(text))
    assert.deepEqual(await run(chunks), expected, `cut at ${chunks[0]!.length}`)
  let k = 0
  for (const chunks of randomChunkings(text, 200, 48))
    assert.deepEqual(await run(chunks), expected, `random chunking ${k++}`)
}

describe('snapshot converters, whatever the chunking', () => {
  it('COPY text to TabSeparated', async () => {
    const t = chTarget(BASE)
    assert.equal(tsvEligible(t), true)
    const text = copyText(BASE_LINES)
    const expected = await convert(() => new CopyToTsv(t), [text])
    assert.match(expected, /^6 rows: /)
    await holdsForEveryChunking(text, (c) => convert(() => new CopyToTsv(t), c), expected)
  })

  it('COPY text to TabSeparated in chunks of many rows (passed on as they are, rewritten in place)', async () => {
    const t = chTarget(BASE)
    // Rewritten lines (numeric NaN: a longer line) now and then, with long runs of plain ones between them.
    const text = copyText(
      Array.from({ length: 300 }, (_, i) => BASE_LINES[i % 150 === 7 ? 2 : i % 2 === 0 ? 0 : 5]!),
    )
    const expected = await convert(() => new CopyToTsv(t), [text])
    assert.match(expected, /^300 rows: /)
    const convertOut = (chunks: readonly Buffer[]) => convert(() => new CopyToTsv(t), chunks)
    for (const chunks of randomChunkings(text, 40, 20_000, 3))
      assert.equal(await convertOut(chunks), expected)
    // Pieces just below, at and above the size from which the converter passes a run on as it is.
    for (const piece of [(8 << 10) - 1, 8 << 10, (8 << 10) + 1, 16 << 10, 64 << 10]) {
      const cuts = Array.from({ length: Math.floor(text.length / piece) }, (_, i) => (i + 1) * piece)
      assert.equal(await convertOut(splitAt(text, cuts)), expected, `pieces of ${piece}`)
    }
  })

  it('COPY text to RowBinary', async () => {
    const t = chTarget(WIDE)
    const text = copyText(WIDE_LINES)
    const expected = await convert(() => new CopyToRowBinary(t), [text])
    assert.match(expected, /^6 rows: /)
    await holdsForEveryChunking(text, (c) => convert(() => new CopyToRowBinary(t), c), expected)
  })

  it('COPY text to rows for Kafka events', async () => {
    const text = copyText(WIDE_LINES)
    const expected = await readRows([text])
    assert.equal(expected.length, 6)
    assert.equal(expected[2]![3], 'Zürich ✓ 😀')
    assert.equal(expected[1]![3], 'tab\there\\back\nnew line')
    await holdsForEveryChunking(text, readRows, expected)
  })
})
