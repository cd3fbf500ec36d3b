import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { PostgresConfig } from '../../../src/model/peer.ts'
import {
  describeConnectError,
  pgClientConfig,
  resolveTlsMode,
  tlsOptions,
} from '../../../src/sources/postgres/connect.ts'

const base: PostgresConfig = { host: 'db.internal', port: 5432, user: 'u', password: 'p', database: 'd' }
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'

describe('resolveTlsMode', () => {
  it('follows PeerDB when sslmode is absent: TLS iff require_tls or disable_tls = false', () => {
    assert.equal(resolveTlsMode(base), 'disable')
    assert.equal(resolveTlsMode({ ...base, require_tls: true }), 'require')
    assert.equal(resolveTlsMode({ ...base, disable_tls: false }), 'require')
    assert.equal(resolveTlsMode({ ...base, disable_tls: true }), 'disable')
  })

  it('treats prefer and allow as disable (node-postgres cannot fall back) unless require_tls', () => {
    assert.equal(resolveTlsMode({ ...base, sslmode: 'prefer' }), 'disable')
    assert.equal(resolveTlsMode({ ...base, sslmode: 'allow' }), 'disable')
    assert.equal(resolveTlsMode({ ...base, sslmode: 'prefer', require_tls: true }), 'require')
  })

  it('keeps the verifying modes', () => {
    assert.equal(resolveTlsMode({ ...base, sslmode: 'verify-ca' }), 'verify-ca')
    assert.equal(resolveTlsMode({ ...base, sslmode: 'verify-full' }), 'verify-full')
  })
})

describe('tlsOptions', () => {
  it('require without a CA encrypts but does not verify', () => {
    assert.deepEqual(tlsOptions(base, 'require', undefined), { rejectUnauthorized: false })
  })

  it('require with a CA verifies the chain, as libpq does', () => {
    const o = tlsOptions(base, 'require', PEM)
    assert.ok(o)
    assert.equal(o.rejectUnauthorized, true)
    assert.equal(o.ca, PEM)
    assert.equal(o.checkServerIdentity?.('x', {} as never), undefined)
  })

  it('verify-ca skips the host name check; verify-full keeps it and honours tls_host', () => {
    const ca = tlsOptions(base, 'verify-ca', PEM)
    assert.ok(ca && typeof ca.checkServerIdentity === 'function')
    const full = tlsOptions({ ...base, tls_host: 'db.example.com' }, 'verify-full', PEM)
    assert.ok(full)
    assert.equal(full.checkServerIdentity, undefined)
    assert.equal(full.servername, 'db.example.com')
    assert.equal(full.rejectUnauthorized, true)
  })

  it('skip_cert_verification turns verification off in any mode', () => {
    const o = tlsOptions({ ...base, skip_cert_verification: true }, 'verify-full', PEM)
    assert.ok(o)
    assert.equal(o.rejectUnauthorized, false)
  })

  it('disable means plain TCP', () => {
    assert.equal(tlsOptions(base, 'disable', PEM), false)
  })
})

describe('pgClientConfig', () => {
  it('maps options, timeout, application name and raw-text types', () => {
    const c = pgClientConfig({ ...base, options: '-c search_path=x', connect_timeout: 7 })
    assert.equal(c.options, '-c search_path=x')
    assert.equal(c.connectionTimeoutMillis, 7000)
    assert.equal(c.application_name, 'pgmirror')
    assert.equal(c.ssl, false)
    assert.equal(c.replication, undefined)
    // 1184 = timestamptz, 1700 = numeric, 3802 = jsonb: all must stay text.
    for (const oid of [1184, 1700, 3802, 20, 1007]) {
      assert.equal(
        c.types?.getTypeParser(oid, 'text')('2024-01-01 00:00:00.123456+00'),
        '2024-01-01 00:00:00.123456+00',
      )
    }
  })

  it('opens walsender connections on request and lets the caller name the application', () => {
    const c = pgClientConfig({ ...base, application_name: 'peer-app' }, { replication: 'database' })
    assert.equal(c.replication, 'database')
    assert.equal(c.application_name, 'peer-app')
    assert.equal(pgClientConfig(base, { applicationName: 'x' }).application_name, 'x')
  })

  it('reads root_ca from a file when it is a path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgmirror-ca-'))
    try {
      const path = join(dir, 'ca.pem')
      writeFileSync(path, PEM)
      const c = pgClientConfig({ ...base, sslmode: 'verify-ca', sslrootcert: path })
      assert.equal((c.ssl as { ca: string }).ca, PEM)
    } finally {
      rmSync(dir, { recursive: true })
    }
  })

  it('reports an unreadable CA file as 22023', () => {
    assert.throws(
      () => pgClientConfig({ ...base, sslmode: 'verify-ca', root_ca: '/nonexistent/ca.pem' }),
      (e: unknown) => (e as { sqlState?: string }).sqlState === '22023',
    )
  })

  it('never lets an empty password fall back to PGPASSWORD', () => {
    const c = pgClientConfig({ ...base, password: '' })
    assert.equal(typeof c.password, 'function')
    assert.equal((c.password as () => string)(), '')
  })
})

describe('describeConnectError', () => {
  const local: PostgresConfig = { ...base, host: 'localhost', port: 5433 }

  it('names the peer address, keeps the driver message and hints for a refused localhost', () => {
    const e = describeConnectError(
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5433'), { code: 'ECONNREFUSED' }),
      local,
    )
    assert.equal(e.sqlState, '08006')
    assert.equal(
      e.message,
      'could not connect to postgres peer at "localhost:5433": connect ECONNREFUSED 127.0.0.1:5433',
    )
    assert.match(e.hint ?? '', /accepting TCP\/IP connections on port 5433/)
    assert.match(e.hint ?? '', /"localhost" is the machine running pgmirror itself/)
  })

  it('builds a message from an AggregateError with an empty message (Node dual-stack connect)', () => {
    const agg = Object.assign(
      new AggregateError(
        [new Error('connect ECONNREFUSED ::1:5433'), new Error('connect ECONNREFUSED 127.0.0.1:5433')],
        '',
      ),
      {
        code: 'ECONNREFUSED',
      },
    )
    const e = describeConnectError(agg, local)
    assert.match(e.message, /: connect ECONNREFUSED ::1:5433; connect ECONNREFUSED 127\.0\.0\.1:5433$/)
  })

  it('maps a wrong password and a missing database to connection failures with hints', () => {
    const pw = describeConnectError(
      Object.assign(new Error('password authentication failed for user "u"'), { code: '28P01' }),
      base,
    )
    assert.equal(pw.kind, 'connection_failure')
    assert.match(pw.message, /password authentication failed for user "u"$/)
    assert.match(pw.hint ?? '', /user and password/)
    const db = describeConnectError(
      Object.assign(new Error('database "d" does not exist'), { code: '3D000' }),
      base,
    )
    assert.match(db.hint ?? '', /create the database or fix the database option \(currently "d"\)/)
    assert.equal(db.hint?.includes('machine running pgmirror'), false)
  })

  it('explains unresolvable host names', () => {
    const e = describeConnectError(
      Object.assign(new Error('getaddrinfo ENOTFOUND nohost'), { code: 'ENOTFOUND' }),
      {
        ...base,
        host: 'nohost',
      },
    )
    assert.match(e.hint ?? '', /"nohost" could not be resolved/)
  })
})
