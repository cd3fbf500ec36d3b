import { PgMirrorError } from '../errors.ts'
import { SECRET_KEYS } from '../model/peer.ts'
import type { OptionNode } from './ast.ts'

/**
 * Shared reading of `key = value` options for peers and mirrors. SQL hands over strings, numbers and booleans;
 * REST hands over JSON values. Both go through here, so a bad value gets the same 22023 on either door.
 */

export type OptionInput = string | number | boolean | readonly unknown[]
export type OptionInputs = Readonly<Record<string, OptionInput>>
/** `rest` also accepts camelCase keys (`rootCa`) and real JSON arrays; `sql` also accepts numbers and booleans for text options. */
export type OptionContext = 'sql' | 'rest'

/**
 * The record the validators take, from parsed `WITH (…)` options. Numbers stay text when `Number` would change
 * them (`007`). A list becomes an array of its items' text, which OptionReader.list and the alert validators read.
 */
export function optionRecord(
  options: readonly OptionNode[],
): Record<string, string | number | boolean | string[]> {
  const out: Record<string, string | number | boolean | string[]> = {}
  for (const { key, value } of options) {
    if (value.kind === 'list') out[key] = value.items.map((i) => String(i.value))
    else if (value.kind === 'number')
      out[key] = String(Number(value.value)) === value.value ? Number(value.value) : value.value
    else out[key] = value.value
  }
  return out
}

export interface OptionSchema {
  readonly keys: readonly string[]
  /** Other accepted names, mapped to their key. */
  readonly aliases?: Readonly<Record<string, string>>
  /** `unrecognized option "x" for peer type postgres`, from the key as given. */
  readonly unknownMessage: (key: string) => string
}

const snakeCase = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

const display = (key: string, value: unknown): string => {
  if (SECRET_KEYS.has(key)) return ''
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return `: "${text}"`
}

export function badValue(key: string, value: unknown, expected: string): PgMirrorError {
  return new PgMirrorError(
    'invalid_parameter_value',
    `invalid value for option "${key}"${display(key, value)}`,
    {
      field: key,
      hint: `expected ${expected}`,
    },
  )
}

/** Options after key resolution: canonical key → value. Reading a key validates its value. */
export class OptionReader {
  private readonly values: ReadonlyMap<string, OptionInput>
  private readonly ctx: OptionContext

  constructor(values: ReadonlyMap<string, OptionInput>, ctx: OptionContext) {
    this.values = values
    this.ctx = ctx
  }

  /** Resolves keys (camelCase on REST, aliases), rejecting unknown and repeated ones. */
  static from(options: OptionInputs, schema: OptionSchema, ctx: OptionContext): OptionReader {
    const values = new Map<string, OptionInput>()
    const givenAs = new Map<string, string>()
    for (const [given, value] of Object.entries(options)) {
      // JSON null means "not set"; the type says it cannot happen, REST bodies say otherwise.
      if ((value as unknown) === null || value === undefined) continue
      const name = ctx === 'rest' ? snakeCase(given) : given
      const key = schema.aliases?.[name] ?? name
      if (!schema.keys.includes(key)) {
        throw new PgMirrorError('invalid_parameter_value', schema.unknownMessage(given), {
          field: given,
          hint: `valid options are: ${schema.keys.join(', ')}`,
        })
      }
      const earlier = givenAs.get(key)
      if (earlier !== undefined) {
        throw new PgMirrorError('invalid_parameter_value', `option "${key}" specified more than once`, {
          field: given,
          hint: `"${earlier}" and "${given}" name the same option`,
        })
      }
      givenAs.set(key, given)
      values.set(key, value)
    }
    return new OptionReader(values, ctx)
  }

  /** A reader where `entries` fill in the keys these options do not give (or give as ''). */
  withFallbacks(entries: Iterable<readonly [string, OptionInput]>): OptionReader {
    const merged = new Map<string, OptionInput>(entries)
    for (const [k, v] of this.values) if (v !== '' || !merged.has(k)) merged.set(k, v)
    return new OptionReader(merged, this.ctx)
  }

  has(key: string): boolean {
    return this.values.has(key)
  }

  /** Text as given, empty string included (a password may be empty). */
  rawString(key: string): string | undefined {
    const v = this.values.get(key)
    if (v === undefined || typeof v === 'string') return v
    if (this.ctx === 'sql' && (typeof v === 'number' || typeof v === 'boolean')) return String(v)
    if (this.ctx === 'rest' && typeof v === 'number') return String(v)
    throw badValue(key, v, 'a string')
  }

  /** Text; an empty string counts as not given, as the UI sends '' for fields left blank. */
  string(key: string): string | undefined {
    const v = this.rawString(key)
    return v === '' ? undefined : v
  }

  requiredString(key: string, subject: string): string {
    const v = this.string(key)
    if (v === undefined) throw missing(key, subject)
    return v
  }

  int(key: string, min: number, max: number): number | undefined {
    const v = this.values.get(key)
    if (v === undefined || v === '') return undefined
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN
    if (!Number.isInteger(n) || n < min || n > max) {
      throw badValue(
        key,
        v,
        max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer between ${min} and ${max}`,
      )
    }
    return n
  }

  bool(key: string): boolean | undefined {
    const v = this.values.get(key)
    if (v === undefined || v === '') return undefined
    if (typeof v === 'boolean') return v
    const s = typeof v === 'string' ? v.trim().toLowerCase() : undefined
    if (s === 'true' || s === 'false') return s === 'true'
    throw badValue(key, v, 'true or false')
  }

  /** One of `allowed`, matched case-insensitively and returned in its canonical spelling. */
  oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const v = this.values.get(key)
    if (v === undefined || v === '') return undefined
    const found =
      typeof v === 'string' ? allowed.find((a) => a.toLowerCase() === v.trim().toLowerCase()) : undefined
    if (found === undefined) throw badValue(key, v, `one of ${allowed.join(', ')}`)
    return found
  }

  /** A non-empty list: an array (REST) or a comma-separated string; items trimmed, empty ones dropped. */
  list(key: string): string[] | undefined {
    const v = this.values.get(key)
    if (v === undefined) return undefined
    const items = typeof v === 'string' ? v.split(',') : Array.isArray(v) ? v : undefined
    if (items === undefined || items.some((i) => typeof i !== 'string')) {
      throw badValue(key, v, 'a comma-separated string or an array of strings')
    }
    const list = (items as string[]).map((i) => i.trim()).filter((i) => i !== '')
    if (list.length === 0) throw badValue(key, v, 'at least one item')
    return list
  }
}

export function missing(key: string, subject: string): PgMirrorError {
  return new PgMirrorError('invalid_parameter_value', `option "${key}" is required for ${subject}`, {
    field: key,
  })
}

/** `{ [key]: value }` when value is defined, `{}` otherwise: builds configs whose optional fields are absent, not undefined. */
export const present = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V }
