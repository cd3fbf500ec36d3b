// Alerts end to end: configs managed over SQL (and seen over REST), a paused mirror whose slot keeps WAL (the PAUSE
// notice, SHOW MIRROR's and REST's warning, the worker's log line), and its slot-lag alert delivered to a local
// Slack API and a local SMTP server, once per gap, with failures recorded and the token in no log line.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import {
  startSlackReceiver,
  startSmtpReceiver,
  type SlackReceiver,
  type SmtpReceiver,
} from '../support/alert-receivers.ts'
import { createMirrorFixture, peerSql, type MirrorFixture } from '../support/mirror-fixture.ts'
import { waitFor } from '../support/services.ts'

const MIRROR = 'alerts_paused_wal'
const TOKEN = 'xoxb-alerts-e2e-token-7781'
const TOKEN2 = 'xoxb-alerts-e2e-broken-9917'

/** Runs `text` on the gateway and returns the SQLSTATE and message it fails with. */
async function failure(fx: MirrorFixture, text: string): Promise<{ code: string; message: string }> {
  try {
    await fx.sql(text)
  } catch (e) {
    const x = e as { code: string; message: string }
    return { code: x.code, message: x.message }
  }
  throw new Error(`expected an error from: ${text}`)
}

/** Reads the catalog directly, not through the gateway. */
async function catalogQuery(fx: MirrorFixture, text: string): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: fx.catalog.url })
  await c.connect()
  try {
    return await c.query(text)
  } finally {
    await c.end()
  }
}

/** Runs `text` on one gateway connection and returns its result and the NOTICEs it sent. */
async function withNotices(
  fx: MirrorFixture,
  text: string,
): Promise<{ r: pg.QueryResult; notices: string[] }> {
  const c = await fx.gateway()
  const notices: string[] = []
  c.on('notice', (n) => notices.push(n.message ?? ''))
  try {
    return { r: await c.query(text), notices }
  } finally {
    await c.end()
  }
}

