import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  alertsFor,
  dueAgain,
  pausedWalWarning,
  pauseNotice,
  type AlertTarget,
  type MirrorObservation,
} from '../../../src/engine/alerting/checks.ts'
import { loadAlertingConfig } from '../../../src/config.ts'

const MB = 1024n * 1024n
const NOW = Date.parse('2025-01-01T12:00:00Z')
const settings = { checkIntervalMs: 60_000, slotLagMbThreshold: 5000, staleBatchMinutes: 240 }

const mirror = (over: Partial<MirrorObservation> = {}): MirrorObservation => ({
  name: 'm1',
  status: 'STATUS_RUNNING',
  sourcePeer: 'src',
  slotName: 'pgmirror_slot_m1',
  retainedWalBytes: 10n * MB,
  lastError: null,
  errorSeenSince: undefined,
  lastBatchAt: NOW - 60_000,
  ...over,
})
const target = (over: Partial<AlertTarget> = {}): AlertTarget => ({
  id: 1,
  alertForMirrors: [],
  slotLagMbThreshold: 0,
  ...over,
})
const kinds = (m: MirrorObservation, targets: AlertTarget[], s = settings) =>
  alertsFor(m, targets, s, NOW).map((a) => `${a.target.id}:${a.event.kind}`)

describe('alertsFor', () => {
  test('slot lag: the config threshold wins over the global one; 0 in the config means the global one', () => {
    assert.deepEqual(kinds(mirror(), [target({ slotLagMbThreshold: 1 })]), ['1:slot_lag'])
    assert.deepEqual(kinds(mirror(), [target()]), [])
    assert.deepEqual(kinds(mirror(), [target()], { ...settings, slotLagMbThreshold: 5 }), ['1:slot_lag'])
    assert.deepEqual(kinds(mirror(), [target()], { ...settings, slotLagMbThreshold: 0 }), [])
    assert.deepEqual(kinds(mirror({ retainedWalBytes: MB }), [target({ slotLagMbThreshold: 1 })]), [])
    assert.deepEqual(kinds(mirror({ retainedWalBytes: undefined }), [target({ slotLagMbThreshold: 1 })]), [])
  })

  test('slot lag alerts for a paused mirror too, and says so', () => {
    const [a] = alertsFor(
      mirror({ status: 'STATUS_PAUSED' }),
      [target({ slotLagMbThreshold: 1 })],
      settings,
      NOW,
    )
    assert.equal(a?.event.key, 'Slot lag threshold exceeded for mirror "m1"')
    assert.match(a!.event.message, /retains 10\.0 MB of WAL on the source, over the threshold of 1 MB/)
    assert.match(a!.event.message, /paused/)
  })

  test('alert_for_mirrors restricts a config to those mirrors', () => {
    const t = [
      target({ id: 1, slotLagMbThreshold: 1, alertForMirrors: ['m2'] }),
      target({ id: 2, slotLagMbThreshold: 1 }),
    ]
    assert.deepEqual(kinds(mirror(), t), ['2:slot_lag'])
    assert.deepEqual(kinds(mirror({ name: 'm2' }), t), ['1:slot_lag', '2:slot_lag'])
  })

  test('an error alerts once it has lasted a check interval; a failed mirror at once', () => {
    const err = { lastError: 'connection refused' }
    assert.deepEqual(kinds(mirror({ ...err, errorSeenSince: NOW }), [target()]), [])
    assert.deepEqual(kinds(mirror({ ...err, errorSeenSince: NOW - 60_000 }), [target()]), ['1:mirror_error'])
    assert.deepEqual(kinds(mirror({ ...err, errorSeenSince: NOW, status: 'STATUS_FAILED' }), [target()]), [
      '1:mirror_error',
    ])
  })

  test('no batch for too long: only while running, after a first batch, and unless turned off', () => {
    const old = { lastBatchAt: NOW - 241 * 60_000 }
    assert.deepEqual(kinds(mirror(old), [target()]), ['1:stale_batches'])
    assert.deepEqual(kinds(mirror({ ...old, status: 'STATUS_PAUSED' }), [target()]), [])
    assert.deepEqual(kinds(mirror({ lastBatchAt: null }), [target()]), [])
    assert.deepEqual(kinds(mirror(old), [target()], { ...settings, staleBatchMinutes: 0 }), [])
  })
})

describe('dueAgain', () => {
  test('never sent, or sent before the gap: due; within the gap or gap 0: not', () => {
    assert.equal(dueAgain(undefined, 15, NOW), true)
    assert.equal(dueAgain(new Date(NOW - 14 * 60_000), 15, NOW), false)
    assert.equal(dueAgain(new Date(NOW - 15 * 60_000), 15, NOW), true)
    assert.equal(dueAgain(undefined, 0, NOW), false)
  })
})

describe('paused-mirror wording', () => {
  test('the warning appears only for a paused mirror over the threshold', () => {
    assert.match(
      pausedWalWarning('STATUS_PAUSED', 6000n * MB, 5000) ?? '',
      /retains 6000\.0 MB of WAL on the source \(over 5000 MB\)/,
    )
    assert.equal(pausedWalWarning('STATUS_RUNNING', 6000n * MB, 5000), null)
    assert.equal(pausedWalWarning('STATUS_PAUSED', 10n * MB, 5000), null)
    assert.equal(pausedWalWarning('STATUS_PAUSED', 6000n * MB, 0), null)
    assert.equal(pausedWalWarning('STATUS_PAUSED', undefined, 5000), null)
  })

  test('the PAUSE notice names the slot and what it retains', () => {
    assert.equal(
      pauseNotice('m1', 'pgmirror_slot_m1', 3n * MB),
      'mirror "m1" is paused: its replication slot "pgmirror_slot_m1" keeps WAL on the source until the mirror is ' +
        'resumed or dropped; it retains 3.0 MB now',
    )
  })
})

describe('alerting configuration', () => {
  test('defaults follow PeerDB; bad values name the variable', () => {
    const c = loadAlertingConfig({})
    assert.equal(c.checkIntervalSeconds, 60)
    assert.equal(c.gapMinutes, 15)
    assert.equal(c.slotLagMbThreshold, 5000)
    assert.equal(c.staleBatchMinutes, 240)
    assert.equal(c.slackApiUrl, 'https://slack.com/api')
    assert.equal(c.smtp.port, 587)
    assert.equal(loadAlertingConfig({ PGMIRROR_SMTP_SECURE: 'true' }).smtp.port, 465)
    assert.equal(
      loadAlertingConfig({ PGMIRROR_SLACK_API_URL: 'http://127.0.0.1:9/api/' }).slackApiUrl,
      'http://127.0.0.1:9/api',
    )
    assert.throws(
      () => loadAlertingConfig({ PEERDB_ALERTING_GAP_MINUTES: '-1' }),
      /PEERDB_ALERTING_GAP_MINUTES/,
    )
    assert.throws(
      () => loadAlertingConfig({ PGMIRROR_ALERT_CHECK_INTERVAL_SECONDS: '0' }),
      /PGMIRROR_ALERT_CHECK_INTERVAL_SECONDS/,
    )
    assert.throws(() => loadAlertingConfig({ PGMIRROR_SLACK_API_URL: 'slack' }), /PGMIRROR_SLACK_API_URL/)
  })
})
