/**
 * The mailboxes: named FIFO queues with long-polling receivers, leases, TTLs and dead letters. No sockets;
 * time through a Clock; persistence through an optional MessageStore. The daemon binds Thrift calls to it;
 * tests drive it directly.
 *
 * Delivery:
 * - A receiver that finds its mailbox empty parks a Waiter. A message sent to a mailbox with parked waiters
 *   goes straight to the oldest active one, without entering the queue. A waiter whose receiver has gone
 *   reports `active === false` and is passed over, so it can never swallow a message.
 * - A plain receive (leaseMs 0) removes the message as it is handed out: at most once. A waiter with a
 *   capacity above 1 is filled with the messages sent in the same turn and settled at its end (or when full).
 * - A leased receive (leaseMs > 0) keeps the message, counted as leased, until ack(). nack(), the end of the
 *   lease, or releaseOwner() (the receiver's connection closed) put it back at the head of its mailbox, in id
 *   order, with its delivery count kept. A message delivered maxDeliveries times and given back once more
 *   moves to the mailbox's dead-letter mailbox, `<name>.dead-letter` (which itself never dead-letters).
 * - A message with a ttlMs is never delivered after sentAtMs + ttlMs: it is dropped, and counted, when it
 *   reaches the head of its mailbox (receives, and a sweep every TTL_SWEEP_MS).
 *
 * Memory, with a store: a mailbox holds at most MEMORY_WINDOW_MESSAGES (and MEMORY_WINDOW_BYTES) of its
 * oldest messages in memory; the rest stay only in the store and are loaded, in id order, as the head drains.
 * Every message in memory has a smaller id than every message only in the store (`loadedUpTo` divides them).
 */
import { BusError } from '../errors.js'
import type { MailboxInfo, Message } from '../gen/thriftbus.js'
import { systemClock, type Clock, type TimerHandle } from './clock.js'
import { Deque } from './deque.js'
import type { MessageStore } from './store.js'
import { soon } from '../soon.js'

/** Longest mailbox name, in bytes. */
export const MAX_MAILBOX_NAME_BYTES = 200
/** Most messages one mailbox holds, unless configured otherwise. */
export const DEFAULT_MAX_MAILBOX_DEPTH = 1_048_576
/** Most bytes of content, body and headers one mailbox holds, unless configured otherwise. */
export const DEFAULT_MAX_MAILBOX_BYTES = 256 * 1024 * 1024
/** Deliveries of a leased message before it moves to the dead-letter mailbox, unless configured otherwise. */
export const DEFAULT_MAX_DELIVERIES = 5
/** Longest lease one receive may take. */
export const MAX_LEASE_MS = 12 * 60 * 60 * 1000
/** Longest TTL a message may carry (ten years: "practically never"). */
export const MAX_TTL_MS = 10 * 365 * 24 * 60 * 60 * 1000
/**
 * With a store: messages of one mailbox kept in memory; the rest are read from the store as needed. Large
 * enough that a backlog built by a burst is served from memory: reading it back costs about 2.5 µs a message,
 * and a read-back while the journal holds later messages of the mailbox checkpoints the journal first. At
 * 16,384 a producer that runs 20-30% ahead of its consumer for a few seconds made the durable daemon read
 * back, and halved its throughput in some runs; 65,536 costs about 18 MiB more RSS with 1M queued.
 */
export const MEMORY_WINDOW_MESSAGES = 65_536
/** With a store: bytes of one mailbox's messages kept in memory. */
export const MEMORY_WINDOW_BYTES = 16 * 1024 * 1024
/** With a store: bytes of all mailboxes' messages kept in memory; past it, new messages are only stored. */
export const MEMORY_WINDOWS_TOTAL_BYTES = 64 * 1024 * 1024
/** Messages read from the store at a time, so that one read blocks the daemon for a few ms at most. */
const LOAD_BATCH = 1024
/** How often expired messages are looked for at the heads of mailboxes that have messages with a TTL. */
export const TTL_SWEEP_MS = 1000
/**
 * Flow control. A mailbox at least this deep that a receiver has taken from in the last DRAINED_RECENTLY_MS
 * holds the acknowledgements of new sends (the messages are accepted and stored at once): a producer that
 * outruns its consumer then waits for it, instead of growing a queue that makes every message cost more.
 * A mailbox nobody receives from (work queued for later) never holds them.
 */
export const FLOW_HIGH_DEPTH = 2048
/** Held acknowledgements go out once their mailbox is down to this depth, */
export const FLOW_LOW_DEPTH = 1024
/** or after this long at most. */
export const FLOW_MAX_HOLD_MS = 20
/** A mailbox a receiver took from this recently is being drained. */
export const DRAINED_RECENTLY_MS = 1000
/** The suffix of a dead-letter mailbox's name. */
export const DEAD_LETTER_SUFFIX = '.dead-letter'
/** Ids are reserved in the store in blocks of this many, so that a restart never reuses one. */
const ID_BLOCK = 1 << 20
/** Idle mailboxes are forgotten once more than this many (or half as many as there are mailboxes) went idle. */
export const IDLE_SWEEP_MIN = 64

