/**
 * Alert configs: where mirror alerts go (Slack or email). This version stores and validates them; sending them is
 * the alerts worker's job. One implementation behind REST's /alerts/config routes.
 */
import type pg from 'pg'
import { isDeepStrictEqual } from 'node:util'
import { z } from 'zod'
import { AlertStore, type AlertConfigRecord, type AlertServiceType } from '../../catalog/alert-store.ts'
import { redactConfig } from '../../catalog/peer-store.ts'
import { PgMirrorError } from '../../errors.ts'
import type { Logger } from '../../log.ts'
import { REDACTED, SECRET_KEYS } from '../../model/peer.ts'
import { validateMirrorName } from './mirrors.ts'

export interface AlertContext {
  readonly alerts: AlertStore
  readonly log: Logger
}

/** The store the alert commands use; `key` is the same encryption key the peer store seals secrets with. */
export const createAlertStore = (catalog: pg.Pool, key: Buffer | undefined): AlertStore =>
  new AlertStore(catalog, key)

const threshold = z
  .number()
  .int()
  .min(0)
  .max(2_147_483_647)
  .default(0)
  .describe('0 = use the global threshold')

/** Slack: a bot token and the channels to post in (PeerDB's keys). */
export const SlackServiceConfig = z
  .object({
    auth_token: z.string().min(1).describe('bot token (xoxb-…); secret, shown as ********'),
    channel_ids: z.array(z.string().min(1)).min(1),
    members: z.array(z.string().min(1)).default([]).describe('user ids to @-mention'),
    slot_lag_mb_alert_threshold: threshold,
    open_connections_alert_threshold: threshold,
  })
  .strict()

export const EmailServiceConfig = z
  .object({
    email_addresses: z.array(z.email()).min(1),
    slot_lag_mb_alert_threshold: threshold,
    open_connections_alert_threshold: threshold,
  })
  .strict()

const SERVICE_SCHEMAS = { slack: SlackServiceConfig, email: EmailServiceConfig } as const

export interface AlertConfigInput {
  /** -1 (or absent): create, or return the id of an identical existing config. Otherwise: update that config. */
  readonly id: number
  readonly serviceType: string
  /** snake_case or camelCase keys. A secret given as '' or ******** on update keeps the stored value. */
  readonly serviceConfig: Readonly<Record<string, unknown>>
  readonly alertForMirrors: readonly string[]
}

export interface AlertConfigView {
  readonly id: number
  readonly serviceType: AlertServiceType
  /** snake_case keys as PeerDB stores them; secrets that are set appear as ********. */
  readonly serviceConfig: Readonly<Record<string, unknown>>
  readonly alertForMirrors: readonly string[]
  readonly createdAt: string
  readonly updatedAt: string
}

const snakeCase = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

function serviceTypeOf(text: string): AlertServiceType {
  const t = text.toLowerCase()
  if (t === 'slack' || t === 'email') return t
  throw new PgMirrorError('invalid_parameter_value', `unrecognized alert service type "${text}"`, {
    field: 'service_type',
    hint: 'expected slack or email',
  })
}

function validateServiceConfig(
  type: AlertServiceType,
  raw: Record<string, unknown>,
): Record<string, unknown> {
  const r = SERVICE_SCHEMAS[type].safeParse(raw)
  if (r.success) return r.data
  const issue = r.error.issues[0]
  const path =
    issue?.code === 'unrecognized_keys' ? [...issue.path, ...issue.keys.slice(0, 1)] : (issue?.path ?? [])
  const field = ['service_config', ...path].join('.')
  throw new PgMirrorError(
    'invalid_parameter_value',
    `invalid ${type} alert config: ${field}: ${issue?.message}`,
    {
      field,
    },
  )
}

function mirrorList(names: readonly string[]): string[] {
  for (const n of names) {
    try {
      validateMirrorName(n)
    } catch (e) {
      throw new PgMirrorError('invalid_parameter_value', (e as Error).message, { field: 'alert_for_mirrors' })
    }
  }
  return [...new Set(names)].sort()
}

