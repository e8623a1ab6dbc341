/**
 * Request/response routing to hosted services, D-Bus style. A provider connection registers a service name
 * (MessageService.registerService); the calls that clients make to that name with a stock TMultiplexedProtocol
 * client ("UserService:getUser") are forwarded to a provider as plain calls ("getUser", with a seqid of the
 * router's choosing), and the provider's REPLY or EXCEPTION goes back to the caller under the caller's seqid.
 *
 * Pure logic: no sockets, no bytes, time through a Clock. A call's arguments and a reply's result are opaque
 * bodies of type B that the links write (the daemon uses StructBytes from src/wire/struct-copy.ts); the router
 * only chooses a provider, maps seqids, keeps deadlines and ends every two-way call exactly once:
 *   - with the provider's answer, relayed under the bare method name (as a stock TMultiplexedProcessor answers:
 *     stock clients look replies up by that name);
 *   - with NO_RESPONDERS at once when no provider is registered and no activation applies;
 *   - with ACTIVATION_FAILED when a helper was asked for but none registered in time, or it failed to start;
 *   - with PROVIDER_FAILED at once when its provider goes away with the call in flight;
 *   - with TIMEOUT when its deadline passes, held or in flight (a reply that comes later is dropped);
 *   - with LIMIT_EXCEEDED when a bound below is reached, and SHUTTING_DOWN after shutdown().
 * Errors reach the caller as a BusError whose message starts with the code's name ("NO_RESPONDERS: ..."): the
 * daemon writes it as a TApplicationException, the one error a client of any IDL understands.
 *
 * A caller that goes away cancels its calls: they are forgotten at once and a late reply is dropped. The provider
 * is not told, since Thrift has no cancel message that a stock server would understand: it finishes the call, and
 * its reply is dropped. A oneway call is forwarded and forgotten; one that cannot be forwarded is dropped (there
 * is nobody to tell) and counted as a failure. Held oneway calls outlive their caller: "send and exit" is a
 * normal way to use them.
 *
 * Sharing: a call goes to the provider of its service with the fewest calls in flight (counted over every
 * service that connection provides), ties broken round robin, so that idle providers take turns.
 *
 * Activation: with an Activator, a call that finds no provider asks it to start one. While it starts, calls to
 * that service are held (at most maxHeldPerService calls and maxHeldBytesPerService bytes) until a provider
 * registers, the activation fails, or activationTimeoutMs passes; each call keeps its own deadline meanwhile.
 */
import { BusError, isBusError, type BusErrorCode } from '../errors.js'
import { MESSAGE_ONEWAY, type ServiceInfo } from '../gen/thriftbus.js'
import { systemClock, type Clock, type TimerHandle } from './clock.js'

/** A call's deadline, from the moment the daemon reads it to its reply, unless configured otherwise. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000
/** How long a started helper has to register its service before the held calls fail, unless configured otherwise. */
export const DEFAULT_ACTIVATION_TIMEOUT_MS = 10_000
/** Calls one provider connection may have in flight; past it, the call goes to another provider, or fails with LIMIT_EXCEEDED. */
export const MAX_IN_FLIGHT_CALLS_PER_PROVIDER = 1024
/** Calls held for one service while its helper starts; past it, new calls fail with LIMIT_EXCEEDED at once. */
export const MAX_HELD_CALLS_PER_SERVICE = 1024
/** Bytes of arguments held for one service while its helper starts (as RouterOptions.bodyBytes counts them). */
export const MAX_HELD_BYTES_PER_SERVICE = 64 * 1024 * 1024
/** Two-way calls one caller connection may have waiting (held or in flight); past it, LIMIT_EXCEEDED. */
export const MAX_WAITING_CALLS_PER_CALLER = 1024
/** Services the router keeps (with providers, activating, or remembered for their counters); registering more fails. */
export const MAX_SERVICES = 4096
/** Longest service name, in bytes. */
export const MAX_SERVICE_NAME_BYTES = 200

/** Letters, digits and `. _ - /`, starting with a letter, digit or `_`; never `:`, the multiplexing separator. */
const SERVICE_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._/-]*$/
/** The router's seqids run from 1 to this, then wrap; a seqid still in flight is skipped. */
const MAX_SEQID = 0x7fffffff

