/**
 * The receive pools' shared calls (receive-pool.ts) for several mailboxes, gathered into receiveAny calls. A
 * program with receive() loops on 100 mailboxes then holds, once its loops are running, one daemon call for all
 * of them instead of one per mailbox, and what arrives for several of them in one daemon turn comes back in one
 * reply instead of one reply per mailbox: the bench's 100-mailbox scenario went from 96k to 121k messages a
 * second with it (memory mode, 3 repetitions).
 *
 * - Only calls a pool makes in the tick after one of its replies (each loop asking again) are gathered, into
 *   one receiveAny per tick. A pool's call made while nothing of it is in flight goes out at once and alone
 *   (receiveMessages), in the order of the client's other calls, as does a gathering of one mailbox.
 * - Only with a daemon that knows receiveAny (DaemonLimits.maxReceiveAnyMailboxes); older daemons get
 *   receiveMessages as before.
 * - A pool's call cancelled while its receiveAny waits is settled at once; the receiveAny is cancelled on the
 *   daemon once none of its calls wants it, and messages it brings for cancelled calls are put back at the head
 *   of their mailboxes, as for any cancelled receive.
 */
import { nextTick } from 'node:process'
import { BusError } from '../src/errors.js'
import type { Message } from '../src/gen/thriftbus.js'
import { soon } from '../src/soon.js'
import type { CancelHandle } from './client.js'

/**
 * Called once with a call's messages, or once with its error; never before the call that takes them returns.
 * Callbacks, not promises: a promise between the reply and the receive() it answers costs a microtask hop, on
 * the round trip's critical path.
 */
export type Resolve = (messages: Message[]) => void
export type Reject = (err: unknown) => void

/** How the gatherer reaches the daemon. */
export interface AnyTransport {
  /** receiveMessages(recipient, max), waiting without a limit. */
  one(recipient: string, max: number, handle: CancelHandle, resolve: Resolve, reject: Reject): void
  /** receiveAny(wants), waiting without a limit. */
  any(wants: Record<string, number>, handle: CancelHandle, resolve: Resolve, reject: Reject): void
  putBack(messages: Message[]): void
  /** Most mailboxes per receiveAny on the current connection; 0 while unknown or unsupported. */
  maxAnyMailboxes(): number
}

/** A pool's call waiting to be gathered, then answered from a receiveAny (or alone). */
class Part {
  done = false
  /** What carries it once sent: its receiveAny, or its own receiveMessages' handle. */
  carrier: CancelHandle | undefined
  constructor(
    readonly recipient: string,
    readonly max: number,
    readonly resolve: Resolve,
    readonly reject: Reject,
  ) {}
}

/** One receiveAny in flight: the handle its call is cancelled with, and the pools' calls it answers. */
class Gathered implements CancelHandle {
  cancelled = false
  cancel: (() => void) | undefined
  started: CancelHandle['started'] = undefined
  /** Parts not cancelled: at 0 the receiveAny is cancelled on the daemon. */
  live: number
  constructor(readonly parts: Part[]) {
    this.live = parts.length
  }
}

export class ReceiveGatherer {
  #queue: Part[] = []
  /** The pools' deferred issues (ReceivePool's transport.defer), run in the next tick before the flush. */
  #deferred: (() => void)[] = []
  #queued = false

  constructor(readonly transport: AnyTransport) {}

  /**
   * Runs fn in the gatherer's next tick, once the promise callbacks queued so far have run (#schedule). All
   * pools defer through here, so that their calls are sent in the same tick callback that gathers them: no
   * second tick, and they go out in the same write as the calls made by those promise callbacks (a receive
   * loop's next receive() and the send() it makes after it).
   */
  defer(fn: () => void): void {
    this.#deferred.push(fn)
    this.#schedule()
  }

  /** A pool's shared call: gathered when `gather` (and the daemon knows receiveAny), otherwise sent at once. */
  take(recipient: string, max: number, handle: CancelHandle, gather: boolean, resolve: Resolve, reject: Reject): void {
    if (!gather || this.transport.maxAnyMailboxes() < 2) {
      this.transport.one(recipient, max, handle, resolve, reject)
      return
    }
    const part = new Part(recipient, max, resolve, reject)
    handle.cancel = () => this.#cancel(part)
    this.#queue.push(part)
    this.#schedule()
  }

