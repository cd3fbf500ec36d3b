import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Value } from '../../../../src/model/record.ts'
import { copyTextStream, encodeCopyField, encodeCopyRow } from '../../../../src/sinks/postgres/copy-text.ts'

/**
 * COPY FROM's text-format parse rules, written from the manual ("COPY", File Formats → Text Format) rather than
 * from the encoder: a line ends at newline (or CR), fields split on tab, `\N` alone is NULL, and a backslash
 * introduces b f n r t v, 1–3 octal digits, x plus 1–2 hex digits, or stands for the next character itself.
 */
function parseCopyText(data: string): Value[][] {
  const rows: Value[][] = []
  for (const line of data.split(/\r\n|\r|\n/)) {
    if (line === '') continue
    rows.push(line.split('\t').map(parseField))
  }
  return rows
}

function parseField(raw: string): Value {
  if (raw === '\\N') return null
  const simple: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' }
  let out = ''
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i] as string
    if (ch !== '\\') {
      out += ch
      continue
    }
    const next = raw[++i] ?? ''
    const octal = /^[0-7]{1,3}/.exec(raw.slice(i))
    const hex = /^x([0-9a-fA-F]{1,2})/.exec(raw.slice(i))
    if (simple[next] !== undefined) out += simple[next]
    else if (octal) {
      out += String.fromCharCode(parseInt(octal[0], 8))
      i += octal[0].length - 1
    } else if (hex) {
      out += String.fromCharCode(parseInt(hex[1] as string, 16))
      i += hex[0].length - 1
    } else out += next
  }
  return out
}

/** A small deterministic generator (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('encodeCopyField', () => {
  it('writes NULL as \\N and an empty string as nothing', () => {
    assert.equal(encodeCopyField(null), '\\N')
    assert.equal(encodeCopyField(''), '')
  })

  it('escapes backslash, tab, newline and carriage return, and nothing else', () => {
    assert.equal(encodeCopyField('a\\b\tc\nd\re'), 'a\\\\b\\tc\\nd\\re')
    assert.equal(encodeCopyField('Zürich ✓ 😀 "q" \'s\' \v\f\b'), 'Zürich ✓ 😀 "q" \'s\' \v\f\b')
  })

  it('keeps the text "\\N" apart from NULL', () => {
    assert.equal(encodeCopyField('\\N'), '\\\\N')
    assert.deepEqual(parseCopyText(encodeCopyRow(['\\N', null])), [['\\N', null]])
  })

  it('escapes a lone "\\." so it can never read as the end-of-data marker', () => {
    assert.equal(encodeCopyRow(['\\.']), '\\\\.\n')
  })
})

describe('COPY text round trip', () => {
  it('decodes to the same values for awkward hand-picked rows', () => {
    const rows: Value[][] = [
      ['1', null, ''],
      ['\\', '\\\\', '\\x41'],
      ['\t', '\n', '\r\n'],
      ['\\101', 'x\\ty', 'end\\'],
      ['NULL', 'null', '\\N'],
    ]
    assert.deepEqual(parseCopyText(rows.map(encodeCopyRow).join('')), rows)
  })

  it('decodes to the same values for 2000 random rows', () => {
    const next = rng(42)
    const alphabet = ['a', 'N', 'x', '0', '7', '\\', '\t', '\n', '\r', ' ', 'é', '😀', '.', '"', ',']
    const rows: Value[][] = []
    for (let r = 0; r < 2000; r++) {
      const row: Value[] = []
      for (let c = 0; c < 3; c++) {
        if (next() < 0.1) {
          row.push(null)
          continue
        }
        let s = ''
        const len = Math.floor(next() * 8)
        for (let k = 0; k < len; k++) s += alphabet[Math.floor(next() * alphabet.length)]
        row.push(s)
      }
      rows.push(row)
    }
    assert.deepEqual(parseCopyText(rows.map(encodeCopyRow).join('')), rows)
  })
})

describe('copyTextStream', () => {
  it('streams many rows in several chunks whose concatenation is the encoded rows', async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => [String(i), `v\t${i}`])
    const chunks: string[] = []
    for await (const chunk of copyTextStream(rows)) chunks.push(Buffer.from(chunk as Buffer).toString('utf8'))
    assert.ok(chunks.length > 1, `expected several chunks, got ${chunks.length}`)
    assert.equal(chunks.join(''), rows.map(encodeCopyRow).join(''))
  })

  it('encodes lazily: rows are pulled only as the stream is read', async () => {
    let pulled = 0
    function* rows(): Generator<string[]> {
      for (let i = 0; i < 1_000_000; i++) {
        pulled++
        yield [String(i), 'x'.repeat(100)]
      }
    }
    const stream = copyTextStream(rows())
    const iterator = stream[Symbol.asyncIterator]()
    await iterator.next()
    stream.destroy()
    assert.ok(pulled < 10_000, `pulled ${pulled} rows for the first chunk`)
  })
})
