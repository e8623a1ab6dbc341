/**
 * HelperManager: starts a helper process on demand for each service of the service config (activation, as
 * D-Bus does on Linux desktops), and stops the helpers when the daemon shuts down.
 *
 * The daemon tells it three things: ensure(service) when a call finds no provider (the call waits on the
 * returned promise), registered(service) when a connection calls registerService, and unregistered(service)
 * when the last provider of a service has gone. activate() and timeoutText() make it the Router's Activator
 * (src/broker/router.ts), which calls ensure() for it.
 *
 * Rules:
 * - At most one process per service. ensure() starts it when it is not running; every ensure() made
 *   meanwhile waits for that same start. ensure() resolves once the service is registered, by the helper or
 *   by anyone else (the daemon cannot tell which connection belongs to which process).
 * - A helper that has not registered within its startTimeoutMs is stopped, and every waiting call fails
 *   with ACTIVATION_FAILED, the tail of its stderr and what to fix. The same bound applies when calls come
 *   for a helper that still runs but has unregistered.
 * - A helper that exits before registering while calls wait for it is started again after a backoff.
 * - A failure is: a start that cannot spawn, exits before registering or does not register in time, or a
 *   helper that exits with an error less than STABLE_RUN_MS after registering. Consecutive failures double
 *   the delay before the next start (100, 200, 400, 800 ms). The MAX_CONSECUTIVE_FAILURES-th failure in a
 *   row makes the helper "failed": the waiting calls fail with its last error, and so does every call for
 *   FAILED_COOLDOWN_MS; the first call after that starts it afresh. A helper that exits with code 0 after
 *   registering, or after running STABLE_RUN_MS, clears the count.
 * - A helper that exits while no call waits goes idle; the next call starts it again (after the backoff,
 *   when the exit was a failure).
 * - A helper is the daemon's child (same process group), but holds no handle that keeps the daemon's event
 *   loop alive, and neither do the manager's timers (while calls wait, the daemon's listener does). close()
 *   stops every helper: SIGTERM, then SIGKILL after HELPER_STOP_GRACE_MS. A daemon that exits without
 *   close() still sends SIGTERM to its helpers (execa's `cleanup`); a daemon killed with SIGKILL cannot, and
 *   its helpers see their connection to it close.
 * - Memory: the last STDERR_TAIL_BYTES of each helper's stderr, for error messages. Its whole stdout and
 *   stderr are appended to <stateDir>/helpers/<service>.log, which is moved to <service>.log.1 when a start
 *   finds it larger than MAX_HELPER_LOG_BYTES.
 * - Every timer (start timeout, backoff) runs on the Clock and is cleared by its owner; close() clears all.
 */
import { closeSync, mkdirSync, openSync, renameSync, statSync, writeSync, createWriteStream } from 'node:fs'
import type { Socket } from 'node:net'
import { devNull } from 'node:os'
import { join } from 'node:path'
import type { ResultPromise } from 'execa'
import { systemClock, type Clock, type TimerHandle } from '../broker/clock.js'
import { BusError } from '../errors.js'
import type { HelperInfo } from '../gen/thriftbus.js'
import { SOCKET_ENV } from '../wire/endpoint.js'
import { silentLogger, type Logger } from './log.js'
import { configLocation, loadServiceConfig, SERVICE_ENV, type HelperSpec, type ServiceConfig } from './service-config.js'

/** Delay before the first restart after a failure; it doubles with each further failure in a row. */
export const RESTART_BACKOFF_INITIAL_MS = 100
/** Upper bound of that delay. */
export const RESTART_BACKOFF_MAX_MS = 30_000
/** Failures in a row after which a helper is "failed" and calls for it fail at once. */
export const MAX_CONSECUTIVE_FAILURES = 5
/** How long a failed helper stays failed: the first call after this starts it again. */
export const FAILED_COOLDOWN_MS = 30_000
/** A helper registered this long has "run fine": its exit is not a failure and clears the count. */
export const STABLE_RUN_MS = 10_000
/** Between SIGTERM and SIGKILL when stopping a helper. */
export const HELPER_STOP_GRACE_MS = 2_000
/** Stderr kept in memory per helper, for error messages: at most this many bytes and lines. */
export const STDERR_TAIL_BYTES = 2048
export const STDERR_TAIL_LINES = 20
/** A helper log over this size is moved aside (one old generation kept) when the helper next starts. */
export const MAX_HELPER_LOG_BYTES = 1024 * 1024
/** After a helper exits, how long to wait for the rest of its stderr (a grandchild may hold the pipe open). */
const STDERR_DRAIN_MS = 1_000

