// Local stand-ins for where alerts go: a Slack Web API that records chat.postMessage calls, and an SMTP server
// that records mail. Both listen on 127.0.0.1 on an ephemeral port.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

export interface SlackCall {
  readonly path: string
  readonly authorization: string | undefined
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the message body as Slack would parse it
  readonly body: any
}

export interface SlackReceiver {
  /** The value for PGMIRROR_SLACK_API_URL. */
  readonly url: string
  readonly calls: SlackCall[]
  close(): Promise<void>
}

/** Answers `{ok: true}`, except for channels in `failChannels`, which get Slack's `{ok: false, error}`. */
export async function startSlackReceiver(failChannels: readonly string[] = []): Promise<SlackReceiver> {
  const calls: SlackCall[] = []
  const server: Server = createServer((req, res) => {
    let text = ''
    req.on('data', (c: Buffer) => (text += c.toString('utf8')))
    req.on('end', () => {
      const body = JSON.parse(text || '{}')
      calls.push({ path: req.url ?? '', authorization: req.headers.authorization, body })
      res.setHeader('content-type', 'application/json')
      res.end(
        JSON.stringify(
          failChannels.includes(body.channel) ? { ok: false, error: 'channel_not_found' } : { ok: true },
        ),
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/api`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

export interface ReceivedMail {
  readonly from: string
  readonly to: readonly string[]
  /** The Subject header, its MIME encoded words decoded. */
  readonly subject: string
  /** The body, quoted-printable decoded. */
  readonly text: string
  /** The whole message as sent (headers and body). */
  readonly raw: string
}

const qp = (s: string) =>
  Buffer.from(
    s
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  ).toString('utf8')

/** Enough of RFC 2047 and 2045 for what nodemailer writes: Q-encoded words and a quoted-printable body. */
function parseMail(raw: string): { subject: string; text: string } {
  const split = raw.indexOf('\r\n\r\n')
  const head = raw.slice(0, split).replace(/\r\n[ \t]/g, ' ')
  const subjectLine = /^Subject: (.*)$/m.exec(head)?.[1] ?? ''
  const subject = subjectLine
    .replace(/\?= =\?/g, '?==?')
    .replace(/=\?UTF-8\?Q\?(.*?)\?=/gi, (_, w: string) => qp(w.replace(/_/g, ' ')))
  const body = raw.slice(split + 4)
  return { subject, text: /quoted-printable/i.test(head) ? qp(body) : body }
}

export interface SmtpReceiver {
  readonly port: number
  readonly mails: ReceivedMail[]
  close(): Promise<void>
}

export async function startSmtpReceiver(): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let raw = ''
      stream.on('data', (c: Buffer) => (raw += c.toString('utf8')))
      stream.on('end', () => {
        const from = session.envelope.mailFrom
        mails.push({
          from: from ? from.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          ...parseMail(raw),
          raw,
        })
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.server.address() as AddressInfo
  return { port, mails, close: () => new Promise((resolve) => server.close(() => resolve())) }
}