/** A provider connection, as the router sees it. The daemon's Session implements it. */
export interface ProviderLink<B> {
  /** Names the provider in error texts, e.g. "connection 12". */
  readonly label: string
  /**
   * Writes a call to the provider: the bare method name ("getUser"), MESSAGE_CALL or MESSAGE_ONEWAY, the
   * router's seqid, and the arguments. May throw: that call then fails, with the BusError thrown (its code's name
   * is prefixed to the text when missing) or INTERNAL for anything else.
   */
  relayCall(method: string, type: number, seqid: number, body: B): void
}

/** A caller connection, as the router sees it. The daemon's Session implements it. Its methods must not throw. */
export interface CallerLink<B> {
  /** Writes the provider's answer: MESSAGE_REPLY or MESSAGE_EXCEPTION, under the bare method name and the caller's seqid. */
  relayReply(method: string, type: number, seqid: number, body: B): void
  /**
   * Writes an error for the caller's call, as a TApplicationException (type UNKNOWN) carrying err.message, which
   * starts with the code's name.
   */
  failCall(method: string, seqid: number, err: BusError): void
}

/** Starts providers on demand (the daemon's helper supervisor). */
export interface Activator {
  /**
   * Called when a call finds no provider of service and no activation of it is under way.
   *   - false: no helper is configured for it; the call fails with NO_RESPONDERS at once.
   *   - true: a helper is starting; calls are held until it registers the service, or activationTimeoutMs passes.
   *   - a Promise: as true while pending. Resolving false fails the held calls with NO_RESPONDERS; rejecting fails
   *     them with the rejection's message (say what happened and what to do) and its code when it is a BusError
   *     (NO_RESPONDERS, SHUTTING_DOWN, ...), else ACTIVATION_FAILED; resolving true changes nothing. A promise that
   *     settles after a provider registered is ignored.
   *   - throwing: as a rejection.
   * A helper that fails after the promise resolved is reported with Router.activationFailed().
   */
  activate(service: string): boolean | Promise<boolean>
  /** The text of ACTIVATION_FAILED when no provider registered within the timeout; a generic one when absent. */
  timeoutText?(service: string, waitedMs: number): string
}

export interface RouterOptions<B = unknown> {
  clock?: Clock
  /** Deadline of every two-way call; DEFAULT_CALL_TIMEOUT_MS when absent. */
  callTimeoutMs?: number
  /** DEFAULT_ACTIVATION_TIMEOUT_MS when absent. */
  activationTimeoutMs?: number
  maxInFlightPerProvider?: number
  maxHeldPerService?: number
  maxWaitingPerCaller?: number
  maxHeldBytesPerService?: number
  /** The size of a body, for maxHeldBytesPerService; without it, held bodies count as 0 bytes. */
  bodyBytes?: (body: B) => number
  maxServices?: number
  /** Starts helpers for services that have no provider; without it, such calls fail with NO_RESPONDERS. */
  activator?: Activator
  /** Names that cannot be registered: the services the daemon serves itself ("MessageService", "PubSub"). */
  reservedServices?: Iterable<string>
}

/** Splits a multiplexed message name at its first ':' ("UserService:getUser"); undefined when there is none. */
export function splitServiceName(name: string): { service: string; method: string } | undefined {
  const colon = name.indexOf(':')
  if (colon < 0) return undefined
  return { service: name.slice(0, colon), method: name.slice(colon + 1) }
}

/** Throws INVALID_ARGUMENT unless name is a valid service name. */
export function checkServiceName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new BusError('INVALID_ARGUMENT', 'service name is empty; name the service as clients multiplex it, e.g. "UserService"')
  }
  if (name.length > MAX_SERVICE_NAME_BYTES) {
    throw new BusError('INVALID_ARGUMENT', `service name is ${name.length} characters; the limit is ${MAX_SERVICE_NAME_BYTES} bytes`)
  }
  if (!SERVICE_NAME_PATTERN.test(name)) {
    throw new BusError('INVALID_ARGUMENT', `service name ${JSON.stringify(name)} is not allowed; use letters, digits and . _ - / (no ':'), starting with a letter, digit or _`)
  }
}

/** new: being routed; held: waiting for a provider to register; sent: in flight to a provider; done: ended. */
type CallState = 'new' | 'held' | 'sent' | 'done'

