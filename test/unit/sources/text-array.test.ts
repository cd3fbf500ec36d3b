import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseTextArray } from '../../../src/sources/postgres/introspect.ts'

test('parseTextArray reads the text[] literals of enum labels, quotes and backslashes included', () => {
  assert.deepEqual(parseTextArray('{sad,ok}'), ['sad', 'ok'])
  assert.deepEqual(parseTextArray('{"it\'s \\"great\\"","a,b","back\\\\slash"}'), [
    'it\'s "great"',
    'a,b',
    'back\\slash',
  ])
  assert.deepEqual(parseTextArray('{}'), [])
})
