/**
 * What deserves an alert, as pure functions of what the checker observed: the alert loop (alert-loop.ts) gathers
 * observations and sends; SHOW MIRROR, REST status and PAUSE MIRROR use the paused-mirror wording from here too.
 */
import type { AlertKind } from '../../catalog/sent-alert-store.ts'

const MIB = 1024 * 1024

export interface MirrorObservation {
  readonly name: string
  readonly status: string
  readonly sourcePeer: string
  readonly slotName: string | null
  /** WAL the slot retains on the source; undefined when the slot is missing or the source unreachable. */
  readonly retainedWalBytes: bigint | undefined
  readonly lastError: string | null
  /** When the checker first saw the mirror's current error run (ms since epoch); undefined without an error. */
  readonly errorSeenSince: number | undefined
  /** ms since epoch of the last batch; null before the first. */
  readonly lastBatchAt: number | null
}

/** One alert config, reduced to what deciding needs. */
export interface AlertTarget {
  readonly id: number
  readonly alertForMirrors: readonly string[]
  /** The config's slot_lag_mb_alert_threshold; 0 = use the global one. */
  readonly slotLagMbThreshold: number
}

export interface CheckSettings {
  readonly checkIntervalMs: number
  readonly slotLagMbThreshold: number
  readonly staleBatchMinutes: number
}

export interface AlertEvent {
  readonly kind: AlertKind
  readonly mirror: string
  /** The de-duplication key and the headline: the same condition on the same mirror reads the same. */
  readonly key: string
  readonly message: string
}

export const formatMb = (bytes: bigint): string => `${(Number(bytes) / MIB).toFixed(1)} MB`

const isPaused = (status: string) => status === 'STATUS_PAUSED' || status === 'STATUS_PAUSING'

/** The slot-lag threshold in force for a config, in MB; 0 = no slot-lag alerts to it. */
export const slotLagThresholdFor = (target: AlertTarget, globalMb: number): number =>
  target.slotLagMbThreshold > 0 ? target.slotLagMbThreshold : globalMb

const exceeds = (bytes: bigint, mb: number): boolean => mb > 0 && bytes > BigInt(mb) * BigInt(MIB)

/** The NOTICE PAUSE MIRROR sends: pausing keeps the slot, and the slot keeps WAL. */
export function pauseNotice(
  mirror: string,
  slotName: string | null,
  retainedWalBytes: bigint | undefined,
): string {
  const now = retainedWalBytes === undefined ? '' : `; it retains ${formatMb(retainedWalBytes)} now`
  return (
    `mirror "${mirror}" is paused: its replication slot${slotName ? ` "${slotName}"` : ''} keeps WAL on the ` +
    `source until the mirror is resumed or dropped${now}`
  )
}

/** The warning SHOW MIRROR and REST status carry for a paused mirror whose slot retains more than the threshold. */
export function pausedWalWarning(
  status: string,
  retainedWalBytes: bigint | undefined,
  thresholdMb: number,
): string | null {
  if (!isPaused(status) || retainedWalBytes === undefined || !exceeds(retainedWalBytes, thresholdMb))
    return null
  return (
    `paused mirror retains ${formatMb(retainedWalBytes)} of WAL on the source (over ${thresholdMb} MB); ` +
    'the slot keeps WAL until the mirror is resumed or dropped, and the source disk can fill'
  )
}

const applies = (target: AlertTarget, mirror: string) =>
  target.alertForMirrors.length === 0 || target.alertForMirrors.includes(mirror)

/**
 * The alerts one mirror raises, per alert config. Slot lag counts whatever the status (a paused mirror's slot
 * grows too); an error alerts once it has lasted a whole check interval (a retry that succeeds is no alarm), a
 * failed mirror at once; no batch for too long only while running and after a first batch.
 */
export function alertsFor(
  m: MirrorObservation,
  targets: readonly AlertTarget[],
  s: CheckSettings,
  now: number,
): { readonly target: AlertTarget; readonly event: AlertEvent }[] {
  const out: { target: AlertTarget; event: AlertEvent }[] = []
  for (const target of targets) {
    if (!applies(target, m.name)) continue
    const threshold = slotLagThresholdFor(target, s.slotLagMbThreshold)
    if (m.retainedWalBytes !== undefined && exceeds(m.retainedWalBytes, threshold)) {
      const paused = isPaused(m.status)
        ? ' The mirror is paused: its slot keeps WAL until it is resumed or dropped.'
        : ''
      out.push({
        target,
        event: {
          kind: 'slot_lag',
          mirror: m.name,
          key: `Slot lag threshold exceeded for mirror "${m.name}"`,
          message:
            `Replication slot "${m.slotName}" of mirror "${m.name}" (source peer "${m.sourcePeer}", ` +
            `${m.status}) retains ${formatMb(m.retainedWalBytes)} of WAL on the source, over the threshold of ` +
            `${threshold} MB.${paused}`,
        },
      })
    }
    const failed = m.status === 'STATUS_FAILED'
    const lasting = m.errorSeenSince !== undefined && now - m.errorSeenSince >= s.checkIntervalMs
    if (m.lastError !== null && (failed || lasting)) {
      out.push({
        target,
        event: {
          kind: 'mirror_error',
          mirror: m.name,
          key: `Mirror "${m.name}" is failing`,
          message: `Mirror "${m.name}" (${m.status}) reports an error: ${m.lastError}`,
        },
      })
    }
    if (
      s.staleBatchMinutes > 0 &&
      m.status === 'STATUS_RUNNING' &&
      m.lastBatchAt !== null &&
      now - m.lastBatchAt > s.staleBatchMinutes * 60_000
    ) {
      const minutes = Math.floor((now - m.lastBatchAt) / 60_000)
      out.push({
        target,
        event: {
          kind: 'stale_batches',
          mirror: m.name,
          key: `Too long since the last batch of mirror "${m.name}"`,
          message:
            `Mirror "${m.name}" has written no batch for ${minutes} minutes (threshold ${s.staleBatchMinutes}). ` +
            'Check its logs, or the source may simply be idle.',
        },
      })
    }
  }
  return out
}

/** True when an alert last sent at `lastSentAt` may go again (gap 0 means alerting is off altogether). */
export function dueAgain(lastSentAt: Date | undefined, gapMinutes: number, now: number): boolean {
  if (gapMinutes <= 0) return false
  return lastSentAt === undefined || now - lastSentAt.getTime() >= gapMinutes * 60_000
}
