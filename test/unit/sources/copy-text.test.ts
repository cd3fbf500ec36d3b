import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, it } from 'node:test'
import { copyTextRows, parseCopyTextLine } from '../../../src/sources/postgres/copy-text.ts'

describe('parseCopyTextLine', () => {
  it('splits on tabs, maps \\N to null and undoes escapes', () => {
    assert.deepEqual(parseCopyTextLine('1\t\\N\ta\\tb\\nc\\\\d\t'), ['1', null, 'a\tb\nc\\d', ''])
  })

  it('keeps a literal "\\N" value (escaped backslash) distinct from NULL', () => {
    assert.deepEqual(parseCopyTextLine('\\\\N'), ['\\N'])
  })
})

describe('copyTextRows', () => {
  it('cuts lines on bytes, so a UTF-8 character split across chunks survives', async () => {
    const bytes = Buffer.from('1\tété\n2\t\\N\n3\t✓\n', 'utf8')
    // Split inside the first "é" (2 bytes) and inside "✓" (3 bytes).
    const chunks = [bytes.subarray(0, 3), bytes.subarray(3, 14), bytes.subarray(14)]
    const batches: unknown[] = []
    for await (const b of copyTextRows(Readable.from(chunks), ['id', 'v'], 2))
      batches.push(b.map((r) => ({ ...r })))
    assert.deepEqual(batches, [
      [
        { id: '1', v: 'été' },
        { id: '2', v: null },
      ],
      [{ id: '3', v: '✓' }],
    ])
  })
})
