/**
 * The daemon: claims the endpoint, accepts connections, gives each a Session, and shuts down gracefully.
 *
 * Shutdown (close(), the shutdown RPC, SIGTERM/SIGINT through the CLI): stop accepting, answer parked calls
 * with SHUTTING_DOWN, let connections take their last replies (up to SHUTDOWN_GRACE_MS), remove the socket.
 */
import { mkdirSync, statSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { Broker, type BrokerOptions } from '../broker/broker.js'
import { SqliteStore, STORE_FILE, type Durability } from '../broker/store.js'
import { TopicEngine } from '../broker/topics.js'
import { Router, DEFAULT_ACTIVATION_TIMEOUT_MS, type RouterOptions } from '../broker/router.js'
import type { StructBytes } from '../wire/struct-copy.js'
import { HelperManager } from './helper-manager.js'
import type { Clock } from '../broker/clock.js'
import type { DaemonStatus, Message } from '../gen/thriftbus.js'
import { VERSION } from '../version.js'
import { defaultSocketPath, defaultStateDir, isWindowsPipe } from '../wire/endpoint.js'
import { DEFAULT_MAX_MESSAGE_BYTES } from '../wire/limits.js'
import { takeReads } from '../wire/socket-reads.js'
import { seedMethodNames } from '../wire/utf8.js'
import { claimEndpoint } from './listen.js'
import { stderrLogger, type Logger } from './log.js'
import { messageServiceBindings } from './message-service.js'
import { pubsubServiceBindings } from './pubsub-service.js'
import { Session, type MethodBinding, type SessionHost } from './session.js'

/** Connections the daemon serves at once, unless configured otherwise; more are refused. */
export const DEFAULT_MAX_CONNECTIONS = 4096
/** Calls one connection may have waiting (long-polls), unless configured otherwise. */
export const DEFAULT_MAX_OUTSTANDING_CALLS = 1024
/** How long shutdown waits for connections to take their last replies. */
export const SHUTDOWN_GRACE_MS = 2_000
/** How often the daemon checks that its socket file is still its own. */
const SOCKET_CHECK_INTERVAL_MS = 2_000

export interface DaemonOptions extends Pick<BrokerOptions, 'maxMailboxDepth' | 'maxMailboxBytes' | 'maxDeliveries'> {
  /** memory: lost on restart; durable (the default): survives the daemon's crash; fsync: survives power loss. */
  durability?: Durability
  /** The services config for activation (default: $THRIFTBUS_CONFIG, else the per-user default). */
  config?: string
  /** A routed call's deadline (default 30 s). */
  callTimeoutMs?: RouterOptions['callTimeoutMs']
  /** Socket path or Windows pipe name. Default: $THRIFTBUS_SOCKET, else the per-user default. */
  socket?: string
  /** Folder for logs and state. Default: $THRIFTBUS_STATE_DIR, else the per-user default. */
  stateDir?: string
  /** Largest message accepted, in bytes (default 16 MiB). Larger ones close the connection. */
  maxMessageBytes?: number
  maxConnections?: number
  maxOutstandingCalls?: number
  log?: Logger
  clock?: Clock
}

export class Daemon implements SessionHost {
  readonly endpoint: string
  readonly stateDir: string
  readonly durability: Durability
  /** Set once by start(), when the store is open. */
  broker!: Broker
  /** Set once by start(). */
  topics!: TopicEngine
  /** The durable store; none in memory mode. Set once by start(). */
  store: SqliteStore | undefined
  /** Set once by start(). */
  methods!: ReadonlyMap<string, MethodBinding>
  readonly router: Router<StructBytes>
  readonly helpers: HelperManager
  readonly builtinServices: ReadonlySet<string> = new Set(['MessageService', 'PubSub'])
  readonly maxMessageBytes: number
  readonly maxOutstandingCalls: number
  readonly log: Logger
  readonly startedAtMs = Date.now()
  /** Resolves once the daemon has stopped, whoever stopped it. */
  readonly closed: Promise<void>
  /** Set when the daemon stopped because its store failed: the CLI exits 1 with it. */
  failure: Error | undefined
  readonly #server: Server
  readonly #sessions = new Set<Session>()
  /** Sessions whose replies wait for the turn's group commit. */
  readonly #awaitingCommit = new Set<Session>()
  #inode = 0
  #socketCheck: NodeJS.Timeout | undefined
  #closing: Promise<void> | undefined
  #resolveClosed!: () => void
  /** Set during shutdown: called when the last connection has closed. */
  #drained: (() => void) | undefined

  /**
   * Starts a daemon. Resolves once it serves the endpoint, or with undefined when another daemon already
   * does (that is not an error: the caller can use that one). Rejects when the endpoint cannot be used.
   */
  static async start(options: DaemonOptions = {}): Promise<Daemon | undefined> {
    const daemon = new Daemon(options)
    const claim = await claimEndpoint(daemon.#server, daemon.endpoint)
    if (!claim.claimed) return undefined
    // The store is opened once the endpoint is ours: another daemon may be using it until then.
    try {
      daemon.#openStore(options)
    } catch (err) {
      await new Promise<void>((resolve) => daemon.#server.close(() => resolve()))
      throw err
    }
    daemon.#inode = claim.inode
    daemon.#server.on('error', (err) => daemon.log('error', `listener: ${err.message}`))
    if (!isWindowsPipe(daemon.endpoint)) {
      daemon.#socketCheck = setInterval(() => daemon.#checkSocketFile(), SOCKET_CHECK_INTERVAL_MS).unref()
    }
    daemon.log('info', `started: version ${VERSION}, pid ${process.pid}, socket ${daemon.endpoint}, state ${daemon.stateDir}`)
    return daemon
  }

  private constructor(options: DaemonOptions) {
    this.endpoint = options.socket ?? defaultSocketPath()
    this.stateDir = options.stateDir ?? defaultStateDir()
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
    this.maxOutstandingCalls = options.maxOutstandingCalls ?? DEFAULT_MAX_OUTSTANDING_CALLS
    this.log = options.log ?? stderrLogger()
    this.durability = options.durability ?? 'durable'
    mkdirSync(this.stateDir, { recursive: true, mode: 0o700 })
    // A bad services config stops the daemon here, before it claims anything.
    this.helpers = HelperManager.fromConfig({
      config: options.config, socket: this.endpoint, stateDir: this.stateDir, log: this.log, clock: options.clock,
    })
    const longestStart = Math.max(0, ...[...this.helpers.config.services.values()].map((h) => h.startTimeoutMs))
    this.router = new Router<StructBytes>({
      clock: options.clock,
      activator: this.helpers,
      reservedServices: this.builtinServices,
      maxWaitingPerCaller: this.maxOutstandingCalls,
      bodyBytes: (b) => b.bytes.length,
      callTimeoutMs: options.callTimeoutMs,
      // The helper manager's own error (with the helper's stderr) should come first.
      activationTimeoutMs: Math.max(DEFAULT_ACTIVATION_TIMEOUT_MS, longestStart + 1000),
    })
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve))
    this.#server = createServer({ noDelay: true, pauseOnConnect: true }, (socket) => this.#accept(socket))
    this.#server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS
    this.#server.on('drop', () => {
      this.log('error', `refused a connection: ${this.#sessions.size} connections is the limit (--max-connections)`)
    })
  }

  get shuttingDown(): boolean {
    return this.#closing !== undefined
  }

  get connections(): number {
    return this.#sessions.size
  }

  status(): DaemonStatus {
    const now = Date.now()
    return {
      pid: process.pid,
      version: VERSION,
      endpoint: this.endpoint,
      startedAtMs: this.startedAtMs,
      uptimeMs: now - this.startedAtMs,
      connections: this.#sessions.size,
      mailboxes: this.broker.list(),
      stateDir: this.stateDir,
      durability: this.durability,
      services: this.router.list(),
      helpers: this.helpers.list(),
      subscriptions: this.topics.list(),
      store: this.store?.info(),
    }
  }

  /**
   * Commits what the store has pending; sessions call it before writing replies, so that no reply confirms
   * an uncommitted change. False when the store has failed: the daemon is stopping and writes nothing more.
   */
  commitStore(): boolean {
    return this.store ? this.store.commit() : true
  }

  get storePending(): boolean {
    return this.store !== undefined && this.store.pending
  }

  whenCommitted(session: Session): void {
    this.#awaitingCommit.add(session)
    if (this.#awaitingCommit.size === 1) setImmediate(this.#groupCommit)
  }

  /** The end of the turn: one commit for every connection served in it, then their replies. */
  readonly #groupCommit = (): void => {
    if (!this.commitStore()) {
      this.#awaitingCommit.clear()
      return
    }
    for (const session of this.#awaitingCommit) session.flushCommitted()
    this.#awaitingCommit.clear()
  }

  requestShutdown(): void {
    // After the current tick, so that the reply to the shutdown call goes out first.
    setImmediate(() => void this.close())
  }

  returnUndelivered(messages: Message[], from: number | undefined): void {
    if (from === undefined) this.broker.returnMessages(messages)
    else this.topics.returnToSubscription(from, messages)
    this.log('info', `put ${messages.length} message(s) back: the receiver had gone before they could be written`)
  }

  leftRouter(session: Session): void {
    this.router.callerGone(session)
    for (const service of this.router.providerGone(session)) this.helpers.unregistered(service)
  }

  sessionClosed(session: Session): void {
    this.#sessions.delete(session)
    this.topics.detach(session.id)
    const n = this.broker.releaseOwner(session.id)
    if (n > 0) this.log('info', `connection ${session.id} closed with ${n} message(s) on lease: they go back to their mailboxes`)
    if (this.#sessions.size === 0) this.#drained?.()
  }

  /** Shuts down gracefully. Idempotent: every call returns the same promise. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown(true)
    return this.#closing
  }

  async #shutdown(removeSocket: boolean): Promise<void> {
    clearInterval(this.#socketCheck)
    // Closing the listener removes the socket file. When the path is no longer ours (it was removed, or
    // another daemon took it), that would remove someone else's socket: just stop listening for events.
    if (removeSocket) this.#server.close()
    else this.#server.unref()
    this.router.shutdown()
    const helpersStopped = this.helpers.close()
    for (const s of this.#sessions) s.shutdown()
    const grace = setTimeout(() => {
      for (const s of this.#sessions) s.destroy()
    }, SHUTDOWN_GRACE_MS)
    if (this.#sessions.size > 0) await new Promise<void>((resolve) => (this.#drained = resolve))
    clearTimeout(grace)
    await helpersStopped
    this.broker.close()
    this.store?.close()
    this.log('info', `stopped: pid ${process.pid}, socket ${this.endpoint}`)
    this.#resolveClosed()
  }

  #openStore(options: DaemonOptions): void {
    const store = this.durability === 'memory'
      ? undefined
      : new SqliteStore(join(this.stateDir, STORE_FILE), this.durability, (err) => this.#storeFailed(err))
    this.store = store
    this.broker = new Broker({ ...options, store, log: (level, text) => this.log(level, text) })
    // Published messages and subscriptions take their ids from the mailboxes' sequence: one id space.
    this.topics = new TopicEngine({ clock: options.clock, store, nextId: () => this.broker.nextId() })
    this.methods = new Map([...messageServiceBindings(this), ...pubsubServiceBindings(this)])
    // A method name decoded from a header is then the map's own key: the lookup compares pointers.
    seedMethodNames(this.methods.keys())
  }

  /**
   * The store failed to write: stop at once, without writing any reply that is waiting for its commit.
   * Clients see their connection close; what they had confirmed before is safe in the store.
   */
  #storeFailed(err: Error): void {
    this.log('error', `${err.message}; stopping now`)
    this.failure ??= err
    for (const s of this.#sessions) s.destroy()
    this.#closing ??= this.#shutdown(true)
  }

  #accept(socket: Socket): void {
    if (this.#closing) {
      socket.destroy()
      return
    }
    this.#sessions.add(new Session(takeReads(socket), this))
  }

  /** Shuts down when the socket file was removed or replaced: nobody can reach this daemon any more. */
  #checkSocketFile(): void {
    let inode = -1
    try {
      inode = statSync(this.endpoint).ino
    } catch {
      // Removed: inode stays -1.
    }
    if (inode === this.#inode || this.#closing) return
    this.log('error', `socket file ${this.endpoint} was ${inode === -1 ? 'removed' : 'replaced by another daemon'}; shutting down`)
    this.#closing = this.#shutdown(false)
  }
}
