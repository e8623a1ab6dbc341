/**
 * Topics: publish to a dot-separated name, subscribe with a pattern. Pure logic: no sockets, no files, time
 * through a Clock, persistence through a TopicStore. The daemon binds the PubSub service to it; tests drive
 * it directly.
 *
 * Rules it keeps:
 * - Names. A topic is 1..MAX_TOPIC_NAME_BYTES bytes of non-empty segments separated by single dots, each of
 *   letters, digits and `_ : @ / + -`. A pattern is written the same way, except that a whole segment may be
 *   `*` (exactly one segment) and the last one may be `>` (one or more further segments), as in NATS:
 *   `a.>` matches `a.b` and `a.b.c` but not `a`; `a.*` matches `a.b` but not `a.b.c`.
 * - Matching walks a trie keyed by pattern segment, so a publish costs the trie nodes its topic reaches, not
 *   one test per subscription; an exact-name subscription is found by map lookups alone. Each subscription
 *   has one pattern, hence one place in the trie, so a publish reaches it at most once. The subscriptions a
 *   topic reaches are remembered, for up to MAX_CACHED_ROUTES topics, until a subscription joins or leaves the
 *   trie: a steady publisher pays one map lookup, not the name check and the walk.
 * - Every subscription is its own queue, bounded in messages (maxQueued) and in bytes. When a message does
 *   not fit, the OLDEST queued messages are dropped and counted in `dropped`: a slow subscriber never makes a
 *   publisher wait and never slows the other subscribers. All queues share the one published Message object.
 * - A poll hands out the queued Message objects themselves, shared with the other subscriptions: nothing may
 *   change them. Messages that could not be written to their client go back to the head of their
 *   subscription's queue through returnToSubscription, with the subscription's id, which the poll's reply
 *   carries along (see Call.deliver in session.ts).
 * - Long polls park a Waiter, as in broker.ts: a message published to a subscription with parked polls goes
 *   straight to the oldest active one, without entering the queue. A waiter whose call has gone reports
 *   `active === false` and is passed over, so it never swallows a message.
 * - Ownership. A subscription belongs to the connection (owner id) that created or resumed it. Any connection
 *   sees every subscription in list(), but only the owner can poll it (others get NOT_FOUND) or end it
 *   (others get false; a detached durable subscription can be ended by anyone, so that it can be cleaned up
 *   by id). detach(owner) ends the owner's non-durable subscriptions and detaches its durable ones:
 *   those keep queueing within their bounds until a subscribe with the same durable name and pattern resumes
 *   them, with the same id. A durable name is attached to one connection at a time.
 * - Durable subscriptions, and only they, are written through to the TopicStore when one is given, and the
 *   constructor loads them from it, detached, with their queued messages oldest first.
 */
import { BusError } from '../errors.js'
import type { Message, SubscriptionInfo } from '../gen/thriftbus.js'
import { Filling, insertNearHead, messageBytes, ParkedOn, replyBytes, type Parked, type Waiter } from './broker.js'
import { systemClock, type Clock } from './clock.js'
import { Deque } from './deque.js'
import { soon } from '../soon.js'

/** Where a message's bytes in one protocol are: block[start, end), a block shared with the messages encoded with it. */
export class EncodedRange {
  constructor(
    readonly block: Buffer,
    readonly start: number,
    readonly end: number,
  ) {}
}

/**
 * A message's binary encoding that publish completes once the message has its id and time (pubsub-service.ts's
 * capture: the publisher's own bytes, with the daemon's fields to fill in).
 */
export interface EncodingToComplete {
  /** The binary encoding of m, now stamped; undefined when there is none to give. */
  complete(m: Message): EncodedRange | undefined
}

/** The wire encodings of a message, one per protocol (see Stamp); pubsub-service.ts writes and reads them. */
export interface SharedEncoding {
  binary: EncodedRange | undefined
  compact: EncodedRange | undefined
  /** The message went to more than one subscription: an encoding a reply makes is worth keeping. */
  readonly shared: boolean
}

/**
 * What a published message carries for its subscriptions, computed once rather than once per subscription
 * and step: its size as queues count it (messageBytes) and as replies do (replyBytes). Also its wire
 * encodings, one per protocol, as ranges of blocks shared with other messages: other subscribers' replies copy
 * those bytes instead of encoding the message again (see pubsub-service.ts). The binary one may come with the
 * publish (publish's binary); otherwise, when the message went to more than one subscription, the first
 * poll reply that writes it in a protocol sets that protocol's.
 */
