/**
 * Alert configs: where mirror alerts go (Slack or email). One implementation behind REST's /alerts/config routes
 * (by id, PeerDB's shape) and the ALERT statements on the wire (by name); sending them is engine/alerting's job.
 */
import type pg from 'pg'
import { isDeepStrictEqual } from 'node:util'
import { z } from 'zod'
import { AlertStore, type AlertConfigRecord, type AlertServiceType } from '../../catalog/alert-store.ts'
import { redactConfig } from '../../catalog/peer-store.ts'
import { PgMirrorError, q } from '../../errors.ts'
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
  readonly name: string
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

/** Which front door a config came through: REST names fields `service_config.x`, SQL names the option `x`. */
type Door = 'rest' | 'sql'

function validateServiceConfig(
  type: AlertServiceType,
  raw: Record<string, unknown>,
  door: Door,
): Record<string, unknown> {
  const r = SERVICE_SCHEMAS[type].safeParse(raw)
  if (r.success) return r.data
  const issue = r.error.issues[0]
  const path =
    issue?.code === 'unrecognized_keys' ? [...issue.path, ...issue.keys.slice(0, 1)] : (issue?.path ?? [])
  if (door === 'sql') {
    const key = path.join('.')
    const top = String(path[0] ?? '')
    const message =
      raw[top] === undefined
        ? `option "${top}" is required for ${type} alerts`
        : `invalid value for option "${key}": ${issue?.message}`
    throw new PgMirrorError('invalid_parameter_value', message, { field: top })
  }
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
function prepare(
  input: Omit<AlertConfigInput, 'id'>,
  stored: AlertConfigRecord | undefined,
  door: Door = 'rest',
) {
  const serviceType = serviceTypeOf(input.serviceType)
  const raw: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(input.serviceConfig)) raw[snakeCase(k)] = v
  for (const key of SECRET_KEYS) {
    if (!(key in SERVICE_SCHEMAS[serviceType].shape) || !isPlaceholder(raw[key])) continue
    if (stored?.serviceType === serviceType && stored.serviceConfig[key] !== undefined) {
      raw[key] = stored.serviceConfig[key]
    } else if (raw[key] === REDACTED) {
      const field = door === 'rest' ? `service_config.${key}` : key
      throw new PgMirrorError('invalid_parameter_value', `${field} must be the secret itself`, {
        field,
        hint: '******** stands for a stored value, and this config has none to keep',
      })
    }
  }
  return {
    serviceType,
    serviceConfig: validateServiceConfig(serviceType, raw, door),
    alertForMirrors: mirrorList(input.alertForMirrors),
  }
}

