import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PgMirrorError, wireSqlState } from '../../../src/errors.ts'
import { binaryParamToText, canSendBinary, textToBinary, TypeOid } from '../../../src/wire/binary-format.ts'

const hex = (h: string): Buffer => Buffer.from(h, 'hex')
const sqlState = (e: unknown): string => (e instanceof PgMirrorError ? wireSqlState(e) : '')

describe('binary parameters → text', () => {
  const cases: [string, number, string, string][] = [
    ['int2', TypeOid.int2, 'fffe', '-2'],
    ['int4', TypeOid.int4, '7fffffff', '2147483647'],
    ['int8', TypeOid.int8, '8000000000000000', '-9223372036854775808'],
    ['float4', TypeOid.float4, '3dcccccd', '0.1'],
    ['float4 infinity', TypeOid.float4, 'ff800000', '-Infinity'],
    ['float8', TypeOid.float8, '3ff8000000000000', '1.5'],
    ['float8 NaN', TypeOid.float8, '7ff8000000000000', 'NaN'],
    ['float8 -0', TypeOid.float8, '8000000000000000', '-0'],
    ['bool', TypeOid.bool, '01', 't'],
    ['text', TypeOid.text, Buffer.from('héllo').toString('hex'), 'héllo'],
    ['varchar', TypeOid.varchar, '6162', 'ab'],
    ['bytea', TypeOid.bytea, '00ff10', '\\x00ff10'],
    ['uuid', TypeOid.uuid, '0123456789abcdef0123456789abcdef', '01234567-89ab-cdef-0123-456789abcdef'],
  ]
  for (const [label, oid, raw, text] of cases) {
    it(label, () => assert.equal(binaryParamToText(oid, hex(raw), 0), text))
  }

  it('refuses a wrong size with 22P03 naming the parameter', () => {
    assert.throws(
      () => binaryParamToText(TypeOid.int4, hex('0001'), 1),
      (e: unknown) => sqlState(e) === '22P03' && /bind parameter 2/.test((e as Error).message),
    )
  })

  it('refuses unsupported types with 0A000 and invalid UTF-8 text with 22021', () => {
    assert.throws(
      () => binaryParamToText(1700, hex('00'), 0),
      (e: unknown) => sqlState(e) === '0A000',
    )
    assert.throws(
      () => binaryParamToText(TypeOid.text, hex('c328'), 0),
      (e: unknown) => sqlState(e) === '22021',
    )
  })
})

describe('text results → binary', () => {
  it('encodes the supported types', () => {
    assert.deepEqual(textToBinary(TypeOid.int2, '-2'), hex('fffe'))
    assert.deepEqual(textToBinary(TypeOid.int4, '42'), hex('0000002a'))
    assert.deepEqual(textToBinary(TypeOid.int8, '9223372036854775807'), hex('7fffffffffffffff'))
    assert.deepEqual(textToBinary(TypeOid.bool, 't'), hex('01'))
    assert.deepEqual(textToBinary(TypeOid.bool, 'f'), hex('00'))
    assert.deepEqual(textToBinary(TypeOid.float8, '1.5'), hex('3ff8000000000000'))
    assert.deepEqual(textToBinary(TypeOid.float8, '-Infinity'), hex('fff0000000000000'))
    assert.deepEqual(textToBinary(TypeOid.text, 'é'), Buffer.from('é'))
    assert.deepEqual(textToBinary(TypeOid.bytea, '\\x00ff'), hex('00ff'))
    assert.deepEqual(textToBinary(TypeOid.bytea, 'a\\\\b\\001'), hex('615c6201'))
  })

  it('refuses values that do not fit their type', () => {
    for (const [oid, text] of [
      [TypeOid.int2, '40000'],
      [TypeOid.int4, '1.5'],
      [TypeOid.int8, '9223372036854775808'],
      [TypeOid.bool, 'maybe'],
      [TypeOid.float8, 'abc'],
      [TypeOid.bytea, '\\xzz'],
    ] as const) {
      assert.throws(
        () => textToBinary(oid, text),
        (e: unknown) => sqlState(e) === 'XX000',
        `${oid} ${text}`,
      )
    }
  })

  it('knows which types it can send in binary', () => {
    assert.equal(canSendBinary(TypeOid.int8), true)
    assert.equal(canSendBinary(TypeOid.bytea), true)
    assert.equal(canSendBinary(1700), false)
    assert.equal(canSendBinary(TypeOid.uuid), false)
  })
})
