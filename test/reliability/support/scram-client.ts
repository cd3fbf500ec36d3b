// SCRAM-SHA-256 from the client side on a raw socket: the fuzzer logs in with it before mutating session frames,
// and the security test uses it to send passwords real drivers will not send (an empty one).
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto'
import net from 'node:net'
import { serialize } from 'pg-protocol'

/** The client side of SCRAM-SHA-256, with any password (drivers refuse an empty one before sending anything). */
export class ScramClient {
  #salted = new Map<string, Buffer>()
  constructor(private readonly password: string) {}

  first(): { frame: Buffer; bare: string } {
    const bare = `n=*,r=${randomBytes(18).toString('base64')}`
    return { frame: serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', `n,,${bare}`), bare }
  }

  final(bare: string, serverFirst: string): { frame: Buffer; nonce: string } {
    const attrs = Object.fromEntries(serverFirst.split(',').map((a) => [a[0], a.slice(2)]))
    const nonce = attrs.r ?? ''
    const key = `${attrs.s}:${attrs.i}`
    let salted = this.#salted.get(key)
    if (!salted) {
      salted = pbkdf2Sync(this.password, Buffer.from(attrs.s ?? '', 'base64'), Number(attrs.i), 32, 'sha256')
      this.#salted.set(key, salted)
    }
    const clientKey = createHmac('sha256', salted).update('Client Key').digest()
    const storedKey = createHash('sha256').update(clientKey).digest()
    const withoutProof = `c=biws,r=${nonce}`
    const sig = createHmac('sha256', storedKey).update(`${bare},${serverFirst},${withoutProof}`).digest()
    const proof = Buffer.alloc(32)
    for (let i = 0; i < 32; i++) proof[i] = (clientKey[i] as number) ^ (sig[i] as number)
    return {
      frame: serialize.sendSCRAMClientFinalMessage(`${withoutProof},p=${proof.toString('base64')}`),
      nonce,
    }
  }
}

/**
 * A full SCRAM login with `password` on a raw socket: undefined when the server accepts it, else the SQLSTATE of
 * its ErrorResponse.
 */
export async function scramLogin(port: number, password: string): Promise<string | undefined> {
  const scram = new ScramClient(password)
  const s = net.connect(port, '127.0.0.1')
  let got = Buffer.alloc(0)
  let bare = ''
  try {
    return await new Promise<string | undefined>((resolve, reject) => {
      s.on('error', reject)
      s.on('close', () => reject(new Error('the server closed the connection without an answer')))
      s.on('data', (b: Buffer) => {
        got = Buffer.concat([got, b])
        let p = 0
        while (p + 5 <= got.length && p + 1 + got.readInt32BE(p + 1) <= got.length) {
          const end = p + 1 + got.readInt32BE(p + 1)
          const body = got.subarray(p + 5, end)
          if (got[p] === 0x52) {
            const sub = body.readInt32BE(0)
            if (sub === 10) {
              const first = scram.first()
              bare = first.bare
              s.write(first.frame)
            } else if (sub === 11) s.write(scram.final(bare, body.subarray(4).toString('utf8')).frame)
            else if (sub === 0) resolve(undefined)
          } else if (got[p] === 0x45) {
            const code = body
              .toString('latin1')
              .split('\0')
              .find((f) => f.startsWith('C'))
            resolve(code?.slice(1))
          }
          p = end
        }
        got = got.subarray(p)
      })
      s.write(serialize.startup({ user: 'scram' }))
    })
  } finally {
    s.destroy()
  }
}
