// Network and database faults under a write load, the CI-sized version (`npm run chaos` runs them longer): the
// target Postgres restarted, the walsender killed, a paused mirror's retained WAL, a TCP proxy that drops and stalls
// connections, a broken snapshot connection and a target connection broken mid-batch. Each ends with
// source ≡ target (md5 of ordered rows) and a clean source after DROP MIRROR.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  proxyFaults,
  snapshotHolderKilled,
  targetDroppedMidBatch,
  targetRestart,
  walsenderKill,
} from './support/network-faults.ts'
import { runSeed } from './support/prng.ts'
import type { Figures } from './support/scenario-kit.ts'

const seed = runSeed()
const check = (f: Figures, trials: number) => {
  assert.equal(f.lost, 0)
  assert.ok(f.trials >= trials, `${f.trials} trials`)
  assert.ok(f.rowsCompared > 0)
}

describe(`faults between pgmirror and its databases (RELIABILITY_SEED=${seed})`, () => {
  test('the target Postgres restarts mid-stream: retries with backoff, shows the error, catches up', async () => {
    check(await targetRestart({ restarts: 2, seed }), 2)
  })

  test('the walsender is terminated mid-stream: the stream resumes from its checkpoint; a paused mirror retains WAL', async () => {
    check(await walsenderKill({ kills: 3, seed }), 4)
  })

  test('a TCP proxy drops and stalls connections to source and target: nothing lost or doubled', async () => {
    check(await proxyFaults({ faults: 4, seed }), 4)
  })

  test('regression: a snapshot asked for its dead exported snapshot forever once the connection holding it was cut', async () => {
    check(await snapshotHolderKilled({ seed }), 1)
  })

  test("regression: a target connection broken mid-batch crashed pgmirror (unheard 'error' on a pooled client)", async () => {
    check(await targetDroppedMidBatch({ rounds: 2, seed }), 2)
  })
})
