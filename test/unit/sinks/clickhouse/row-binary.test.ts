import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { readVarint, RowWriter, skipValue } from '../../../../src/sinks/clickhouse/row-binary.ts'
import { mapType } from '../../../../src/sinks/clickhouse/type-map.ts'
import { columnCodec } from '../../../../src/sinks/clickhouse/value-codec.ts'

describe('RowBinary writer and reader', () => {
  it('regression: a value that makes the buffer grow lands in the new buffer, not the old one', () => {
    // Every write method used to evaluate `this.buf` before `reserve()` replaced it, so the bytes of the value
    // that crossed the buffer's end were written into the discarded buffer (ClickHouse: "Cannot read all data").
    const w = new RowWriter(8)
    w.u8(1)
    w.i64(0x0102030405060708n)
    w.raw(Buffer.from('abcdefghijklmnop'))
    w.i16(-2)
    w.i32(7)
    w.u32(9)
    w.u64(3n)
    w.f32(1.5)
    w.f64(-0.25)
    w.wideInt(-1n, 16)
    w.zeros(3)
    w.utf8('ü'.repeat(20))
    const expected = Buffer.concat([
      Buffer.from([1]),
      Buffer.from('0807060504030201', 'hex'),
      Buffer.from('abcdefghijklmnop'),
      Buffer.from('feff', 'hex'),
      Buffer.from('07000000', 'hex'),
      Buffer.from('09000000', 'hex'),
      Buffer.from('0300000000000000', 'hex'),
      Buffer.from('0000c03f', 'hex'),
      Buffer.from('000000000000d0bf', 'hex'),
      Buffer.alloc(16, 0xff),
      Buffer.alloc(3),
      Buffer.from([40]),
      Buffer.from('ü'.repeat(20)),
    ])
    assert.equal(w.take().toString('hex'), expected.toString('hex'))
    assert.equal(w.length, 0)
  })

  it('LEB128 lengths round-trip', () => {
    for (const n of [0, 1, 127, 128, 300, 16384, 2 ** 31 + 5]) {
      const w = new RowWriter(4)
      w.varint(n)
      const buf = w.take()
      assert.deepEqual(readVarint(buf, 0), [n, buf.length])
    }
    assert.throws(() => readVarint(Buffer.from([0x80]), 0), RangeError)
  })

  it('skipValue finds the end of every kind of value', () => {
    const cases: [string, boolean, string | null][] = [
      ['integer', true, null],
      ['integer', true, '5'],
      ['text', false, 'hello'],
      ['text', true, 'x'.repeat(300)],
      ['numeric(30,2)', true, '1.00'],
      ['uuid', false, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
      ['text[]', true, '{a,NULL,"b c"}'],
      ['bigint[]', true, '{}'],
    ]
    for (const [typeName, nullable, value] of cases) {
      const t = mapType(typeName, 'legacy', nullable)
      const w = new RowWriter(4)
      columnCodec(t).write(w, value)
      w.u8(0xee)
      const buf = w.take()
      assert.equal(skipValue(t, buf, 0), buf.length - 1, `${typeName} ${value}`)
    }
  })
})
