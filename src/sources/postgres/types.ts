import type { CustomTypesConfig } from 'pg'

const keepText = (value: string): string => value

/**
 * Type parsers that hand back every value exactly as the server printed it. Installed per client (never on pg's
 * global registry, which other code shares) so numeric, int8, timestamps and json pass through untouched: no JS
 * Number or Date ever sees a replicated value.
 */
export const rawTextTypes: CustomTypesConfig = {
  getTypeParser: (() => keepText) as unknown as CustomTypesConfig['getTypeParser'],
}
