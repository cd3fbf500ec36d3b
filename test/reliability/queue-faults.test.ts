// Restarts of the queue backend under a streaming mirror and a write load, the CI-sized version (`npm run chaos`
// runs more): Redis without persistence, and the catalog Postgres when it holds the queue.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { runSeed } from './support/prng.ts'
import { catalogRestart, redisRestart } from './support/queue-faults.ts'
import type { Figures } from './support/scenario-kit.ts'

const seed = runSeed()
const check = (f: Figures, trials: number) => {
  assert.equal(f.lost, 0)
  assert.ok(f.trials >= trials, `${f.trials} trials`)
  assert.ok(f.rowsCompared > 0)
}

describe(`queue backend restarts (RELIABILITY_SEED=${seed})`, () => {
  test('regression: after Redis restarted empty, a restarted pgmirror never ran the mirror again (its job was lost)', async () => {
    check(await redisRestart({ restarts: 1, seed }), 1)
  })

  test('regression: a restart of the catalog Postgres (holding the queue) ended the mirror job for good', async () => {
    check(await catalogRestart({ restarts: 1, seed }), 1)
  })
})
