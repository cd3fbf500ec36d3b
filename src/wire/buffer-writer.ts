/**
 * Builds one backend message: type byte, int32 length (which counts itself but not the type byte), then the body.
 * The header space is reserved up front so finishing a message is one write of the length, not a copy.
 */
export class BufferWriter {
  #buf: Buffer
  #offset = 5

  constructor(initialSize = 256) {
    this.#buf = Buffer.allocUnsafe(Math.max(initialSize, 16))
  }

  int8(v: number): this {
    this.#ensure(1)
    this.#buf.writeUInt8(v, this.#offset)
    this.#offset += 1
    return this
  }

  int16(v: number): this {
    this.#ensure(2)
    this.#buf.writeInt16BE(v, this.#offset)
    this.#offset += 2
    return this
  }

  int32(v: number): this {
    this.#ensure(4)
    this.#buf.writeInt32BE(v, this.#offset)
    this.#offset += 4
    return this
  }

  /** A string followed by NUL. An embedded NUL would end the field early and break framing, so it is dropped. */
  cstring(value: string): this {
    const s = value.includes('\0') ? value.replaceAll('\0', '') : value
    const len = Buffer.byteLength(s)
    this.#ensure(len + 1)
    this.#buf.write(s, this.#offset, 'utf8')
    this.#offset += len
    this.#buf[this.#offset++] = 0
    return this
  }

  /** A string with no terminator (the caller has written its length). */
  string(s: string): this {
    const len = Buffer.byteLength(s)
    this.#ensure(len)
    this.#buf.write(s, this.#offset, 'utf8')
    this.#offset += len
    return this
  }

  bytes(b: Uint8Array): this {
    this.#ensure(b.length)
    this.#buf.set(b, this.#offset)
    this.#offset += b.length
    return this
  }

  /** Finishes the message; the writer must not be used afterwards. */
  message(code: number): Buffer {
    this.#buf[0] = code
    this.#buf.writeInt32BE(this.#offset - 1, 1)
    return this.#buf.subarray(0, this.#offset)
  }

  #ensure(n: number): void {
    if (this.#offset + n <= this.#buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#offset + n))
    this.#buf.copy(next, 0, 0, this.#offset)
    this.#buf = next
  }
}
