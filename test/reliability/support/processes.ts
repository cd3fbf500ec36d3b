// Small process helpers for the throwaway servers the reliability tests start and restart on their own.
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/** A TCP port nobody listens on right now (the OS picks it; we close it again at once). */
export async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Runs a command to completion; on failure the error carries its output. */
export async function run(cmd: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cmd, [...args], { maxBuffer: 16 * 1024 * 1024 })
    return stdout
  } catch (e) {
    const x = e as Error & { stdout?: string; stderr?: string }
    throw new Error(`${cmd} ${args.join(' ')} failed: ${x.message}\n${x.stdout ?? ''}${x.stderr ?? ''}`)
  }
}

/** The resident set size of a process in bytes, from /proc (VmRSS); undefined once the process is gone. */
export async function rssBytes(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined)
  const m = status && /^VmRSS:\s+(\d+) kB/m.exec(status)
  return m ? Number(m[1]) * 1024 : undefined
}
