import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto'

/**
 * Process ids and secret keys handed out in BackendKeyData, so a CancelRequest arriving on another socket can find
 * the connection it targets. One registry per server.
 */
export interface CancelKey {
  readonly processId: number
  readonly secretKey: number
}

export class CancelRegistry {
  readonly #targets = new Map<number, { readonly secret: Buffer; readonly cancel: () => void }>()

  /** Registers a connection's cancel action under a fresh process id and crypto-random secret. */
  register(cancel: () => void): CancelKey {
    let processId = randomInt(1, 2 ** 31 - 1)
    while (this.#targets.has(processId)) processId = randomInt(1, 2 ** 31 - 1)
    const secret = randomBytes(4)
    this.#targets.set(processId, { secret, cancel })
    return { processId, secretKey: secret.readInt32BE(0) }
  }

  unregister(processId: number): void {
    this.#targets.delete(processId)
  }

  /** True when the key matched and the cancel action ran. The secret is compared in constant time. */
  cancel(processId: number, secretKey: number): boolean {
    const target = this.#targets.get(processId)
    if (!target) return false
    const given = Buffer.alloc(4)
    given.writeInt32BE(secretKey, 0)
    if (!timingSafeEqual(given, target.secret)) return false
    target.cancel()
    return true
  }
}