const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._:@/+-]*$/

export interface BrokerOptions {
  clock?: Clock
  /** Messages per mailbox; past it, sends fail with MAILBOX_FULL. */
  maxMailboxDepth?: number
  /** Bytes per mailbox (text counted one byte per character); past it, sends fail with MAILBOX_FULL. */
  maxMailboxBytes?: number
  /** Deliveries of a leased message before it is dead-lettered. */
  maxDeliveries?: number
  /** Where accepted messages are kept; none: memory only. */
  store?: MessageStore
  /** Reports what happens without a caller to tell: dead letters dropped, expired messages. */
  log?: (level: 'info' | 'error', text: string) => void
}

/** A receiver parked on an empty mailbox (or subscription). */
export interface Waiter {
  /** False once the receiver is gone: it is passed over and never handed a message. */
  readonly active: boolean
  /**
   * Most messages it takes at once (default 1). A waiter that takes more (an at-most-once receiveMessages, a
   * poll) is filled with what arrives in the same turn and settled at the end of it: one reply for a burst.
   */
  readonly capacity?: number
  /** With capacity: the reply bytes (replyBytes) it takes at most; the first message is always taken. */
  readonly maxBytes?: number
  /** Called exactly once: with the messages (at least one), or with none when the wait ran out. */
  settle(messages: Message[]): void
}

/** How a receive takes messages: at most once (leaseMs 0), or leased to owner for leaseMs. */
export interface TakeMode {
  leaseMs: number
  /** Whose leases these are (a connection): releaseOwner() gives them all back. */
  owner: number
}

const AT_MOST_ONCE: TakeMode = { leaseMs: 0, owner: 0 }

/** A parked waiter, as the broker holds it. cancel() returns false when it had already settled. */
export interface Parked {
  cancel(): boolean
}

/** A waiter parked on a queue (a mailbox, a subscription) until it is handed messages, times out or is cancelled. */
export class ParkedOn<Q> implements Parked {
  done = false
  timer: TimerHandle | undefined
  constructor(
    readonly waiter: Waiter,
    readonly queue: Q,
    /** Releases it without settling it. */
    readonly owner: { unpark(parked: ParkedOn<Q>): void },
    /** How a mailbox's waiter takes its messages. */
    readonly mode: TakeMode = AT_MOST_ONCE,
  ) {}

  cancel(): boolean {
    if (this.done) return false
    this.owner.unpark(this)
    return true
  }

  /** Settles the waiter with [] once timeoutMs (> 0; 0 or less: never) has passed, unless it was handed messages. */
  expireAfter(clock: Clock, timeoutMs: number): void {
    if (timeoutMs <= 0) return
    this.timer = clock.setTimer(() => {
      if (this.done) return
      this.owner.unpark(this)
      this.waiter.settle([])
    }, timeoutMs)
  }
}

type ParkedWaiter = ParkedOn<Mailbox>

/** A leased message. */
class Lease {
  constructor(
    readonly message: Message,
    readonly box: Mailbox,
    readonly owner: number,
    readonly batch: LeaseBatch,
  ) {}
}

/** Leases taken by one receive share one timer. */
class LeaseBatch {
  timer: TimerHandle | undefined
  readonly leases: Lease[] = []
  /** Leases of the batch not ended yet. */
  live = 0
}

/**
 * A waiter taking a burst (Waiter.capacity > 1): it is handed messages until it is full, by count or by reply
 * bytes, or the turn ends. Its owner (a mailbox, a subscription) keeps it in a slot, hands it new messages
 * first, and settles it before anything that would reply after it (a take, a put-back).
 */
export class Filling {
  readonly batch: Message[] = []
  #bytes = 0
  constructor(readonly waiter: Waiter) {}

