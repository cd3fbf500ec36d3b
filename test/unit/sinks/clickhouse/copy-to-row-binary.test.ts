import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, it } from 'node:test'
import type { ColumnSchema } from '../../../../src/model/record.ts'
import { CopyToRowBinary, parseCopyLine } from '../../../../src/sinks/clickhouse/copy-to-row-binary.ts'
import { resolveTarget } from '../../../../src/sinks/clickhouse/target.ts'

const col = (name: string, typeName: string, nullable = true): ColumnSchema => ({
  name,
  typeName,
  typeOid: 0,
  typeMod: -1,
  nullable,
})

const target = resolveTarget(
  {
    source: { schema: 'public', table: 't' },
    destination: 't',
    schema: {
      name: { schema: 'public', table: 't' },
      columns: [col('id', 'integer', false), col('s', 'text'), col('a', 'integer[]')],
      primaryKey: ['id'],
      replicaIdentity: 'd',
    },
    ordering: [],
  },
  { mirror: 'm', syncedAtColumn: '', softDeleteColumn: undefined },
  'legacy',
  'db',
)

async function convert(chunks: Buffer[]): Promise<{ hex: string; rows: number }> {
  const conv = new CopyToRowBinary(target)
  const out: Buffer[] = []
  await pipeline(Readable.from(chunks), conv, async (src: AsyncIterable<Buffer>) => {
    for await (const b of src) out.push(b)
  })
  return { hex: Buffer.concat(out).toString('hex'), rows: conv.rows }
}

describe('COPY text to RowBinary', () => {
  it('undoes COPY escaping; \\N is NULL', () => {
    assert.deepEqual(parseCopyLine('1\ta\\tb\\\\c\\nd\t\\N'), ['1', 'a\tb\\c\nd', null])
  })

  it('converts rows and writes the null-array marker', async () => {
    const { hex, rows } = await convert([Buffer.from('1\tx\t{1}\n2\t\\N\t\\N\n')])
    assert.equal(rows, 2)
    const row1 = '01000000' + '000178' + '01' + '0001000000' + '00'
    const row2 = '02000000' + '01' + '00' + '01' + '01' + Buffer.from('a').toString('hex')
    assert.equal(hex, row1 + row2)
  })

  it('a UTF-8 character split across chunks arrives whole', async () => {
    const line = Buffer.from('3\tü\t{}\n')
    const { hex } = await convert([line.subarray(0, 3), line.subarray(3)])
    assert.equal(hex, '03000000' + '0002c3bc' + '00' + '00')
  })

  it('fails on a row with the wrong number of fields', async () => {
    await assert.rejects(convert([Buffer.from('1\tx\n')]), /has 2 fields/)
  })
})