class Stamp implements SharedEncoding {
  binary: EncodedRange | undefined = undefined
  compact: EncodedRange | undefined = undefined
  readonly bytes: number
  readonly replyBytes: number
  constructor(m: Message, readonly shared: boolean) {
    this.bytes = messageBytes(m)
    this.replyBytes = replyBytes(m)
  }
}

/** Where a published message keeps its Stamp: a symbol, so that its own fields (what a test or a store sees) stay the IDL's. */
const STAMP = Symbol('thriftbus.stamp')

interface Stamped extends Message {
  [STAMP]?: Stamp
}

/**
 * A published message's encodings (see Stamp), when it went to more than one subscription or came with its
 * binary encoding; undefined for any other message.
 */
export function encodingOf(m: Message): SharedEncoding | undefined {
  const stamp = (m as Stamped)[STAMP]
  return stamp !== undefined && (stamp.shared || stamp.binary !== undefined) ? stamp : undefined
}

/** messageBytes(m), from its stamp when it has one. */
function sizeOf(m: Message): number {
  const stamp = (m as Stamped)[STAMP]
  return stamp === undefined ? messageBytes(m) : stamp.bytes
}

/** Topics whose subscriptions a TopicEngine remembers (see #routes); past it, it forgets them all. */
export const MAX_CACHED_ROUTES = 1024
/** Longest topic, pattern or durable name, in bytes. */
export const MAX_TOPIC_NAME_BYTES = 200
/** Queue bound of a subscription made with maxQueued = 0, unless configured otherwise. */
export const DEFAULT_SUBSCRIPTION_QUEUE_MESSAGES = 10_000
/** The largest maxQueued a subscription may have, unless configured otherwise; larger requests are capped to it. */
export const MAX_SUBSCRIPTION_QUEUE_MESSAGES = 1_048_576
/** Bytes of sender, content, body and headers one subscription queues (messageBytes), unless configured otherwise. */
export const DEFAULT_MAX_SUBSCRIPTION_QUEUE_BYTES = 64 * 1024 * 1024
/** Subscriptions in the daemon, durable ones that nobody has resumed included, unless configured otherwise. */
export const DEFAULT_MAX_SUBSCRIPTIONS = 65_536
/** Subscriptions one connection may hold at once, unless configured otherwise. */
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION = 1024

const SEGMENT = /^[A-Za-z0-9_:@/+-]+$/
const TOPIC = /^[A-Za-z0-9_:@/+-]+(?:\.[A-Za-z0-9_:@/+-]+)*$/
const DURABLE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._:@/+-]*$/
const SEGMENT_CHARS = 'letters, digits and _ : @ / + -'

/** A durable subscription as the store keeps it. */
export interface StoredSubscription {
  id: number
  pattern: string
  durableName: string
  maxQueued: number
}

/** What a store hands back at startup. */
export interface StoredTopics {
  subscriptions: StoredSubscription[]
  /** Queued messages, each subscription's in queue order (by message id, oldest first). */
  messages: { subscriptionId: number; message: Message }[]
}

/**
 * Where durable subscriptions and their queues live across restarts. Calls are synchronous and cheap: they
 * join a transaction that the owner commits elsewhere (before it writes the replies of the turn). Only durable
 * subscriptions reach the store. A call may throw (the store has failed): the engine then gives up the
 * operation, and the owner is expected to stop.
 */
export interface TopicStore {
  /** Creates or replaces a durable subscription (a new one, or a resumed one whose maxQueued changed). */
  saveSubscription(subscription: StoredSubscription): void
  /** Removes a durable subscription and every message queued for it. */
  deleteSubscription(id: number): void
  /**
   * Adds message (its id, sentAtMs and topic set) to a subscription's queue. Queues are kept in message-id
   * order: a message that comes back after a failed delivery takes its old place at the head. One message may
   * be enqueued for several subscriptions; the store may keep it once.
   */
  enqueue(subscriptionId: number, message: Message): void
  /** Removes messages from a subscription's queue (polled, or dropped because the queue was full). Unknown ids are ignored. */
  dequeue(subscriptionId: number, messageIds: number[]): void
  /** Everything stored, read once when the engine starts. */
  loadAll(): StoredTopics
}

