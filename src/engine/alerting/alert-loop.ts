/**
 * The alert checker, run by every worker but active in one: the process holding a session advisory lock on the
 * catalog is the leader, and the others try again at their next tick (so a leader that dies is replaced within one
 * interval). Each check reads every mirror's slot on its source, decides (checks.ts), sends what is due to each
 * alert config, and records every try in the `alerts` table, whose newest row per (config, key) is the
 * de-duplication window. It also logs a warning for a paused mirror whose slot holds more WAL than the threshold,
 * with or without alert configs.
 */
import pg from 'pg'
import type { AlertConfigRecord } from '../../catalog/alert-store.ts'
import { SentAlertStore } from '../../catalog/sent-alert-store.ts'
import type { MirrorRow } from '../../catalog/mirror-store.ts'
import type { EngineContext } from '../context.ts'
import {
  alertsFor,
  dueAgain,
  formatMb,
  pausedWalWarning,
  slotLagThresholdFor,
  type AlertEvent,
  type AlertTarget,
  type MirrorObservation,
} from './checks.ts'
import { sendEmail, sendSlack, type EmailDestination, type SlackDestination } from './senders.ts'
import { LockKeys } from '../../catalog/lock-keys.ts'

/** A paused mirror over the threshold is logged again at most this often. */
const WARN_EVERY_MS = 15 * 60_000

class Leadership {
  private client: pg.Client | undefined

  constructor(private readonly url: string) {}

  /** True while this process holds the lock; a lost connection loses it, and the next call tries again. */
  async held(): Promise<boolean> {
    if (this.client) return true
    const c = new pg.Client({ connectionString: this.url, application_name: 'pgmirror_alerts' })
    c.on('error', () => {
      if (this.client === c) this.client = undefined
    })
    await c.connect()
    const r = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LockKeys.alertLeader])
    if (r.rows[0]?.ok) {
      this.client = c
      return true
    }
    await c.end().catch(() => undefined)
    return false
  }

  async release(): Promise<void> {
    const c = this.client
    this.client = undefined
    await c?.end().catch(() => undefined)
  }
}

const toTarget = (c: AlertConfigRecord): AlertTarget => ({
  id: c.id,
  alertForMirrors: c.alertForMirrors,
  slotLagMbThreshold: Number(c.serviceConfig.slot_lag_mb_alert_threshold ?? 0),
})

export class AlertChecker {
  private readonly sent: SentAlertStore
  private readonly leadership: Leadership
  /** Per mirror: since when its current error run has been seen (ms). */
  private readonly errorSince = new Map<string, number>()
  private readonly warnedAt = new Map<string, number>()

  constructor(private readonly ctx: EngineContext) {
    this.sent = new SentAlertStore(ctx.catalog)
    this.leadership = new Leadership(ctx.catalogUrl)
  }

  /** One check; returns false when another process is the leader. */
  async check(now = Date.now()): Promise<boolean> {
    if (!(await this.leadership.held())) return false
    const { ctx } = this
    const a = ctx.alerting
    const configs = a.gapMinutes > 0 ? await ctx.alerts.list() : []
    const targets = configs.map(toTarget)
    const mirrors = (await ctx.mirrors.list()).filter((m) => m.status !== 'STATUS_TERMINATING')
    const wantLag = targets.some((t) => slotLagThresholdFor(t, a.slotLagMbThreshold) > 0)
    const retained = await this.retainedWal(
      mirrors.filter(
        (m) => m.slotName && (wantLag || m.status === 'STATUS_PAUSED' || m.status === 'STATUS_PAUSING'),
      ),
    )
    const settings = {
      checkIntervalMs: a.checkIntervalSeconds * 1000,
      slotLagMbThreshold: a.slotLagMbThreshold,
      staleBatchMinutes: a.staleBatchMinutes,
    }
    for (const m of mirrors) {
      const obs = this.observe(m, retained.get(m.name), now)
      this.warnPaused(obs, now)
      for (const { target, event } of alertsFor(obs, targets, settings, now)) {
        await this.deliver(
          configs.find((c) => c.id === target.id)!,
          event,
          now,
        )
      }
    }
    for (const name of this.errorSince.keys())
      if (!mirrors.some((m) => m.name === name)) this.errorSince.delete(name)
    return true
  }