const isPlaceholder = (v: unknown) => v === undefined || v === '' || v === REDACTED

/** Validates and completes a config; on update, secrets left blank or as ******** keep their stored values. */
function prepare(input: AlertConfigInput, stored: AlertConfigRecord | undefined) {
  const serviceType = serviceTypeOf(input.serviceType)
  const raw: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(input.serviceConfig)) raw[snakeCase(k)] = v
  for (const key of SECRET_KEYS) {
    if (!(key in SERVICE_SCHEMAS[serviceType].shape) || !isPlaceholder(raw[key])) continue
    if (stored?.serviceType === serviceType && stored.serviceConfig[key] !== undefined) {
      raw[key] = stored.serviceConfig[key]
    } else if (raw[key] === REDACTED) {
      throw new PgMirrorError('invalid_parameter_value', `service_config.${key} must be the secret itself`, {
        field: `service_config.${key}`,
        hint: '******** stands for a stored value, and this config has none to keep',
      })
    }
  }
  return {
    serviceType,
    serviceConfig: validateServiceConfig(serviceType, raw),
    alertForMirrors: mirrorList(input.alertForMirrors),
  }
}

const view = (r: AlertConfigRecord): AlertConfigView => ({
  id: r.id,
  serviceType: r.serviceType,
  serviceConfig: redactConfig(r.serviceConfig),
  alertForMirrors: r.alertForMirrors,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
})

export async function listAlertConfigs(ctx: AlertContext): Promise<AlertConfigView[]> {
  return (await ctx.alerts.list()).map(view)
}

/**
 * Creates (id -1) or updates (any other id) an alert config. Creating one identical to an existing config returns
 * that config's id instead of a duplicate; the check and the insert run under one lock, so concurrent identical
 * creates also end with a single row.
 */
export async function saveAlertConfig(
  ctx: AlertContext,
  input: AlertConfigInput,
): Promise<{ id: number; outcome: 'created' | 'updated' | 'unchanged' }> {
  if (input.id !== -1) {
    const stored = await ctx.alerts.get(input.id)
    if (!stored) {
      throw new PgMirrorError('undefined_object', `alert config ${input.id} does not exist`, {
        field: 'id',
        hint: 'use id -1 to create a new alert config',
      })
    }
    const cfg = prepare(input, stored)
    if (
      stored.serviceType === cfg.serviceType &&
      isDeepStrictEqual({ ...stored.serviceConfig }, cfg.serviceConfig) &&
      isDeepStrictEqual([...stored.alertForMirrors], cfg.alertForMirrors)
    ) {
      return { id: stored.id, outcome: 'unchanged' }
    }
    if (!(await ctx.alerts.update(input.id, cfg))) {
      throw new PgMirrorError('undefined_object', `alert config ${input.id} does not exist`, { field: 'id' })
    }
    ctx.log.info({ alertConfig: input.id, serviceType: cfg.serviceType }, 'alert config updated')
    return { id: input.id, outcome: 'updated' }
  }
  const cfg = prepare(input, undefined)
  return ctx.alerts.exclusively(async (tx) => {
    const same = (await tx.list()).find(
      (r) =>
        r.serviceType === cfg.serviceType &&
        isDeepStrictEqual({ ...r.serviceConfig }, cfg.serviceConfig) &&
        isDeepStrictEqual([...r.alertForMirrors], cfg.alertForMirrors),
    )
    if (same) return { id: same.id, outcome: 'unchanged' as const }
    const id = await tx.insert(cfg)
    ctx.log.info({ alertConfig: id, serviceType: cfg.serviceType }, 'alert config created')
    return { id, outcome: 'created' as const }
  })
}

export async function deleteAlertConfig(ctx: AlertContext, id: number): Promise<void> {
  if (!(await ctx.alerts.delete(id))) {
    throw new PgMirrorError('undefined_object', `alert config ${id} does not exist`)
  }
  ctx.log.info({ alertConfig: id }, 'alert config deleted')
}
