/** Time for the broker, so that tests can move it by hand (test/helpers/fake-clock.ts). */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
  /** Calls fn once after ms; the returned handle cancels it. Timers must not keep the process alive. */
  setTimer(fn: () => void, ms: number): TimerHandle
  clearTimer(handle: TimerHandle): void
}

export type TimerHandle = unknown

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms)
    t.unref()
    return t
  },
  clearTimer(handle) {
    clearTimeout(handle as NodeJS.Timeout)
  },
}
