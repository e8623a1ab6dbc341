/**
 * A subscription to a topic pattern, as an async iterable: `for await (const m of sub) ...`.
 *
 * - It keeps one poll outstanding on the daemon: while the loop body handles a batch, the next poll already
 *   waits, so a published message reaches the subscriber in one hop.
 * - When the connection is lost it subscribes again once the client has reconnected: a durable subscription
 *   resumes (same id, with what was queued meanwhile); a plain one starts afresh (what was published in
 *   between is not seen).
 * - Ending the loop (break, throw, return) or close() cancels the outstanding poll; messages already on their
 *   way back in that poll's reply are dropped, so a durable subscriber that must see everything should stop
 *   only between batches of a quiet topic, or accept that gap.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { BusError, isBusError } from '../src/errors.js'
import { PubSub, type Message } from '../src/gen/thriftbus.js'
import type { CallOptions, CancelHandle, Client } from './client.js'

/** Resubscribing after a lost connection: first and longest delay between tries. */
const RESUBSCRIBE_MIN_MS = 50
const RESUBSCRIBE_MAX_MS = 2_000

export interface SubscribeOptions {
  /**
   * Makes the subscription durable under this name: it outlives the connection and the daemon, queues (within
   * its bound) while nobody is attached, and subscribing again with the same name and pattern resumes it.
   */
  durableName?: string
  /** The subscription's queue bound; past it the oldest messages are dropped and counted (default: the daemon's, 10,000). */
  maxQueued?: number
  /** Messages per poll (default 256). */
  batchSize?: number
  /** Aborting ends the iteration with CANCELLED. */
  signal?: AbortSignal
}

export class Subscription implements AsyncIterable<Message> {
  /** The daemon's id for the subscription; changes when a plain subscription is renewed after a reconnect. */
  id = 0
  readonly pattern: string
  readonly #client: Client
  readonly #options: SubscribeOptions
  readonly #stop = new AbortController()
  /** Ends the polling: the caller's signal and #stop's together, made once. */
  readonly #signal: AbortSignal
  /** Cancels the outstanding poll, if any. */
  #pollHandle: CancelHandle | undefined
  #closed = false

  /** @internal Use client.subscribe(). */
  constructor(client: Client, pattern: string, options: SubscribeOptions) {
    this.#client = client
    this.pattern = pattern
    this.#options = options
    this.#signal = options.signal ? AbortSignal.any([options.signal, this.#stop.signal]) : this.#stop.signal
    // One listener for the subscription's life, not one per poll: a listener added and removed on every poll
    // kept each poll's reply alive through scavenges (see #poll).
    this.#signal.addEventListener('abort', this.#cancelPoll, { once: true })
  }

  /** @internal Subscribes (or resubscribes) on the daemon. */
  async start(): Promise<void> {
    this.id = await this.#client.rpc<number>(
      PubSub.methods.subscribe,
      { pattern: this.pattern, durableName: this.#options.durableName ?? '', maxQueued: this.#options.maxQueued ?? 0 },
      this.#client.plain({ signal: this.#options.signal }),
    )
  }

