/**
 * The SDK client: attaches to the daemon (spawning one when none answers), makes typed, cancellable calls,
 * and reconnects with backoff when the daemon goes away.
 *
 * Life of a call: it is encoded at once into the connection's write buffer (calls of one tick share one
 * write); its promise settles when the reply with its seqid arrives, when its deadline passes (TIMEOUT), when
 * its AbortSignal fires (CANCELLED), or when the connection is lost (CLOSED). A receive that is abandoned
 * while it waits is also cancelled on the daemon, and a message that was already on its way back is put back
 * at the head of its mailbox, so an aborted receive loses nothing.
 */
import { basename } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { BusError, isBusError } from '../src/errors.js'
import { MessageService, PubSub, type DaemonStatus, type MailboxInfo, type Message, type MethodCodec } from '../src/gen/thriftbus.js'
import { defaultSocketPath, defaultStateDir, socketPathProblem } from '../src/wire/endpoint.js'
import { DEFAULT_MAX_MESSAGE_BYTES } from '../src/wire/limits.js'
import { connectReading } from '../src/wire/socket-reads.js'
import { soon } from '../src/soon.js'
import { capture, captured } from './captured.js'
import { Connection, type PendingCall } from './connection.js'
import { ReceiveGatherer, type Reject, type Resolve } from './receive-any.js'
import { ReceivePool } from './receive-pool.js'
import { DaemonStarter } from './spawn.js'
import { Subscription, type SubscribeOptions } from './subscription.js'

/** How long connect() may take, spawning included, unless configured otherwise. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
/** Deadline of calls that do not wait for messages, unless configured otherwise. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000
/** How long close() lets calls in flight finish before it destroys the socket. */
export const CLOSE_DEADLINE_MS = 2_000
/** Reconnect backoff: first and longest delay. */
const RECONNECT_MIN_MS = 50
const RECONNECT_MAX_MS = 2_000
/** Retries of a connection closed before the daemon answered: first and longest delay. */
const RESET_RETRY_MIN_MS = 10
const RESET_RETRY_MAX_MS = 500
/** The error code of a connection closed before the daemon's first answer (see #open). */
const UNANSWERED = 'UNANSWERED'
/** The lease the mailbox iterator takes in ack mode, unless configured otherwise. */
export const DEFAULT_LEASE_MS = 30_000
/** Deadlines are checked this often: one may fire up to two ticks late, never early. */
const DEADLINE_TICK_MS = 100

const methods = MessageService.methods

export interface ConnectOptions {
  /** Socket path (Windows: pipe name). Default: $THRIFTBUS_SOCKET, else the per-user default. */
  socket?: string
  /** State folder for a spawned daemon (its log goes there). Default: $THRIFTBUS_STATE_DIR, else per user. */
  stateDir?: string
  /** Start a daemon when none answers (default true). */
  spawn?: boolean
  /** Reconnect (and respawn, when spawn is on) after losing the daemon (default true). */
  reconnect?: boolean
  /** The sender name put on messages (default "<script name>:<pid>"). */
  name?: string
  /** How long connect() may take, spawning included (default 10 s). */
  connectTimeoutMs?: number
  /** Deadline of calls that do not wait for messages (default 30 s). */
  callTimeoutMs?: number
  /** Largest message sent or received, in bytes (default 16 MiB; match the daemon's). */
  maxMessageBytes?: number
  /** Aborts connect(). */
  signal?: AbortSignal
}

export interface CallOptions {
  /** Aborting rejects the call with CANCELLED. A send that was already written may still be accepted. */
  signal?: AbortSignal
  /** The call's deadline in ms (default: the client's callTimeoutMs). Past it the call rejects with TIMEOUT. */
  timeoutMs?: number
}

export interface SendOptions extends CallOptions {
  /** The message expires this many ms after the daemon accepts it: it is never delivered after that. */
  ttlMs?: number
}

export interface ReceiveOptions {
  /** Aborting rejects with CANCELLED and releases the wait on the daemon; nothing is lost. */
  signal?: AbortSignal
  /**
   * How long to wait for a message, in ms. Omitted or negative: until one arrives. 0: do not wait (an empty
   * mailbox rejects with NO_MESSAGE at once).
   */
  timeoutMs?: number
  /**
   * At least once: lease the messages for this many ms instead of removing them. Each must then be acked
   * (ack(id)); nack(id), the end of the lease or the end of the connection gives it back to the mailbox,
   * with its deliveryCount kept. Omitted or 0: at most once, the message is removed as it is handed out.
   */
  leaseMs?: number
}