export type HelperState = 'idle' | 'starting' | 'running' | 'backoff' | 'failed'

export interface HelperManagerOptions {
  /** The daemon's endpoint, given to each helper as $THRIFTBUS_SOCKET. */
  socket: string
  /** The daemon's state folder: helper output goes to <stateDir>/helpers/<service>.log. */
  stateDir: string
  log?: Logger
  clock?: Clock
}

export interface HelperManagerConfigOptions extends HelperManagerOptions {
  /** The daemon's --config option: the config file. Default: $THRIFTBUS_CONFIG, else the per-user default. */
  config?: string
  /** Where to read $THRIFTBUS_CONFIG and the default's variables. Default: process.env. */
  env?: NodeJS.ProcessEnv
}

export interface EnsureOptions {
  /** Stops waiting (rejects with CANCELLED); a start under way goes on, bounded by its start timeout. */
  signal?: AbortSignal
}

/** execa is loaded on the first start: most daemons never start a helper. */
let execaModule: Promise<typeof import('execa')> | undefined
function loadExeca(): Promise<typeof import('execa')> {
  execaModule ??= import('execa')
  return execaModule
}

export class HelperManager {
  readonly config: ServiceConfig
  readonly #helpers = new Map<string, Helper>()
  #closing: Promise<void> | undefined

  /** Finds and loads the service config (see service-config.ts). Throws ServiceConfigError. */
  static fromConfig(options: HelperManagerConfigOptions): HelperManager {
    const where = configLocation(options.config, options.env ?? process.env)
    return new HelperManager(loadServiceConfig(where.path, where), options)
  }

  constructor(config: ServiceConfig, options: HelperManagerOptions) {
    this.config = config
    const context: Context = {
      socket: options.socket,
      logDir: join(options.stateDir, 'helpers'),
      configPath: config.path,
      log: options.log ?? silentLogger,
      clock: options.clock ?? systemClock,
    }
    for (const spec of config.services.values()) this.#helpers.set(spec.service, new Helper(spec, context))
  }

  /** True when the config has a helper for this service. */
  has(service: string): boolean {
    return this.#helpers.has(service)
  }