const view = (r: AlertConfigRecord): AlertConfigView => ({
  id: r.id,
  name: r.name,
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

// ---- by name: the ALERT statements ----

/** Option values as the SQL layer hands them over (optionRecord): text, numbers, booleans and lists. */
export type AlertOptions = Readonly<Record<string, string | number | boolean | readonly string[]>>

const LIST_KEYS = new Set(['channel_ids', 'members', 'email_addresses', 'alert_for_mirrors'])

export function validateAlertName(name: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new PgMirrorError('invalid_parameter_value', `invalid alert name ${q(name)}`, {
      field: 'name',
      hint: 'alert names are lower case letters, digits and underscores, starting with a letter, at most 63 characters',
    })
  }
}

/** `'a, b'` or `('a', 'b')`; an empty string is the empty list. */
function listValue(key: string, v: AlertOptions[string]): string[] {
  const items = typeof v === 'string' ? v.split(',') : Array.isArray(v) ? v : undefined
  if (items === undefined) {
    throw new PgMirrorError('invalid_parameter_value', `invalid value for option "${key}"`, {
      field: key,
      hint: "expected a list: 'a,b' or ('a', 'b')",
    })
  }
  return items.map((i) => i.trim()).filter((i) => i !== '')
}

/**
 * Reads `WITH (key = value, ...)` into a service config plus the mirror list, without judging the values (prepare
 * does that, for both doors). Unknown keys are refused here, naming the key; text that is a whole number becomes
 * a number, so `slot_lag_mb_alert_threshold = '100'` and `= 100` mean the same.
 */
function fromOptions(
  type: AlertServiceType,
  options: AlertOptions,
): { serviceConfig: Record<string, unknown>; alertForMirrors: string[] | undefined } {
  const known = [...Object.keys(SERVICE_SCHEMAS[type].shape), 'alert_for_mirrors']
  const serviceConfig: Record<string, unknown> = {}
  let alertForMirrors: string[] | undefined
  for (const [key, v] of Object.entries(options)) {
    if (!known.includes(key)) {
      throw new PgMirrorError('invalid_parameter_value', `unrecognized option ${q(key)} for ${type} alerts`, {
        field: key,
        hint: `valid options are: ${known.join(', ')}`,
      })
    }
    if (key === 'alert_for_mirrors') alertForMirrors = listValue(key, v)
    else if (LIST_KEYS.has(key)) serviceConfig[key] = listValue(key, v)
    else if (key.endsWith('_threshold') && typeof v === 'string' && /^\s*\d+\s*$/.test(v))
      serviceConfig[key] = Number(v)
    else serviceConfig[key] = v
  }
  return { serviceConfig, alertForMirrors }
}

async function getByName(ctx: AlertContext, name: string): Promise<AlertConfigRecord> {
  const r = await ctx.alerts.findByName(name)
  if (!r) throw new PgMirrorError('undefined_object', `alert ${q(name)} does not exist`)
  return r
}

export interface CreateAlertInput {
  readonly name: string
  readonly serviceType: AlertServiceType
  readonly options: AlertOptions
  readonly ifNotExists: boolean
}

/** CREATE ALERT: an existing name is 42710, or a notice with IF NOT EXISTS. */
export async function createAlert(
  ctx: AlertContext,
  input: CreateAlertInput,
): Promise<{ created: boolean; notices: string[] }> {
  validateAlertName(input.name)
  const exists = () => {
    if (input.ifNotExists)
      return { created: false, notices: [`alert ${q(input.name)} already exists, skipping`] }
    throw new PgMirrorError('duplicate_object', `alert ${q(input.name)} already exists`)
  }
  if (await ctx.alerts.findByName(input.name)) return exists()
  const given = fromOptions(input.serviceType, input.options)
  const cfg = prepare(
    {
      serviceType: input.serviceType,
      serviceConfig: given.serviceConfig,
      alertForMirrors: given.alertForMirrors ?? [],
    },
    undefined,
    'sql',
  )
  let id: number
  try {
    id = await ctx.alerts.insert({ ...cfg, name: input.name })
  } catch (e) {
    // A concurrent CREATE of the same name won the race.
    if ((e as { code?: string }).code === '23505') return exists()
    throw e
  }
  ctx.log.info({ alertConfig: id, name: input.name, serviceType: cfg.serviceType }, 'alert config created')
  return { created: true, notices: [] }
}

/** ALTER ALERT name SET (...): the given keys replace those keys; secrets not given keep their stored values. */
export async function alterAlert(ctx: AlertContext, name: string, options: AlertOptions): Promise<void> {
  const stored = await getByName(ctx, name)
  const given = fromOptions(stored.serviceType, options)
  const cfg = prepare(
    {
      serviceType: stored.serviceType,
      serviceConfig: { ...stored.serviceConfig, ...given.serviceConfig },
      alertForMirrors: given.alertForMirrors ?? stored.alertForMirrors,
    },
    stored,
    'sql',
  )
  if (!(await ctx.alerts.update(stored.id, cfg))) {
    throw new PgMirrorError('undefined_object', `alert ${q(name)} does not exist`)
  }
  ctx.log.info({ alertConfig: stored.id, name, serviceType: cfg.serviceType }, 'alert config updated')
}

export async function dropAlert(
  ctx: AlertContext,
  name: string,
  ifExists: boolean,
): Promise<{ notices: string[] }> {
  const stored = await ctx.alerts.findByName(name)
  if (!stored || !(await ctx.alerts.delete(stored.id))) {
    if (ifExists) return { notices: [`alert ${q(name)} does not exist, skipping`] }
    throw new PgMirrorError('undefined_object', `alert ${q(name)} does not exist`)
  }
  ctx.log.info({ alertConfig: stored.id, name }, 'alert config deleted')
  return { notices: [] }
}
