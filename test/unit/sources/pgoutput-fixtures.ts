// Byte builders for pgoutput v1 messages, written from the protocol docs, so decoder tests read as the spec does.
// https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html

type Part = Buffer

const u8 = (n: number): Part => Buffer.from([n])
const i16 = (n: number): Part => {
  const b = Buffer.alloc(2)
  b.writeInt16BE(n)
  return b
}
const i32 = (n: number): Part => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n)
  return b
}
const u32 = (n: number): Part => {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}
const i64 = (n: bigint): Part => {
  const b = Buffer.alloc(8)
  b.writeBigInt64BE(n)
  return b
}
const cstr = (s: string): Part => Buffer.concat([Buffer.from(s, 'utf8'), u8(0)])
const ch = (c: string): Part => Buffer.from(c, 'ascii')

/** A tuple column: a string is a text value, null is NULL, 'u' marks unchanged TOAST. */
export type Col = string | null | { readonly unchanged: true }
export const U: Col = { unchanged: true }

export function tuple(cols: readonly Col[]): Buffer {
  const parts: Part[] = [i16(cols.length)]
  for (const c of cols) {
    if (c === null) parts.push(ch('n'))
    else if (typeof c === 'string') {
      const bytes = Buffer.from(c, 'utf8')
      parts.push(ch('t'), i32(bytes.length), bytes)
    } else parts.push(ch('u'))
  }
  return Buffer.concat(parts)
}

export const begin = (finalLsn: bigint, commitTime: bigint, xid: number): Buffer =>
  Buffer.concat([ch('B'), i64(finalLsn), i64(commitTime), u32(xid)])

export const commit = (commitLsn: bigint, endLsn: bigint, commitTime: bigint): Buffer =>
  Buffer.concat([ch('C'), u8(0), i64(commitLsn), i64(endLsn), i64(commitTime)])

export interface FixtureColumn {
  readonly name: string
  readonly key?: boolean
  readonly typeOid?: number
  readonly typeMod?: number
}

export function relation(
  oid: number,
  schema: string,
  name: string,
  ident: string,
  cols: FixtureColumn[],
): Buffer {
  const parts: Part[] = [ch('R'), u32(oid), cstr(schema), cstr(name), ch(ident), i16(cols.length)]
  for (const c of cols)
    parts.push(u8(c.key ? 1 : 0), cstr(c.name), u32(c.typeOid ?? 25), i32(c.typeMod ?? -1))
  return Buffer.concat(parts)
}

export const insert = (oid: number, cols: readonly Col[]): Buffer =>
  Buffer.concat([ch('I'), u32(oid), ch('N'), tuple(cols)])

export function update(
  oid: number,
  cols: readonly Col[],
  old?: { kind: 'K' | 'O'; cols: readonly Col[] },
): Buffer {
  const parts: Part[] = [ch('U'), u32(oid)]
  if (old) parts.push(ch(old.kind), tuple(old.cols))
  parts.push(ch('N'), tuple(cols))
  return Buffer.concat(parts)
}

export const del = (oid: number, kind: 'K' | 'O', cols: readonly Col[]): Buffer =>
  Buffer.concat([ch('D'), u32(oid), ch(kind), tuple(cols)])

export const truncate = (oids: readonly number[], options: number): Buffer =>
  Buffer.concat([ch('T'), i32(oids.length), u8(options), ...oids.map(u32)])

export const origin = (lsn: bigint, name: string): Buffer => Buffer.concat([ch('O'), i64(lsn), cstr(name)])

export const type = (oid: number, schema: string, name: string): Buffer =>
  Buffer.concat([ch('Y'), u32(oid), cstr(schema), cstr(name)])

export const message = (transactional: boolean, lsn: bigint, prefix: string, content: string): Buffer => {
  const body = Buffer.from(content, 'utf8')
  return Buffer.concat([ch('M'), u8(transactional ? 1 : 0), i64(lsn), cstr(prefix), i32(body.length), body])
}

/** XLogData ('w') wrapping a pgoutput message, as the walsender sends it inside CopyData. */
export const xlogData = (walStart: bigint, walEnd: bigint, payload: Buffer): Buffer =>
  Buffer.concat([ch('w'), i64(walStart), i64(walEnd), i64(0n), payload])

export const keepalive = (walEnd: bigint, replyRequested: boolean): Buffer =>
  Buffer.concat([ch('k'), i64(walEnd), i64(0n), u8(replyRequested ? 1 : 0)])