class RoutedCall<B> {
  state: CallState = 'new'
  provider: ProviderEntry<B> | undefined
  /** The router's seqid, once sent. */
  seqid = 0
  timer: TimerHandle | undefined
  /** Dropped once forwarded: the router keeps no bytes longer than it must. */
  body: B | undefined
  /** What the body counts against maxHeldBytesPerService while held. */
  heldBytes = 0

  constructor(
    readonly service: ServiceEntry<B>,
    /** undefined for a oneway call: nobody waits for it. */
    readonly caller: CallerEntry<B> | undefined,
    readonly method: string,
    readonly type: number,
    readonly callerSeqid: number,
    body: B,
  ) {
    this.body = body
  }
}

class ProviderEntry<B> {
  readonly services = new Set<ServiceEntry<B>>()
  /** Two-way calls in flight, by the router's seqid. */
  readonly calls = new Map<number, RoutedCall<B>>()
  nextSeqid = 1
  constructor(readonly link: ProviderLink<B>) {}
}

class CallerEntry<B> {
  /** Two-way calls held or in flight. */
  readonly calls = new Set<RoutedCall<B>>()
  constructor(readonly link: CallerLink<B>) {}
}

/** One attempt to start a provider; compared by identity, so that a late settlement of an old one is ignored. */
class Activation {
  timer: TimerHandle | undefined
}

class ServiceEntry<B> {
  readonly providers: ProviderEntry<B>[] = []
  /** Index in providers where the next round-robin scan starts. */
  next = 0
  /** Calls waiting for a provider to register, oldest first. */
  readonly held = new Set<RoutedCall<B>>()
  activation: Activation | undefined
  /** True once a provider has registered: the entry is then kept for its counters. */
  everRegistered = false
  heldBytes = 0
  calls = 0
  inFlight = 0
  failures = 0
  constructor(readonly name: string) {}

  get idle(): boolean {
    return this.providers.length === 0 && this.held.size === 0 && this.inFlight === 0 && !this.activation
  }
}

const SHUTTING_DOWN_TEXT = 'the thriftbus daemon is shutting down; reconnect to start or reach a new one'

export class Router<B> {
  readonly #clock: Clock
  readonly #callTimeoutMs: number
  readonly #activationTimeoutMs: number
  readonly #maxInFlightPerProvider: number
  readonly #maxHeldPerService: number
  readonly #maxWaitingPerCaller: number
  readonly #maxHeldBytesPerService: number
  readonly #bodyBytes: (body: B) => number
  readonly #maxServices: number
  readonly #activator: Activator | undefined
  readonly #reserved: Set<string>
  readonly #services = new Map<string, ServiceEntry<B>>()
  readonly #providers = new Map<ProviderLink<B>, ProviderEntry<B>>()
  readonly #callers = new Map<CallerLink<B>, CallerEntry<B>>()
  #shuttingDown = false

  constructor(options: RouterOptions<B> = {}) {
    this.#clock = options.clock ?? systemClock
    this.#callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS
    this.#activationTimeoutMs = options.activationTimeoutMs ?? DEFAULT_ACTIVATION_TIMEOUT_MS
    this.#maxInFlightPerProvider = options.maxInFlightPerProvider ?? MAX_IN_FLIGHT_CALLS_PER_PROVIDER
    this.#maxHeldPerService = options.maxHeldPerService ?? MAX_HELD_CALLS_PER_SERVICE
    this.#maxWaitingPerCaller = options.maxWaitingPerCaller ?? MAX_WAITING_CALLS_PER_CALLER
    this.#maxHeldBytesPerService = options.maxHeldBytesPerService ?? MAX_HELD_BYTES_PER_SERVICE
    this.#bodyBytes = options.bodyBytes ?? (() => 0)
    this.#maxServices = options.maxServices ?? MAX_SERVICES
    this.#activator = options.activator
    this.#reserved = new Set(options.reservedServices ?? [])
  }

