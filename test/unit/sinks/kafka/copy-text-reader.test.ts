import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, it } from 'node:test'
import type { Value } from '../../../../src/model/record.ts'
import { copyTextRows, parseCopyLine } from '../../../../src/sinks/kafka/copy-text-reader.ts'

async function readAll(chunks: Buffer[]): Promise<Value[][]> {
  const out: Value[][] = []
  for await (const rows of copyTextRows(Readable.from(chunks))) out.push(...rows)
  return out
}

describe('parseCopyLine', () => {
  it('splits on tabs, reads \\N as NULL and undoes escapes', () => {
    assert.deepEqual(parseCopyLine('1\t\\N\ta\\tb\\nc\\\\d\\re'), ['1', null, 'a\tb\nc\\d\re'])
    assert.deepEqual(parseCopyLine('\\b\\f\\v'), ['\b\f\v'])
    assert.deepEqual(parseCopyLine('\\101\\x42\\q'), ['ABq'])
    assert.deepEqual(parseCopyLine('\t'), ['', ''])
    assert.deepEqual(parseCopyLine('\\\\N'), ['\\N'])
    assert.deepEqual(parseCopyLine('trailing\\'), ['trailing\\'])
  })
})

describe('copyTextRows', () => {
  it('reassembles lines and characters split across chunks', async () => {
    const text = Buffer.from('1\tZürich ✓ 😀\n2\t\\N\n3\tlast', 'utf8')
    const want = [
      ['1', 'Zürich ✓ 😀'],
      ['2', null],
      ['3', 'last'],
    ]
    for (let cut = 1; cut < text.length; cut++) {
      assert.deepEqual(await readAll([text.subarray(0, cut), text.subarray(cut)]), want, `cut at ${cut}`)
    }
    const bytes = [...text].map((b) => Buffer.from([b]))
    assert.deepEqual(await readAll(bytes), want)
  })

  it('yields nothing for an empty stream', async () => {
    assert.deepEqual(await readAll([]), [])
  })
})
