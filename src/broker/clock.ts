/** Time for the broker, so that tests can move it by hand (test/helpers/fake-clock.ts). */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
  /** Calls fn once after ms; the returned handle cancels it. Timers must not keep the process alive. */
  setTimer(fn: () => void, ms: number): TimerHandle
  clearTimer(handle: TimerHandle): void
}

export type TimerHandle = unknown

/** The longest delay setTimeout keeps (about 24.8 days); it takes a longer one as 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    // A longer wait is cut to the longest one: it ends late (24.8 days), never at once.
    const t = setTimeout(fn, Math.min(ms, MAX_TIMER_MS))
    t.unref()
    return t
  },
  clearTimer(handle) {
    clearTimeout(handle as NodeJS.Timeout)
  },
}
