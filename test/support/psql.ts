// Runs the real psql binary against a server, the way a user would.
import { execFile } from 'node:child_process'

export interface PsqlResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export function psql(
  conninfo: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<PsqlResult> {
  return new Promise((resolve) => {
    execFile(
      'psql',
      [conninfo, '-X', '-v', 'VERBOSITY=verbose', ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}
