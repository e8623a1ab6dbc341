/**
 * A Clock whose time moves only when a test says so. Timers fire from advance(), in order of due time
 * (ties: in the order they were set), each seeing now() equal to its own due time.
 */
import type { Clock, TimerHandle } from '../../src/broker/clock.js'

interface FakeTimer {
  id: number
  due: number
  fn: () => void
}

export class FakeClock implements Clock {
  #now: number
  #nextId = 1
  #timers = new Map<number, FakeTimer>()

  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs
  }

  now(): number {
    return this.#now
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const id = this.#nextId++
    this.#timers.set(id, { id, due: this.#now + Math.max(0, ms), fn })
    return id
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers.delete(handle as number)
  }

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.#timers.size
  }

  /** Moves time forward by ms, firing every timer that falls due on the way (including ones set meanwhile). */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('time does not go backwards')
    const target = this.#now + ms
    for (;;) {
      let next: FakeTimer | undefined
      for (const t of this.#timers.values()) {
        if (t.due <= target && (!next || t.due < next.due || (t.due === next.due && t.id < next.id))) next = t
      }
      if (!next) break
      this.#timers.delete(next.id)
      this.#now = next.due
      next.fn()
    }
    this.#now = target
  }
}
