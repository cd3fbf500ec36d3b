import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Value } from '../../../../src/model/record.ts'
import { copyFieldWriter, readDigits } from '../../../../src/sinks/clickhouse/copy-field.ts'
import { RowWriter } from '../../../../src/sinks/clickhouse/row-binary.ts'
import type { ChColumn } from '../../../../src/sinks/clickhouse/target.ts'
import { mapType } from '../../../../src/sinks/clickhouse/type-map.ts'
import { columnCodec } from '../../../../src/sinks/clickhouse/value-codec.ts'

const column = (typeName: string, nullable: boolean): ChColumn => {
  const type = mapType(typeName, 'legacy', nullable)
  return { name: 'c', pgType: typeName, type, codec: columnCodec(type) }
}

const copyText = (v: Value): string =>
  v === null
    ? '\\N'
    : v.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!)

describe('COPY field fast paths', () => {
  it('write the same bytes as the codec, for every type and value', () => {
    const cases: [string, Value[]][] = [
      ['smallint', ['0', '-32768', '32767', null]],
      ['integer', ['-2147483648', '2147483647', '7']],
      [
        'bigint',
        ['-9223372036854775808', '9223372036854775807', '999999999999999', '-1000000000000000', '0'],
      ],
      ['numeric(9,2)', ['0.00', '-1.50', '9999999.99', 'NaN', null]],
      ['numeric(18,4)', ['12345678901234.5678', '-0.0001', '1.0000']],
      ['numeric(30,10)', ['-123456789012345.1234567890', '0.0000000001', '-1.0000000000', 'Infinity']],
      ['text', ['', 'plain', 'tab\there\\back\nnew', 'Zürich ✓ 😀', '\\N', null]],
      ['boolean', ['t', 'f', null]],
      ['uuid', ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11']],
      ['double precision', ['1.5', 'NaN', '-Infinity']],
      ['integer[]', ['{1,NULL}', '{}', null]],
    ]
    for (const [typeName, values] of cases) {
      for (const nullable of [true, false]) {
        const c = column(typeName, nullable)
        const write = copyFieldWriter(c)
        for (const v of values) {
          // NULL is the converter's to spot (`\N` alone); the writers see values only.
          if (v === null) continue
          const expected = new RowWriter(8)
          c.codec.write(expected, v)
          const what = `${typeName} ${nullable ? 'NULL' : 'NOT NULL'} ${v}`
          const text = copyText(v)
          // The field ends at the next tab, or at the end of the line when it is the last one.
          for (const [line, end] of [
            [`x${text}\tnext`, 1 + Buffer.byteLength(text)],
            [`x${text}`, 1 + Buffer.byteLength(text)],
          ] as const) {
            const got = new RowWriter(8)
            const field = Buffer.from(line)
            assert.equal(write(got, field, 1, field.length), end, what)
            assert.equal(got.take().toString('hex'), expected.take().toString('hex'), what)
            c.codec.write(expected, v)
          }
        }
      }
    }
  })

  it('read digits exactly up to 15 of them, and give up beyond or on anything else', () => {
    const d = (s: string, scale: number): number | undefined => {
      const out = { end: -1, value: 0 }
      readDigits(Buffer.from(s), 0, s.length, scale, out)
      if (Number.isNaN(out.value)) return undefined
      assert.equal(out.end, s.includes('\t') ? s.indexOf('\t') : s.length, s)
      return out.value
    }
    assert.equal(d('-1.5', 2), -150)
    assert.equal(d('999999999999999', 0), 999999999999999)
    assert.equal(d('9999999999999999', 0), undefined)
    assert.equal(d('1234567890123.45', 2), 123456789012345)
    assert.equal(d('12345678901234.5', 2), undefined)
    assert.equal(d('1.234', 2), undefined)
    assert.equal(d('NaN', 2), undefined)
    assert.equal(d('-', 0), undefined)
    assert.equal(d('', 0), undefined)
    // The field ends at a tab: what follows is the next field's.
    assert.equal(d('42\t7', 0), 42)
    assert.equal(d('-0.5\tx', 1), -5)
  })
})