describe('alerts', () => {
  let fx: MirrorFixture
  let slack: SlackReceiver
  let smtp: SmtpReceiver
  const rest = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${fx.server.httpPort}/api/v1${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    })
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary response shapes
    return { status: res.status, json: (await res.json()) as any }
  }

  before(async () => {
    slack = await startSlackReceiver(['C_FAIL'])
    smtp = await startSmtpReceiver()
    fx = await createMirrorFixture({
      PGMIRROR_ALERT_CHECK_INTERVAL_SECONDS: '1',
      PGMIRROR_SLACK_API_URL: slack.url,
      PGMIRROR_SMTP_HOST: '127.0.0.1',
      PGMIRROR_SMTP_PORT: String(smtp.port),
      PGMIRROR_SMTP_FROM: 'pgmirror@example.com',
      PEERDB_SLOT_LAG_MB_ALERT_THRESHOLD: '2',
    })
    await fx.src('CREATE TABLE public.t (id int PRIMARY KEY, v text)')
    await fx.src(`INSERT INTO public.t SELECT g, 'v' || g FROM generate_series(1, 100) g`)
    await fx.sql(peerSql('alsrc', fx.source))
    await fx.sql(peerSql('aldst', fx.target))
  })

  after(async () => {
    await fx?.close()
    await slack?.close()
    await smtp?.close()
  })

  test('CREATE / ALTER / DROP / SHOW ALERTS with their SQLSTATEs; REST sees the same configs', async () => {
    const create = `CREATE ALERT ops_sql FOR SLACK WITH (auth_token = '${TOKEN}', channel_ids = 'C1, C2',
      slot_lag_mb_alert_threshold = 100, alert_for_mirrors = ('nosuch_b', 'nosuch_a'))`
    await fx.sql(create)
    assert.deepEqual(await failure(fx, create), { code: '42710', message: 'alert "ops_sql" already exists' })
    const again = await withNotices(fx, create.replace('CREATE ALERT', 'CREATE ALERT IF NOT EXISTS'))
    assert.equal(again.r.command, 'CREATE')
    assert.deepEqual(again.notices, ['alert "ops_sql" already exists, skipping'])

    const bad: [string, string, RegExp][] = [
      [
        `CREATE ALERT x FOR SLACK WITH (auth_token = 'a', channel_ids = 'C', webhook = 'u')`,
        '22023',
        /"webhook"/,
      ],
      [`CREATE ALERT x FOR SLACK WITH (channel_ids = 'C')`, '22023', /"auth_token" is required/],
      [`CREATE ALERT x FOR SLACK WITH (auth_token = 'a', channel_ids = '')`, '22023', /"channel_ids"/],
      [
        `CREATE ALERT x FOR SLACK WITH (auth_token = 'a', channel_ids = 'C', slot_lag_mb_alert_threshold = -1)`,
        '22023',
        /"slot_lag_mb_alert_threshold"/,
      ],
      [`CREATE ALERT x FOR EMAIL WITH (email_addresses = 'not-an-address')`, '22023', /"email_addresses/],
      [
        `CREATE ALERT x FOR EMAIL WITH (email_addresses = 'a@b.io', auth_token = 'a')`,
        '22023',
        /"auth_token"/,
      ],
      [
        `CREATE ALERT x FOR EMAIL WITH (email_addresses = 'a@b.io', alert_for_mirrors = 'Bad!')`,
        '22023',
        /Bad!/,
      ],
      [`CREATE ALERT "Ops" FOR EMAIL WITH (email_addresses = 'a@b.io')`, '22023', /invalid alert name "Ops"/],
      [`CREATE ALERT x FOR pager WITH (a = 1)`, '42601', /syntax error at or near "pager"/],
      [`ALTER ALERT nosuch SET (members = 'U1')`, '42704', /alert "nosuch" does not exist/],
      [`ALTER ALERT ops_sql SET (email_addresses = 'a@b.io')`, '22023', /"email_addresses" for slack/],
      [`DROP ALERT nosuch`, '42704', /alert "nosuch" does not exist/],
    ]
    for (const [sql, code, message] of bad) {
      const f = await failure(fx, sql)
      assert.equal(f.code, code, `${sql}: ${f.message}`)
      assert.match(f.message, message, sql)
    }
    const dropMissing = await withNotices(fx, 'DROP ALERT IF EXISTS nosuch')
    assert.deepEqual(dropMissing.notices, ['alert "nosuch" does not exist, skipping'])

    // ALTER changes only the keys given; the token, not given, is kept.
    await fx.sql(`ALTER ALERT ops_sql SET (channel_ids = ('C3'), members = 'U1,U2')`)
    const shown = await fx.sql('SHOW ALERTS')
    assert.doesNotMatch(JSON.stringify(shown.rows), new RegExp(TOKEN))
    const row = shown.rows.find((r) => r.name === 'ops_sql')
    assert.equal(row.service_type, 'slack')
    assert.deepEqual(JSON.parse(row.config), {
      auth_token: '********',
      channel_ids: ['C3'],
      members: ['U1', 'U2'],
      slot_lag_mb_alert_threshold: 100,
      open_connections_alert_threshold: 0,
    })
    assert.equal(row.alert_for_mirrors, '{nosuch_a,nosuch_b}')
    const secret = await catalogQuery(fx, 'SELECT payload FROM alert_secrets')
    assert.match(JSON.stringify(secret.rows), new RegExp(TOKEN), 'ALTER kept the stored token')

    // The catalog tables read through the gateway never show the token; the secrets table is refused.
    const table = await fx.sql('SELECT * FROM alert_configs')
    assert.doesNotMatch(JSON.stringify(table.rows), new RegExp(TOKEN))
    assert.equal((await failure(fx, 'SELECT * FROM alert_secrets')).code, '42501')

    // REST lists the SQL config by id with its name; one made over REST is alert_<id> in SQL.
    const listed = await rest('GET', '/alerts/config')
    const viaRest = listed.json.configs.find((c: { name: string }) => c.name === 'ops_sql')
    assert.deepEqual(JSON.parse(viaRest.serviceConfig).channel_ids, ['C3'])
    const made = await rest('POST', '/alerts/config', {
      config: { id: -1, service_type: 'email', service_config: { email_addresses: ['x@y.io'] } },
    })
    assert.equal(made.status, 200)
    const name = `alert_${made.json.id}`
    assert.ok((await fx.sql('SHOW ALERTS')).rows.some((r) => r.name === name && r.service_type === 'email'))
    await fx.sql(`DROP ALERT ${name}`)
    await fx.sql('DROP ALERT ops_sql')
    assert.deepEqual((await rest('GET', '/alerts/config')).json.configs, [])
  })

  test('a paused mirror: PAUSE says the slot keeps WAL; SHOW MIRROR, REST status and the log warn past the threshold', async () => {
    await fx.sql(
      `CREATE MIRROR ${MIRROR} FROM alsrc TO aldst WITH TABLE MAPPING (public.t:public.t) WITH (sync_interval = 1)`,
    )
    await fx.waitForStatus(MIRROR, 'STATUS_RUNNING')
    const paused = await withNotices(fx, `PAUSE MIRROR ${MIRROR}`)
    assert.equal(paused.notices.length, 1, paused.notices.join('\n'))
    assert.match(
      paused.notices[0]!,
      new RegExp(
        `^mirror "${MIRROR}" is paused: its replication slot "pgmirror_slot_${MIRROR}" keeps WAL on the source until the mirror is resumed or dropped; it retains \\d+\\.\\d MB now$`,
      ),
    )
    await fx.waitForStatus(MIRROR, 'STATUS_PAUSED')
    // 6 MB of WAL the paused slot must keep (the global threshold is 2 MB).
    for (let i = 0; i < 6; i++)
      await fx.src(`SELECT pg_logical_emit_message(false, 'alerts_test', repeat('x', 1048576))`)

    const warning = await waitFor(
      async () => (await fx.sql(`SHOW MIRROR ${MIRROR}`)).rows[0].warning as string | null,
      { timeoutMs: 15_000, message: 'SHOW MIRROR to warn' },
    )
    assert.match(warning, /^paused mirror retains \d+\.\d MB of WAL on the source \(over 2 MB\)/)
    const status = await rest('POST', '/mirrors/status', { flow_job_name: MIRROR })
    assert.match(status.json.cdcStatus.warning, /^paused mirror retains/)
    await waitFor(() => fx.server.logs().includes(`mirror \\"${MIRROR}\\": paused mirror retains`), {
      timeoutMs: 15_000,
      message: 'the worker to log the warning',
    })
  })

  test('its slot lag reaches Slack and email once per gap; a refused delivery is recorded; no token in the logs', async () => {
    await fx.sql(`CREATE ALERT paused_slack FOR SLACK WITH (auth_token = '${TOKEN}', channel_ids = ('C_OK'),
      members = ('U1'), slot_lag_mb_alert_threshold = 1, alert_for_mirrors = (${MIRROR}))`)
    const first = await waitFor(() => slack.calls.find((c) => c.body.channel === 'C_OK'), {
      timeoutMs: 20_000,
      message: 'the slack alert',
    })
    assert.equal(first.path, '/api/chat.postMessage')
    assert.equal(first.authorization, `Bearer ${TOKEN}`)
    assert.match(first.body.text, new RegExp(`Slot lag threshold exceeded for mirror "${MIRROR}"`))
    assert.match(first.body.text, /over the threshold of 1 MB/)
    assert.match(first.body.text, /cc: <@U1>/)

    // Two more destinations, made after the first alert went: an email one over SQL, and over REST a Slack one
    // whose channel Slack refuses.
    await fx.sql(`CREATE ALERT paused_mail FOR EMAIL WITH (email_addresses = 'ops@example.com',
      slot_lag_mb_alert_threshold = 1, alert_for_mirrors = '${MIRROR}')`)
    const broken = await rest('POST', '/alerts/config', {
      config: {
        id: -1,
        service_type: 'slack',
        service_config: JSON.stringify({
          auth_token: TOKEN2,
          channel_ids: ['C_FAIL'],
          slot_lag_mb_alert_threshold: 1,
        }),
        alert_for_mirrors: [MIRROR],
      },
    })
    assert.equal(broken.status, 200)
    const mail = await waitFor(() => smtp.mails[0], { timeoutMs: 20_000, message: 'the email alert' })
    assert.deepEqual(mail.to, ['ops@example.com'])
    assert.equal(mail.from, 'pgmirror@example.com')
    assert.equal(mail.subject, `[pgmirror] Slot lag threshold exceeded for mirror "${MIRROR}"`)
    assert.match(mail.text, /retains \d+\.\d MB of WAL on the source, over the threshold of 1 MB/)
    const failed = await waitFor(
      async () =>
        (
          await fx.sql(
            `SELECT delivered, error FROM alerts WHERE alert_config_name = 'alert_${broken.json.id}'`,
          )
        ).rows[0],
      { timeoutMs: 20_000, message: 'the refused delivery to be recorded' },
    )
    assert.equal(failed.delivered, 'f')
    assert.match(failed.error, /C_FAIL: channel_not_found/)

    // The checks that sent those also saw paused_slack's alert again, inside its gap: it went once.
    assert.equal(slack.calls.filter((c) => c.body.channel === 'C_OK').length, 1)
    const sent = await fx.sql(`SELECT alert_config_name, kind, mirror, delivered FROM alerts ORDER BY id`)
    const rows = sent.rows.map((r) => `${r.alert_config_name}:${r.kind}:${r.mirror}:${r.delivered}`)
    assert.deepEqual(
      rows.filter((r) => r.startsWith('paused_slack')),
      [`paused_slack:slot_lag:${MIRROR}:t`],
    )
    assert.ok(rows.includes(`paused_mail:slot_lag:${MIRROR}:t`), rows.join('\n'))

    const logs = fx.server.logs()
    assert.match(logs, /"msg":"alert sent"/)
    assert.match(logs, /"msg":"alert not delivered"/)
    assert.ok(!logs.includes(TOKEN) && !logs.includes(TOKEN2), 'a token reached the logs')
  })
})
