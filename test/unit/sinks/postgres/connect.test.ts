// The sink's connection mapping is the shared one (src/pgclient/options.ts); this holds the target's options to
// the source's for every TLS and option combination.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PgMirrorError } from '../../../../src/errors.ts'
import type { PostgresConfig } from '../../../../src/model/peer.ts'
import {
  describeConnectError,
  rawTextTypes,
  targetClientConfig,
} from '../../../../src/sinks/postgres/connect.ts'
import { pgClientConfig } from '../../../../src/sources/postgres/connect.ts'

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
const base: PostgresConfig = { host: 'db.example', port: 5433, user: 'u', password: 'p', database: 'd' }

/** Functions cannot be compared; their presence (and what they return) can. */
function comparable(c: object): unknown {
  return JSON.parse(
    JSON.stringify(c, (k, v: unknown) => {
      if (typeof v !== 'function') return v
      return k === 'password' ? `fn:${String((v as () => unknown)())}` : `fn:${k}`
    }),
  )
}

describe('targetClientConfig', () => {
  const cases: [string, Partial<PostgresConfig>][] = [
    ['defaults', {}],
    ['empty password', { password: '' }],
    ['require_tls', { require_tls: true }],
    ['disable_tls false', { disable_tls: false }],
    ['sslmode prefer', { sslmode: 'prefer' }],
    ['sslmode allow + require_tls', { sslmode: 'allow', require_tls: true }],
    ['sslmode require', { sslmode: 'require' }],
    ['sslmode require + CA', { sslmode: 'require', root_ca: PEM }],
    ['sslmode verify-ca', { sslmode: 'verify-ca', sslrootcert: PEM }],
    ['sslmode verify-full + tls_host', { sslmode: 'verify-full', root_ca: PEM, tls_host: 'name.example' }],
    ['skip_cert_verification', { sslmode: 'verify-full', skip_cert_verification: true }],
    [
      'options, timeout, application_name',
      { options: '-c statement_timeout=5s', connect_timeout: 7, application_name: 'x' },
    ],
    ['zero timeout', { connect_timeout: 0 }],
  ]
  for (const [name, extra] of cases) {
    it(`maps ${name} exactly as the source does`, () => {
      const cfg = { ...base, ...extra }
      assert.deepEqual(comparable(targetClientConfig(cfg)), comparable(pgClientConfig(cfg)))
    })
  }

  it('installs raw-text parsers for every type', () => {
    const cfg = targetClientConfig(base)
    assert.equal(cfg.types, rawTextTypes)
    for (const oid of [20, 21, 23, 700, 701, 1082, 1114, 1184, 1700, 114, 3802, 1007])
      assert.equal(rawTextTypes.getTypeParser(oid, 'text')('12.50'), '12.50')
  })

  it('reports an unreadable CA file as a bad option, naming the file', () => {
    assert.throws(
      () => targetClientConfig({ ...base, sslmode: 'verify-ca', root_ca: '/nonexistent/ca.pem' }),
      {
        kind: 'invalid_parameter_value',
        message: /could not read root certificate file "\/nonexistent\/ca\.pem"/,
      },
    )
  })
})

describe('describeConnectError', () => {
  it('makes a retryable 08006 naming the target, keeping the driver message', () => {
    const e = describeConnectError(
      Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5433'), { code: 'ECONNREFUSED' }),
      base,
    )
    assert.ok(e instanceof PgMirrorError)
    assert.equal(e.sqlState, '08006')
    assert.equal(e.retryable, true)
    assert.equal(
      e.message,
      'could not connect to target at "db.example:5433": connect ECONNREFUSED 10.0.0.1:5433',
    )
    assert.match(e.hint ?? '', /port 5433/)
  })

  it('explains an AggregateError with an empty message by its inner errors', () => {
    const agg = Object.assign(new AggregateError([new Error('a failed'), new Error('b failed')], ''), {
      code: 'ECONNREFUSED',
    })
    assert.match(describeConnectError(agg, base).message, /a failed; b failed$/)
  })

  it('points a bad password at the peer options', () => {
    const e = describeConnectError(
      Object.assign(new Error('password authentication failed'), { code: '28P01' }),
      base,
    )
    assert.match(e.hint ?? '', /user and password/)
  })
})
