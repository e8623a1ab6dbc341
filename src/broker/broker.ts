/**
 * The mailboxes: named FIFO queues with long-polling receivers. Pure logic: no sockets, no files, time
 * through a Clock. The daemon binds Thrift calls to it; tests drive it directly.
 *
 * A receiver that finds its mailbox empty parks a Waiter. A message sent to a mailbox with parked waiters
 * goes straight to the oldest active one, without entering the queue. A waiter whose receiver has gone
 * (its connection closed) reports `active === false` and is passed over, so it can never swallow a message;
 * the daemon also cancels it as soon as the connection closes.
 */
import { BusError } from '../errors.js'
import type { MailboxInfo, Message } from '../gen/thriftbus.js'
import { systemClock, type Clock, type TimerHandle } from './clock.js'
import { Deque } from './deque.js'

/** Longest mailbox name, in bytes. */
export const MAX_MAILBOX_NAME_BYTES = 200
/** Most messages one mailbox holds, unless configured otherwise. */
export const DEFAULT_MAX_MAILBOX_DEPTH = 1_048_576
/** Most bytes of content, body and headers one mailbox holds, unless configured otherwise. */
export const DEFAULT_MAX_MAILBOX_BYTES = 256 * 1024 * 1024

const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._:@/+-]*$/

export interface BrokerOptions {
  clock?: Clock
  /** Messages per mailbox; past it, sends fail with MAILBOX_FULL. */
  maxMailboxDepth?: number
  /** Bytes per mailbox (text counted one byte per character); past it, sends fail with MAILBOX_FULL. */
  maxMailboxBytes?: number
}

/** A receiver parked on an empty mailbox. */
export interface Waiter {
  /** False once the receiver is gone: it is passed over and never handed a message. */
  readonly active: boolean
  /** Called exactly once: with the messages (at least one), or with none when the wait ran out. */
  settle(messages: Message[]): void
}

/** A parked waiter, as the broker holds it. cancel() returns false when it had already settled. */
export interface Parked {
  cancel(): boolean
}

class ParkedWaiter implements Parked {
  done = false
  timer: TimerHandle | undefined
  constructor(
    readonly waiter: Waiter,
    readonly box: Mailbox,
    readonly broker: Broker,
  ) {}

  cancel(): boolean {
    if (this.done) return false
    this.broker.unpark(this)
    return true
  }
}

class Mailbox {
  readonly queue = new Deque<Message>()
  readonly waiters = new Deque<ParkedWaiter>()
  activeWaiters = 0
  bytes = 0
  constructor(readonly name: string) {}
}

export function messageBytes(m: Message): number {
  let n = m.content.length + m.sender.length
  if (m.body) n += m.body.length
  if (m.headers) for (const k in m.headers) n += k.length + m.headers[k]!.length
  return n
}

/** Throws INVALID_ARGUMENT unless name is a valid mailbox name. */
export function checkMailboxName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new BusError('INVALID_ARGUMENT', 'mailbox name is empty; name the mailbox, e.g. "jobs" or "app.worker-1"')
  }
  if (name.length > MAX_MAILBOX_NAME_BYTES || Buffer.byteLength(name) > MAX_MAILBOX_NAME_BYTES) {
    throw new BusError('INVALID_ARGUMENT', `mailbox name is longer than ${MAX_MAILBOX_NAME_BYTES} bytes; use a shorter name`)
  }
  if (!NAME_PATTERN.test(name)) {
    throw new BusError(
      'INVALID_ARGUMENT',
      `mailbox name ${JSON.stringify(name)} has characters that are not allowed; use letters, digits and . _ : @ / + - (not first: . : @ / + -)`,
    )
  }
}

export class Broker {
  readonly #boxes = new Map<string, Mailbox>()
  readonly #clock: Clock
  readonly maxMailboxDepth: number
  readonly maxMailboxBytes: number
  #lastId = 0

  constructor(options: BrokerOptions = {}) {
    this.#clock = options.clock ?? systemClock
    this.maxMailboxDepth = options.maxMailboxDepth ?? DEFAULT_MAX_MAILBOX_DEPTH
    this.maxMailboxBytes = options.maxMailboxBytes ?? DEFAULT_MAX_MAILBOX_BYTES
  }

  /**
   * Accepts a message for message.recipient: stamps its id and send time, then hands it to the oldest active
   * waiter or appends it to the mailbox. Throws INVALID_ARGUMENT or MAILBOX_FULL.
   */
  send(message: Message): Message {
    const name = message.recipient
    const known = this.#boxes.get(name)
    if (!known) checkMailboxName(name)
    const box = known ?? this.#create(name)
    message.id = ++this.#lastId
    message.sentAtMs = this.#clock.now()
    if (box.activeWaiters > 0 && this.#handOver(box, message)) {
      this.#dropIfIdle(box)
      return message
    }
    const size = messageBytes(message)
    if (box.queue.length >= this.maxMailboxDepth || box.bytes + size > this.maxMailboxBytes) {
      this.#dropIfIdle(box)
      throw new BusError(
        'MAILBOX_FULL',
        `mailbox ${JSON.stringify(name)} is full (${box.queue.length} messages, ${box.bytes} bytes; the limits are ${this.maxMailboxDepth} messages and ${this.maxMailboxBytes} bytes); retry once receivers have drained it`,
      )
    }
    box.queue.push(message)
    box.bytes += size
    return message
  }

