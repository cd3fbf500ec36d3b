/**
 * Delivery: Slack's chat.postMessage (one message per channel, as PeerDB does) and email over SMTP. A sender
 * resolves when every recipient took the alert and throws otherwise; its error text never carries the token or the
 * SMTP password, because the alert loop stores and logs it.
 */
import nodemailer from 'nodemailer'
import type { AlertingConfig } from '../../config.ts'
import type { AlertEvent } from './checks.ts'

const TIMEOUT_MS = 10_000

export interface SlackDestination {
  readonly auth_token: string
  readonly channel_ids: readonly string[]
  readonly members: readonly string[]
}

export interface EmailDestination {
  readonly email_addresses: readonly string[]
}

function causeOf(e: unknown): string {
  const err = e as Error & { cause?: { message?: string; code?: string } }
  if (err.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`
  const cause = err.cause?.code ?? err.cause?.message
  return cause ? `${err.message} (${cause})` : err.message
}

/** Slack's message: a header with the key, the text, and who to notify (members, or the whole channel). */
export function slackMessage(
  channel: string,
  members: readonly string[],
  a: AlertEvent,
): Record<string, unknown> {
  const cc = members.length > 0 ? members.map((m) => `<@${m}>`).join(' ') : '<!channel>'
  const body = `${a.message}\ncc: ${cc}`
  return {
    channel,
    text: `:rotating_light: ${a.key}\n${body}`,
    blocks: [
      {
        type: 'header',
        text: { type: 'plain_text', text: `:rotating_light: Alert: ${a.key}`.slice(0, 150) },
      },
      { type: 'section', text: { type: 'mrkdwn', text: body } },
    ],
  }
}

export async function sendSlack(apiUrl: string, dest: SlackDestination, a: AlertEvent): Promise<void> {
  const failures: string[] = []
  for (const channel of dest.channel_ids) {
    try {
      const res = await fetch(`${apiUrl}/chat.postMessage`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          authorization: `Bearer ${dest.auth_token}`,
        },
        body: JSON.stringify(slackMessage(channel, dest.members, a)),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      })
      const answer = (await res.json().catch(() => undefined)) as { ok?: boolean; error?: string } | undefined
      if (!res.ok) failures.push(`${channel}: HTTP ${res.status}${answer?.error ? ` ${answer.error}` : ''}`)
      else if (answer?.ok !== true) failures.push(`${channel}: ${answer?.error ?? 'answer without ok: true'}`)
    } catch (e) {
      failures.push(`${channel}: ${causeOf(e)}`)
    }
  }
  if (failures.length > 0) throw new Error(`slack did not take the alert: ${failures.join('; ')}`)
}

export async function sendEmail(
  smtp: AlertingConfig['smtp'],
  dest: EmailDestination,
  a: AlertEvent,
): Promise<void> {
  if (!smtp.host) throw new Error('email alerts need PGMIRROR_SMTP_HOST (the SMTP server to send through)')
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    ...(smtp.user !== undefined ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
  })
  try {
    await transport.sendMail({
      from: smtp.from,
      to: [...dest.email_addresses],
      subject: `[pgmirror] ${a.key}`,
      text: `${a.message}\n\n-- pgmirror (mirror "${a.mirror}", ${a.kind})\n`,
    })
  } catch (e) {
    throw new Error(`smtp server ${smtp.host}:${smtp.port} did not take the alert: ${causeOf(e)}`)
  } finally {
    transport.close()
  }
}
