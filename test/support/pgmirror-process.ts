// Starts a real pgmirror process (bin/pgmirror.js) the way a user does, on ephemeral ports, and reads the ports it
// chose from its JSON log lines.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../../bin/pgmirror.js', import.meta.url))

export interface PgmirrorProcess {
  readonly port: number
  readonly httpPort: number
  readonly child: ChildProcess
  /** Everything the process wrote to stdout and stderr so far. */
  logs(): string
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>
}

export interface StartOptions {
  readonly env: Readonly<Record<string, string>>
  readonly args?: readonly string[]
  readonly timeoutMs?: number
}

export async function startPgmirror(opts: StartOptions): Promise<PgmirrorProcess> {
  const child = spawn(
    process.execPath,
    [BIN, 'start', '--port', '0', '--http-port', '0', ...(opts.args ?? [])],
    {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        PGMIRROR_LOG_LEVEL: 'info',
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  let port = 0
  let httpPort = 0
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8')
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue
        try {
          const j = JSON.parse(line) as { msg?: string; port?: number }
          if (j.msg === 'pgwire gateway listening' && j.port) port = j.port
          if (j.msg === 'http api listening' && j.port) httpPort = j.port
        } catch {
          // a partial line; the next chunk completes it
        }
      }
      const needGateway = !(opts.args ?? []).includes('api') && !(opts.args ?? []).includes('worker')
      const needApi = !(opts.args ?? []).includes('gateway') && !(opts.args ?? []).includes('worker')
      if ((!needGateway || port) && (!needApi || httpPort)) resolve()
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (c: Buffer) => {
      out += c.toString('utf8')
    })
    void exited.then((code) =>
      reject(new Error(`pgmirror exited with code ${code} before listening:\n${out}`)),
    )
  })
  const timeout = opts.timeoutMs ?? 60_000
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    ready,
    new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`pgmirror did not start within ${timeout} ms:\n${out}`)),
        timeout,
      )
    }),
  ]).finally(() => clearTimeout(timer))
  const waitExit = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    await exited
  }
  return {
    port,
    httpPort,
    child,
    logs: () => out,
    stop: () => waitExit('SIGTERM'),
    kill: () => waitExit('SIGKILL'),
  }
}
