import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  dateDays,
  daysFromCivil,
  MAX_MICROS,
  MIN_MICROS,
  timestampMicros,
} from '../../../../src/sinks/clickhouse/pg-temporal.ts'

describe('Postgres dates and timestamps as Date32 / DateTime64(6)', () => {
  it('counts days from 1970-01-01 on the proleptic Gregorian calendar', () => {
    assert.equal(daysFromCivil(1970, 1, 1), 0)
    assert.equal(daysFromCivil(2000, 3, 1), 11017)
    assert.equal(daysFromCivil(1969, 12, 31), -1)
    assert.equal(daysFromCivil(2024, 2, 29), 19782)
    assert.equal(daysFromCivil(1900, 1, 1), -25567)
  })

  it('reads dates and clamps those outside 1900 … 2299 (infinity and BC included)', () => {
    assert.equal(dateDays('2024-02-29'), 19782)
    assert.equal(dateDays('1900-01-01'), -25567)
    assert.equal(dateDays('0001-01-01'), -25567)
    assert.equal(dateDays('0044-03-15 BC'), -25567)
    assert.equal(dateDays('5874897-12-31'), daysFromCivil(2299, 12, 31))
    assert.equal(dateDays('infinity'), daysFromCivil(2299, 12, 31))
    assert.equal(dateDays('-infinity'), -25567)
  })

  it('reads timestamps to the microsecond and applies UTC offsets', () => {
    assert.equal(timestampMicros('1970-01-01 00:00:00'), 0n)
    assert.equal(timestampMicros('1970-01-01 00:00:00.000001'), 1n)
    assert.equal(timestampMicros('2024-05-01 12:34:56.123456'), 1714566896123456n)
    assert.equal(timestampMicros('2024-05-01 12:34:56.123456+00'), 1714566896123456n)
    assert.equal(timestampMicros('2024-05-01 14:34:56.12+02'), 1714566896120000n)
    assert.equal(timestampMicros('2024-05-01 07:04:56.5-05:30'), 1714566896500000n)
    assert.equal(timestampMicros('1969-12-31 23:59:59.999999'), -1n)
  })

  it('clamps timestamps outside the DateTime64 range', () => {
    assert.equal(timestampMicros('infinity'), MAX_MICROS)
    assert.equal(timestampMicros('-infinity'), MIN_MICROS)
    assert.equal(timestampMicros('0044-03-15 12:00:00 BC'), MIN_MICROS)
    assert.equal(timestampMicros('2300-01-01 00:00:00'), MAX_MICROS)
  })

  it('refuses text that is not DateStyle ISO', () => {
    assert.throws(() => dateDays('05/01/2024'), { kind: 'internal_error', hint: /DateStyle ISO/ })
    assert.throws(() => timestampMicros('2024-05-01T12:00:00'), { kind: 'internal_error' })
  })
})
