import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { byteaBase64, jsonEncoder } from '../../../../src/sinks/kafka/json-values.ts'

const enc = (typeOid: number, typeName: string, text: string): string =>
  jsonEncoder({ typeOid, typeName })(text)

describe('jsonEncoder', () => {
  it('integers as numbers, int8 and numeric as exact strings', () => {
    assert.equal(enc(21, 'smallint', '-32768'), '-32768')
    assert.equal(enc(23, 'integer', '2147483647'), '2147483647')
    assert.equal(enc(20, 'bigint', '-9223372036854775808'), '"-9223372036854775808"')
    assert.equal(enc(1700, 'numeric(30,10)', '123456789012345.1234567890'), '"123456789012345.1234567890"')
    assert.equal(enc(1700, 'numeric', 'NaN'), '"NaN"')
  })

  it('floats as the digits Postgres printed; NaN and infinities as strings', () => {
    assert.equal(enc(701, 'double precision', '1.7976931348623157e+308'), '1.7976931348623157e+308')
    assert.equal(enc(701, 'double precision', '-0'), '-0')
    assert.equal(enc(700, 'real', '1.1'), '1.1')
    assert.equal(enc(701, 'double precision', 'NaN'), '"NaN"')
    assert.equal(enc(701, 'double precision', 'Infinity'), '"Infinity"')
    assert.equal(enc(700, 'real', '-Infinity'), '"-Infinity"')
  })

  it('booleans, bytea, json and text', () => {
    assert.equal(enc(16, 'boolean', 't'), 'true')
    assert.equal(enc(16, 'boolean', 'f'), 'false')
    assert.equal(
      enc(17, 'bytea', '\\x00ff5c0a'),
      JSON.stringify(Buffer.from([0, 255, 0x5c, 10]).toString('base64')),
    )
    assert.equal(enc(17, 'bytea', '\\x'), '""')
    assert.equal(enc(114, 'json', '{"b":1,  "a":[1, 2.50]}'), '{"b":1,  "a":[1, 2.50]}')
    assert.equal(enc(3802, 'jsonb', 'null'), 'null')
    assert.equal(enc(25, 'text', 'tab\t"q"\\ ✓ 😀'), JSON.stringify('tab\t"q"\\ ✓ 😀'))
    assert.equal(
      enc(2950, 'uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
      '"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"',
    )
    assert.equal(enc(1186, 'interval', '1 year 2 mons'), '"1 year 2 mons"')
  })

  it('dates and timestamps as ISO-8601 strings', () => {
    assert.equal(
      enc(1184, 'timestamp with time zone', '2024-05-01 12:34:56.123456+02'),
      '"2024-05-01T10:34:56.123456Z"',
    )
    assert.equal(
      enc(1114, 'timestamp without time zone', '2024-05-01 12:34:56'),
      '"2024-05-01T12:34:56.000000"',
    )
    assert.equal(enc(1082, 'date', '2024-02-29'), '"2024-02-29"')
  })

  it('arrays as JSON arrays with typed elements', () => {
    assert.equal(enc(1007, 'integer[]', '{1,NULL,-3}'), '[1,null,-3]')
    assert.equal(enc(1016, 'bigint[]', '{9223372036854775807}'), '["9223372036854775807"]')
    assert.equal(
      enc(1009, 'text[]', '{"a \\"q\\"",NULL,"b,c","NULL",""}'),
      '["a \\"q\\"",null,"b,c","NULL",""]',
    )
    assert.equal(enc(1000, 'boolean[]', '{{t,f},{f,NULL}}'), '[[true,false],[false,null]]')
    assert.equal(enc(1022, 'double precision[]', '{1.5,NaN}'), '[1.5,"NaN"]')
    assert.equal(enc(3807, 'jsonb[]', '{"{\\"a\\": 1}",NULL}'), '[{"a": 1},null]')
    assert.equal(
      enc(1185, 'timestamp with time zone[]', '{"2024-01-01 00:00:00+01"}'),
      '["2023-12-31T23:00:00.000000Z"]',
    )
    assert.equal(enc(1231, 'numeric(10,2)[]', '{1.50,NaN}'), '["1.50","NaN"]')
    assert.equal(enc(1001, 'bytea[]', '{"\\\\x00ff"}'), '["AP8="]')
    assert.equal(enc(1020, 'box[]', '{(1,1),(0,0);(2,2),(1,1)}'), '["(1,1),(0,0)","(2,2),(1,1)"]')
    assert.equal(enc(99999, 'mood[]', '{happy,sad}'), '["happy","sad"]')
    assert.equal(enc(1007, 'integer[]', '[0:1]={5,6}'), '[5,6]')
  })

  it('every output parses as JSON', () => {
    const cases: [number, string, string][] = [
      [21, 'smallint', '7'],
      [701, 'double precision', '1e-320'],
      [1009, 'text[]', '{"\\\\","\\""}'],
      [25, 'text', '\u0000\u001f\u2028'],
      // A value that only looks numeric by its type keeps JSON valid even when its text is not a number.
      [23, 'integer', 'oops'],
    ]
    for (const [oid, name, text] of cases) assert.doesNotThrow(() => JSON.parse(enc(oid, name, text)), text)
  })
})

describe('byteaBase64', () => {
  it('reads the escape output format too', () => {
    assert.equal(byteaBase64('\\000\\377a\\\\'), Buffer.from([0, 255, 0x61, 0x5c]).toString('base64'))
    assert.equal(byteaBase64(''), '')
  })
})
