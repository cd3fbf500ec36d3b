import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatPgTimestamp } from '../../../src/sources/postgres/commit-time.ts'

describe('formatPgTimestamp', () => {
  it('prints the Postgres epoch itself', () => {
    assert.equal(formatPgTimestamp(0n), '2000-01-01T00:00:00.000000Z')
  })

  it('keeps all six fractional digits exactly, including leading zeros', () => {
    assert.equal(formatPgTimestamp(1n), '2000-01-01T00:00:00.000001Z')
    assert.equal(formatPgTimestamp(86_400_000_000n + 999_999n), '2000-01-02T00:00:00.999999Z')
  })

  it('floors times before 1970 instead of truncating toward zero', () => {
    // 1969-12-31 23:59:59.999999 UTC is one microsecond before the Unix epoch.
    assert.equal(formatPgTimestamp(-946_684_800_000_001n), '1969-12-31T23:59:59.999999Z')
  })
})
