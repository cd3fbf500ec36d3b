import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Value } from '../../../../src/model/record.ts'
import { RowWriter } from '../../../../src/sinks/clickhouse/row-binary.ts'
import { mapType } from '../../../../src/sinks/clickhouse/type-map.ts'
import { columnCodec, decodeBytea, uuidBytes } from '../../../../src/sinks/clickhouse/value-codec.ts'
import type { Dialect } from '../../../../src/sinks/clickhouse/server-version.ts'

/** RowBinary of one value, as hex. */
function enc(typeName: string, v: Value, opts: { nullable?: boolean; dialect?: Dialect } = {}): string {
  const w = new RowWriter(16)
  columnCodec(mapType(typeName, opts.dialect ?? 'legacy', opts.nullable ?? false)).write(w, v)
  return w.take().toString('hex')
}

describe('Postgres text to RowBinary', () => {
  it('integers, little-endian, across the whole range', () => {
    assert.equal(enc('smallint', '-32768'), '0080')
    assert.equal(enc('integer', '2147483647'), 'ffffff7f')
    assert.equal(enc('bigint', '-9223372036854775808'), '0000000000000080')
    assert.equal(enc('bigint', '9223372036854775807'), 'ffffffffffffff7f')
    assert.equal(enc('bigint', '-5'), 'fbffffffffffffff')
    assert.equal(enc('bigint', '4294967296'), '0000000001000000')
    assert.equal(enc('bigint', '123456789012345'), '79df0d8648700000')
  })

  it('floats keep their exact bits, including NaN and the infinities', () => {
    assert.equal(enc('double precision', '1.7976931348623157e+308'), 'ffffffffffffef7f')
    assert.equal(
      enc('double precision', '2.874505083787364e-18'),
      Buffer.from(new Float64Array([2.874505083787364e-18]).buffer).toString('hex'),
    )
    assert.equal(enc('double precision', '-Infinity'), '000000000000f0ff')
    assert.equal(enc('double precision', 'NaN'), '000000000000f87f')
    assert.equal(enc('real', '3.4028235e+38'), 'ffff7f7f')
    assert.throws(() => enc('double precision', 'one'), { kind: 'internal_error' })
  })

  it('decimals as scaled integers of 4, 8, 16 or 32 bytes', () => {
    assert.equal(enc('numeric(9,2)', '-1.50'), '6affffff')
    assert.equal(enc('numeric(18,4)', '3.1415'), 'b77a000000000000')
    assert.equal(enc('numeric(30,10)', '-123456789012345.1234567890'), '2e392f0dbd59c9f091fafeffffffffff')
    assert.equal(enc('numeric(50,0)', '-1', { dialect: 'modern' }), 'ff'.repeat(32))
    assert.equal(enc('numeric(5,2)', '7'), 'bc020000')
  })

  it('numeric NaN and infinities have no Decimal: NULL where allowed, else zero', () => {
    assert.equal(enc('numeric(9,2)', 'NaN', { nullable: true }), '01')
    assert.equal(enc('numeric(9,2)', 'Infinity', { nullable: true }), '01')
    assert.equal(enc('numeric(9,2)', 'NaN'), '00000000')
    assert.equal(enc('numeric(9,2)[]', '{1.00,NaN}'), '02006400000001')
  })

  it('text as UTF-8 with a LEB128 length; bytea as its raw bytes', () => {
    assert.equal(enc('text', 'Zü'), '035ac3bc')
    assert.equal(enc('text', 'x'.repeat(200)).slice(0, 4), 'c801')
    assert.equal(enc('bytea', '\\x00ff5c'), '0300ff5c')
    assert.deepEqual(decodeBytea('a\\\\b\\000\\377'), Buffer.from([0x61, 0x5c, 0x62, 0, 0xff]))
  })

  it('uuids as two little-endian halves, as ClickHouse stores them', () => {
    assert.equal(
      uuidBytes('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11').toString('hex'),
      'f84e0b9c99bceea0110a38bdb96b6dbb',
    )
  })

  it('booleans as 0/1, Nullable with a flag byte, arrays with nullable elements', () => {
    assert.equal(enc('boolean', 't'), '01')
    assert.equal(enc('boolean', 'f', { dialect: 'modern' }), '00')
    assert.equal(enc('integer', null, { nullable: true }), '01')
    assert.equal(enc('integer', '1', { nullable: true }), '0001000000')
    assert.equal(enc('integer', null), '00000000')
    assert.equal(enc('integer[]', '{1,NULL}'), '020001000000' + '01')
    assert.equal(enc('text[]', '{"a,b",""}'), '02' + '0003612c62' + '0000')
    assert.equal(enc('integer[]', null, { nullable: true }), '00')
  })

  it('modern temporal types: Date32 days and DateTime64(6) microseconds, offsets applied', () => {
    assert.equal(enc('date', '1969-12-31', { dialect: 'modern' }), 'ffffffff')
    assert.equal(
      enc('timestamp with time zone', '1970-01-01 01:00:00.000001+01', { dialect: 'modern' }),
      '0100000000000000',
    )
    assert.equal(enc('date', '1969-12-31'), '0a313936392d31322d3331')
  })
})
