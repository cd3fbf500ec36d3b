import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { dialectFor, parseServerVersion } from '../../../../src/sinks/clickhouse/server-version.ts'

describe('ClickHouse server version', () => {
  it('picks the dialect from the version: legacy from 18.16, modern from 23.2', () => {
    const cases: [string, string][] = [
      ['18.16.1', 'legacy'],
      ['19.17.4.11', 'legacy'],
      ['23.1.3.5', 'legacy'],
      ['23.2.1.2537', 'modern'],
      ['24.8.4.13', 'modern'],
      ['25.3.2.39', 'modern'],
    ]
    for (const [text, dialect] of cases) assert.equal(dialectFor(parseServerVersion(text)), dialect, text)
  })

  it('refuses servers older than 18.16 and text that is not a version', () => {
    assert.throws(() => dialectFor(parseServerVersion('18.14.19')), {
      kind: 'feature_not_supported',
      message: /18\.14\.19 is too old/,
    })
    assert.throws(() => parseServerVersion('unknown'), { kind: 'internal_error' })
  })
})
