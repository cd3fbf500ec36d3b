import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkRequestValue, MAX_DEPTH } from '../../../src/api/request-guard.ts'

const refused = (value: unknown, state: string, message: RegExp) =>
  assert.throws(
    () => checkRequestValue(value, 'request body'),
    (e: { sqlState?: string; message?: string }) => e.sqlState === state && message.test(e.message ?? ''),
  )

test('regression: 100,000 nested arrays overflowed the stack; any nesting past the limit is a 22023', () => {
  refused(JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), '22023', /nested more than/)
  const nest = (n: number): unknown => (n === 0 ? 1 : { a: nest(n - 1) })
  refused(nest(MAX_DEPTH + 1), '22023', /nested more than/)
  assert.doesNotThrow(() => checkRequestValue(nest(MAX_DEPTH), 'request body'))
})

test('regression: NUL characters and lone surrogates reached the catalog; they are a 22021 naming the field', () => {
  refused({ peer: { postgresConfig: { host: 'a\0b' } } }, '22021', /field "peer\.postgresConfig\.host"/)
  refused({ names: ['ok', '\ud800'] }, '22021', /field "names\[1\]"/)
  refused({ ['k\0']: 1 }, '22021', /NUL/)
  refused('x\0', '22021', /request body contains/)
  // Text outside the BMP (a surrogate pair) and ordinary Unicode are fine.
  assert.doesNotThrow(() => checkRequestValue({ name: 'ünï☃ 😀', n: [1, null, true] }, 'request body'))
})