  /**
   * Makes provider a provider of service; registering again is a no-op. accepted() runs once the registration
   * is valid, before anything is sent to the provider (the daemon writes the registration's reply there). Calls
   * held while the service was being activated are forwarded then, oldest first. Throws a BusError: INVALID_ARGUMENT for a bad or reserved name,
   * LIMIT_EXCEEDED when the router keeps MAX_SERVICES services, SHUTTING_DOWN after shutdown().
   */
  register(service: string, provider: ProviderLink<B>, accepted?: () => void): void {
    if (this.#shuttingDown) throw new BusError('SHUTTING_DOWN', SHUTTING_DOWN_TEXT)
    checkServiceName(service)
    if (this.#reserved.has(service)) {
      throw new BusError('INVALID_ARGUMENT', `${JSON.stringify(service)} is served by the thriftbus daemon itself; register your service under another name`)
    }
    const entry = this.#entry(service)
    let p = this.#providers.get(provider)
    if (!p) {
      p = new ProviderEntry(provider)
      this.#providers.set(provider, p)
    }
    // The registration's own reply must reach the provider before the first call it is sent.
    accepted?.()
    if (p.services.has(entry)) return
    p.services.add(entry)
    entry.providers.push(p)
    entry.everRegistered = true
    if (entry.activation) this.#endActivation(entry)
    for (const call of [...entry.held]) this.#send(call)
  }

  /** True when link has registered a service: its REPLY and EXCEPTION messages go to providerReply(). */
  isProvider(link: ProviderLink<B>): boolean {
    return this.#providers.has(link)
  }

  /**
   * Routes a call that caller made to service (the part of the message name before ':'). method is the part after
   * it; type MESSAGE_CALL or MESSAGE_ONEWAY; body the arguments. The outcome reaches the caller through its link,
   * possibly before forward returns (NO_RESPONDERS, LIMIT_EXCEEDED, SHUTTING_DOWN).
   */
  forward(caller: CallerLink<B>, service: string, method: string, type: number, callerSeqid: number, body: B): void {
    const oneway = type === MESSAGE_ONEWAY
    const entry = this.#services.get(service)
    if (this.#shuttingDown) return this.#refuse(caller, oneway, entry, method, callerSeqid, 'SHUTTING_DOWN', SHUTTING_DOWN_TEXT)
    let c: CallerEntry<B> | undefined
    if (!oneway) {
      c = this.#callers.get(caller)
      if (c && c.calls.size >= this.#maxWaitingPerCaller) {
        return this.#refuse(caller, oneway, entry, method, callerSeqid, 'LIMIT_EXCEEDED',
          `this connection already has ${this.#maxWaitingPerCaller} calls waiting for replies, the limit; wait for some to finish`)
      }
    }
    const make = (e: ServiceEntry<B>): RoutedCall<B> => {
      if (!oneway && !c) {
        c = new CallerEntry(caller)
        this.#callers.set(caller, c)
      }
      const call = new RoutedCall(e, c, method, type, callerSeqid, body)
      if (c) {
        c.calls.add(call)
        call.timer = this.#clock.setTimer(() => this.#deadline(call), this.#callTimeoutMs)
      }
      return call
    }
    if (entry && entry.providers.length > 0) return this.#send(make(entry))
    if (entry?.activation) return this.#hold(make(entry))
    if (!this.#activator) return this.#refuse(caller, oneway, entry, method, callerSeqid, 'NO_RESPONDERS', noRespondersText(service))
    this.#activate(service, entry, caller, oneway, method, callerSeqid, make)
  }

  /**
   * Relays a provider's REPLY or EXCEPTION (type) for the call it got under seqid. Returns false, and relays
   * nothing, when no such call is in flight from this provider: it timed out, its caller went away, or the seqid
   * is wrong. The daemon drops such replies.
   */
  providerReply(provider: ProviderLink<B>, seqid: number, type: number, body: B): boolean {
    const call = this.#providers.get(provider)?.calls.get(seqid)
    if (!call) return false
    this.#finish(call)
    call.caller!.link.relayReply(call.method, type, call.callerSeqid, body)
    return true
  }

  /**
   * The provider's connection closed (or broke): it provides nothing any more, and each call in flight to it fails
   * now. Returns the services it leaves without any provider (the daemon tells its helper manager).
   */
  providerGone(provider: ProviderLink<B>): string[] {
    const p = this.#providers.get(provider)
    if (!p) return []
    this.#providers.delete(provider)
    const orphaned: string[] = []
    for (const entry of p.services) {
      const i = entry.providers.indexOf(p)
      entry.providers.splice(i, 1)
      if (i < entry.next) entry.next--
      if (entry.next >= entry.providers.length) entry.next = 0
      if (entry.providers.length === 0) orphaned.push(entry.name)
    }
    for (const call of [...p.calls.values()]) {
      this.#fail(call, 'PROVIDER_FAILED',
        `the provider of service ${JSON.stringify(call.service.name)} (${provider.label}) disconnected before it replied to ${call.method}; the call may or may not have taken effect; retry it if that is safe`)
    }
    return orphaned
  }

  /** The caller's connection closed: its calls are forgotten, held or in flight, and replies to them dropped. */
  callerGone(caller: CallerLink<B>): void {
    const c = this.#callers.get(caller)
    if (!c) return
    this.#callers.delete(caller)
    for (const call of [...c.calls]) this.#finish(call)
  }

  /**
   * Ends the activation of service under way, failing its held calls with ACTIVATION_FAILED and text (what
   * happened, what to do). For a helper that fails after activate() returned. Returns false when none was under way.
   */
  activationFailed(service: string, text: string): boolean {
    const entry = this.#services.get(service)
    if (!entry?.activation) return false
    this.#failActivation(entry, entry.activation, 'ACTIVATION_FAILED', text)
    return true
  }

  /**
   * Stops taking work: new calls and registrations fail with SHUTTING_DOWN, held calls fail with it now, and calls
   * in flight end as usual (reply, provider gone, deadline). Idempotent.
   */
  shutdown(): void {
    if (this.#shuttingDown) return
    this.#shuttingDown = true
    for (const entry of [...this.#services.values()]) {
      if (entry.activation) this.#failActivation(entry, entry.activation, 'SHUTTING_DOWN', SHUTTING_DOWN_TEXT)
    }
    // Calls in flight are answered now: the providers' connections close with the daemon.
    for (const p of this.#providers.values()) {
      for (const call of [...p.calls.values()]) this.#fail(call, 'SHUTTING_DOWN', SHUTTING_DOWN_TEXT)
    }
  }

  /** Counters of one service, or undefined when the router does not know it. */
  serviceInfo(service: string): ServiceInfo | undefined {
    const entry = this.#services.get(service)
    return entry && info(entry)
  }

  /** Every service the router knows: with providers, being activated, or served before (for its counters). */
  list(): ServiceInfo[] {
    return [...this.#services.values()].map(info)
  }

  /** Starts an activation for a call that found no provider; fails the call when the activator declines. */
  #activate(
    service: string, existing: ServiceEntry<B> | undefined, caller: CallerLink<B>, oneway: boolean, method: string,
    callerSeqid: number, make: (e: ServiceEntry<B>) => RoutedCall<B>,
  ): void {
    let result: boolean | Promise<boolean>
    try {
      result = this.#activator!.activate(service)
    } catch (err) {
      return this.#refuse(caller, oneway, existing, method, callerSeqid, activationErrorCode(err), activationErrorText(service, err))
    }
    // The activator may have registered a provider before returning (an in-process one).
    const now = this.#services.get(service)
    if (now && now.providers.length > 0) return this.#send(make(now))
    if (result === false) return this.#refuse(caller, oneway, now, method, callerSeqid, 'NO_RESPONDERS', noRespondersText(service))
    let entry: ServiceEntry<B>
    try {
      entry = this.#entry(service)
    } catch (err) {
      if (typeof result !== 'boolean') result.catch(() => {}) // its outcome no longer matters
      return this.#refuse(caller, oneway, now, method, callerSeqid, 'LIMIT_EXCEEDED', (err as Error).message)
    }
    const act = new Activation()
    entry.activation = act
    act.timer = this.#clock.setTimer(() => {
      act.timer = undefined
      const waited = this.#activationTimeoutMs
      const text = this.#activator!.timeoutText?.(service, waited)
        ?? `a helper was started for service ${JSON.stringify(service)} but no provider registered it within ${waited} ms; check the helper's log`
      this.#failActivation(entry, act, 'ACTIVATION_FAILED', text)
    }, this.#activationTimeoutMs)
    if (typeof result !== 'boolean') {
      result.then(
        (ok) => {
          if (ok === false) this.#failActivation(entry, act, 'NO_RESPONDERS', noRespondersText(service))
        },
        (err: unknown) => this.#failActivation(entry, act, activationErrorCode(err), activationErrorText(service, err)),
      )
    }
    this.#hold(make(entry))
  }

  #hold(call: RoutedCall<B>): void {
    const entry = call.service
    if (entry.held.size >= this.#maxHeldPerService) {
      return this.#fail(call, 'LIMIT_EXCEEDED',
        `${this.#maxHeldPerService} calls already wait for service ${JSON.stringify(entry.name)} to start, the limit; retry once its provider has registered`)
    }
    call.state = 'held'
    const bytes = this.#bodyBytes(call.body!)
    if (entry.heldBytes + bytes > this.#maxHeldBytesPerService) {
      return this.#fail(call, 'LIMIT_EXCEEDED',
        `the calls waiting for service ${JSON.stringify(entry.name)} to start already hold ${entry.heldBytes} bytes of arguments, and this one has ${bytes}; the limit is ${this.#maxHeldBytesPerService}; retry once its provider has registered`)
    }
    call.heldBytes = bytes
    entry.heldBytes += bytes
    entry.held.add(call)
    // A oneway call has no deadline of its own once sent, but must not wait for a provider forever.
    if (!call.caller) call.timer = this.#clock.setTimer(() => this.#deadline(call), this.#callTimeoutMs)
  }

  /** Forwards a call (new, or held until now) to the least busy provider of its service. */
  #send(call: RoutedCall<B>): void {
    const entry = call.service
    const p = this.#choose(entry)
    if (!p) {
      return this.#fail(call, 'LIMIT_EXCEEDED',
        `every provider of service ${JSON.stringify(entry.name)} already has ${this.#maxInFlightPerProvider} calls in flight, the limit; retry later, or start more providers`)
    }
    if (call.state === 'held') this.#unhold(call)
    const body = call.body!
    call.body = undefined
    const seqid = this.#nextSeqid(p)
    entry.calls++
    if (call.caller) {
      call.state = 'sent'
      call.provider = p
      call.seqid = seqid
      p.calls.set(seqid, call)
      entry.inFlight++
    } else {
      call.state = 'done'
      if (call.timer !== undefined) this.#clock.clearTimer(call.timer)
      call.timer = undefined
    }
    try {
      p.link.relayCall(call.method, call.type, seqid, body)
    } catch (err) {
      entry.calls--
      const e = isBusError(err)
        ? err
        : new BusError('INTERNAL', `the call could not be forwarded to the provider (${p.link.label}): ${(err as Error)?.message ?? String(err)}`, { cause: err })
      if (!call.caller) entry.failures++
      // The link may have answered the call already (a provider that replied from within relayCall).
      else if (p.calls.get(seqid) === call) this.#fail(call, e.code, e.message, e)
    }
  }

  /** The provider with the fewest calls in flight, below the limit; ties go round robin from entry.next. */
  #choose(entry: ServiceEntry<B>): ProviderEntry<B> | undefined {
    const ps = entry.providers
    const n = ps.length
    let best: ProviderEntry<B> | undefined
    let bestAt = 0
    for (let i = 0; i < n; i++) {
      const at = (entry.next + i) % n
      const p = ps[at]!
      const load = p.calls.size
      if (load >= this.#maxInFlightPerProvider) continue
      if (!best || load < best.calls.size) {
        best = p
        bestAt = at
      }
    }
    if (best) entry.next = (bestAt + 1) % n
    return best
  }

  #nextSeqid(p: ProviderEntry<B>): number {
    // At most maxInFlightPerProvider seqids are taken, so this ends within that many steps.
    for (;;) {
      const id = p.nextSeqid
      p.nextSeqid = id >= MAX_SEQID ? 1 : id + 1
      if (!p.calls.has(id)) return id
    }
  }

  #deadline(call: RoutedCall<B>): void {
    call.timer = undefined
    const name = call.service.name
    const ms = this.#callTimeoutMs
    if (call.state === 'held') {
      this.#fail(call, 'TIMEOUT',
        `${name}.${call.method} waited ${ms} ms for a provider of service ${JSON.stringify(name)} to start; check its helper, or raise the daemon's call timeout`)
    } else if (call.state === 'sent') {
      this.#fail(call, 'TIMEOUT',
        `no reply to ${name}.${call.method} within ${ms} ms from its provider (${call.provider!.link.label}); the call may still take effect; check that provider, or raise the daemon's call timeout`)
    }
  }

  #endActivation(entry: ServiceEntry<B>): void {
    const act = entry.activation
    if (!act) return
    if (act.timer !== undefined) this.#clock.clearTimer(act.timer)
    act.timer = undefined
    entry.activation = undefined
  }

  #failActivation(entry: ServiceEntry<B>, act: Activation, code: BusErrorCode, text: string): void {
    if (entry.activation !== act) return // over already: a provider registered, or it failed another way
    this.#endActivation(entry)
    for (const call of [...entry.held]) this.#fail(call, code, text)
    this.#forgetIfIdle(entry)
  }

  #unhold(call: RoutedCall<B>): void {
    call.service.held.delete(call)
    call.service.heldBytes -= call.heldBytes
    call.heldBytes = 0
  }

  /** Ends a call: out of every table, its timer cleared. Nothing is sent. */
  #finish(call: RoutedCall<B>): void {
    const entry = call.service
    if (call.state === 'held') this.#unhold(call)
    else if (call.state === 'sent') {
      call.provider!.calls.delete(call.seqid)
      entry.inFlight--
    }
    call.state = 'done'
    call.body = undefined
    if (call.timer !== undefined) this.#clock.clearTimer(call.timer)
    call.timer = undefined
    const c = call.caller
    if (c) {
      c.calls.delete(call)
      if (c.calls.size === 0 && this.#callers.get(c.link) === c) this.#callers.delete(c.link)
    }
    this.#forgetIfIdle(entry)
  }

  /** Ends a call with an error: the caller is told (a oneway call is dropped), and the service counts a failure. */
  #fail(call: RoutedCall<B>, code: BusErrorCode, text: string, cause?: unknown): void {
    if (call.state === 'done') return
    this.#finish(call)
    call.service.failures++
    call.caller?.link.failCall(call.method, call.callerSeqid, routeError(code, text, cause))
  }

  /** Fails a call that was never tracked. */
  #refuse(
    caller: CallerLink<B>, oneway: boolean, entry: ServiceEntry<B> | undefined, method: string, callerSeqid: number,
    code: BusErrorCode, text: string,
  ): void {
    if (entry) entry.failures++
    if (!oneway) caller.failCall(method, callerSeqid, routeError(code, text))
  }

  /** The entry of service, created if need be; an idle entry is dropped to make room. */
  #entry(service: string): ServiceEntry<B> {
    let entry = this.#services.get(service)
    if (entry) return entry
    if (this.#services.size >= this.#maxServices) {
      let idle: ServiceEntry<B> | undefined
      for (const e of this.#services.values()) {
        if (e.idle) {
          idle = e
          break
        }
      }
      if (!idle) {
        throw new BusError('LIMIT_EXCEEDED', `the daemon already hosts ${this.#maxServices} services, the limit; stop some providers first`)
      }
      this.#services.delete(idle.name)
    }
    entry = new ServiceEntry<B>(service)
    this.#services.set(service, entry)
    return entry
  }

  /** Entries made only for an activation are dropped once idle: a name nobody ever provided leaves no trace. */
  #forgetIfIdle(entry: ServiceEntry<B>): void {
    if (!entry.everRegistered && entry.idle && this.#services.get(entry.name) === entry) this.#services.delete(entry.name)
  }
}

function info<B>(entry: ServiceEntry<B>): ServiceInfo {
  return {
    name: entry.name,
    providers: entry.providers.length,
    calls: entry.calls,
    // Calls waiting for their reply: in flight to a provider, or held while one starts.
    inFlight: entry.inFlight + entry.held.size,
    failures: entry.failures,
  }
}

/** A BusError whose message starts with the code's name: the code travels in the text of a TApplicationException. */
function routeError(code: BusErrorCode, text: string, cause?: unknown): BusError {
  const message = text.startsWith(`${code}: `) ? text : `${code}: ${text}`
  return new BusError(code, message, cause === undefined ? undefined : { cause })
}

function noRespondersText(service: string): string {
  return `no provider is registered for service ${JSON.stringify(service)}; start one, or configure a helper for it`
}

function activationErrorCode(err: unknown): BusErrorCode {
  return isBusError(err) ? err.code : 'ACTIVATION_FAILED'
}

function activationErrorText(service: string, err: unknown): string {
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : ''
  return message !== '' ? message : `the helper for service ${JSON.stringify(service)} failed to start; check its log`
}