  /** The messages one at a time; how the loop ends is as the class comment says. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    return new OneByOne(this.batches())
  }

  /**
   * The messages as the daemon hands them out: one array per poll, up to `batchSize` long, never empty. A loop
   * over the batches costs one promise per batch instead of one per message; otherwise it behaves as the
   * per-message loop does.
   */
  async *batches(): AsyncGenerator<Message[], void, undefined> {
    let pending: Promise<Message[]> | undefined = this.#poll()
    let resubscribe = false
    let delay = RESUBSCRIBE_MIN_MS
    try {
      for (;;) {
        let batch: Message[]
        try {
          if (resubscribe) {
            await this.start()
            resubscribe = false
          }
          pending ??= this.#poll()
          batch = await pending
          delay = RESUBSCRIBE_MIN_MS
        } catch (err) {
          pending = undefined
          if (this.#closed) return
          if (isBusError(err) && ['CLOSED', 'SHUTTING_DOWN', 'NOT_FOUND'].includes(err.code) && this.#client.reconnects) {
            // The connection (and with it a plain subscription) went away, or is going: subscribe again once
            // reconnected. The old connection may still look open for a moment, hence the retries.
            resubscribe = true
            await sleep(delay, undefined, { signal: this.#stop.signal }).catch(() => {})
            delay = Math.min(delay * 2, RESUBSCRIBE_MAX_MS)
            if (this.#closed) return
            await this.#client.reconnected(this.#options.signal)
            continue
          }
          throw err
        }
        pending = this.#poll() // the next poll waits on the daemon while this batch is handled
        if (batch.length > 0) yield batch
      }
    } finally {
      if (!this.#closed) this.#stop.abort()
    }
  }

  /**
   * Stops polling. A plain subscription ends on the daemon; a durable one stays (queueing) until unsubscribe().
   */
  async close(options: CallOptions = {}): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#stop.abort()
    if (!this.#options.durableName) await this.#unsubscribe(options)
  }

  /** Ends the subscription on the daemon for good, durable or not. */
  async unsubscribe(options: CallOptions = {}): Promise<void> {
    this.#closed = true
    this.#stop.abort()
    await this.#unsubscribe(options)
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  async #unsubscribe(options: CallOptions): Promise<void> {
    await this.#client.rpc(PubSub.methods.unsubscribe, { subscription: this.id }, this.#client.plain(options)).catch((err) => {
      if (!isBusError(err) || (err.code !== 'CLOSED' && err.code !== 'NOT_FOUND')) throw err
    })
  }

  /**
   * Starts a poll. Its failure is handled where it is awaited; it may fail while the loop body runs.
   *
   * The poll is cancelled through a CancelHandle, which #cancelPoll fires when #signal aborts; the signal
   * itself only bounds a wait for the connection. An abort listener added and removed on every poll, as
   * before, made a fresh subscriber promote nearly every message it received to the old generation for its
   * first seconds (6 to 17 MB a second, then a mark-compact), at about twice the CPU per message.
   */
  #poll(): Promise<Message[]> {
    if (this.#closed) return Promise.reject(new BusError('CLOSED', 'the subscription is closed'))
    const handle: CancelHandle = { cancelled: false, cancel: undefined }
    this.#pollHandle = handle
    const p = this.#client.rpc<Message[]>(
      PubSub.methods.poll,
      { subscription: this.id, max: this.#options.batchSize ?? 256, timeoutMs: -1 },
      { signal: this.#signal, poll: true, handle },
    )
    p.catch(() => {}) // not an unhandled rejection while the loop body runs: the loop awaits it next
    return p
  }

  readonly #cancelPoll = (): void => {
    const handle = this.#pollHandle
    if (!handle || handle.cancelled) return
    handle.cancelled = true
    handle.reason = this.#signal.reason
    handle.cancel?.()
  }
}

/**
 * The per-message iterator over batches(). Written by hand because an async generator's `yield` costs a
 * generator step and extra promise turns per message: in a micro-benchmark it cost 279-391 ns an item against
 * 85-187 ns for this. Within a batch, next() resolves at once; past its end it awaits the next batch.
 */
class OneByOne implements AsyncIterableIterator<Message> {
  readonly #batches: AsyncGenerator<Message[], void, undefined>
  #batch: Message[] = []
  #next = 0
  /** The pending wait for the next batch: a next() called meanwhile queues behind it. */
  #filling: Promise<IteratorResult<Message, undefined>> | undefined

  constructor(batches: AsyncGenerator<Message[], void, undefined>) {
    this.#batches = batches
  }

  next(): Promise<IteratorResult<Message, undefined>> {
    if (this.#filling) return this.#filling.then(() => this.next(), () => this.next())
    if (this.#next < this.#batch.length) return Promise.resolve({ value: this.#batch[this.#next++]!, done: false })
    this.#filling = this.#fill()
    return this.#filling
  }

  /** Ends the iteration: the batches' generator stops polling (its finally block). */
  async return(): Promise<IteratorResult<Message, undefined>> {
    this.#batch = []
    await this.#batches.return(undefined)
    return { value: undefined, done: true }
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    return this
  }

  async #fill(): Promise<IteratorResult<Message, undefined>> {
    try {
      const r = await this.#batches.next()
      if (r.done) return { value: undefined, done: true }
      this.#batch = r.value
      this.#next = 1
      return { value: r.value[0]!, done: false }
    } finally {
      this.#filling = undefined
    }
  }
}
