// Runs `npm ci` when node_modules is missing or older than package-lock.json, so `npm start` and `npm test`
// work straight after a clone or a pull that changed dependencies, and cost nothing otherwise.
import { spawnSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

const mtime = (path) => {
  try {
    return statSync(path).mtimeMs
  } catch {
    return undefined
  }
}

// npm writes node_modules/.package-lock.json at the end of every install, so its age is the install's age.
const installed = mtime(join(root, 'node_modules', '.package-lock.json'))
const locked = mtime(join(root, 'package-lock.json'))

if (installed === undefined || (locked !== undefined && installed < locked)) {
  console.error('ensure-deps: node_modules is missing or older than package-lock.json; running npm ci')
  const run = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' })
  if (run.error) throw run.error
  process.exit(run.status ?? 1)
}
