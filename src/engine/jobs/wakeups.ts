/**
 * Waits of a polling loop that an event in the same process can cut short: `wait(key)` resolves after the poll
 * interval, or as soon as `notify(key)` is called. A notify that comes while nobody waits (the loop is busy
 * between two waits) is kept for one interval, so the loop's next wait returns at once instead of missing it.
 */
export class Wakeups {
  private readonly waiting = new Map<string, Set<() => void>>()
  /**
   * Keys notified while nobody waited (the loop was between two waits), with the time: a wait that starts
   * within one interval of it returns at once. Older ones are dropped (their loop may run in another process).
   */
  private readonly early = new Map<string, number>()

  constructor(private readonly ms: number) {}

  notify(key: string): void {
    const waiters = this.waiting.get(key)
    if (waiters !== undefined) {
      for (const wake of waiters) wake()
      return
    }
    const now = Date.now()
    for (const [k, at] of this.early) if (now - at > this.ms) this.early.delete(k)
    this.early.set(key, now)
  }

  /** Resolves after the poll interval, on notify(key), or when the signal aborts. */
  wait(key: string, signal: AbortSignal): Promise<void> {
    const notified = this.early.get(key)
    this.early.delete(key)
    if (signal.aborted || (notified !== undefined && Date.now() - notified <= this.ms))
      return Promise.resolve()
    return new Promise((resolve) => {
      const waiters = this.waiting.get(key) ?? new Set()
      this.waiting.set(key, waiters)
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        waiters.delete(done)
        if (waiters.size === 0) this.waiting.delete(key)
        resolve()
      }
      const timer = setTimeout(done, this.ms)
      signal.addEventListener('abort', done, { once: true })
      waiters.add(done)
    })
  }
}