  /** Takes the oldest message, or returns undefined when the mailbox is empty. Throws INVALID_ARGUMENT. */
  takeOne(name: string): Message | undefined {
    const box = this.#boxes.get(name)
    if (!box) {
      checkMailboxName(name)
      return undefined
    }
    const m = box.queue.shift()
    if (m) box.bytes -= messageBytes(m)
    this.#dropIfIdle(box)
    return m
  }

  /**
   * Takes up to max messages, oldest first, stopping before maxBytes of content would be passed (the first
   * message is always taken, so a batch is never empty while the mailbox is not). Throws INVALID_ARGUMENT.
   */
  take(name: string, max: number, maxBytes = Infinity): Message[] {
    const box = this.#boxes.get(name)
    if (!box) {
      checkMailboxName(name)
      return []
    }
    const out: Message[] = []
    let bytes = 0
    while (out.length < max && box.queue.length > 0) {
      const size = messageBytes(box.queue.peek()!)
      if (out.length > 0 && bytes + size > maxBytes) break
      out.push(box.queue.shift()!)
      box.bytes -= size
      bytes += size
    }
    this.#dropIfIdle(box)
    return out
  }

  /**
   * Parks a waiter on a mailbox until a message arrives or timeoutMs passes (timeoutMs < 0: no time limit).
   * Call it only after take() found the mailbox empty.
   */
  wait(name: string, waiter: Waiter, timeoutMs: number): Parked {
    checkMailboxName(name)
    const box = this.#boxes.get(name) ?? this.#create(name)
    const parked = new ParkedWaiter(waiter, box, this)
    box.waiters.push(parked)
    box.activeWaiters++
    if (timeoutMs > 0) {
      parked.timer = this.#clock.setTimer(() => {
        if (parked.done) return
        this.unpark(parked)
        waiter.settle([])
      }, timeoutMs)
    }
    return parked
  }

  /**
   * Puts messages back at the head of their mailboxes, keeping their ids, so that the first of them is the
   * next one received. Used for messages that were taken but could not be handed on. Returns how many.
   */
  returnMessages(messages: Message[]): number {
    for (const m of messages) checkMailboxName(m.recipient)
    // The first ones go to parked waiters, oldest waiter first; the rest go back in front of the queue.
    const queued: Message[] = []
    for (const m of messages) {
      const box = this.#boxes.get(m.recipient) ?? this.#create(m.recipient)
      if (box.activeWaiters > 0 && this.#handOver(box, m)) this.#dropIfIdle(box)
      else queued.push(m)
    }
    for (let i = queued.length - 1; i >= 0; i--) {
      const m = queued[i]!
      const box = this.#boxes.get(m.recipient) ?? this.#create(m.recipient)
      box.queue.unshift(m)
      box.bytes += messageBytes(m)
    }
    return messages.length
  }

  /** Removes every message of a mailbox; returns how many. Waiters stay parked. */
  purge(name: string): number {
    checkMailboxName(name)
    const box = this.#boxes.get(name)
    if (!box) return 0
    const n = box.queue.length
    box.queue.clear()
    box.bytes = 0
    this.#dropIfIdle(box)
    return n
  }

  stats(name: string): MailboxInfo {
    checkMailboxName(name)
    const box = this.#boxes.get(name)
    return box ? info(box) : { name, depth: 0, bytes: 0, waiters: 0 }
  }

  /** Every mailbox that holds messages or has waiters, by name. */
  list(): MailboxInfo[] {
    return [...this.#boxes.values()].map(info).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  /** Removes a parked waiter without settling it. */
  unpark(parked: ParkedWaiter): void {
    parked.done = true
    if (parked.timer !== undefined) this.#clock.clearTimer(parked.timer)
    parked.box.activeWaiters--
    this.#dropIfIdle(parked.box)
  }

  /**
   * Hands a message to the oldest active waiter; false when every parked waiter was gone. Leaves the mailbox
   * in place either way: the caller queues the message in it when nobody took it.
   */
  #handOver(box: Mailbox, message: Message): boolean {
    for (;;) {
      const parked = box.waiters.shift()
      if (!parked) return false
      if (parked.done) continue
      parked.done = true
      if (parked.timer !== undefined) this.#clock.clearTimer(parked.timer)
      box.activeWaiters--
      if (!parked.waiter.active) continue
      parked.waiter.settle([message])
      return true
    }
  }

  #create(name: string): Mailbox {
    const box = new Mailbox(name)
    this.#boxes.set(name, box)
    return box
  }

  /** Forgets a mailbox that holds nothing and has nobody waiting, so names do not accumulate. */
  #dropIfIdle(box: Mailbox): void {
    if (box.activeWaiters === 0 && box.waiters.length > 0) box.waiters.clear()
    if (box.queue.length === 0 && box.activeWaiters === 0 && this.#boxes.get(box.name) === box) {
      this.#boxes.delete(box.name)
    }
  }
}

function info(box: Mailbox): MailboxInfo {
  return { name: box.name, depth: box.queue.length, bytes: box.bytes, waiters: box.activeWaiters }
}
