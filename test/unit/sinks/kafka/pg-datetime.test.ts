import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isoDate, isoTimestamp } from '../../../../src/sinks/kafka/pg-datetime.ts'

describe('isoTimestamp', () => {
  it('converts timestamptz text to UTC with six fraction digits', () => {
    assert.equal(isoTimestamp('2024-05-01 12:34:56.123456+00'), '2024-05-01T12:34:56.123456Z')
    assert.equal(isoTimestamp('2024-01-02 03:04:05.5+05:30'), '2024-01-01T21:34:05.500000Z')
    assert.equal(isoTimestamp('2024-12-31 22:00:00-03'), '2025-01-01T01:00:00.000000Z')
    assert.equal(isoTimestamp('1970-01-01 00:00:00.000001+00'), '1970-01-01T00:00:00.000001Z')
    // Local mean time offsets carry seconds (America/New_York before 1883).
    assert.equal(isoTimestamp('1883-11-18 12:00:00-04:56:02'), '1883-11-18T16:56:02.000000Z')
  })

  it('keeps timestamp without time zone local, fraction padded', () => {
    assert.equal(isoTimestamp('2024-05-01 12:34:56.123456'), '2024-05-01T12:34:56.123456')
    assert.equal(isoTimestamp('1999-12-31 23:59:59'), '1999-12-31T23:59:59.000000')
    assert.equal(isoTimestamp('2024-02-29 00:00:00.1'), '2024-02-29T00:00:00.100000')
  })

  it('writes BC and five-digit years in the expanded form', () => {
    assert.equal(isoTimestamp('0001-01-01 00:00:00 BC'), '0000-01-01T00:00:00.000000')
    assert.equal(isoTimestamp('0044-03-15 12:00:00+00 BC'), '-000043-03-15T12:00:00.000000Z')
    assert.equal(isoTimestamp('0001-01-01 00:30:00+01 BC'), '-000001-12-31T23:30:00.000000Z')
    assert.equal(isoTimestamp('294276-12-31 23:59:59.999999'), '+294276-12-31T23:59:59.999999')
    assert.equal(isoTimestamp('9999-12-31 23:30:00-01'), '+010000-01-01T00:30:00.000000Z')
  })

  it('leaves infinities and other DateStyles as they are', () => {
    assert.equal(isoTimestamp('infinity'), 'infinity')
    assert.equal(isoTimestamp('-infinity'), '-infinity')
    assert.equal(isoTimestamp('Tue May 01 12:34:56.123456 2024 PDT'), 'Tue May 01 12:34:56.123456 2024 PDT')
  })

  it('agrees with Date.UTC over random instants and offsets (to the millisecond)', () => {
    let seed = 42
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed % n
    }
    const p = (n: number, w = 2) => String(n).padStart(w, '0')
    for (let i = 0; i < 2000; i++) {
      const [y, mo, d, h, mi, s, ms] = [
        1600 + rand(800),
        1 + rand(12),
        1 + rand(28),
        rand(24),
        rand(60),
        rand(60),
        rand(1000),
      ]
      const offMin = (rand(2) ? 1 : -1) * rand(15 * 60)
      const sign = offMin < 0 ? '-' : '+'
      const off = `${sign}${p(Math.floor(Math.abs(offMin) / 60))}:${p(Math.abs(offMin) % 60)}`
      const text = `${p(y, 4)}-${p(mo)}-${p(d)} ${p(h)}:${p(mi)}:${p(s)}.${p(ms, 3)}${off}`
      const expected = new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms) - offMin * 60_000).toISOString()
      assert.equal(isoTimestamp(text), `${expected.slice(0, -1)}000Z`, text)
    }
  })
})

describe('isoDate', () => {
  it('keeps ISO dates and converts BC years', () => {
    assert.equal(isoDate('2024-02-29'), '2024-02-29')
    assert.equal(isoDate('0001-02-29 BC'), '0000-02-29')
    assert.equal(isoDate('0010-06-01 BC'), '-000009-06-01')
    assert.equal(isoDate('12345-01-01'), '+012345-01-01')
    assert.equal(isoDate('infinity'), 'infinity')
  })
})