export interface TopicEngineOptions {
  clock?: Clock
  /**
   * Hands out ids for published messages and new subscriptions, so that the owner can share one sequence
   * with the mailboxes. It must never repeat an id, and must start above TopicEngine.highestLoadedId.
   * Default: a counter of the engine's own, starting above highestLoadedId.
   */
  nextId?: () => number
  /** Durable subscriptions are written here and loaded from here. Without one they live in memory only. */
  store?: TopicStore
  /** Queue bound of a subscription made with maxQueued = 0 (DEFAULT_SUBSCRIPTION_QUEUE_MESSAGES). */
  defaultQueueMessages?: number
  /** Largest maxQueued; larger requests are capped to it (MAX_SUBSCRIPTION_QUEUE_MESSAGES). */
  maxQueueMessages?: number
  /** Bytes one subscription queues before it drops its oldest messages (DEFAULT_MAX_SUBSCRIPTION_QUEUE_BYTES). */
  maxQueueBytes?: number
  /** Subscriptions in all (DEFAULT_MAX_SUBSCRIPTIONS); past it, subscribe fails with LIMIT_EXCEEDED. */
  maxSubscriptions?: number
  /** Subscriptions per connection (DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION); past it, LIMIT_EXCEEDED. */
  maxSubscriptionsPerConnection?: number
}

type ParkedPoll = ParkedOn<Subscription>

class Subscription {
  readonly queue = new Deque<Message>()
  readonly waiters = new Deque<ParkedPoll>()
  activeWaiters = 0
  bytes = 0
  dropped = 0
  delivered = 0
  /** The connection it belongs to; undefined for a durable subscription nobody has resumed. */
  owner: number | undefined
  /** Set once it has been unsubscribed or ended with its connection: nothing reaches it any more. */
  ended = false
  /** A poll being filled with the messages of this turn; it is settled at the end of the turn, or when full. */
  filling: Filling | undefined
  constructor(
    readonly id: number,
    readonly pattern: string,
    readonly durableName: string,
    public maxQueued: number,
  ) {}
}


/** One segment position of the patterns. Literal segments and "*" are both keys of children. */
class TrieNode {
  readonly children = new Map<string, TrieNode>()
  /** Subscriptions whose pattern ends at this node. */
  readonly exact = new Set<Subscription>()
  /** Subscriptions whose pattern is this node's path followed by ">". */
  readonly rest = new Set<Subscription>()

  get empty(): boolean {
    return this.children.size === 0 && this.exact.size === 0 && this.rest.size === 0
  }
}

/** Throws INVALID_ARGUMENT unless topic is a valid topic to publish to (no wildcards). */
export function checkTopic(topic: string): void {
  if (typeof topic !== 'string' || topic.length === 0) {
    throw new BusError('INVALID_ARGUMENT', 'topic is empty; name it with dot-separated segments, e.g. "builds.linux"')
  }
  if (TOPIC.test(topic) && topic.length <= MAX_TOPIC_NAME_BYTES && Buffer.byteLength(topic) <= MAX_TOPIC_NAME_BYTES) return
  checkLength('topic', topic)
  if (topic.includes('*') || topic.includes('>')) {
    throw new BusError(
      'INVALID_ARGUMENT',
      `topic ${JSON.stringify(topic)} contains a wildcard ("*" or ">"); publish to a concrete topic such as "builds.linux" (wildcards are for subscribe patterns)`,
    )
  }
  for (const segment of topic.split('.')) checkSegment('topic', topic, segment)
}

/** Throws INVALID_ARGUMENT unless pattern is a valid subscription pattern; returns its segments. */
export function parsePattern(pattern: string): string[] {
  if (typeof pattern !== 'string' || pattern.length === 0) {
    throw new BusError('INVALID_ARGUMENT', 'pattern is empty; subscribe to a topic such as "builds.linux", or a pattern such as "builds.*" or "builds.>"')
  }
  checkLength('pattern', pattern)
  const segments = pattern.split('.')
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!
    if (segment === '*') continue
    if (segment === '>') {
      if (i === segments.length - 1) continue
      throw new BusError(
        'INVALID_ARGUMENT',
        `pattern ${JSON.stringify(pattern)} has ">" before its last segment; ">" matches the rest of a topic, so it may only come last, e.g. "builds.>"`,
      )
    }
    if (segment.includes('*') || segment.includes('>')) {
      throw new BusError(
        'INVALID_ARGUMENT',
        `pattern ${JSON.stringify(pattern)} has a wildcard inside the segment ${JSON.stringify(segment)}; "*" and ">" must be whole segments, e.g. "builds.*"`,
      )
    }
    checkSegment('pattern', pattern, segment)
  }
  return segments
}