  /**
   * Resolves once the service has a provider, starting its helper when needed. Rejects with
   * ACTIVATION_FAILED (the text says why and shows the tail of the helper's stderr), NO_RESPONDERS when no
   * helper is configured for the service, SHUTTING_DOWN after close(), CANCELLED when signal aborts.
   */
  ensure(service: string, options: EnsureOptions = {}): Promise<void> {
    const helper = this.#helpers.get(service)
    if (!helper) {
      return Promise.reject(new BusError('NO_RESPONDERS', `no provider is registered for service "${service}", and ${this.config.path} configures no helper for it`))
    }
    if (this.#closing) return Promise.reject(shuttingDown())
    if (options.signal?.aborted) return Promise.reject(cancelled(service))
    return helper.ensure(options.signal)
  }

  /**
   * The Router's Activator (src/broker/router.ts), so that `new Router({ activator: helpers })` works: false
   * when no helper is configured for service, else ensure()'s promise, resolving true once it is registered.
   */
  activate(service: string): boolean | Promise<boolean> {
    if (!this.#helpers.has(service)) return false
    return this.ensure(service).then(() => true)
  }

  /** For the Router's Activator: the text of its ACTIVATION_FAILED when its own wait ran out first. */
  timeoutText(service: string, waitedMs: number): string {
    const helper = this.#helpers.get(service)
    if (!helper) return `no provider registered service "${service}" within ${waitedMs} ms`
    return helper.timeoutText(waitedMs)
  }

  /** A connection has registered the service: the calls waiting for it can go ahead. */
  registered(service: string): void {
    if (!this.#closing) this.#helpers.get(service)?.registered()
  }

  /** The last provider of the service has gone. */
  unregistered(service: string): void {
    this.#helpers.get(service)?.unregistered()
  }

  /** Every configured helper, in the config's order. */
  list(): HelperInfo[] {
    return [...this.#helpers.values()].map((h) => h.info())
  }

  /**
   * Fails waiting calls with SHUTTING_DOWN and stops every helper (SIGTERM, then SIGKILL after
   * HELPER_STOP_GRACE_MS). Resolves once they have all exited. Idempotent: returns the same promise each time.
   */
  close(): Promise<void> {
    this.#closing ??= Promise.all([...this.#helpers.values()].map((h) => h.shutdown())).then(() => {})
    return this.#closing
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

interface Context {
  readonly socket: string
  readonly logDir: string
  readonly configPath: string
  readonly log: Logger
  readonly clock: Clock
}

interface Waiter {
  resolve(): void
  reject(err: BusError): void
  /** Removes the abort listener. */
  detach(): void
}

/** One start of a helper, from spawn to exit. */
interface Run {
  /** Set once execa is loaded and the process spawned. */
  child: ResultPromise | undefined
  pid: number
  /** When the service was registered during this run; undefined until then. */
  registeredAt: number | undefined
  /** Bounds the wait for registration: armed at the start, and again when calls wait after an unregister. */
  startTimer: TimerHandle | undefined
  /** We are stopping it (timeout, close): its exit is expected, and already accounted for. */
  stopping: boolean
  ended: boolean
  readonly tail: StderrTail
  readonly done: Promise<void>
  markDone(): void
}

type Outcome = { code: number | null; signal: NodeJS.Signals | null } | { spawnError: string }

/** The state of one configured service's helper. */
class Helper {
  readonly #spec: HelperSpec
  readonly #ctx: Context
  readonly #waiters = new Set<Waiter>()
  #run: Run | undefined
  /** A provider of the service is registered (as far as the daemon has told us). */
  #registered = false
  #failures = 0
  #restarts = 0
  #lastError = ''
  /** No start before this time (backoff after a failure). */
  #nextStartAt = 0
  /** Non-zero while failed: calls fail at once until this time. */
  #failedUntil = 0
  #backoffTimer: TimerHandle | undefined
  #closed = false

  constructor(spec: HelperSpec, ctx: Context) {
    this.#spec = spec
    this.#ctx = ctx
  }

  ensure(signal: AbortSignal | undefined): Promise<void> {
    if (this.#registered) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#waiters.delete(waiter)
        waiter.detach()
        reject(cancelled(this.#spec.service))
        if (this.#waiters.size === 0) {
          this.#clearBackoff()
          // A helper that runs but has unregistered is bounded only while calls wait for it; a first start
          // keeps its bound.
          if (this.#run?.registeredAt !== undefined) this.#clearStartTimer(this.#run)
        }
      }
      const waiter: Waiter = { resolve, reject, detach: () => signal?.removeEventListener('abort', onAbort) }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#waiters.add(waiter)
      this.#advance()
    })
  }

  registered(): void {
    this.#registered = true
    const run = this.#run
    if (run && !run.stopping) {
      if (run.registeredAt === undefined) {
        run.registeredAt = this.#ctx.clock.now()
        this.#ctx.log('info', `helper for service "${this.#spec.service}" registered (pid ${run.pid})`)
      }
      this.#clearStartTimer(run)
    }
    this.#advance()
  }

  unregistered(): void {
    this.#registered = false
  }

  info(): HelperInfo {
    const run = this.#run
    return {
      serviceName: this.#spec.service,
      command: [...this.#spec.command],
      pid: run?.pid ?? 0,
      state: this.#state(),
      restarts: this.#restarts,
      lastError: this.#lastError,
    }
  }

  timeoutText(waitedMs: number): string {
    const run = this.#run
    const now = run && !run.stopping ? `it is ${this.#state()} (pid ${run.pid})` : `it is ${this.#state()}`
    const last = this.#lastError ? `; its last failure: ${this.#lastError}` : ''
    const tail = run && !run.stopping ? this.#tailText(run) : `; its output is in ${this.#logPath()}`
    return `no provider registered service "${this.#spec.service}" within ${waitedMs} ms of a call asking for it; ${now}${last}${tail}`
  }

  shutdown(): Promise<void> {
    this.#closed = true
    this.#clearBackoff()
    this.#settleAll(shuttingDown())
    const run = this.#run
    if (!run) return Promise.resolve()
    this.#stop(run)
    return run.done
  }

  #state(): HelperState {
    const run = this.#run
    if (run && !run.stopping) return run.registeredAt === undefined ? 'starting' : 'running'
    if (this.#failedUntil !== 0) return 'failed'
    if (this.#backoffTimer !== undefined) return 'backoff'
    return 'idle'
  }

  /** Does the next thing the waiting calls need: resolve them, wait, fail them, or start the helper. */
  #advance(): void {
    if (this.#closed) return
    if (this.#registered) {
      this.#settleAll(undefined)
      return
    }
    if (this.#waiters.size === 0) return
    const run = this.#run
    if (run) {
      // Starting, being stopped (a start follows its exit), or running but unregistered: bound the wait.
      if (!run.stopping && run.startTimer === undefined) this.#armStartTimer(run)
      return
    }
    const now = this.#ctx.clock.now()
    if (this.#failedUntil !== 0) {
      if (now < this.#failedUntil) {
        this.#settleAll(this.#failedError())
        return
      }
      // The cool-down is over: this call gets a fresh start.
      this.#failedUntil = 0
      this.#failures = 0
      this.#nextStartAt = 0
    }
    if (now < this.#nextStartAt) {
      this.#backoffTimer ??= this.#ctx.clock.setTimer(() => {
        this.#backoffTimer = undefined
        this.#advance()
      }, this.#nextStartAt - now)
      return
    }
    this.#start()
  }

  #start(): void {
    let markDone!: () => void
    const done = new Promise<void>((resolve) => (markDone = resolve))
    const run: Run = { child: undefined, pid: 0, registeredAt: undefined, startTimer: undefined, stopping: false, ended: false, tail: new StderrTail(), done, markDone }
    this.#run = run
    if (this.#failures > 0) this.#restarts++
    this.#armStartTimer(run)
    void this.#spawn(run)
  }

  async #spawn(run: Run): Promise<void> {
    try {
      const { execa } = await loadExeca()
      if (run.stopping) {
        this.#ended(run, { spawnError: 'stopped before it was spawned' })
        return
      }
      this.#spawnWith(execa, run)
    } catch (err) {
      // execa refused its options, or the log folder broke in an unexpected way: a failed start, not a crash.
      this.#ended(run, { spawnError: (err as Error).message })
    }
  }

  #spawnWith(execa: (typeof import('execa'))['execa'], run: Run): void {
    const spec = this.#spec
    const log = this.#openLog()
    let child: ResultPromise
    try {
      child = this.#execa(execa, log.fd)
    } catch (err) {
      closeSync(log.fd)
      throw err
    }
    run.child = child
    if (child.pid === undefined) {
      // It could not be spawned (no such program, bad cwd): execa says why once it has settled.
      closeSync(log.fd)
      void child.then((result) => this.#ended(run, { spawnError: result.originalMessage || result.message || 'no reason given' }))
      return
    }
    run.pid = child.pid
    this.#ctx.log('info', `helper for service "${spec.service}" started: pid ${child.pid}, ${commandText(spec.command)}`)
    // Neither the process nor its stderr pipe may keep the daemon running.
    child.unref()
    const stderr = child.stderr as unknown as Socket
    stderr.unref()
    stderr.on('data', (chunk: Buffer) => run.tail.push(chunk))
    if (log.isLog) {
      const file = createWriteStream('', { fd: log.fd })
      file.on('error', (err) => {
        stderr.unpipe(file)
        this.#ctx.log('error', `stopped writing the log of helper "${spec.service}": ${err.message}`)
      })
      stderr.pipe(file)
    } else {
      closeSync(log.fd)
    }
    child.once('exit', (code, signal) => {
      // 'close' comes once stderr is read to its end, so the error shows the last lines; unless a grandchild
      // holds the pipe open.
      const finish = () => {
        clearTimeout(drain)
        this.#ended(run, { code, signal })
      }
      const drain = setTimeout(finish, STDERR_DRAIN_MS).unref()
      child.once('close', finish)
    })
  }

  #execa(execa: (typeof import('execa'))['execa'], logFd: number): ResultPromise {
    const spec = this.#spec
    return execa(spec.command[0]!, spec.command.slice(1), {
      cwd: spec.cwd,
      env: { ...spec.env, [SOCKET_ENV]: this.#ctx.socket, [SERVICE_ENV]: spec.service },
      stdin: 'ignore',
      // The log's descriptor: the helper writes its stdout there itself, not through the daemon. execa passes
      // a plain number straight to spawn; its types list only 1..9, hence the cast.
      stdout: logFd as 1,
      stderr: 'pipe',
      // Output goes to the log and the tail, never into memory without bound.
      buffer: false,
      reject: false,
      // SIGTERM to the helpers when the daemon exits without close().
      cleanup: true,
      forceKillAfterDelay: HELPER_STOP_GRACE_MS,
      windowsHide: true,
    })
  }

  /**
   * Opens <logDir>/<service>.log for appending, moving a large one aside first. When it cannot, says so in
   * the daemon's log and returns the null device instead.
   */
  #openLog(): { fd: number; isLog: boolean } {
    const path = this.#logPath()
    try {
      mkdirSync(this.#ctx.logDir, { recursive: true, mode: 0o700 })
      try {
        if (statSync(path).size > MAX_HELPER_LOG_BYTES) renameSync(path, `${path}.1`)
      } catch {
        // No log yet.
      }
      const fd = openSync(path, 'a', 0o600)
      writeSync(fd, `--- ${new Date().toISOString()} thriftbus starts ${commandText(this.#spec.command)}\n`)
      return { fd, isLog: true }
    } catch (err) {
      this.#ctx.log('error', `cannot write the log of helper "${this.#spec.service}" to ${path} (${(err as Error).message}); its output is discarded`)
      return { fd: openSync(devNull, 'w'), isLog: false }
    }
  }

  #ended(run: Run, outcome: Outcome): void {
    if (run.ended) return
    run.ended = true
    this.#clearStartTimer(run)
    if (this.#run === run) this.#run = undefined
    run.markDone()
    if (this.#closed) return
    const how = exitText(outcome)
    if (run.stopping) {
      // Stopped after a start timeout: that failure is counted already.
      this.#ctx.log('info', `helper for service "${this.#spec.service}" (pid ${run.pid}) ${how}`)
    } else if (run.registeredAt === undefined) {
      this.#failure(`helper for service "${this.#spec.service}" (${commandText(this.#spec.command)}) ${how} before registering the service${this.#tailText(run)}`)
    } else {
      const ranMs = this.#ctx.clock.now() - run.registeredAt
      if (('code' in outcome && outcome.code === 0) || ranMs >= STABLE_RUN_MS) {
        this.#failures = 0
        this.#ctx.log('info', `helper for service "${this.#spec.service}" (pid ${run.pid}) ${how}`)
      } else {
        this.#failure(`helper for service "${this.#spec.service}" (pid ${run.pid}) ${how} ${ranMs} ms after registering${this.#tailText(run)}`)
      }
    }
    this.#advance()
  }

  /** Counts a failure; the MAX_CONSECUTIVE_FAILURES-th in a row fails the waiting calls. */
  #failure(message: string): void {
    const now = this.#ctx.clock.now()
    this.#failures++
    this.#lastError = message
    this.#nextStartAt = now + Math.min(RESTART_BACKOFF_INITIAL_MS * 2 ** (this.#failures - 1), RESTART_BACKOFF_MAX_MS)
    this.#ctx.log('error', message)
    if (this.#failures >= MAX_CONSECUTIVE_FAILURES) {
      this.#failedUntil = now + FAILED_COOLDOWN_MS
      this.#settleAll(this.#failedError())
    }
  }

  #armStartTimer(run: Run): void {
    const again = run.registeredAt !== undefined
    run.startTimer = this.#ctx.clock.setTimer(() => {
      run.startTimer = undefined
      if (run.ended || run.stopping || this.#registered) return
      const ms = this.#spec.startTimeoutMs
      const what = again
        ? `is running (pid ${run.pid}) but did not register the service again within ${ms} ms of being asked to`
        : `did not register the service within ${ms} ms of starting`
      const message =
        `helper for service "${this.#spec.service}" (${commandText(this.#spec.command)}) ${what}, so it was stopped; ` +
        `it must connect to $${SOCKET_ENV} and call registerService("${this.#spec.service}"), ` +
        `or, if it needs longer, raise startTimeoutMs in ${this.#ctx.configPath}${this.#tailText(run)}`
      this.#stop(run)
      this.#failure(message)
      this.#settleAll(new BusError('ACTIVATION_FAILED', message))
    }, this.#spec.startTimeoutMs)
  }

  #stop(run: Run): void {
    run.stopping = true
    this.#clearStartTimer(run)
    // SIGTERM; execa sends SIGKILL after HELPER_STOP_GRACE_MS. Before the spawn, #spawn sees `stopping`.
    run.child?.kill()
  }

  #clearStartTimer(run: Run): void {
    if (run.startTimer !== undefined) this.#ctx.clock.clearTimer(run.startTimer)
    run.startTimer = undefined
  }

  #clearBackoff(): void {
    if (this.#backoffTimer !== undefined) this.#ctx.clock.clearTimer(this.#backoffTimer)
    this.#backoffTimer = undefined
  }

  /** Resolves (err undefined) or rejects every waiting call. Nobody waits any more, so no restart is due. */
  #settleAll(err: BusError | undefined): void {
    const waiters = [...this.#waiters]
    this.#waiters.clear()
    this.#clearBackoff()
    for (const w of waiters) {
      w.detach()
      if (err) w.reject(err)
      else w.resolve()
    }
  }

  #failedError(): BusError {
    const seconds = Math.ceil((this.#failedUntil - this.#ctx.clock.now()) / 1000)
    return new BusError(
      'ACTIVATION_FAILED',
      `helper for service "${this.#spec.service}" failed ${MAX_CONSECUTIVE_FAILURES} times in a row, so calls to it fail ` +
        `for the next ${seconds} s; the first call after that starts it again. Fix the helper or its entry in ` +
        `${this.#ctx.configPath}. Last error: ${this.#lastError}`,
    )
  }

  /** <stateDir>/helpers/<service>.log; a "/" in the name is encoded, so every service has one file in that folder. */
  #logPath(): string {
    return join(this.#ctx.logDir, `${encodeURIComponent(this.#spec.service)}.log`)
  }

  #tailText(run: Run): string {
    const log = this.#logPath()
    const tail = run.tail.text()
    if (!tail) return `; it wrote nothing to stderr (its output is in ${log})`
    return `; its stderr ended with (all of it is in ${log}):\n${tail.replace(/^/gm, '  ')}`
  }
}

/** The last bytes of a stream, bounded: STDERR_TAIL_BYTES in memory, STDERR_TAIL_LINES shown. */
export class StderrTail {
  #buf = Buffer.alloc(0)
  #truncated = false

  push(chunk: Buffer): void {
    if (chunk.length >= STDERR_TAIL_BYTES) {
      this.#truncated ||= chunk.length > STDERR_TAIL_BYTES || this.#buf.length > 0
      this.#buf = Buffer.from(chunk.subarray(chunk.length - STDERR_TAIL_BYTES))
      return
    }
    const keep = Math.min(this.#buf.length, STDERR_TAIL_BYTES - chunk.length)
    this.#truncated ||= keep < this.#buf.length
    this.#buf = Buffer.concat([this.#buf.subarray(this.#buf.length - keep), chunk])
  }

  /** The last lines, trailing white space removed. A line cut by the byte bound is left out. */
  text(): string {
    let lines = this.#buf.toString('utf8').trimEnd().split(/\r?\n/)
    if (this.#truncated && lines.length > 1) lines = lines.slice(1)
    return lines.slice(-STDERR_TAIL_LINES).join('\n')
  }
}

function exitText(outcome: Outcome): string {
  if ('spawnError' in outcome) return `could not be started (${outcome.spawnError})`
  if (outcome.signal) return `was killed by ${outcome.signal}`
  return `exited with code ${outcome.code}`
}

function commandText(command: readonly string[]): string {
  return command.map((a) => (a === '' || /[\s"'\\$`]/.test(a) ? JSON.stringify(a) : a)).join(' ')
}

function shuttingDown(): BusError {
  return new BusError('SHUTTING_DOWN', 'the daemon is shutting down and starts no helpers')
}

function cancelled(service: string): BusError {
  return new BusError('CANCELLED', `stopped waiting for the helper of service "${service}": the call was cancelled`)
}
