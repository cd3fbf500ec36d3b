import type { Value } from '../../model/record.ts'

/**
 * Sets a column on a plain row object. Plain objects keep V8's fast property paths (null-prototype objects start
 * in slow dictionary mode, and decoding ran 4x slower with them); only a column literally named `__proto__` needs
 * defineProperty, since assigning it would replace the prototype instead of adding a value.
 */
export function setColumn(row: Record<string, Value>, name: string, value: Value): void {
  if (name === '__proto__') {
    Object.defineProperty(row, name, { value, enumerable: true, writable: true, configurable: true })
  } else {
    row[name] = value
  }
}