/** Throws INVALID_ARGUMENT unless name is a valid durable subscription name (the rules of mailbox names). */
export function checkDurableName(name: string): void {
  checkLength('durable name', name)
  if (!DURABLE_NAME.test(name)) {
    throw new BusError(
      'INVALID_ARGUMENT',
      `durable name ${JSON.stringify(name)} has characters that are not allowed; use letters, digits and . _ : @ / + - (not first: . : @ / + -)`,
    )
  }
}

function checkLength(what: string, name: string): void {
  if (name.length > MAX_TOPIC_NAME_BYTES || Buffer.byteLength(name) > MAX_TOPIC_NAME_BYTES) {
    throw new BusError('INVALID_ARGUMENT', `${what} is longer than ${MAX_TOPIC_NAME_BYTES} bytes; use a shorter one`)
  }
}

function checkSegment(what: string, name: string, segment: string): void {
  if (segment.length === 0) {
    throw new BusError(
      'INVALID_ARGUMENT',
      `${what} ${JSON.stringify(name)} has an empty segment; separate non-empty segments with single dots, with no dot at either end, e.g. "builds.linux"`,
    )
  }
  if (!SEGMENT.test(segment)) {
    throw new BusError(
      'INVALID_ARGUMENT',
      `${what} ${JSON.stringify(name)} has characters that are not allowed in the segment ${JSON.stringify(segment)}; use ${SEGMENT_CHARS} in dot-separated segments`,
    )
  }
}

export class TopicEngine {
  readonly #clock: Clock
  readonly #store: TopicStore | undefined
  readonly #nextId: () => number
  readonly defaultQueueMessages: number
  readonly maxQueueMessages: number
  readonly maxQueueBytes: number
  readonly maxSubscriptions: number
  readonly maxSubscriptionsPerConnection: number
  /** The largest subscription or message id loaded from the store (0 without one). */
  readonly highestLoadedId: number
  readonly #root = new TrieNode()
  readonly #subs = new Map<number, Subscription>()
  readonly #durable = new Map<string, Subscription>()
  readonly #byOwner = new Map<number, Set<Subscription>>()
  /**
   * The subscriptions each topic published to lately reaches, valid topics only: a publish to one of them skips
   * the name check and the trie. Emptied whenever the trie changes; a list in it is never changed.
   */
  readonly #routes = new Map<string, Subscription[]>()

  constructor(options: TopicEngineOptions = {}) {
    this.#clock = options.clock ?? systemClock
    this.#store = options.store
    this.maxQueueMessages = options.maxQueueMessages ?? MAX_SUBSCRIPTION_QUEUE_MESSAGES
    this.defaultQueueMessages = Math.min(options.defaultQueueMessages ?? DEFAULT_SUBSCRIPTION_QUEUE_MESSAGES, this.maxQueueMessages)
    this.maxQueueBytes = options.maxQueueBytes ?? DEFAULT_MAX_SUBSCRIPTION_QUEUE_BYTES
    this.maxSubscriptions = options.maxSubscriptions ?? DEFAULT_MAX_SUBSCRIPTIONS
    this.maxSubscriptionsPerConnection = options.maxSubscriptionsPerConnection ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION
    this.highestLoadedId = this.#load()
    let lastId = this.highestLoadedId
    this.#nextId = options.nextId ?? (() => ++lastId)
  }

