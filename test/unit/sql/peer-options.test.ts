import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PgMirrorError } from '../../../src/errors.ts'
import type { PeerConfig } from '../../../src/model/peer.ts'
import type { CreatePeer } from '../../../src/sql/ast.ts'
import type { OptionContext, OptionInputs } from '../../../src/sql/option-values.ts'
import { optionRecord } from '../../../src/sql/option-values.ts'
import { parseExtension } from '../../../src/sql/parse.ts'
import { validatePeerOptions } from '../../../src/sql/peer-options.ts'

function rejects(
  type: string,
  options: OptionInputs,
  want: { state: string; message: string | RegExp; field?: string; hint?: RegExp },
  ctx: OptionContext = 'sql',
): PgMirrorError {
  let caught: unknown
  try {
    validatePeerOptions(type, options, ctx)
  } catch (e) {
    caught = e
  }
  assert.ok(caught instanceof PgMirrorError, `expected a PgMirrorError, got ${String(caught)}`)
  assert.equal(caught.sqlState, want.state)
  if (typeof want.message === 'string') assert.equal(caught.message, want.message)
  else assert.match(caught.message, want.message)
  if (want.field !== undefined) assert.equal(caught.field, want.field)
  if (want.hint) assert.match(caught.hint ?? '', want.hint)
  return caught
}

/** From SQL text, as the gateway will do it. */
const fromSql = (sql: string): PeerConfig => {
  const stmt = parseExtension(sql) as CreatePeer
  return validatePeerOptions(stmt.peerType, optionRecord(stmt.options), 'sql')
}

const PG = { host: 'db', user: 'u', database: 'app' }

