import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Wakeups } from '../../../src/engine/jobs/wakeups.ts'

const never = new AbortController().signal

/** How long `p` took to settle, in ms. */
async function timed(p: Promise<void>): Promise<number> {
  const t0 = performance.now()
  await p
  return performance.now() - t0
}

describe('Wakeups', () => {
  it('waits out the interval when nothing happens', async () => {
    const w = new Wakeups(60)
    assert.ok((await timed(w.wait('a', never))) >= 55)
  })

  it('ends a wait at once on notify of its key, and only of its key', async () => {
    const w = new Wakeups(5_000)
    const a = w.wait('a', never)
    const b = w.wait('a', never)
    let other = false
    void w.wait('b', AbortSignal.timeout(50)).then(() => (other = true))
    w.notify('a')
    assert.ok((await timed(Promise.all([a, b]).then(() => undefined))) < 1_000)
    assert.equal(other, false)
  })

  it('keeps a notify that came between two waits for the next wait, within one interval', async () => {
    const w = new Wakeups(5_000)
    w.notify('a')
    assert.ok((await timed(w.wait('a', never))) < 1_000)
    // Used up: the wait after it waits again.
    const ac = new AbortController()
    const next = w.wait('a', ac.signal)
    setTimeout(() => ac.abort(), 30)
    assert.ok((await timed(next)) >= 25)
  })

  it('forgets a notify older than the interval', async () => {
    const w = new Wakeups(40)
    w.notify('a')
    await new Promise((resolve) => setTimeout(resolve, 60))
    assert.ok((await timed(w.wait('a', never))) >= 35)
  })

  it('returns when the signal aborts, also when it already has', async () => {
    const w = new Wakeups(5_000)
    const ac = new AbortController()
    const p = w.wait('a', ac.signal)
    ac.abort()
    assert.ok((await timed(p)) < 1_000)
    assert.ok((await timed(w.wait('a', ac.signal))) < 1_000)
  })
})
