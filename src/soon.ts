/**
 * Runs fn in a microtask, as queueMicrotask does, for a fraction of its cost: Node's queueMicrotask wraps every
 * callback in an AsyncResource and a bound function, which showed in the daemon's profile of a round trip. A
 * throw from fn surfaces as an unhandled rejection, which Node treats as an uncaught exception.
 */
const RESOLVED = Promise.resolve()

export function soon(fn: () => void): void {
  void RESOLVED.then(fn)
}
