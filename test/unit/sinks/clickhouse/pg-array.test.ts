import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parsePgArray } from '../../../../src/sinks/clickhouse/pg-array.ts'

describe('Postgres array text', () => {
  it('reads elements, quoting, escapes and NULL', () => {
    assert.deepEqual(parsePgArray('{1,-2,3}'), ['1', '-2', '3'])
    assert.deepEqual(parsePgArray('{"a \\"q\\"",NULL,"b,c","NULL",""}'), ['a "q"', null, 'b,c', 'NULL', ''])
    assert.deepEqual(parsePgArray('{"\\\\x00ff","back\\\\slash"}'), ['\\x00ff', 'back\\slash'])
    assert.deepEqual(parsePgArray('{}'), [])
    assert.deepEqual(parsePgArray('{NULL}'), [null])
    assert.deepEqual(parsePgArray('{"{braces}"}'), ['{braces}'])
  })

  it('flattens nested arrays and drops a dimension decoration', () => {
    assert.deepEqual(parsePgArray('{{1,2},{3,NULL}}'), ['1', '2', '3', null])
    assert.deepEqual(parsePgArray('[0:1]={7,8}'), ['7', '8'])
  })

  it('refuses malformed text', () => {
    assert.throws(() => parsePgArray('1,2'), { kind: 'internal_error' })
    assert.throws(() => parsePgArray('{"open'), { kind: 'internal_error' })
    assert.throws(() => parsePgArray('{{1}'), { kind: 'internal_error' })
  })
})
