import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, it } from 'node:test'

import { CopyToTsv, tsvEligible } from '../../../../src/sinks/clickhouse/copy-to-tsv.ts'
import { chTarget, col } from '../../../support/clickhouse-target.ts'

const TABLE = chTarget([
  col('id', 'bigint', false),
  col('b', 'boolean'),
  col('n', 'numeric(9,2)'),
  col('m', 'numeric(9,2)', false),
  col('s', 'text'),
])

async function run(
  t: ReturnType<typeof chTarget>,
  chunks: (string | Buffer)[],
): Promise<{ out: string; rows: number }> {
  const conv = new CopyToTsv(t)
  const parts: Buffer[] = []
  await pipeline(
    Readable.from(chunks.map((c) => Buffer.from(c))),
    conv,
    async (src: AsyncIterable<Buffer>) => {
      for await (const b of src) parts.push(b)
    },
  )
  return { out: Buffer.concat(parts).toString(), rows: conv.rows }
}

describe('COPY text to TabSeparated', () => {
  it('takes tables of integers, decimals, text and uuids, and nothing ClickHouse would read inexactly', () => {
    assert.equal(tsvEligible(TABLE), true)
    assert.equal(
      tsvEligible(chTarget([col('id', 'bigint', false), col('u', 'uuid'), col('j', 'jsonb')])),
      true,
    )
    for (const other of ['double precision', 'real', 'bytea', 'integer[]'])
      assert.equal(tsvEligible(chTarget([col('id', 'bigint', false), col('x', other)])), false, other)
  })

  it('rewrites booleans in place and numeric NaN / infinities to NULL, or 0 where NULL is not allowed', async () => {
    const { out, rows } = await run(TABLE, [
      '1\tt\t1.50\t2.00\ta\\tb\n2\tf\tNaN\tInfinity\t\\N\n3\t\\N\t-Infinity\t-Infinity\tx\n',
    ])
    assert.equal(rows, 3)
    assert.equal(out, '1\t1\t1.50\t2.00\ta\\tb\n2\t0\t\\N\t0\t\\N\n3\t\\N\t\\N\t0\tx\n')
  })

  it('lines split across chunks at any byte arrive whole, rewritten', async () => {
    const text = Buffer.from('1\tt\t1.00\t0.00\tüü\n2\tf\tNaN\t1.00\t\n')
    const expected = '1\t1\t1.00\t0.00\tüü\n2\t0\t\\N\t1.00\t\n'
    for (let cut = 1; cut < text.length; cut++) {
      const { out, rows } = await run(TABLE, [text.subarray(0, cut), text.subarray(cut)])
      assert.equal(out, expected, `cut at ${cut}`)
      assert.equal(rows, 2)
    }
  })

  it('passes a table without booleans or decimals through untouched', async () => {
    const text = '1\ta\\\\b\\n\t00000000-0000-0000-0000-000000000000\n2\t\\N\t\\N\n'
    const { out, rows } = await run(
      chTarget([col('id', 'bigint', false), col('s', 'text'), col('u', 'uuid')]),
      [text],
    )
    assert.equal(out, text)
    assert.equal(rows, 2)
  })
})
