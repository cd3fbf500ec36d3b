/**
 * Request field names. PeerDB's API (protobuf JSON) accepts `flow_job_name` and `flowJobName` alike; we turn every
 * key into camelCase once, before validation, so the schemas and routes only ever see one spelling.
 */
import { PgMirrorError } from '../errors.ts'

/** Maps whose keys are data, not field names: left as sent (environment variable names, a service's own config). */
const OPAQUE = new Set(['env', 'updatedEnv', 'serviceConfig'])

/** Only an underscore inside a word joins two parts: `__proto__` stays itself, so an error names what was sent. */
export const camelCase = (key: string): string =>
  key.replace(/(?<=[A-Za-z0-9])_([a-z0-9])/g, (_, c: string) => c.toUpperCase())

export const snakeCase = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

/** Recursively renames snake_case keys to camelCase. A field given in both spellings is an error, not a guess. */
export function normalizeKeys(value: unknown, path = ''): unknown {
  if (Array.isArray(value)) return value.map((v, i) => normalizeKeys(v, `${path}[${i}]`))
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [given, v] of Object.entries(value)) {
    const key = camelCase(given)
    const at = path ? `${path}.${key}` : key
    if (Object.hasOwn(out, key)) {
      throw new PgMirrorError('invalid_parameter_value', `field "${at}" is given more than once`, {
        field: at,
        hint: 'snake_case and camelCase spellings name the same field; send one of them',
      })
    }
    // defineProperty, not assignment: a `__proto__` key in the JSON must stay a plain (and rejected) field.
    Object.defineProperty(out, key, {
      value: OPAQUE.has(key) ? v : normalizeKeys(v, at),
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return out
}

/** Renames keys of one object to camelCase (responses are camelCase; stored configs are snake_case). */
export function camelKeys(obj: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [camelCase(k), v]))
}