  /**
   * Adds m, unless the waiter has gone or m does not fit: then false, and nothing is added. The first message
   * always fits.
   */
  add(m: Message): boolean {
    const size = replyBytes(m)
    if (this.batch.length > 0 && (!this.waiter.active || this.#bytes + size > (this.waiter.maxBytes ?? Infinity))) return false
    this.batch.push(m)
    this.#bytes += size
    return true
  }

  get full(): boolean {
    return this.batch.length >= (this.waiter.capacity ?? 1)
  }
}

class Mailbox {
  /** The oldest messages, in memory, oldest first. */
  readonly queue = new Deque<Message>()
  /** A waiter being filled with this turn's messages (see Waiter.capacity). */
  filling: Filling | undefined
  readonly waiters = new Deque<ParkedWaiter>()
  activeWaiters = 0
  /** Messages queued, in memory and in the store only; leased ones are not counted. */
  depth = 0
  bytes = 0
  /** Bytes of the messages in `queue`. */
  memoryBytes = 0
  /** Messages only in the store: all have ids above loadedUpTo. */
  onlyStored = 0
  loadedUpTo = 0
  leased = 0
  expired = 0
  deadLettered = 0
  /** Queued messages that carry a ttlMs. */
  withTtl = 0
  /** When a receiver last took messages (clock ms). */
  lastTakeMs = -DRAINED_RECENTLY_MS
  /** Counted as gone idle since the broker's last sweep of idle mailboxes (it may be in use again). */
  sweepable = false
  /** Acknowledgements held by flow control (Broker.hold), oldest first. */
  held: (() => void)[] | undefined
  constructor(readonly name: string) {}

  /** Nothing to keep: no messages, waiters or leases, and no counts to show (purge resets those). */
  get idle(): boolean {
    return this.depth === 0 && this.activeWaiters === 0 && this.leased === 0 &&
      this.expired === 0 && this.deadLettered === 0 && this.filling === undefined
  }
}

export function messageBytes(m: Message): number {
  let n = m.content.length + m.sender.length
  if (m.body) n += m.body.length
  if (m.headers) for (const k in m.headers) n += k.length + m.headers[k]!.length
  return n
}

/** What the envelope of one message in a reply may take beyond its text and body: ids, times, lengths. */
const ENVELOPE_BYTES = 64

/**
 * An upper bound of what a message takes in an encoded reply: text counted as 3 bytes a character (the most
 * UTF-8 needs per UTF-16 unit), the body, and the envelope. Batches are cut by this, so that a reply of many
 * messages never outgrows the reply limit.
 */
export function replyBytes(m: Message): number {
  let text = m.content.length + m.sender.length + m.recipient.length + (m.topic?.length ?? 0)
  let n = ENVELOPE_BYTES + (m.body ? m.body.length : 0)
  if (m.headers) {
    for (const k in m.headers) {
      text += k.length + m.headers[k]!.length
      n += 8
    }
  }
  return n + 3 * text
}

/**
 * Names that passed checkMailboxName lately. A mailbox that empties is dropped and made again by its next
 * send or receive (a request/response pair does that on every message): its name is not checked again.
 */
const checkedNames = new Set<string>()
const CHECKED_NAMES_MAX = 4096

/** Throws INVALID_ARGUMENT unless name is a valid mailbox name. Dead-letter names may exceed the limit by their suffix. */
export function checkMailboxName(name: string): void {
  if (checkedNames.has(name)) return
  if (typeof name !== 'string' || name.length === 0) {
    throw new BusError('INVALID_ARGUMENT', 'mailbox name is empty; name the mailbox, e.g. "jobs" or "app.worker-1"')
  }
  const limit = name.endsWith(DEAD_LETTER_SUFFIX) ? MAX_MAILBOX_NAME_BYTES + DEAD_LETTER_SUFFIX.length : MAX_MAILBOX_NAME_BYTES
  // UTF-8 takes at most 3 bytes per UTF-16 unit: only a name that could be too long is measured.
  if (name.length > limit || (name.length * 3 > limit && Buffer.byteLength(name) > limit)) {
    throw new BusError('INVALID_ARGUMENT', `mailbox name is longer than ${MAX_MAILBOX_NAME_BYTES} bytes; use a shorter name`)
  }
  if (!NAME_PATTERN.test(name)) {
    throw new BusError(
      'INVALID_ARGUMENT',
      `mailbox name ${JSON.stringify(name)} has characters that are not allowed; use letters, digits and . _ : @ / + - (not first: . : @ / + -)`,
    )
  }
  if (checkedNames.size >= CHECKED_NAMES_MAX) checkedNames.clear()
  checkedNames.add(name)
}

export function deadLetterName(mailbox: string): string {
  return mailbox + DEAD_LETTER_SUFFIX
}

export class Broker {
  readonly #boxes = new Map<string, Mailbox>()
  readonly #clock: Clock
  readonly #store: MessageStore | undefined
  readonly #log: NonNullable<BrokerOptions['log']>
  readonly maxMailboxDepth: number
  readonly maxMailboxBytes: number
  readonly maxDeliveries: number
  readonly #leases = new Map<number, Lease>()
  readonly #leasesByOwner = new Map<number, Set<Lease>>()
  readonly #ttlBoxes = new Set<Mailbox>()
  /** Mailboxes that went idle since the last sweep (#dropIfIdle). */
  #wentIdle = 0
  #ttlTimer: TimerHandle | undefined
  #lastId = 0
  #idCeiling = 0
  /** Bytes of the messages held in memory in all mailboxes (memoryBytes summed). */
  #windowBytes = 0
  /** Mailboxes holding acknowledgements, and the timer that releases them after FLOW_MAX_HOLD_MS. */
  readonly #holding = new Set<Mailbox>()
  #holdTimer: TimerHandle | undefined

  constructor(options: BrokerOptions = {}) {
    this.#clock = options.clock ?? systemClock
    this.#store = options.store
    this.#log = options.log ?? (() => {})
    this.maxMailboxDepth = options.maxMailboxDepth ?? DEFAULT_MAX_MAILBOX_DEPTH
    this.maxMailboxBytes = options.maxMailboxBytes ?? DEFAULT_MAX_MAILBOX_BYTES
    this.maxDeliveries = options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES
    if (this.#store) this.#recover(this.#store)
  }

  /** Mailboxes the broker holds, with the idle ones not yet forgotten (#dropIfIdle). */
  get mailboxesHeld(): number {
    return this.#boxes.size
  }

  /** Messages held in memory, in all mailboxes (with a store, the rest are only in the store). */
  get messagesInMemory(): number {
    let n = 0
    for (const box of this.#boxes.values()) n += box.queue.length
    return n
  }

  /** Bytes of the messages held in memory, in all mailboxes (as messageBytes counts them). */
  get bytesInMemory(): number {
    return this.#windowBytes
  }

  /** Messages out on lease, in all mailboxes. */
  get leasedCount(): number {
    return this.#leases.size
  }

  /** Gives out the next message id (the broker's own messages and, e.g., published ones share the sequence). */
  nextId(): number {
    const id = ++this.#lastId
    if (id > this.#idCeiling && this.#store) {
      this.#idCeiling = id + ID_BLOCK
      this.#store.reserveIds(this.#idCeiling)
    }
    return id
  }

  /**
   * Accepts a message for message.recipient: stamps its id and send time, then hands it to the oldest active
   * waiter or appends it to the mailbox. Throws INVALID_ARGUMENT or MAILBOX_FULL.
   */
  send(message: Message): Message {
    const name = message.recipient
    const known = this.#boxes.get(name)
    if (!known) checkMailboxName(name)
    if (message.ttlMs !== undefined) checkTtl(message.ttlMs)
    const box = known ?? this.#create(name)
    message.deliveryCount = undefined
    message.id = this.nextId()
    message.sentAtMs = this.#clock.now()
    if (box.filling && this.#fill(box, message)) return message
    if (box.activeWaiters > 0 && this.#handOver(box, message, false)) {
      this.#dropIfIdle(box)
      return message
    }
    const size = messageBytes(message)
    this.#checkRoom(box, size)
    this.#enqueue(box, message, size)
    return message
  }

  /**
   * Flow control: true when a send to name should have its acknowledgement held (hold()), because the
   * mailbox is FLOW_HIGH_DEPTH deep and a receiver is draining it.
   */
  congested(name: string): boolean {
    const box = this.#boxes.get(name)
    return box !== undefined && box.depth >= FLOW_HIGH_DEPTH && this.#clock.now() - box.lastTakeMs < DRAINED_RECENTLY_MS
  }

  /** Calls ack once name is down to FLOW_LOW_DEPTH, or after FLOW_MAX_HOLD_MS at most (at once if it is gone). */
  hold(name: string, ack: () => void): void {
    const box = this.#boxes.get(name)
    if (box === undefined) {
      ack()
      return
    }
    ;(box.held ??= []).push(ack)
    this.#holding.add(box)
    this.#holdTimer ??= this.#clock.setTimer(this.#releaseAll, FLOW_MAX_HOLD_MS)
  }

  /** Sends the held acknowledgements of a mailbox. */
  #release(box: Mailbox): void {
    const held = box.held!
    box.held = undefined
    this.#holding.delete(box)
    for (const ack of held) ack()
  }

  readonly #releaseAll = (): void => {
    this.#holdTimer = undefined
    for (const box of [...this.#holding]) this.#release(box)
  }

  /** Takes the oldest message, or returns undefined when the mailbox is empty. Throws INVALID_ARGUMENT. */
  takeOne(name: string, mode: TakeMode = AT_MOST_ONCE): Message | undefined {
    return this.take(name, 1, Infinity, mode)[0]
  }

  /**
   * Takes up to max messages, oldest first, stopping before maxBytes of reply (replyBytes) would be passed. The
   * first message is always taken, so a batch is never empty while the mailbox is not, unless firstMustFit: then
   * it too must fit in maxBytes (a reply that already holds other mailboxes' messages). Throws INVALID_ARGUMENT.
   */
  take(name: string, max: number, maxBytes = Infinity, mode: TakeMode = AT_MOST_ONCE, firstMustFit = false): Message[] {
    const box = this.#boxes.get(name)
    if (!box) {
      checkMailboxName(name)
      return []
    }
    if (mode.leaseMs !== 0) checkLease(mode.leaseMs)
    // A waiter being filled holds older messages: its reply must go out before this one.
    if (box.filling) this.#settleFilling(box)
    const out: Message[] = []
    let bytes = 0
    let now = -1 // read once, when the first message with a ttl is met
    while (out.length < max) {
      if (box.queue.length === 0 && !this.#refill(box)) break
      const head = box.queue.peek()!
      const size = messageBytes(head)
      if (head.ttlMs !== undefined && head.sentAtMs! + head.ttlMs <= (now < 0 ? (now = this.#clock.now()) : now)) {
        this.#shift(box, size)
        this.#expire(box, head)
        continue
      }
      const cost = maxBytes === Infinity ? 0 : replyBytes(head)
      if ((out.length > 0 || firstMustFit) && bytes + cost > maxBytes) break
      this.#shift(box, size)
      out.push(head)
      bytes += cost
    }
    if (out.length > 0) {
      this.#handOut(box, out, mode)
      box.lastTakeMs = now < 0 ? this.#clock.now() : now
      if (box.held !== undefined && box.depth <= FLOW_LOW_DEPTH) this.#release(box)
    }
    this.#dropIfIdle(box)
    return out
  }

  /**
   * Parks a waiter on a mailbox until a message arrives or timeoutMs passes (timeoutMs < 0: no time limit).
   * Call it only after take() found the mailbox empty.
   */
  wait(name: string, waiter: Waiter, timeoutMs: number, mode: TakeMode = AT_MOST_ONCE): Parked {
    checkMailboxName(name)
    if (mode.leaseMs !== 0) checkLease(mode.leaseMs)
    const box = this.#boxes.get(name) ?? this.#create(name)
    const parked: ParkedWaiter = new ParkedOn(waiter, box, this, mode)
    box.waiters.push(parked)
    box.activeWaiters++
    parked.expireAfter(this.#clock, timeoutMs)
    return parked
  }

  /** Removes leased messages for good. Returns how many of the ids were out on lease. */
  ack(ids: readonly number[]): number {
    let n = 0
    for (const id of ids) {
      const lease = this.#leases.get(id)
      if (!lease) continue
      this.#endLease(lease)
      this.#store?.remove(lease.box.name, id)
      this.#dropIfIdle(lease.box)
      n++
    }
    return n
  }

  /** Gives leased messages back at once (or dead-letters them). Returns how many of the ids were out on lease. */
  nack(ids: readonly number[]): number {
    const leases: Lease[] = []
    for (const id of ids) {
      const lease = this.#leases.get(id)
      if (lease) leases.push(lease)
    }
    this.#giveBack(leases)
    return leases.length
  }

  /** Gives back every message leased by owner (its connection closed). Returns how many. */
  releaseOwner(owner: number): number {
    const set = this.#leasesByOwner.get(owner)
    if (!set) return 0
    const leases = [...set]
    this.#giveBack(leases)
    return leases.length
  }

  /**
   * Puts messages back at the head of their mailboxes, keeping their ids and order, so that the first of
   * them is the next one received. Used for messages that were taken but could not be handed on: a leased
   * one has its lease ended instead. Returns how many.
   */
  returnMessages(messages: Message[]): number {
    for (const m of messages) {
      checkMailboxName(m.recipient)
      if (typeof m.id !== 'number' || !Number.isSafeInteger(m.id) || m.id < 1 || m.id > this.#lastId) {
        throw new BusError('INVALID_ARGUMENT', 'returnMessages takes messages as they were received, with the id the daemon gave them')
      }
      if (m.deliveryCount !== undefined && m.deliveryCount !== null && !(Number.isInteger(m.deliveryCount) && m.deliveryCount >= 0)) {
        throw new BusError('INVALID_ARGUMENT', `returnMessages takes messages as they were received: deliveryCount ${m.deliveryCount} is negative`)
      }
    }
    const leases: Lease[] = []
    const plain: Message[] = []
    const seen = new Set<number>()
    for (const m of messages) {
      if (seen.has(m.id!)) continue
      seen.add(m.id!)
      const lease = this.#leases.get(m.id!)
      if (lease) leases.push(lease)
      else plain.push(m)
    }
    this.#giveBack(leases)
    for (const m of plain) {
      m.sentAtMs ??= this.#clock.now()
      this.#store?.insert(m, messageBytes(m), true)
    }
    this.#putBack(plain)
    return messages.length
  }

  /** Removes every message of a mailbox, leased ones included (their acks then count nothing). Returns how many. */
  purge(name: string): number {
    checkMailboxName(name)
    const box = this.#boxes.get(name)
    if (!box) return 0
    const n = box.depth + box.leased
    for (const lease of [...this.#leases.values()]) if (lease.box === box) this.#endLease(lease)
    box.queue.clear()
    this.#inMemory(box, -box.memoryBytes)
    box.depth = box.bytes = box.onlyStored = box.withTtl = box.expired = box.deadLettered = 0
    box.loadedUpTo = this.#lastId
    this.#store?.purge(name)
    if (box.held !== undefined) this.#release(box)
    this.#dropIfIdle(box)
    return n
  }

  stats(name: string): MailboxInfo {
    checkMailboxName(name)
    const box = this.#boxes.get(name)
    return box ? info(box) : { name, depth: 0, bytes: 0, waiters: 0, leased: 0, expired: 0, deadLettered: 0 }
  }

  /** Every mailbox that holds messages, has waiters or leases, or has counted expiries or dead letters, by name. */
  list(): MailboxInfo[] {
    return [...this.#boxes.values()].filter((box) => !box.idle).map(info).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  /** Removes a parked waiter without settling it. */
  unpark(parked: ParkedOn<Mailbox>): void {
    parked.done = true
    if (parked.timer !== undefined) this.#clock.clearTimer(parked.timer)
    parked.queue.activeWaiters--
    this.#dropIfIdle(parked.queue)
  }

  /** Stops the broker's timers (lease ends, TTL sweep). Leases are not given back: they live on in the store. */
  close(): void {
    if (this.#ttlTimer !== undefined) this.#clock.clearTimer(this.#ttlTimer)
    this.#ttlTimer = undefined
    if (this.#holdTimer !== undefined) this.#clock.clearTimer(this.#holdTimer)
    this.#releaseAll()
    for (const lease of this.#leases.values()) {
      if (lease.batch.timer !== undefined) this.#clock.clearTimer(lease.batch.timer)
      lease.batch.timer = undefined
    }
  }

  /** Throws MAILBOX_FULL when a message of size bytes does not fit. */
  #checkRoom(box: Mailbox, size: number): void {
    if (box.depth >= this.maxMailboxDepth || box.bytes + size > this.maxMailboxBytes) {
      this.#dropIfIdle(box)
      throw new BusError(
        'MAILBOX_FULL',
        `mailbox ${JSON.stringify(box.name)} is full (${box.depth} messages, ${box.bytes} bytes; the limits are ${this.maxMailboxDepth} messages and ${this.maxMailboxBytes} bytes); retry once receivers have drained it`,
      )
    }
  }

  /** Appends a stored message to its mailbox: in memory while the window has room, else in the store only. */
  /**
   * Stores a new message and queues it: in memory while the mailbox's window has room, else only in the store
   * (which is then told so: it will be read back from the database).
   */
  #enqueue(box: Mailbox, m: Message, size: number): void {
    box.depth++
    box.bytes += size
    if (m.ttlMs !== undefined) this.#trackTtl(box)
    if (box.onlyStored === 0 && (!this.#store ||
      (box.queue.length < MEMORY_WINDOW_MESSAGES && box.memoryBytes + size <= MEMORY_WINDOW_BYTES &&
        this.#windowBytes + size <= MEMORY_WINDOWS_TOTAL_BYTES))) {
      this.#store?.insert(m, size)
      box.queue.push(m)
      this.#inMemory(box, size)
      box.loadedUpTo = m.id!
    } else {
      this.#store!.insert(m, size, false, true)
      box.onlyStored++
    }
  }

  /** Counts bytes of messages entering (or, negative, leaving) a mailbox's in-memory queue. */
  #inMemory(box: Mailbox, bytes: number): void {
    box.memoryBytes += bytes
    this.#windowBytes += bytes
  }

  #shift(box: Mailbox, size: number): void {
    const m = box.queue.shift()!
    this.#inMemory(box, -size)
    box.depth--
    box.bytes -= size
    if (m.ttlMs !== undefined) box.withTtl--
  }

  /** Loads the next messages of a mailbox from the store into memory. False when there are none. */
  #refill(box: Mailbox): boolean {
    if (box.onlyStored === 0 || !this.#store) return false
    const loaded = this.#store.load(box.name, box.loadedUpTo, Math.min(LOAD_BATCH, box.onlyStored), MEMORY_WINDOW_BYTES)
    if (loaded.length === 0) {
      this.#log('error', `mailbox ${box.name}: ${box.onlyStored} message(s) expected in the store were not found`)
      box.depth -= box.onlyStored
      box.onlyStored = 0
      return false
    }
    for (const m of loaded) {
      box.queue.push(m)
      this.#inMemory(box, messageBytes(m))
    }
    box.onlyStored -= loaded.length
    box.loadedUpTo = loaded[loaded.length - 1]!.id!
    return true
  }

  /** Records messages taken from a mailbox: removed (at most once) or leased. */
  #handOut(box: Mailbox, messages: Message[], mode: TakeMode): void {
    if (mode.leaseMs === 0) {
      if (this.#store) for (const m of messages) this.#store.remove(box.name, m.id!)
      return
    }
    const batch = new LeaseBatch()
    for (const m of messages) {
      m.deliveryCount = (m.deliveryCount ?? 0) + 1
      this.#store?.setDeliveries(box.name, m.id!, m.deliveryCount)
      this.#lease(box, m, mode.owner, batch)
    }
    this.#armLeaseTimer(batch, mode.leaseMs)
  }

  #lease(box: Mailbox, m: Message, owner: number, batch: LeaseBatch): void {
    const lease = new Lease(m, box, owner, batch)
    batch.leases.push(lease)
    batch.live++
    this.#leases.set(m.id!, lease)
    let set = this.#leasesByOwner.get(owner)
    if (!set) this.#leasesByOwner.set(owner, (set = new Set()))
    set.add(lease)
    box.leased++
  }

  #armLeaseTimer(batch: LeaseBatch, leaseMs: number): void {
    batch.timer = this.#clock.setTimer(() => {
      batch.timer = undefined
      this.#giveBack(batch.leases.filter((l) => this.#leases.get(l.message.id!) === l))
    }, leaseMs)
  }

  /** Ends a lease without deciding what happens to its message. */
  #endLease(lease: Lease): void {
    const id = lease.message.id!
    this.#leases.delete(id)
    const set = this.#leasesByOwner.get(lease.owner)
    if (set) {
      set.delete(lease)
      if (set.size === 0) this.#leasesByOwner.delete(lease.owner)
    }
    lease.box.leased--
    const batch = lease.batch
    if (--batch.live === 0 && batch.timer !== undefined) {
      this.#clock.clearTimer(batch.timer)
      batch.timer = undefined
    }
  }

  /** Ends leases and puts their messages back at the head of their mailboxes, or dead-letters them. */
  #giveBack(leases: Lease[]): void {
    const back: Message[] = []
    for (const lease of leases) {
      this.#endLease(lease)
      const m = lease.message
      if ((m.deliveryCount ?? 0) >= this.maxDeliveries && !lease.box.name.endsWith(DEAD_LETTER_SUFFIX)) {
        this.#deadLetter(lease.box, m)
      } else {
        back.push(m)
      }
    }
    this.#putBack(back)
    for (const lease of leases) this.#dropIfIdle(lease.box)
  }

  /**
   * Puts messages (already in the store) back into their mailboxes: handed to waiters first, the rest in
   * front of the queue in id order. Expired ones are dropped.
   */
  #putBack(messages: Message[]): void {
    const queued: Message[] = []
    const now = this.#clock.now()
    for (const m of messages) {
      const box = this.#boxes.get(m.recipient) ?? this.#create(m.recipient)
      if (box.filling) this.#settleFilling(box) // it holds newer messages than these
      if (m.ttlMs !== undefined && m.sentAtMs! + m.ttlMs <= now) this.#expire(box, m)
      else if (box.activeWaiters > 0 && this.#handOver(box, m, true)) this.#dropIfIdle(box)
      else queued.push(m)
    }
    for (let i = queued.length - 1; i >= 0; i--) {
      const m = queued[i]!
      const box = this.#boxes.get(m.recipient) ?? this.#create(m.recipient)
      const size = messageBytes(m)
      box.depth++
      box.bytes += size
      if (m.ttlMs !== undefined) this.#trackTtl(box)
      if (box.onlyStored > 0 && m.id! > box.loadedUpTo) {
        box.onlyStored++ // Newer than the loaded head: the store has it and hands it out in order.
      } else {
        insertNearHead(box.queue, m)
        this.#inMemory(box, size)
      }
    }
  }

  /** Moves a message that was delivered too often to `<mailbox>.dead-letter`, as a new message. */
  #deadLetter(from: Mailbox, m: Message): void {
    this.#store?.remove(from.name, m.id!)
    from.deadLettered++
    const name = deadLetterName(from.name)
    const box = this.#boxes.get(name) ?? this.#create(name)
    const dead: Message = {
      sender: m.sender,
      recipient: name,
      content: m.content,
      id: this.nextId(),
      sentAtMs: this.#clock.now(),
      headers: {
        ...m.headers,
        'thriftbus-dead-letter-from': from.name,
        'thriftbus-original-id': String(m.id),
        'thriftbus-deliveries': String(m.deliveryCount ?? 0),
      },
    }
    if (m.body) dead.body = m.body
    const size = messageBytes(dead)
    // A full dead-letter mailbox loses its oldest letter, not the new one: it is bounded like any other.
    while (box.depth > 0 && (box.depth >= this.maxMailboxDepth || box.bytes + size > this.maxMailboxBytes)) {
      const dropped = this.take(name, 1)[0]
      this.#log('error', `dead-letter mailbox ${name} is full: dropped its oldest letter (id ${dropped?.id})`)
    }
    if (box.activeWaiters > 0 && this.#handOver(box, dead, false)) return
    this.#enqueue(box, dead, size)
  }

  #expire(box: Mailbox, m: Message): void {
    box.expired++
    this.#store?.remove(box.name, m.id!)
  }

  #trackTtl(box: Mailbox): void {
    box.withTtl++
    this.#ttlBoxes.add(box)
    this.#ttlTimer ??= this.#clock.setTimer(this.#sweep, TTL_SWEEP_MS)
  }

  /** Drops expired messages at the heads of the mailboxes that hold messages with a TTL. */
  readonly #sweep = (): void => {
    this.#ttlTimer = undefined
    const now = this.#clock.now()
    for (const box of this.#ttlBoxes) {
      for (;;) {
        if (box.queue.length === 0 && !this.#refill(box)) break
        const head = box.queue.peek()!
        if (head.ttlMs === undefined || head.sentAtMs! + head.ttlMs > now) break
        this.#shift(box, messageBytes(head))
        this.#expire(box, head)
      }
      if (box.withTtl === 0) this.#ttlBoxes.delete(box)
      this.#dropIfIdle(box)
    }
    if (this.#ttlBoxes.size > 0) this.#ttlTimer = this.#clock.setTimer(this.#sweep, TTL_SWEEP_MS)
  }

  /**
   * Hands a message to the oldest active waiter; false when every parked waiter was gone. Leaves the mailbox
   * in place either way: the caller queues the message in it when nobody took it. stored: the message is in
   * the store already (given back), rather than just sent.
   */
  #handOver(box: Mailbox, message: Message, stored: boolean): boolean {
    for (;;) {
      const parked = box.waiters.shift()
      if (!parked) return false
      if (parked.done) continue
      parked.done = true
      if (parked.timer !== undefined) this.#clock.clearTimer(parked.timer)
      box.activeWaiters--
      if (!parked.waiter.active) continue
      if (parked.mode.leaseMs > 0) {
        // A leased message stays in the store until it is acked.
        message.deliveryCount = (message.deliveryCount ?? 0) + 1
        if (!stored) this.#store?.insert(message, messageBytes(message))
        else this.#store?.setDeliveries(box.name, message.id!, message.deliveryCount)
        const batch = new LeaseBatch()
        this.#lease(box, message, parked.mode.owner, batch)
        this.#armLeaseTimer(batch, parked.mode.leaseMs)
      } else if (stored) {
        this.#store?.remove(box.name, message.id!)
      } else if ((parked.waiter.capacity ?? 1) > 1) {
        const filling = new Filling(parked.waiter)
        filling.add(message)
        box.filling = filling
        soon(() => {
          if (box.filling !== filling) return
          this.#settleFilling(box)
          this.#dropIfIdle(box)
        })
        return true
      }
      parked.waiter.settle([message])
      return true
    }
  }

  /** Adds a sent message to the waiter being filled; false when it is full or gone (the message goes elsewhere). */
  #fill(box: Mailbox, message: Message): boolean {
    const filling = box.filling!
    if (!filling.add(message)) {
      this.#settleFilling(box) // full, or gone: a gone waiter's messages come back through returnMessages
      return false
    }
    if (filling.full) this.#settleFilling(box)
    return true
  }

  /** Settles the waiter being filled. The mailbox stays (the caller may be about to use it): callers drop it. */
  #settleFilling(box: Mailbox): void {
    const filling = box.filling!
    box.filling = undefined
    filling.waiter.settle(filling.batch)
  }

  #create(name: string): Mailbox {
    const box = new Mailbox(name)
    this.#boxes.set(name, box)
    return box
  }

  /**
   * Notes a mailbox that holds nothing and has nobody waiting. It is not forgotten at once: a receive loop's
   * mailbox goes idle between every two messages, and dropping and rebuilding it each time showed in the
   * profile of a round trip. Idle mailboxes are forgotten together, once as many went idle as half the
   * mailboxes known (at least IDLE_SWEEP_MIN), so that names do not accumulate.
   */
  #dropIfIdle(box: Mailbox): void {
    if (box.activeWaiters === 0 && box.waiters.length > 0) box.waiters.clear()
    if (box.sweepable || !box.idle) return
    box.sweepable = true
    if (++this.#wentIdle > Math.max(IDLE_SWEEP_MIN, this.#boxes.size / 2)) this.#sweepIdle()
  }

  #sweepIdle(): void {
    this.#wentIdle = 0
    for (const box of this.#boxes.values()) {
      box.sweepable = false
      if (!box.idle) continue
      this.#boxes.delete(box.name)
      this.#ttlBoxes.delete(box)
    }
  }

  /** Rebuilds the mailboxes from the store: counts only, messages are loaded as receivers need them. */
  #recover(store: MessageStore): void {
    this.#lastId = this.#idCeiling = store.lastId()
    for (const s of store.summaries()) {
      const box = this.#create(s.name)
      box.depth = box.onlyStored = s.depth
      box.bytes = s.bytes
      if (s.withTtl > 0) {
        box.withTtl = s.withTtl
        this.#ttlBoxes.add(box)
      }
    }
    if (this.#ttlBoxes.size > 0) this.#ttlTimer = this.#clock.setTimer(this.#sweep, TTL_SWEEP_MS)
  }
}

/** Inserts m into a queue sorted by id near its head (given-back messages are older than most). */
export function insertNearHead(queue: Deque<Message>, m: Message): void {
  const ahead: Message[] = []
  while (queue.length > 0 && queue.peek()!.id! < m.id!) ahead.push(queue.shift()!)
  queue.unshift(m)
  for (let i = ahead.length - 1; i >= 0; i--) queue.unshift(ahead[i]!)
}

function checkLease(leaseMs: number): void {
  if (!Number.isSafeInteger(leaseMs) || leaseMs < 1 || leaseMs > MAX_LEASE_MS) {
    throw new BusError('INVALID_ARGUMENT', `leaseMs must be between 1 and ${MAX_LEASE_MS} (0 for no lease), got ${leaseMs}`)
  }
}

function checkTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_TTL_MS) {
    throw new BusError('INVALID_ARGUMENT', `ttlMs must be between 1 and ${MAX_TTL_MS} ms, or unset for no expiry; got ${ttlMs}`)
  }
}

function info(box: Mailbox): MailboxInfo {
  return {
    name: box.name, depth: box.depth, bytes: box.bytes, waiters: box.activeWaiters,
    leased: box.leased, expired: box.expired, deadLettered: box.deadLettered,
  }
}