  /**
   * Queues message for every subscription whose pattern matches topic, after stamping its id, sentAtMs and
   * topic. Returns how many subscriptions received it (a full queue receives it and drops its oldest).
   * Throws INVALID_ARGUMENT for a bad topic. binary, when given, is completed once the message is stamped and
   * reaches a subscription: the encoding it gives is the message's, which replies then copy.
   */
  publish(topic: string, message: Message, binary?: EncodingToComplete): number {
    const matched = this.#routes.get(topic) ?? this.#route(topic)
    message.id = this.#nextId()
    message.sentAtMs = this.#clock.now()
    message.topic = topic
    if (matched.length > 0) {
      const stamp = new Stamp(message, matched.length > 1)
      if (binary !== undefined) stamp.binary = binary.complete(message)
      ;(message as Stamped)[STAMP] = stamp
    }
    for (const sub of matched) {
      // A waiter settled above may have ended a subscription that was matched before it.
      if (sub.ended) continue
      if (sub.filling && this.#fill(sub, message)) continue
      if (sub.activeWaiters > 0 && this.#handOver(sub, message)) continue
      this.#append(sub, message)
    }
    return matched.length
  }

  /** Checks topic, finds the subscriptions it reaches and keeps them in #routes. Throws INVALID_ARGUMENT. */
  #route(topic: string): Subscription[] {
    checkTopic(topic)
    const matched: Subscription[] = []
    match(this.#root, topic.split('.'), 0, matched)
    if (this.#routes.size >= MAX_CACHED_ROUTES) this.#routes.clear()
    this.#routes.set(topic, matched)
    return matched
  }

  /**
   * Subscribes connection owner to pattern and returns the subscription's id. durableName empty: the
   * subscription ends with detach(owner). Otherwise it is durable; if that name exists already, it is resumed:
   * same id, attached to owner. maxQueued 0 takes the default bound (on resume: keeps the current one);
   * larger than maxQueueMessages is capped. Throws INVALID_ARGUMENT (bad pattern or name, negative maxQueued,
   * a durable name held by another pattern or attached to another connection) or LIMIT_EXCEEDED.
   */
  subscribe(owner: number, pattern: string, durableName = '', maxQueued = 0): number {
    const segments = parsePattern(pattern)
    if (durableName !== '') checkDurableName(durableName)
    if (!Number.isInteger(maxQueued) || maxQueued < 0) {
      throw new BusError('INVALID_ARGUMENT', `maxQueued must be 0 (the daemon's default, ${this.defaultQueueMessages}) or a positive number of messages, got ${maxQueued}`)
    }
    const bound = Math.min(maxQueued, this.maxQueueMessages)
    const existing = durableName !== '' ? this.#durable.get(durableName) : undefined
    if (existing) return this.#resume(owner, existing, pattern, bound)
    this.#checkRoom(owner)
    if (this.#subs.size >= this.maxSubscriptions) {
      throw new BusError(
        'LIMIT_EXCEEDED',
        `the daemon has ${this.#subs.size} subscriptions, its limit; unsubscribe some first (durable subscriptions that nobody resumes count too: see listSubscriptions)`,
      )
    }
    const id = this.#nextId()
    if (this.#subs.has(id)) throw new Error(`subscription id ${id} is in use: the id sequence repeated itself`)
    const sub = new Subscription(id, pattern, durableName, bound || this.defaultQueueMessages)
    if (durableName !== '') this.#store?.saveSubscription(stored(sub))
    this.#add(sub, segments)
    this.#attach(sub, owner)
    return id
  }

  /**
   * Takes up to max queued messages of owner's subscription, oldest first, stopping before maxBytes would be
   * passed (the first is always taken). Throws NOT_FOUND.
   */
  take(owner: number, subscription: number, max: number, maxBytes = Infinity): Message[] {
    const sub = this.#owned(owner, subscription)
    // A poll being filled holds older messages: its reply must go out before this one.
    if (sub.filling) this.#settleFilling(sub)
    const out: Message[] = []
    let bytes = 0
    while (out.length < max && sub.queue.length > 0) {
      const head = sub.queue.peek()!
      const stamp = (head as Stamped)[STAMP]
      const cost = maxBytes === Infinity ? 0 : stamp === undefined ? replyBytes(head) : stamp.replyBytes
      if (out.length > 0 && bytes + cost > maxBytes) break
      out.push(sub.queue.shift()!)
      sub.bytes -= stamp === undefined ? messageBytes(head) : stamp.bytes
      bytes += cost
    }
    sub.delivered += out.length
    if (out.length > 0 && sub.durableName !== '') this.#store?.dequeue(sub.id, out.map((m) => m.id!))
    return out
  }

  /**
   * Parks a waiter on owner's subscription until a message arrives or timeoutMs passes (timeoutMs < 0: no
   * time limit; 0: none either, so do not park for 0). Call it only after take() found nothing. Waiters are
   * served oldest first. If the subscription ends while it waits, an active waiter is settled with [].
   * Throws NOT_FOUND.
   */
  wait(owner: number, subscription: number, waiter: Waiter, timeoutMs: number): Parked {
    const sub = this.#owned(owner, subscription)
    const parked: ParkedPoll = new ParkedOn(waiter, sub, this)
    sub.waiters.push(parked)
    sub.activeWaiters++
    parked.expireAfter(this.#clock, timeoutMs)
    return parked
  }

  /**
   * Ends a subscription, durable or not, and frees its queue; its parked polls are settled with []. Returns false
   * when there is no such subscription, or it is attached to a connection other than owner.
   */
  unsubscribe(owner: number, subscription: number): boolean {
    const sub = this.#subs.get(subscription)
    if (!sub || (sub.owner !== undefined && sub.owner !== owner)) return false
    this.#end(sub)
    return true
  }

  /**
   * Called when connection owner has gone: its non-durable subscriptions end, its durable ones stay, detached,
   * and keep queueing until resumed. Their parked polls are released (an active one is settled with []).
   */
  detach(owner: number): void {
    const owned = this.#byOwner.get(owner)
    if (!owned) return
    this.#byOwner.delete(owner)
    for (const sub of owned) {
      if (sub.durableName === '') {
        this.#end(sub)
      } else {
        sub.owner = undefined
        this.#releaseWaiters(sub)
      }
    }
  }

  /**
   * Puts messages back at the head of a subscription's queue, in the given order, so that the first of them
   * is the next one polled; parked polls are served first. Messages past the queue's bounds are dropped,
   * oldest first, and counted. Returns how many were taken back (0 when the subscription has ended).
   */
  returnToSubscription(subscription: number, messages: Message[]): number {
    const sub = this.#subs.get(subscription)
    if (!sub) return 0
    return this.#takeBack(sub, messages)
  }

  /** Every subscription, by id. */
  list(): SubscriptionInfo[] {
    return [...this.#subs.values()].sort((a, b) => a.id - b.id).map(info)
  }

  /** How many subscriptions exist, detached durable ones included. */
  get size(): number {
    return this.#subs.size
  }

  /** Removes a parked poll without settling it. */
  unpark(parked: ParkedPoll): void {
    parked.done = true
    if (parked.timer !== undefined) this.#clock.clearTimer(parked.timer)
    parked.queue.activeWaiters--
    if (parked.queue.activeWaiters === 0) parked.queue.waiters.clear()
  }

  #resume(owner: number, sub: Subscription, pattern: string, bound: number): number {
    if (sub.pattern !== pattern) {
      throw new BusError(
        'INVALID_ARGUMENT',
        `durable name ${JSON.stringify(sub.durableName)} is taken by a subscription to ${JSON.stringify(sub.pattern)}; resume it with that pattern, or unsubscribe it first to reuse the name`,
      )
    }
    if (sub.owner !== undefined && sub.owner !== owner) {
      throw new BusError(
        'INVALID_ARGUMENT',
        `durable subscription ${JSON.stringify(sub.durableName)} is attached to another connection; it can be resumed once that connection has closed, or use another name`,
      )
    }
    if (sub.owner === undefined) this.#checkRoom(owner)
    if (bound !== 0 && bound !== sub.maxQueued) {
      this.#store?.saveSubscription({ ...stored(sub), maxQueued: bound })
      sub.maxQueued = bound
      this.#trim(sub)
    }
    if (sub.owner === undefined) this.#attach(sub, owner)
    return sub.id
  }

  #checkRoom(owner: number): void {
    const held = this.#byOwner.get(owner)?.size ?? 0
    if (held >= this.maxSubscriptionsPerConnection) {
      throw new BusError(
        'LIMIT_EXCEEDED',
        `this connection already has ${held} subscriptions, the limit; unsubscribe some first, or subscribe with a pattern that covers several topics`,
      )
    }
  }

  /** The subscription, if owner may poll it; NOT_FOUND otherwise. */
  #owned(owner: number, id: number): Subscription {
    const sub = this.#subs.get(id)
    if (!sub) {
      throw new BusError('NOT_FOUND', `no subscription ${id}: it was unsubscribed, ended with its connection, or never existed; subscribe again`)
    }
    if (sub.owner === owner) return sub
    if (sub.owner === undefined) {
      throw new BusError(
        'NOT_FOUND',
        `subscription ${id} is not attached to this connection; resume it with subscribe(${JSON.stringify(sub.pattern)}, ${JSON.stringify(sub.durableName)})`,
      )
    }
    throw new BusError('NOT_FOUND', `subscription ${id} belongs to another connection; a subscription is polled by the connection that made it`)
  }

  #attach(sub: Subscription, owner: number): void {
    sub.owner = owner
    const held = this.#byOwner.get(owner)
    if (held) held.add(sub)
    else this.#byOwner.set(owner, new Set([sub]))
  }

  #add(sub: Subscription, segments: string[]): void {
    this.#routes.clear()
    let node = this.#root
    const last = segments.length - 1
    for (let i = 0; i < last; i++) node = child(node, segments[i]!)
    if (segments[last] === '>') node.rest.add(sub)
    else child(node, segments[last]!).exact.add(sub)
    this.#subs.set(sub.id, sub)
    if (sub.durableName !== '') this.#durable.set(sub.durableName, sub)
  }

  #end(sub: Subscription): void {
    if (sub.durableName !== '') this.#store?.deleteSubscription(sub.id)
    sub.ended = true
    this.#subs.delete(sub.id)
    if (sub.durableName !== '') this.#durable.delete(sub.durableName)
    if (sub.owner !== undefined) {
      const held = this.#byOwner.get(sub.owner)
      held?.delete(sub)
      if (held?.size === 0) this.#byOwner.delete(sub.owner)
    }
    this.#removeFromTrie(sub)
    sub.queue.clear()
    sub.bytes = 0
    this.#releaseWaiters(sub)
  }

