import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parsePgArray } from '../../../../src/sinks/kafka/pg-array.ts'

describe('parsePgArray', () => {
  it('reads plain, quoted and NULL elements', () => {
    assert.deepEqual(parsePgArray('{1,-2,3}'), ['1', '-2', '3'])
    assert.deepEqual(parsePgArray('{"a \\"q\\"",NULL,"b,c","NULL",""}'), ['a "q"', null, 'b,c', 'NULL', ''])
    assert.deepEqual(parsePgArray('{null,Null,"\\\\"}'), [null, null, '\\'])
    assert.deepEqual(parsePgArray('{}'), [])
    assert.deepEqual(parsePgArray('{NULL}'), [null])
  })

  it('reads nested arrays, bounds decorations and whitespace', () => {
    assert.deepEqual(parsePgArray('{{1,2},{3,NULL}}'), [
      ['1', '2'],
      ['3', null],
    ])
    assert.deepEqual(parsePgArray('[0:1]={7,8}'), ['7', '8'])
    assert.deepEqual(parsePgArray('[1:1][2:3]={{a,b}}'), [['a', 'b']])
    assert.deepEqual(parsePgArray(' { a b , "c" } '), ['a b', 'c'])
  })

  it('uses the element delimiter (box uses ";")', () => {
    assert.deepEqual(parsePgArray('{(1,1),(0,0);(2,2),(1,1)}', ';'), ['(1,1),(0,0)', '(2,2),(1,1)'])
  })

  it('keeps an escaped unquoted NULL as text', () => {
    assert.deepEqual(parsePgArray('{\\NULL}'), ['NULL'])
  })

  it('rejects malformed literals', () => {
    for (const bad of ['', '{1,2', '{"a}', '1,2', '{1,,2}', '{1}x', '[0:1]{1}']) {
      assert.throws(() => parsePgArray(bad), /malformed array literal/, bad)
    }
  })
})