/** send()'s and receive()'s default options: one object for every call. */
const NO_SEND_OPTIONS: SendOptions = Object.freeze({})
const NO_RECEIVE_OPTIONS: ReceiveOptions = Object.freeze({})

export interface MessagesOptions {
  /** Ends the iteration: the loop throws CANCELLED. Messages taken but not yet yielded are put back. */
  signal?: AbortSignal
  /**
   * How many messages to take from the daemon per round trip (default 1). More is faster; the messages taken
   * and not yet yielded when the loop ends are put back at the head of the mailbox.
   */
  batchSize?: number
  /**
   * Ack mode: each message is leased (true: for DEFAULT_LEASE_MS, a number: for that many ms), acked when the
   * loop body finishes and asks for the next one, and nacked when the loop body throws (or breaks: ack
   * before you break if you handled it). A message whose handler keeps failing ends up in
   * `<mailbox>.dead-letter` after the daemon's --max-deliveries.
   */
  ack?: boolean | number
}

/** What send() accepts: text, bytes, or a message with metadata. */
export type Outgoing = string | Uint8Array | { content?: string; body?: Uint8Array; headers?: Record<string, string>; sender?: string }

/** @internal How the client makes a call (the Subscription class uses it too). */
export interface InvokeOptions {
  signal?: AbortSignal | undefined
  /** Absolute deadline (Date.now() ms), or undefined for none. */
  deadline?: number | undefined
  /** A receive: cancel it on the daemon when abandoned, and put back what it took. */
  receive?: boolean
  /** A subscription's poll: cancel it on the daemon when abandoned (what it took cannot be put back). */
  poll?: boolean
  /** Resolve with undefined instead of the result (methods whose result carries nothing). */
  noValue?: boolean
  /**
   * Cancels the call like an aborted signal, without a listener per call (the receive pools' calls, a
   * subscription's polls). With a handle, `signal` only bounds the wait for a connection.
   */
  handle?: CancelHandle
}

/** Set cancelled, then call cancel() if set: the call is abandoned as if its signal had aborted. */
export interface CancelHandle {
  cancelled: boolean
  cancel?: (() => void) | undefined
  /** The cause the CANCELLED error carries (an aborted signal's reason), if any. */
  reason?: unknown
  /** The call the handle cancels, once it is on a connection (set by the client). */
  started?: { abandonBy(handle: CancelHandle): void } | undefined
}

/**
 * A started call's handle.cancel, the same function for every call: handle.cancel() abandons handle.started.
 * A closure per call (`handle.cancel = () => this.abandon(...)`) made a subscriber that had just started
 * promote nearly every message it received to the old generation, 6 to 36 MB a second in `--trace-gc-nvp`,
 * until a mark-compact; without it, next to nothing. Why the closure kept the replies alive is not known.
 */
function cancelStarted(this: CancelHandle): void {
  this.started?.abandonBy(this)
}

/** One call in flight. */
class CallState implements PendingCall {
  seqid = 0
  conn: Connection | undefined
  done = false
  #onAbort: (() => void) | undefined

  constructor(
    readonly client: Client,
    readonly codec: MethodCodec<any, any>,
    readonly resolve: (v: any) => void,
    readonly reject: (e: unknown) => void,
    readonly options: InvokeOptions,
  ) {}