describe('validatePeerOptions: postgres', () => {
  it('fills defaults for port and password', () => {
    assert.deepStrictEqual(validatePeerOptions('postgres', PG, 'sql'), {
      type: 'POSTGRES',
      config: { host: 'db', port: 5432, user: 'u', password: '', database: 'app' },
    })
  })

  it('reads every option from SQL, a quoted port included', () => {
    const peer = fromSql(
      "CREATE PEER p FROM POSTGRES WITH (host = 'db', port = '6543', user = 'u', password = 'pw', database = 'app', " +
        "sslmode = VERIFY-FULL, sslrootcert = '/ca.pem', root_ca = 'PEM', tls_host = 'db.internal', require_tls = true, " +
        "disable_tls = 'false', skip_cert_verification = FALSE, options = '-c statement_timeout=5s', connect_timeout = 10, " +
        "application_name = 'pgmirror', metadata_schema = '_pgmirror')",
    )
    assert.deepStrictEqual(peer, {
      type: 'POSTGRES',
      config: {
        host: 'db',
        port: 6543,
        user: 'u',
        password: 'pw',
        database: 'app',
        sslmode: 'verify-full',
        sslrootcert: '/ca.pem',
        root_ca: 'PEM',
        tls_host: 'db.internal',
        require_tls: true,
        disable_tls: false,
        skip_cert_verification: false,
        options: '-c statement_timeout=5s',
        connect_timeout: 10,
        application_name: 'pgmirror',
        metadata_schema: '_pgmirror',
      },
    })
  })

  it('keeps an all-digit password exactly as written', () => {
    const peer = fromSql(
      "CREATE PEER p FROM POSTGRES WITH (host = 'db', user = 'u', database = 'd', password = 007)",
    )
    assert.equal(peer.type === 'POSTGRES' && peer.config.password, '007')
  })

  it('accepts an empty password', () => {
    const peer = validatePeerOptions('POSTGRES', { ...PG, password: '' }, 'sql')
    assert.equal(peer.type === 'POSTGRES' && peer.config.password, '')
  })

  it('rejects an unknown key, listing the valid ones', () => {
    rejects(
      'postgres',
      { ...PG, hots: 'x' },
      {
        state: '22023',
        message: 'unrecognized option "hots" for peer type postgres',
        field: 'hots',
        hint: /valid options are: host, port, user/,
      },
    )
  })

  for (const [key, value, expect] of [
    ['port', 0, /between 1 and 65535/],
    ['port', 65536, /between 1 and 65535/],
    ['port', 'abc', /between 1 and 65535/],
    ['port', 5432.5, /between 1 and 65535/],
    ['connect_timeout', -1, /integer/],
    ['require_tls', 'yes', /true or false/],
    ['disable_tls', 1, /true or false/],
    ['sslmode', 'sometimes', /disable, allow, prefer, require, verify-ca, verify-full/],
  ] as const) {
    it(`rejects ${key} = ${JSON.stringify(value)}`, () => {
      rejects(
        'postgres',
        { ...PG, [key]: value },
        {
          state: '22023',
          message: `invalid value for option "${key}": "${value}"`,
          field: key,
          hint: expect,
        },
      )
    })
  }

  for (const key of ['host', 'user', 'database'] as const) {
    it(`requires ${key}`, () => {
      const { [key]: _omit, ...rest } = PG
      rejects('postgres', rest, {
        state: '22023',
        message: `option "${key}" is required for peer type postgres`,
        field: key,
      })
    })
  }

  it('counts an empty string as missing for a required key', () => {
    rejects('postgres', { ...PG, host: '' }, { state: '22023', message: /"host" is required/ })
  })

  it('takes host, port, user, password, database and parameters from connection_string', () => {
    const peer = validatePeerOptions(
      'postgres',
      {
        connection_string:
          'postgresql://al%40ice:p%3Ass@db.example.com:6000/my%20db?sslmode=require&application_name=x&connect_timeout=3',
      },
      'sql',
    )
    assert.deepStrictEqual(peer, {
      type: 'POSTGRES',
      config: {
        host: 'db.example.com',
        port: 6000,
        user: 'al@ice',
        password: 'p:ss',
        database: 'my db',
        sslmode: 'require',
        connect_timeout: 3,
        application_name: 'x',
      },
    })
  })

  it('lets explicit keys override the connection string, and handles IPv6 hosts', () => {
    const peer = validatePeerOptions(
      'postgres',
      { connection_string: 'postgres://u:pw@[::1]/app', port: 5433, database: 'other' },
      'sql',
    )
    assert.deepStrictEqual(peer.config, {
      host: '::1',
      port: 5433,
      user: 'u',
      password: 'pw',
      database: 'other',
    })
  })

  it('still requires what the connection string leaves out', () => {
    rejects(
      'postgres',
      { connection_string: 'postgres://db/app' },
      { state: '22023', message: /"user" is required/ },
    )
  })

  for (const [url, why] of [
    ['not a url', /not a URL/],
    ['mysql://u@h/d', /scheme "mysql"/],
    ['postgres://u@h/d?sslmode=require&bogus=1', /unrecognized parameter "bogus"/],
    ['postgres://u@h:99999/d', /not a URL|port/],
    ['postgres://u@h/d?sslmode=maybe', /sslmode/],
  ] as const) {
    it(`rejects connection_string ${url}`, () => {
      rejects('postgres', { connection_string: url }, { state: '22023', message: why })
    })
  }

  it('never echoes a connection string or password in errors', () => {
    const e = rejects(
      'postgres',
      { connection_string: 'mysql://u:hunter2@h/d' },
      { state: '22023', message: /scheme/ },
    )
    assert.ok(!e.message.includes('hunter2') && !(e.hint ?? '').includes('hunter2'))
    const e2 = rejects(
      'postgres',
      { ...PG, password: ['hunter2'] },
      { state: '22023', message: /"password"/ },
      'rest',
    )
    assert.ok(!e2.message.includes('hunter2'))
  })

  it('accepts camelCase keys and JSON types over REST', () => {
    const peer = validatePeerOptions(
      'postgres',
      { host: 'db', port: 5433, user: 'u', database: 'd', requireTls: true, rootCa: 'PEM', sslmode: '' },
      'rest',
    )
    assert.deepStrictEqual(peer.config, {
      host: 'db',
      port: 5433,
      user: 'u',
      password: '',
      database: 'd',
      root_ca: 'PEM',
      require_tls: true,
    })
  })

  it('treats JSON null as not given', () => {
    const options = JSON.parse(
      '{"host":"db","user":"u","database":"d","port":null,"rootCa":null}',
    ) as OptionInputs
    assert.deepStrictEqual(validatePeerOptions('postgres', options, 'rest').config, {
      host: 'db',
      port: 5432,
      user: 'u',
      password: '',
      database: 'd',
    })
  })

  it('rejects a boolean where REST must send text', () => {
    rejects(
      'postgres',
      { ...PG, host: true },
      { state: '22023', message: 'invalid value for option "host": "true"' },
      'rest',
    )
  })

  it('regression: a host with quotes and a semicolon was stored when REST skipped the connection check', () => {
    for (const host of ["x'; DROP TABLE peers; --", 'a b', 'db"', 'h\tx']) {
      rejects(
        'postgres',
        { ...PG, host },
        { state: '22023', message: /option "host"/, field: 'host' },
        'rest',
      )
      rejects('clickhouse', { host }, { state: '22023', message: /option "host"/, field: 'host' })
    }
    for (const host of ['db.example.com', '10.0.0.1', '::1', '[fe80::1%eth0]', 'my_host', 'bücher.example']) {
      assert.equal(
        (validatePeerOptions('postgres', { ...PG, host }, 'rest').config as { host: string }).host,
        host,
      )
    }
    // libpq reads a host starting with / as a socket directory; ClickHouse has none.
    assert.equal(
      (
        validatePeerOptions('postgres', { ...PG, host: '/var/run/postgresql' }, 'sql').config as {
          host: string
        }
      ).host,
      '/var/run/postgresql',
    )
    rejects('clickhouse', { host: '/tmp' }, { state: '22023', message: /option "host"/ })
  })

  it('rejects a key given twice under two spellings', () => {
    rejects(
      'postgres',
      { ...PG, root_ca: 'a', rootCa: 'b' },
      { state: '22023', message: /"root_ca" specified more than once/ },
      'rest',
    )
  })
})