  /**
   * Runs #run in the tick after the microtasks queued so far. A pool defers while a reply is being handed out,
   * which happens inside the connection's data callback: a nextTick queued there would run before the promise
   * callbacks of that reply (Node runs the tick queue first), that is before the receive loops ask again.
   */
  #schedule(): void {
    if (this.#queued) return
    this.#queued = true
    soon(this.#tick)
  }

  readonly #tick = (): void => {
    nextTick(this.#run)
  }

  readonly #run = (): void => {
    const deferred = this.#deferred
    this.#deferred = []
    for (const fn of deferred) fn() // their gathered calls join the queue without scheduling another run
    this.#queued = false
    this.#flush()
    if (this.#deferred.length > 0) this.#schedule()
  }

  /** Sends the gathered calls: one receiveAny per maxAnyMailboxes mailboxes, or alone for one mailbox. */
  #flush(): void {
    const queue = this.#queue
    this.#queue = []
    const limit = Math.max(1, this.transport.maxAnyMailboxes())
    let group: Part[] = []
    // No prototype: a mailbox named "toString" or "__proto__" is a key like any other.
    let wants: Record<string, number> = Object.create(null)
    let names = 0
    for (const part of queue) {
      if (part.done) continue
      if (wants[part.recipient] === undefined) {
        if (names === limit) {
          this.#send(group, wants, names)
          group = []
          wants = Object.create(null)
          names = 0
        }
        wants[part.recipient] = 0
        names++
      }
      wants[part.recipient]! += part.max
      group.push(part)
    }
    if (group.length > 0) this.#send(group, wants, names)
  }

  #send(parts: Part[], wants: Record<string, number>, names: number): void {
    if (names === 1 || this.transport.maxAnyMailboxes() < 2) {
      // One mailbox (or a daemon that no longer knows receiveAny: the connection changed): each goes alone.
      for (const part of parts) {
        const handle: CancelHandle = { cancelled: false, cancel: undefined }
        part.carrier = handle
        this.transport.one(
          part.recipient, part.max, handle,
          (messages) => this.#settle(part, messages, undefined),
          (err) => this.#settle(part, undefined, err),
        )
      }
      return
    }
    const gathered = new Gathered(parts)
    for (const part of parts) part.carrier = gathered
    this.transport.any(
      wants, gathered,
      (messages) => this.#answer(gathered, messages),
      (err) => {
        for (const part of gathered.parts) this.#settle(part, undefined, err)
      },
    )
  }

  /** Hands each part its mailbox's messages (up to its max, oldest part first); the rest goes back. */
  #answer(gathered: Gathered, messages: Message[]): void {
    const byBox = new Map<string, Message[]>()
    for (const m of messages) {
      const list = byBox.get(m.recipient)
      if (list) list.push(m)
      else byBox.set(m.recipient, [m])
    }
    const extra: Message[] = []
    for (const part of gathered.parts) {
      const list = byBox.get(part.recipient)
      let mine: Message[] = []
      if (list !== undefined) {
        mine = list.length <= part.max ? list : list.splice(0, part.max)
        if (mine === list) byBox.delete(part.recipient)
      }
      if (part.done) for (const m of mine) extra.push(m)
      else this.#settle(part, mine, undefined)
    }
    for (const list of byBox.values()) for (const m of list) extra.push(m)
    if (extra.length > 0) this.transport.putBack(extra)
  }

  #settle(part: Part, messages: Message[] | undefined, err: unknown): void {
    if (part.done) return
    part.done = true
    if (messages) part.resolve(messages)
    else part.reject(err)
  }

  /** A pool no longer needs a part: it is settled now, and what carries it is cancelled once nothing else needs it. */
  #cancel(part: Part): void {
    if (part.done) return
    this.#settle(part, undefined, new BusError('CANCELLED', 'receiveMessages was cancelled'))
    const carrier = part.carrier
    if (carrier instanceof Gathered && --carrier.live > 0) return
    if (carrier) {
      carrier.cancelled = true
      carrier.cancel?.()
    }
  }
}