  listen(signal: AbortSignal): void {
    this.#onAbort = () => this.abandon(new BusError('CANCELLED', `${this.codec.name} was aborted`, { cause: signal.reason }))
    signal.addEventListener('abort', this.#onAbort, { once: true })
  }

  /** Lets the caller's handle cancel this call. */
  cancelWith(handle: CancelHandle): void {
    handle.started = this
    handle.cancel = cancelStarted
  }

  abandonBy(handle: CancelHandle): void {
    this.abandon(new BusError('CANCELLED', `${this.codec.name} was cancelled`, { cause: handle.reason }))
  }

  settle(result: any, error: BusError | undefined): void {
    if (this.done) return
    this.#finish()
    if (error) this.reject(error)
    else if (result.error) this.reject(BusError.fromWire(result.error.code, result.error.message))
    else this.resolve(this.options.noValue ? undefined : result.success)
  }

  /** Gives up on the call: rejects it now, and for a receive, releases it on the daemon. */
  abandon(err: BusError): void {
    if (this.done) return
    this.#finish()
    this.reject(err)
    const conn = this.conn
    if ((this.options.receive || this.options.poll) && conn && !conn.closed) {
      const receive = this.options.receive
      conn.redirect(this.seqid, { codec: this.codec, settle: (result) => receive && this.client.putBack(result?.success) })
      conn.call(methods.cancel, { seqid: this.seqid }, { codec: methods.cancel, settle: () => {} })
    }
  }

  #finish(): void {
    this.done = true
    if (this.#onAbort) this.options.signal!.removeEventListener('abort', this.#onAbort)
  }
}

/**
 * A connection to the thriftbus daemon. Get one from connect(); close it with close(). Calls made before the
 * connection is up (or while it is being re-established) wait for it, within their deadline.
 */
export class Client {
  readonly socket: string
  readonly stateDir: string
  readonly name: string
  readonly #options: Required<Pick<ConnectOptions, 'spawn' | 'reconnect' | 'connectTimeoutMs' | 'callTimeoutMs' | 'maxMessageBytes'>>
  #conn: Connection | undefined
  #connecting: Promise<Connection> | undefined
  #closing: Promise<void> | undefined
  readonly #lifetime = new AbortController()
  /** Checks the deadlines of the calls in flight while there are any. */
  #deadlineTimer: NodeJS.Timeout | undefined
  /** Date.now() as of the last deadline check, while the check runs: deadlines need no finer clock. */
  #now = 0
  /** Waiting receive() calls, by mailbox: those of one mailbox share daemon calls (receive-pool.ts). */
  readonly #pools = new Map<string, ReceivePool>()
  /** The pools' calls of one tick for several mailboxes go out as one receiveAny (receive-any.ts). */
  readonly #gatherer = new ReceiveGatherer({
    one: (recipient: string, max: number, handle: CancelHandle, resolve: Resolve, reject: Reject): void =>
      this.#call(methods.receiveMessages, { recipient, max, timeoutMs: -1 }, { handle, deadline: undefined, receive: true }, resolve, reject),
    any: (wants: Record<string, number>, handle: CancelHandle, resolve: Resolve, reject: Reject): void =>
      this.#call(methods.receiveAny, { wants, timeoutMs: -1 }, { handle, deadline: undefined, receive: true }, resolve, reject),
    putBack: (messages: Message[]): void => this.putBack(messages),
    maxAnyMailboxes: (): number => this.#conn?.maxAnyMailboxes ?? 0,
  })
  readonly #poolTransport = {
    // With one mailbox received from there is nothing to gather: its call goes straight out, as receiveMessages.
    take: (recipient: string, max: number, handle: CancelHandle, gather: boolean, resolve: Resolve, reject: Reject): void =>
      this.#gatherer.take(recipient, max, handle, gather && this.#pools.size > 1, resolve, reject),
    defer: (fn: () => void): void => this.#gatherer.defer(fn),
    putBack: (messages: Message[]): void => this.putBack(messages),
  }
  readonly #poolIdle = (pool: ReceivePool): void => {
    if (this.#pools.get(pool.recipient) === pool) this.#pools.delete(pool.recipient)
  }

  /** @internal Use connect(). */
  constructor(options: ConnectOptions = {}) {
    this.socket = options.socket ?? defaultSocketPath()
    this.stateDir = options.stateDir ?? defaultStateDir()
    this.name = options.name ?? `${basename(process.argv[1] ?? 'node')}:${process.pid}`
    this.#options = {
      spawn: options.spawn ?? true,
      reconnect: options.reconnect ?? true,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      callTimeoutMs: options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    }
  }

  /** @internal Establishes the first connection; connect() awaits it. */
  async open(signal?: AbortSignal): Promise<void> {
    const problem = socketPathProblem(this.socket)
    if (problem) throw new BusError('INVALID_ARGUMENT', problem)
    const onAbort = () => void this.close()
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      this.#connecting = this.#establish(Date.now() + this.#options.connectTimeoutMs)
      await this.#connecting
    } catch (err) {
      this.#connecting = undefined
      await this.close()
      if (signal?.aborted) throw new BusError('CANCELLED', 'connect() was aborted', { cause: signal.reason })
      throw err
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /** True while a connection to the daemon is up. */
  get connected(): boolean {
    return this.#conn !== undefined && !this.#conn.closed
  }

  /**
   * Sends a message to a mailbox. Resolves once the daemon has accepted it; rejects with INVALID_ARGUMENT
   * (a bad mailbox name), MAILBOX_FULL, TOO_LARGE, TIMEOUT, CANCELLED or CLOSED.
   */
  send(recipient: string, message: Outgoing, options: SendOptions = NO_SEND_OPTIONS): Promise<void> {
    const m = this.#message(recipient, message, options.ttlMs)
    return this.#invoke(methods.sendMessage, { message: m }, { signal: options.signal, deadline: this.#deadline(options.timeoutMs), noValue: true })
  }

  /**
   * Publishes to a topic (dot-separated, e.g. "builds.linux"). Resolves with how many subscriptions received
   * it; 0 when nobody listens (the message is then gone: topics keep nothing for absent subscribers).
   */
  publish(topic: string, message: Outgoing, options: CallOptions = {}): Promise<number> {
    return this.#invoke(PubSub.methods.publish, { topic, message: this.#message(topic, message, undefined) }, this.#plain(options))
  }

  /**
   * Subscribes to a pattern: exact, with "*" for one segment, or ending in ">" for the rest
   * ("builds.*", "builds.>"). The result is an async iterable of the messages published from now on; it keeps a
   * poll outstanding, so a message reaches it in one hop. See SubscribeOptions for durable subscriptions.
   */
  async subscribe(pattern: string, options: SubscribeOptions = {}): Promise<Subscription> {
    const sub = new Subscription(this, pattern, options)
    await sub.start()
    return sub
  }

  /** @internal A call as the Subscription class makes them. */
  rpc<R>(codec: MethodCodec<any, any>, args: object, options: InvokeOptions): Promise<R> {
    return this.#invoke(codec, args, options)
  }

  /** @internal Resolves once connected (after a reconnect), or rejects when the client is closed. */
  async reconnected(signal?: AbortSignal): Promise<void> {
    await this.#whenConnected({ signal })
  }

  /** @internal Whether calls lost to a closed connection should be retried once it is back. */
  get reconnects(): boolean {
    return this.#options.reconnect && !this.#closing
  }

  #message(recipient: string, message: Outgoing, ttlMs: number | undefined): Message {
    let m: Message
    if (typeof message === 'string') {
      m = {
        sender: this.name, recipient, content: message, id: undefined, sentAtMs: undefined, body: undefined, headers: undefined,
        ttlMs, deliveryCount: undefined, topic: undefined,
      }
    } else if (message instanceof Uint8Array) {
      m = {
        sender: this.name, recipient, content: '', id: undefined, sentAtMs: undefined, body: message, headers: undefined,
        ttlMs, deliveryCount: undefined, topic: undefined,
      }
    } else {
      m = {
        sender: message.sender ?? this.name, recipient, content: message.content ?? '',
        id: undefined, sentAtMs: undefined, body: message.body, headers: message.headers,
        ttlMs, deliveryCount: undefined, topic: undefined,
      }
    }
    return m
  }

  /**
   * Takes the oldest message of a mailbox, waiting for one as options.timeoutMs says (default: until one
   * arrives). Messages of one mailbox come out in the order they were accepted. Rejects with NO_MESSAGE when
   * the wait runs out, CANCELLED when aborted, CLOSED when the connection is lost while waiting.
   * The receive() calls waiting on one mailbox without a time limit share daemon calls (see receive-pool.ts).
   */
  receive(recipient: string, options: ReceiveOptions = NO_RECEIVE_OPTIONS): Promise<Message> {
    // No closure in here: V8 would allocate its context on every call (receive() is the receiver's hot path).
    const wait = options.timeoutMs ?? -1
    if (options.leaseMs) return this.#receiveLeased(recipient, options)
    if (wait >= 0) {
      return this.#invoke(methods.receiveMessage, { recipient, timeoutMs: wait }, { signal: options.signal, deadline: this.#waitDeadline(wait), receive: true })
    }
    if (this.#closing) return Promise.reject(new BusError('CLOSED', 'the client is closed'))
    if (options.signal?.aborted) return Promise.reject(new BusError('CANCELLED', 'receiveMessage was aborted', { cause: options.signal.reason }))
    let pool = this.#pools.get(recipient)
    if (!pool) this.#pools.set(recipient, (pool = new ReceivePool(recipient, this.#poolTransport, this.#poolIdle)))
    return pool.receive(options.signal)
  }

  #receiveLeased(recipient: string, options: ReceiveOptions): Promise<Message> {
    return this.receiveMany(recipient, 1, options).then(([m]) => {
      if (!m) throw new BusError('NO_MESSAGE', `no message arrived in mailbox ${JSON.stringify(recipient)} within ${options.timeoutMs ?? -1} ms`)
      return m
    })
  }

  /**
   * Takes up to max messages, oldest first; waits like receive() while the mailbox is empty and resolves as
   * soon as at least one is there. Resolves with [] when the wait runs out.
   */
  receiveMany(recipient: string, max: number, options: ReceiveOptions = {}): Promise<Message[]> {
    const wait = options.timeoutMs ?? -1
    const invoke = { signal: options.signal, deadline: this.#waitDeadline(wait), receive: true }
    if (options.leaseMs) return this.#invoke(methods.receiveLeased, { recipient, max, timeoutMs: wait, leaseMs: options.leaseMs }, invoke)
    return this.#invoke(methods.receiveMessages, { recipient, max, timeoutMs: wait }, invoke)
  }

  /** Removes leased messages for good. Resolves with how many were still out on lease (others had gone back). */
  ack(ids: number | readonly number[], options: CallOptions = {}): Promise<number> {
    return this.#invoke(methods.ack, { ids: typeof ids === 'number' ? [ids] : [...ids] }, this.#plain(options))
  }

  /** Gives leased messages back to their mailboxes at once. Resolves with how many were still out on lease. */
  nack(ids: number | readonly number[], options: CallOptions = {}): Promise<number> {
    return this.#invoke(methods.nack, { ids: typeof ids === 'number' ? [ids] : [...ids] }, this.#plain(options))
  }

  /**
   * Iterates over a mailbox's messages as they arrive, forever: `for await (const m of client.messages('jobs'))`.
   * It survives a lost or restarted daemon (it waits for the reconnect and goes on). It ends when the client is closed, and
   * throws CANCELLED when options.signal aborts.
   */
  async *messages(recipient: string, options: MessagesOptions = {}): AsyncGenerator<Message, void, undefined> {
    const batchSize = Math.max(1, options.batchSize ?? 1)
    const leaseMs = options.ack === true ? DEFAULT_LEASE_MS : options.ack || 0
    let batch: Message[] = []
    let next = 0
    /** Ack mode: the message yielded last, until the loop body has finished with it. */
    let handling: Message | undefined
    try {
      for (;;) {
        if (handling) {
          // The loop asked for the next message: the body finished with this one without throwing.
          this.#settleLease(methods.ack, handling)
          handling = undefined
        }
        if (next < batch.length) {
          const m = batch[next++]!
          if (leaseMs > 0) handling = m
          yield m
          continue
        }
        try {
          batch = await this.receiveMany(recipient, batchSize, { signal: options.signal, leaseMs })
          next = 0
        } catch (err) {
          if (this.#closing) return
          if (isBusError(err) && (err.code === 'CLOSED' || err.code === 'SHUTTING_DOWN') && this.#options.reconnect) {
            // The daemon went away (or is going): wait for the reconnect, then take up the long-poll again.
            if (err.code === 'SHUTTING_DOWN') await sleep(RECONNECT_MIN_MS, undefined, { signal: this.#lifetime.signal }).catch(() => {})
            await this.#whenConnected({ signal: options.signal })
            continue
          }
          throw err
        }
      }
    } finally {
      if (handling) this.#settleLease(methods.nack, handling)
      if (next < batch.length) this.putBack(batch.slice(next))
    }
  }

  /** Acks or nacks one message without waiting: if the call is lost, the lease runs out and it comes back. */
  #settleLease(codec: MethodCodec<any, any>, m: Message): void {
    const conn = this.#conn
    if (conn && !conn.closed) conn.call(codec, { ids: [m.id!] }, { codec, settle: () => {} })
  }

  /** Messages waiting in a mailbox, its size in bytes, and its parked receivers. */
  mailboxStats(name: string, options: CallOptions = {}): Promise<MailboxInfo> {
    return this.#invoke(methods.mailboxStats, { name }, this.#plain(options))
  }

  /** Every mailbox that holds messages or has receivers waiting. */
  listMailboxes(options: CallOptions = {}): Promise<MailboxInfo[]> {
    return this.#invoke(methods.listMailboxes, {}, this.#plain(options))
  }

  /** Removes every message from a mailbox; resolves with how many were removed. */
  purge(name: string, options: CallOptions = {}): Promise<number> {
    return this.#invoke(methods.purgeMailbox, { name }, this.#plain(options))
  }

  /** Resolves with the daemon's version. */
  ping(options: CallOptions = {}): Promise<string> {
    return this.#invoke(methods.ping, {}, this.#plain(options))
  }

  /** The daemon's pid, version, uptime, connections and mailboxes. */
  status(options: CallOptions = {}): Promise<DaemonStatus> {
    return this.#invoke(methods.status, {}, this.#plain(options))
  }

  /** Asks the daemon to shut down gracefully. Resolves once it has acknowledged. */
  shutdownDaemon(options: CallOptions = {}): Promise<void> {
    return this.#invoke(methods.shutdown, {}, { ...this.#plain(options), noValue: true })
  }

  /**
   * Closes the client. Receives in flight are cancelled (CLOSED) and released on the daemon; other calls in
   * flight get up to 2 s to finish; then the socket is destroyed. Later calls reject with CLOSED. Idempotent:
   * every call returns the same promise.
   */
  close(): Promise<void> {
    if (!this.#closing) {
      // Set before #shutdown runs: the connection it closes must see the client closing and not reconnect.
      let resolve!: () => void
      this.#closing = new Promise((r) => (resolve = r))
      void this.#shutdown().finally(resolve)
    }
    return this.#closing
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /** @internal Puts taken messages back at the head of their mailboxes (best effort). */
  putBack(taken: Message | Message[] | undefined): void {
    const messages = taken === undefined ? [] : Array.isArray(taken) ? taken : [taken]
    const conn = this.#conn
    if (messages.length === 0 || !conn || conn.closed) return
    conn.call(methods.returnMessages, { messages }, { codec: methods.returnMessages, settle: () => {} })
  }

  /** @internal */
  plain(options: CallOptions): InvokeOptions {
    return this.#plain(options)
  }

  #plain(options: CallOptions): InvokeOptions {
    return { signal: options.signal, deadline: this.#deadline(options.timeoutMs) }
  }

  #deadline(timeoutMs: number | undefined): number {
    return this.#clock() + (timeoutMs ?? this.#options.callTimeoutMs)
  }

  /**
   * The time for new deadlines. While the deadline check runs, its clock (at most one tick old) plus one tick,
   * so that a deadline may fire up to two ticks late but never early; otherwise Date.now().
   */
  #clock(): number {
    return this.#deadlineTimer ? this.#now + DEADLINE_TICK_MS : Date.now()
  }

  /** A long-poll's client-side deadline: the daemon ends the wait; this only guards against a wedged daemon. */
  #waitDeadline(waitMs: number): number | undefined {
    return waitMs < 0 ? undefined : this.#clock() + waitMs + this.#options.callTimeoutMs
  }

  #invoke<R>(codec: MethodCodec<any, any>, args: object, options: InvokeOptions): Promise<R> {
    // No closure in here (every call comes through): see captured.ts.
    const promise = new Promise<R>(capture)
    this.#call(codec, args, options, captured.resolve, captured.reject)
    return promise
  }

  /**
   * #invoke without a promise, for the SDK's own calls (the receive pools'): resolve or reject is called once,
   * never before #call returns.
   */
  #call(codec: MethodCodec<any, any>, args: object, options: InvokeOptions, resolve: (v: any) => void, reject: (e: unknown) => void): void {
    if (this.#closing) return soon(() => reject(new BusError('CLOSED', 'the client is closed')))
    if (options.signal?.aborted || options.handle?.cancelled) {
      return soon(() => reject(new BusError('CANCELLED', `${codec.name} was aborted`, { cause: options.signal?.reason })))
    }
    const conn = this.#conn
    if (conn && !conn.closed) return this.#start(conn, codec, args, options, resolve, reject)
    this.#whenConnected(options).then((c) => {
      if (options.handle?.cancelled) throw new BusError('CANCELLED', `${codec.name} was cancelled`, { cause: options.handle.reason })
      this.#start(c, codec, args, options, resolve, reject)
    }).catch(reject)
  }

  #start(conn: Connection, codec: MethodCodec<any, any>, args: object, options: InvokeOptions, resolve: (v: any) => void, reject: (e: unknown) => void): void {
    const state = new CallState(this, codec, resolve, reject, options)
    try {
      state.seqid = conn.call(codec, args, state)
    } catch (err) {
      soon(() => reject(err))
      return
    }
    state.conn = conn
    if (options.deadline !== undefined && !this.#deadlineTimer) {
      this.#now = Date.now()
      this.#deadlineTimer = setInterval(this.#checkDeadlines, DEADLINE_TICK_MS)
    }
    // A call with a handle is cancelled through it; its signal, if any, only bounds the wait for a connection.
    if (options.handle) state.cancelWith(options.handle)
    else if (options.signal) state.listen(options.signal)
  }

  /** Fails the calls whose deadline has passed; stops checking once no call in flight has a deadline. */
  readonly #checkDeadlines = (): void => {
    const now = (this.#now = Date.now())
    let timed = 0
    for (const state of this.#callsInFlight()) {
      if (state.options.deadline === undefined) continue
      if (state.options.deadline <= now) {
        state.abandon(new BusError('TIMEOUT', `${state.codec.name} got no answer from the daemon within its deadline`))
      } else {
        timed++
      }
    }
    if (timed === 0) {
      clearInterval(this.#deadlineTimer)
      this.#deadlineTimer = undefined
    }
  }

  /** The user's calls waiting for replies on the current connection. */
  #callsInFlight(): CallState[] {
    const calls: CallState[] = []
    if (this.#conn) for (const p of this.#conn.pendingCalls()) if (p instanceof CallState && !p.done) calls.push(p)
    return calls
  }

  /** Resolves with a live connection, waiting for (or starting) a reconnect, within the call's limits. */
  #whenConnected(options: InvokeOptions): Promise<Connection> {
    if (this.#closing) return Promise.reject(new BusError('CLOSED', 'the client is closed'))
    if (!this.#connecting) {
      if (!this.#options.reconnect) return Promise.reject(new BusError('CLOSED', 'the connection to the daemon is closed and reconnect is off'))
      this.#connecting = this.#establish(undefined)
    }
    const connecting = this.#connecting
    if (!options.signal && options.deadline === undefined) return connecting
    return new Promise((resolve, reject) => {
      const timer = options.deadline === undefined ? undefined : setTimeout(() => {
        done()
        reject(new BusError('TIMEOUT', `no connection to the daemon at ${this.socket} within the call's deadline`))
      }, Math.max(0, options.deadline - Date.now()))
      const onAbort = () => {
        done()
        reject(new BusError('CANCELLED', 'the call was aborted while waiting for the daemon', { cause: options.signal!.reason }))
      }
      const done = () => {
        clearTimeout(timer)
        options.signal?.removeEventListener('abort', onAbort)
      }
      options.signal?.addEventListener('abort', onAbort, { once: true })
      connecting.then((c) => { done(); resolve(c) }, (e) => { done(); reject(e) })
    })
  }

  /**
   * Connects, spawning a daemon if allowed, retrying with backoff. With a deadline (the first connect) it gives
   * up then with NO_DAEMON; without one (a reconnect) it tries until the client is closed.
   */
  async #establish(deadline: number | undefined): Promise<Connection> {
    let delay = RECONNECT_MIN_MS
    for (;;) {
      try {
        const conn = await this.#attach(deadline ?? Date.now() + this.#options.connectTimeoutMs)
        if (this.#closing) {
          conn.destroy()
          throw new BusError('CLOSED', 'the client was closed while connecting')
        }
        this.#conn = conn
        return conn
      } catch (err) {
        if (this.#closing) throw new BusError('CLOSED', 'the client was closed while connecting')
        if (deadline !== undefined) throw err
      }
      await sleep(delay * (0.5 + Math.random() / 2), undefined, { signal: this.#lifetime.signal }).catch(() => {})
      delay = Math.min(delay * 2, RECONNECT_MAX_MS)
    }
  }

  /**
   * One connect attempt; when nothing answers and spawning is on, starts a daemon and waits for it. A
   * connection that is closed before the daemon's first answer (a dying daemon's backlog, or a daemon at its
   * connection limit) is tried again, and never used for calls: they could be lost with it.
   */
  async #attach(deadline: number): Promise<Connection> {
    const starter = new DaemonStarter(this.socket, this.stateDir, this.#options.spawn)
    let resetDelay = RESET_RETRY_MIN_MS
    /** The last connection closed before its answer, if any: the reason to give when the time runs out. */
    let unanswered: Error | undefined
    const closesConnections = (cause: Error) => new BusError(
      'NO_DAEMON',
      `the daemon at ${this.socket} closes connections before answering: it is shutting down, or at its connection limit (--max-connections); try again later`,
      { cause },
    )
    for (;;) {
      try {
        return await this.#open(deadline)
      } catch (err) {
        // The time ran out while a retry waited for its answer: the closed connections before it say why.
        if (isBusError(err)) throw unanswered ? closesConnections(unanswered) : err
        if ((err as NodeJS.ErrnoException).code === UNANSWERED) {
          unanswered = err as Error
          await sleep(Math.min(resetDelay, deadline - Date.now()), undefined, { signal: this.#lifetime.signal }).catch(() => {})
          resetDelay = Math.min(resetDelay * 2, RESET_RETRY_MAX_MS)
          if (Date.now() >= deadline) throw closesConnections(unanswered)
        } else {
          await starter.afterFailedConnect(err, deadline, this.#lifetime.signal)
        }
        if (this.#closing) throw new BusError('CLOSED', 'the client was closed while connecting')
      }
    }
  }

  /**
   * Connects and waits for the daemon's answer to the connection's first call. Rejects with the socket's
   * error (ENOENT, ECONNREFUSED: nobody listens), with code UNANSWERED when the connection closes before the
   * answer, and with NO_DAEMON when no answer comes by the deadline.
   */
  #open(deadline: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connectReading(this.socket)
      socket.once('error', reject)
      socket.once('connect', () => {
        socket.off('error', reject)
        let state: 'waiting' | 'answered' | 'given up' = 'waiting'
        /** Stops waiting for the answer: the timer and the abort listener go; err, if any, rejects. */
        const stopWaiting = (err: Error | undefined) => {
          clearTimeout(timer)
          this.#lifetime.signal.removeEventListener('abort', onAbort)
          if (err) reject(err)
        }
        const timer = setTimeout(() => {
          state = 'given up'
          stopWaiting(new BusError('NO_DAEMON', `the daemon at ${this.socket} accepted the connection but did not answer within the connect timeout (${this.#options.connectTimeoutMs} ms); it may be stuck: see its log`))
          conn.destroy()
        }, Math.max(0, deadline - Date.now()))
        const onAbort = () => conn.destroy()
        this.#lifetime.signal.addEventListener('abort', onAbort, { once: true })
        if (this.#lifetime.signal.aborted) soon(onAbort)
        const conn: Connection = new Connection(socket, this.#options.maxMessageBytes, (cause) => {
          if (state === 'answered') return this.#lost(conn)
          if (state === 'given up') return
          state = 'given up'
          stopWaiting(Object.assign(new Error(`the daemon closed the connection before answering: ${cause?.message ?? 'end of stream'}`), { code: UNANSWERED, cause }))
        }, () => {
          state = 'answered'
          stopWaiting(undefined)
          resolve(conn)
        })
      })
    })
  }

  /** The connection closed: calls on it have failed with CLOSED; reconnect unless told not to. */
  #lost(conn: Connection): void {
    if (this.#conn !== conn) return
    this.#conn = undefined
    this.#connecting = undefined
    if (this.#closing || !this.#options.reconnect) return
    this.#connecting = this.#establish(undefined)
    this.#connecting.catch(() => {
      this.#connecting = undefined
    })
  }

  async #shutdown(): Promise<void> {
    this.#lifetime.abort()
    for (const state of this.#callsInFlight()) if (state.options.receive) state.abandon(new BusError('CLOSED', 'the client was closed'))
    const conn = this.#conn
    const until = Date.now() + CLOSE_DEADLINE_MS
    while (conn && !conn.closed && conn.pendingCount > 0 && Date.now() < until) await sleep(5)
    for (const state of this.#callsInFlight()) state.abandon(new BusError('CLOSED', 'the client was closed'))
    clearInterval(this.#deadlineTimer)
    this.#deadlineTimer = undefined
    conn?.destroy()
    this.#conn = undefined
  }
}

/**
 * Connects to the daemon, starting one in the background when none answers (unless options.spawn is false).
 * Resolves with a Client once connected; rejects with NO_DAEMON when no daemon can be reached or started
 * within options.connectTimeoutMs.
 */
export async function connect(options: ConnectOptions = {}): Promise<Client> {
  const client = new Client(options)
  await client.open(options.signal)
  return client
}