describe('validatePeerOptions: clickhouse', () => {
  it('defaults to the HTTP port and the default user and database', () => {
    assert.deepStrictEqual(validatePeerOptions('CLICKHOUSE', { host: 'ch' }, 'sql'), {
      type: 'CLICKHOUSE',
      config: { host: 'ch', port: 8123, user: 'default', password: '', database: 'default' },
    })
  })

  it('reads every option', () => {
    const peer = fromSql(
      "CREATE PEER c FROM CLICKHOUSE WITH (host = 'ch', port = 8443, user = 'w', password = 'p', database = 'db', " +
        "disable_tls = false, certificate = 'C', private_key = 'K', root_ca = 'R', tls_host = 'T', cluster = 'main')",
    )
    assert.deepStrictEqual(peer.config, {
      host: 'ch',
      port: 8443,
      user: 'w',
      password: 'p',
      database: 'db',
      disable_tls: false,
      certificate: 'C',
      private_key: 'K',
      root_ca: 'R',
      tls_host: 'T',
      cluster: 'main',
    })
  })

  it('requires host and rejects postgres-only keys', () => {
    rejects(
      'clickhouse',
      {},
      { state: '22023', message: 'option "host" is required for peer type clickhouse' },
    )
    rejects(
      'clickhouse',
      { host: 'ch', sslmode: 'require' },
      {
        state: '22023',
        message: 'unrecognized option "sslmode" for peer type clickhouse',
      },
    )
  })
})

describe('validatePeerOptions: kafka', () => {
  it('splits and trims a comma-separated server list', () => {
    assert.deepStrictEqual(validatePeerOptions('kafka', { servers: ' b1:9092 , b2:9092,' }, 'sql'), {
      type: 'KAFKA',
      config: { servers: ['b1:9092', 'b2:9092'] },
    })
  })

  it('takes an array of servers over REST', () => {
    assert.deepStrictEqual(
      validatePeerOptions('kafka', { servers: ['b1:9092', ' b2:9092 '] }, 'rest').config,
      {
        servers: ['b1:9092', 'b2:9092'],
      },
    )
  })

  it('reads every option, matching enum values case-insensitively', () => {
    const peer = fromSql(
      "CREATE PEER k FROM KAFKA WITH (servers = 'b:9092', user = 'u', password = 'p', sasl_mechanism = scram-sha-512, " +
        "disable_tls = true, certificate = 'C', private_key = 'K', root_ca = 'R', partitioner = roundrobin, " +
        'max_record_batch_bytes = 1048576, compression = GZIP)',
    )
    assert.deepStrictEqual(peer.config, {
      servers: ['b:9092'],
      user: 'u',
      password: 'p',
      sasl_mechanism: 'SCRAM-SHA-512',
      disable_tls: true,
      certificate: 'C',
      private_key: 'K',
      root_ca: 'R',
      partitioner: 'RoundRobin',
      max_record_batch_bytes: 1048576,
      compression: 'gzip',
    })
  })

  it('requires servers, and at least one', () => {
    rejects(
      'kafka',
      {},
      { state: '22023', message: 'option "servers" is required for peer type kafka', field: 'servers' },
    )
    rejects('kafka', { servers: ' , ' }, { state: '22023', message: /invalid value for option "servers"/ })
    rejects('kafka', { servers: [1, 2] }, { state: '22023', message: /"servers"/ }, 'rest')
  })

  for (const [key, value] of [
    ['sasl_mechanism', 'GSSAPI'],
    ['partitioner', 'Random'],
    ['compression', 'zstd'],
    ['max_record_batch_bytes', 0],
  ] as const) {
    it(`rejects ${key} = ${value}`, () => {
      rejects(
        'kafka',
        { servers: 'b:1', [key]: value },
        {
          state: '22023',
          message: `invalid value for option "${key}": "${value}"`,
          field: key,
        },
      )
    })
  }
})

describe('validatePeerOptions: peer types', () => {
  it('rejects types PeerDB has and pgmirror does not with 0A000', () => {
    rejects(
      'mysql',
      { host: 'x' },
      {
        state: '0A000',
        message: 'peer type "mysql" is not supported by pgmirror',
        hint: /POSTGRES, CLICKHOUSE, KAFKA/,
      },
    )
    rejects(
      'SNOWFLAKE',
      {},
      { state: '0A000', message: 'peer type "snowflake" is not supported by pgmirror' },
    )
  })

  it('rejects an unknown type with 22023', () => {
    rejects('oracle', {}, { state: '22023', message: 'unrecognized peer type "oracle"', field: 'type' })
  })
})
