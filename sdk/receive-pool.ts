/**
 * receive() calls that wait on one mailbox without a time limit share daemon calls: a program with 256
 * receive() calls parked on "jobs" holds one receiveMessages(jobs, 256) on the daemon, and a burst comes back
 * in one reply, handed to the waiting calls oldest first. Per message, that saves a request, a reply frame and a parked waiter on
 * both sides: the bench's receiver does about twice the messages per second with it.
 *
 * What a caller of receive() still sees:
 * - Each receive() resolves with one message, in the mailbox's order across the calls, oldest call first.
 * - Its own AbortSignal (CANCELLED).
 * - Nothing is lost: messages that arrive for calls that have just given up are put back at the head of the
 *   mailbox (returnMessages), and once no call waits, the shared daemon calls are cancelled.
 * - Errors of the shared call (a bad mailbox name, a lost connection) reject as many waiting calls as it
 *   asked messages for, oldest first.
 * On the daemon, the mailbox shows one waiter per shared call, not one per receive(). A receive() with a
 * timeout is its own call: the daemon times it, and a daemon that does not answer gives TIMEOUT, not NO_MESSAGE.
 */
import { BusError } from '../src/errors.js'
import type { Message } from '../src/gen/thriftbus.js'
import { capture, captured } from './captured.js'
import type { CancelHandle } from './client.js'
import type { Reject, Resolve } from './receive-any.js'

/** Most messages one shared call asks for; more waiting calls get more shared calls. */
export const MAX_SHARED_BATCH = 1024

/** How the pool reaches the daemon: a receiveMessages that waits without a limit, and returnMessages. */
export interface PoolTransport {
  /**
   * gather: the call may wait for this tick's calls of other pools, to go out with them (receive-any.ts).
   * resolve or reject is called once, never before take() returns.
   */
  take(recipient: string, max: number, handle: CancelHandle, gather: boolean, resolve: Resolve, reject: Reject): void
  /**
   * Runs fn once this tick's promise callbacks have run, with the other pools' deferred calls, before the
   * gathered calls are sent.
   */
  defer(fn: () => void): void
  putBack(messages: Message[]): void
}

/** One receiveMessages on the daemon, asking for max messages. */
class SharedCall implements CancelHandle {
  /** Cancelled because the calls waiting no longer need it: its max no longer counts as requested. */
  cancelled = false
  /** Set by the client once the call is written. */
  cancel: (() => void) | undefined
  started: CancelHandle['started'] = undefined
  /** The pool's shared calls in flight, linked oldest to newest (a list: no Set table to grow and shrink per call). */
  older: SharedCall | undefined
  newer: SharedCall | undefined
  constructor(readonly max: number) {}
}

class PoolWaiter {
  done = false
  onAbort: (() => void) | undefined
  constructor(
    readonly resolve: (m: Message) => void,
    readonly reject: (e: unknown) => void,
    readonly signal: AbortSignal | undefined,
  ) {}
}

/** What fills a queue slot once its call has been taken off. */
const SERVED = new PoolWaiter(() => {}, () => {}, undefined)
SERVED.done = true

export class ReceivePool {
  /** Calls waiting, oldest first from #head (those before it have been served). */
  #waiters: PoolWaiter[] = []
  #head = 0
  /** Waiting calls not yet settled (the array may also hold settled ones, passed over when reached). */
  #active = 0
  /** Messages asked for by the shared calls in flight. */
  #requested = 0
  #issueQueued = false
  /** Set while handing out a reply, until the deferred issue: receive() calls made meanwhile wait for it. */
  #delivering = false
  /** The newest shared call in flight; the others are linked through SharedCall.older. */
  #newestCall: SharedCall | undefined

  constructor(
    readonly recipient: string,
    readonly transport: PoolTransport,
    /** Called when the pool holds nothing (no waiting call, no shared call): the client forgets it. */
    readonly onIdle: (pool: ReceivePool) => void,
  ) {}

  get idle(): boolean {
    return this.#active === 0 && this.#newestCall === undefined
  }

  /** One message, waiting until one arrives or signal aborts. */
  receive(signal: AbortSignal | undefined): Promise<Message> {
    const promise = new Promise<Message>(capture)
    const w = new PoolWaiter(captured.resolve, captured.reject, signal)
    if (signal) this.#listen(w, signal)
    this.#waiters.push(w)
    this.#active++
    this.#schedule()
    return promise
  }