  async stop(): Promise<void> {
    await this.leadership.release()
  }

  private observe(m: MirrorRow, retainedWalBytes: bigint | undefined, now: number): MirrorObservation {
    if (m.lastError === null) this.errorSince.delete(m.name)
    else if (!this.errorSince.has(m.name)) this.errorSince.set(m.name, now)
    return {
      name: m.name,
      status: m.status,
      sourcePeer: m.sourcePeer,
      slotName: m.slotName,
      retainedWalBytes,
      lastError: m.lastError,
      errorSeenSince: this.errorSince.get(m.name),
      lastBatchAt: m.lastBatchAt === null ? null : Date.parse(m.lastBatchAt),
    }
  }

  /** Retained WAL per mirror, reading each source once; a source that can't be reached leaves its mirrors out. */
  private async retainedWal(mirrors: readonly MirrorRow[]): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>()
    const bySource = new Map<string, MirrorRow[]>()
    for (const m of mirrors) bySource.set(m.sourcePeer, [...(bySource.get(m.sourcePeer) ?? []), m])
    for (const [peer, ms] of bySource) {
      try {
        const src = this.ctx.connectors.source(await this.ctx.peers.get(peer))
        try {
          for (const m of ms) {
            const info = await src.slotInfo(m.slotName!)
            if (info.retainedWalBytes !== undefined) out.set(m.name, info.retainedWalBytes)
          }
        } finally {
          await src.close()
        }
      } catch (e) {
        this.ctx.log.debug(
          { peer, err: (e as Error).message },
          'alert check could not read the slots of a source',
        )
      }
    }
    return out
  }

  private warnPaused(m: MirrorObservation, now: number): void {
    const warning = pausedWalWarning(m.status, m.retainedWalBytes, this.ctx.alerting.slotLagMbThreshold)
    if (warning === null) {
      this.warnedAt.delete(m.name)
      return
    }
    const last = this.warnedAt.get(m.name)
    if (last !== undefined && now - last < WARN_EVERY_MS) return
    this.warnedAt.set(m.name, now)
    this.ctx.log.warn(
      { mirror: m.name, slot: m.slotName, retainedWal: formatMb(m.retainedWalBytes!) },
      `mirror "${m.name}": ${warning}`,
    )
  }

  private async deliver(config: AlertConfigRecord, event: AlertEvent, now: number): Promise<void> {
    const { ctx } = this
    if (!dueAgain(await this.sent.lastSentAt(config.id, event.key), ctx.alerting.gapMinutes, now)) return
    let error: string | null = null
    try {
      if (config.serviceType === 'slack') {
        await sendSlack(ctx.alerting.slackApiUrl, config.serviceConfig as unknown as SlackDestination, event)
      } else {
        await sendEmail(ctx.alerting.smtp, config.serviceConfig as unknown as EmailDestination, event)
      }
    } catch (e) {
      error = (e as Error).message
    }
    await this.sent.record({
      alertConfigId: config.id,
      alertConfigName: config.name,
      alertKey: event.key,
      kind: event.kind,
      mirror: event.mirror,
      message: event.message,
      delivered: error === null,
      error,
    })
    const fields = {
      alert: event.key,
      kind: event.kind,
      mirror: event.mirror,
      alertConfig: config.name,
      to: config.serviceType,
    }
    if (error === null) ctx.log.info(fields, 'alert sent')
    else ctx.log.warn({ ...fields, err: error }, 'alert not delivered')
  }
}

/** Checks now and then every PGMIRROR_ALERT_CHECK_INTERVAL_SECONDS until stopped; a failed check waits for the next. */
export function startAlertChecker(ctx: EngineContext): { stop(): Promise<void> } {
  const checker = new AlertChecker(ctx)
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let stopped = false
  const tick = () => {
    running = checker
      .check()
      .then(
        () => undefined,
        (e: Error) =>
          ctx.log.warn({ err: e.message }, 'alert check failed; trying again at the next interval'),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, ctx.alerting.checkIntervalSeconds * 1000).unref()
      })
  }
  tick()
  return {
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running
      await checker.stop()
    },
  }
}
