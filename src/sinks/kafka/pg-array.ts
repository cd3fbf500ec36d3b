/**
 * Parsing the text form of a Postgres array (array_out): `{1,2,NULL}`, `{"a \"q\"",NULL,"NULL"}`, nested
 * `{{1,2},{3,4}}`, and the bounds decoration `[0:1]={7,8}` that array_out writes when a lower bound is not 1
 * (the bounds are dropped: JSON arrays start at 0 anyway).
 *
 * Elements come back as their own text, to be converted by the element type; an unquoted `NULL` (any case) is SQL
 * NULL, a quoted `"NULL"` is the string. Unquoted elements lose surrounding whitespace, as in array_in.
 */

export type PgArray = (string | null | PgArray)[]

class ArrayReader {
  private i = 0
  constructor(
    private readonly text: string,
    private readonly delimiter: string,
  ) {}

  parse(): PgArray {
    if (this.text[0] === '[') {
      const eq = this.text.indexOf('=')
      if (eq === -1) throw this.fail('"=" after the array bounds')
      this.i = eq + 1
    }
    this.skipSpace()
    const out = this.array()
    this.skipSpace()
    if (this.i !== this.text.length) throw this.fail('the end of the array')
    return out
  }

  private array(): PgArray {
    if (this.text[this.i] !== '{') throw this.fail('"{"')
    this.i++
    const items: PgArray = []
    this.skipSpace()
    if (this.text[this.i] === '}') {
      this.i++
      return items
    }
    while (true) {
      this.skipSpace()
      const ch = this.text[this.i]
      if (ch === '{') items.push(this.array())
      else if (ch === '"') items.push(this.quoted())
      else items.push(this.unquoted())
      this.skipSpace()
      const sep = this.text[this.i]
      this.i++
      if (sep === '}') return items
      if (sep !== this.delimiter) throw this.fail(`"${this.delimiter}" or "}"`, this.i - 1)
    }
  }

  private quoted(): string {
    this.i++
    let out = ''
    while (this.i < this.text.length) {
      const ch = this.text[this.i++] as string
      if (ch === '"') return out
      out += ch === '\\' ? (this.text[this.i++] ?? '') : ch
    }
    throw this.fail('a closing quote')
  }

  private unquoted(): string | null {
    let out = ''
    let escaped = false
    while (this.i < this.text.length) {
      const ch = this.text[this.i] as string
      if (ch === this.delimiter || ch === '}') break
      this.i++
      if (ch === '\\') {
        out += this.text[this.i++] ?? ''
        escaped = true
      } else out += ch
    }
    const value = out.trim()
    if (value === '') throw this.fail('an array element')
    return !escaped && value.toUpperCase() === 'NULL' ? null : value
  }

  private skipSpace(): void {
    while (this.i < this.text.length && /\s/.test(this.text[this.i] as string)) this.i++
  }

  private fail(expected: string, at = this.i): Error {
    return new Error(`malformed array literal "${this.text}": expected ${expected} at offset ${at}`)
  }
}

/** Parses array text; `delimiter` is the element type's typdelim (`,` for all but box, which uses `;`). */
export function parsePgArray(text: string, delimiter = ','): PgArray {
  return new ArrayReader(text, delimiter).parse()
}