  #listen(w: PoolWaiter, signal: AbortSignal): void {
    w.onAbort = () => this.#leave(w, new BusError('CANCELLED', 'receiveMessage was aborted', { cause: signal.reason }))
    signal.addEventListener('abort', w.onAbort, { once: true })
  }

  /**
   * Asks the daemon for messages for the calls not yet covered. A call made while the pool has nothing in
   * flight goes out at once, in the order of the client's other calls. Calls made while the pool is busy, e.g.
   * the next receive() of each loop that was just handed a message, are asked for together once this tick's
   * promise callbacks have run (transport.defer: one tick callback for every pool, which runs after those
   * microtasks, and then sends what the pools asked for, gathered across mailboxes).
   */
  #schedule(): void {
    if (this.#issueQueued || this.#active <= this.#requested) return
    if (this.#requested === 0 && !this.#delivering) {
      this.#issue(false)
      return
    }
    this.#deferIssue()
  }

  #deferIssue(): void {
    if (this.#issueQueued) return
    this.#issueQueued = true
    this.transport.defer(this.#deferredIssue)
  }

  readonly #deferredIssue = (): void => {
    this.#issueQueued = false
    this.#delivering = false
    this.#issue(true)
    if (this.idle) this.onIdle(this)
  }

  #issue(gather: boolean): void {
    while (this.#active > this.#requested) {
      const max = Math.min(this.#active - this.#requested, MAX_SHARED_BATCH)
      this.#requested += max
      const call = new SharedCall(max)
      call.older = this.#newestCall
      if (call.older) call.older.newer = call
      this.#newestCall = call
      this.transport.take(
        this.recipient, max, call, gather,
        (messages) => this.#ended(call, messages, undefined),
        (err) => this.#ended(call, undefined, err),
      )
    }
  }

  #ended(call: SharedCall, messages: Message[] | undefined, err: unknown): void {
    if (call.newer) call.newer.older = call.older
    else if (this.#newestCall === call) this.#newestCall = call.older
    if (call.older) call.older.newer = call.newer
    call.older = call.newer = undefined
    if (!call.cancelled) this.#requested -= call.max
    this.#delivering = true
    this.#deferIssue()
    if (messages) {
      let i = 0
      for (; i < messages.length; i++) {
        const w = this.#next()
        if (!w) break
        this.#settle(w)
        w.resolve(messages[i]!)
      }
      if (i < messages.length) this.transport.putBack(messages.slice(i))
    } else if (!call.cancelled) {
      // The shared call failed: so do the calls it was asking for.
      for (let n = 0; n < call.max; n++) {
        const w = this.#next()
        if (!w) break
        this.#settle(w)
        w.reject(err)
      }
    }
  }

  /** The oldest waiting call, taken off the queue; undefined when none waits. */
  #next(): PoolWaiter | undefined {
    while (this.#head < this.#waiters.length) {
      const w = this.#waiters[this.#head]!
      // The slot lets go of the call at once: a served call kept in the queue until its compaction would outlive
      // several young-generation collections, and each of those copies it (GC was a third of a receiver's CPU).
      this.#waiters[this.#head++] = SERVED
      if (!w.done) {
        if (this.#head > 1024 && this.#head * 2 > this.#waiters.length) this.#compact()
        return w
      }
    }
    this.#waiters = []
    this.#head = 0
    return undefined
  }

  /** Drops the served calls and those that gave up from the queue. */
  #compact(): void {
    const waiting: PoolWaiter[] = []
    for (let i = this.#head; i < this.#waiters.length; i++) if (!this.#waiters[i]!.done) waiting.push(this.#waiters[i]!)
    this.#waiters = waiting
    this.#head = 0
  }

  #settle(w: PoolWaiter): void {
    w.done = true
    this.#active--
    if (w.onAbort) w.signal!.removeEventListener('abort', w.onAbort)
  }

  /**
   * A call gives up (its signal aborted). Shared calls that the calls still waiting no longer need are cancelled,
   * newest first (the daemon puts back what such a call had already taken).
   */
  #leave(w: PoolWaiter, err: BusError): void {
    if (w.done) return
    this.#settle(w)
    w.reject(err)
    // Cancelling a call may end it at once, unlinking it: the next one is read before.
    for (let call = this.#newestCall, older = call?.older; call; call = older, older = call?.older) {
      if (call.cancelled || this.#requested - call.max < this.#active) continue
      call.cancelled = true
      this.#requested -= call.max
      call.cancel?.()
    }
    if (this.#active === 0) {
      this.#waiters = []
      this.#head = 0
    } else if (this.#waiters.length - this.#head > 2 * this.#active + 64) {
      // Calls that gave up stay queued until reached; drop them before they pile up behind a long wait.
      this.#compact()
    }
  }
}