  /** Unlinks sub from the trie and prunes the nodes left empty, so that patterns do not accumulate. */
  #removeFromTrie(sub: Subscription): void {
    this.#routes.clear()
    const segments = sub.pattern.split('.')
    const path: TrieNode[] = [this.#root]
    const last = segments.length - 1
    const rest = segments[last] === '>'
    const depth = rest ? last : segments.length
    for (let i = 0; i < depth; i++) {
      const next = path[path.length - 1]!.children.get(segments[i]!)
      if (!next) return
      path.push(next)
    }
    const node = path[path.length - 1]!
    if (rest) node.rest.delete(sub)
    else node.exact.delete(sub)
    for (let i = path.length - 1; i > 0 && path[i]!.empty; i--) path[i - 1]!.children.delete(segments[i - 1]!)
  }

  /** Settles an active parked poll with [] and forgets the others: the subscription ended or was detached. */
  #releaseWaiters(sub: Subscription): void {
    const waiters = [...sub.waiters]
    sub.waiters.clear()
    sub.activeWaiters = 0
    for (const parked of waiters) {
      if (parked.done) continue
      parked.done = true
      if (parked.timer !== undefined) this.#clock.clearTimer(parked.timer)
      if (parked.waiter.active) parked.waiter.settle([])
    }
  }

  /** Queues a message, dropping the oldest ones that would not fit with it. */
  #append(sub: Subscription, message: Message): void {
    if (sub.durableName !== '') this.#store?.enqueue(sub.id, message)
    sub.queue.push(message)
    sub.bytes += sizeOf(message)
    this.#trim(sub)
  }

  /**
   * Drops the oldest messages while the queue is over its bounds. A single message larger than the byte bound
   * stays, alone: dropping the newest message would break "oldest first".
   */
  #trim(sub: Subscription): void {
    let dropped: number[] | undefined
    while (sub.queue.length > sub.maxQueued || (sub.bytes > this.maxQueueBytes && sub.queue.length > 1)) {
      const m = sub.queue.shift()!
      sub.bytes -= sizeOf(m)
      sub.dropped++
      ;(dropped ??= []).push(m.id!)
    }
    if (dropped && sub.durableName !== '') this.#store?.dequeue(sub.id, dropped)
  }

  #takeBack(sub: Subscription, messages: Message[]): number {
    sub.delivered = Math.max(0, sub.delivered - messages.length)
    // The first ones go to parked polls, oldest poll first; the rest go back to their places near the head of
    // the queue, by id: the replies of one failed write come back one call at a time, the oldest first.
    let i = 0
    for (; i < messages.length; i++) {
      const m = messages[i]!
      if (sub.filling && this.#fill(sub, m)) continue
      if (sub.activeWaiters === 0 || !this.#handOver(sub, m)) break
    }
    if (sub.ended) return messages.length
    for (let j = messages.length - 1; j >= i; j--) {
      const m = messages[j]!
      if (sub.durableName !== '') this.#store?.enqueue(sub.id, m)
      insertNearHead(sub.queue, m)
      sub.bytes += sizeOf(m)
    }
    this.#trim(sub)
    return messages.length
  }

  /**
   * Hands a message to the oldest active parked poll; false when every parked poll was gone. A poll that takes
   * more than one message keeps filling for the rest of the turn.
   */
  #handOver(sub: Subscription, message: Message): boolean {
    for (;;) {
      const parked = sub.waiters.shift()
      if (!parked) return false
      if (parked.done) continue
      parked.done = true
      if (parked.timer !== undefined) this.#clock.clearTimer(parked.timer)
      sub.activeWaiters--
      if (!parked.waiter.active) continue
      const capacity = parked.waiter.capacity ?? 1
      sub.delivered++
      if (capacity <= 1) {
        parked.waiter.settle([message])
        return true
      }
      const filling = new Filling(parked.waiter)
      filling.add(message)
      sub.filling = filling
      soon(() => {
        if (sub.filling === filling) this.#settleFilling(sub)
      })
      return true
    }
  }

  /** Adds a message to the poll being filled; false when it is full or gone (the message goes elsewhere). */
  #fill(sub: Subscription, message: Message): boolean {
    const filling = sub.filling!
    if (!filling.add(message)) {
      this.#settleFilling(sub) // full, or gone: a gone poll's messages come back through returnToSubscription
      return false
    }
    sub.delivered++
    if (filling.full) this.#settleFilling(sub)
    return true
  }

  #settleFilling(sub: Subscription): void {
    const filling = sub.filling!
    sub.filling = undefined
    filling.waiter.settle(filling.batch)
  }

  /** Loads the store's durable subscriptions, detached, and their queues; returns the largest id seen. */
  #load(): number {
    if (!this.#store) return 0
    const { subscriptions, messages } = this.#store.loadAll()
    let highest = 0
    for (const s of subscriptions) {
      const sub = new Subscription(s.id, s.pattern, s.durableName, Math.min(Math.max(s.maxQueued, 1), this.maxQueueMessages))
      this.#add(sub, s.pattern.split('.'))
      highest = Math.max(highest, s.id)
    }
    for (const { subscriptionId, message } of messages) {
      highest = Math.max(highest, message.id ?? 0)
      const sub = this.#subs.get(subscriptionId)
      if (!sub) continue
      sub.queue.push(message)
      sub.bytes += sizeOf(message)
    }
    // A store written with larger bounds than this engine's: trim now, as a publish would.
    for (const sub of this.#subs.values()) this.#trim(sub)
    return highest
  }
}

function child(node: TrieNode, segment: string): TrieNode {
  let next = node.children.get(segment)
  if (!next) {
    next = new TrieNode()
    node.children.set(segment, next)
  }
  return next
}

/** Collects the subscriptions whose patterns match segments[i..] below node. */
function match(node: TrieNode, segments: string[], i: number, out: Subscription[]): void {
  if (i === segments.length) {
    for (const sub of node.exact) out.push(sub)
    return
  }
  // ">" needs at least one more segment, and there is one.
  for (const sub of node.rest) out.push(sub)
  const literal = node.children.get(segments[i]!)
  if (literal) match(literal, segments, i + 1, out)
  const star = node.children.get('*')
  if (star) match(star, segments, i + 1, out)
}

function stored(sub: Subscription): StoredSubscription {
  return { id: sub.id, pattern: sub.pattern, durableName: sub.durableName, maxQueued: sub.maxQueued }
}

function info(sub: Subscription): SubscriptionInfo {
  return {
    id: sub.id,
    pattern: sub.pattern,
    durableName: sub.durableName,
    queued: sub.queue.length,
    dropped: sub.dropped,
    delivered: sub.delivered,
    maxQueued: sub.maxQueued,
    attached: sub.owner !== undefined,
  }
}
