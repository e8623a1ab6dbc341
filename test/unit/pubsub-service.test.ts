import t from 'tap'
import { EncodedRange, encodingOf, TopicEngine } from '../../src/broker/topics.js'
import { MAX_POLL_BATCH, pubsubServiceBindings } from '../../src/daemon/pubsub-service.js'
import { Call, type MethodBinding, type Session } from '../../src/daemon/session.js'
import { ErrorCode, MESSAGE_REPLY, PubSub, type Message, type PubSub_poll_result } from '../../src/gen/thriftbus.js'
import { BinaryWriter } from '../../src/wire/binary-writer.js'
import { CompactWriter } from '../../src/wire/compact-writer.js'
import type { ProtocolName } from '../../src/wire/frame-reader.js'
import { FakeClock } from '../helpers/fake-clock.js'

interface Reply {
  seqid: number
  result?: any
  applicationError?: string
}

/**
 * Stands in for a Session: the parts of it that Call uses. Replies are recorded instead of written; with
 * failWrites set, a reply carrying messages fails as a broken socket would, and its messages go back through
 * host.returnUndelivered, routed the way the daemon must route them.
 */
class FakeSession {
  static nextId = 1
  readonly id = FakeSession.nextId++
  active = true
  failWrites = false
  readonly replies: Reply[] = []
  readonly parked = new Map<number, Call>()
  /** Messages that were not topic messages: the daemon would give them to the broker. */
  readonly toBroker: Message[] = []
  readonly host = {
    maxOutstandingCalls: 2,
    log: () => {},
    returnUndelivered: (messages: Message[], from: number | undefined) => {
      if (from === undefined) this.toBroker.push(...messages)
      else this.topics.returnToSubscription(from, messages)
    },
  }
  #seqid = 0

  constructor(
    readonly topics: TopicEngine,
    readonly methods: Map<string, MethodBinding>,
  ) {}

  get parkedCount(): number {
    return this.parked.size
  }

  park(call: Call): void {
    this.parked.set(call.seqid, call)
  }

  unpark(call: Call): void {
    if (call.parked && this.parked.get(call.seqid) === call) this.parked.delete(call.seqid)
  }

  writeReply(call: Call, result: object): void {
    const delivered = call.handedOut
    if (!this.active || (this.failWrites && delivered && delivered.length > 0)) {
      if (delivered) this.host.returnUndelivered(delivered, call.handedOutFrom)
      return
    }
    this.replies.push({ seqid: call.seqid, result })
  }

  writeApplicationError(_name: string, seqid: number, _type: number, message: string): void {
    this.replies.push({ seqid, applicationError: message })
  }

  /** Dispatches a call as Session does; returns its seqid. */
  call(name: string, args: object): number {
    const binding = this.methods.get(name)
    if (!binding) throw new Error(`no binding ${name}`)
    const seqid = ++this.#seqid
    const call = new Call(this as unknown as Session, binding.codec.name, seqid, binding, false)
    try {
      binding.handle(call, args)
    } catch (err) {
      call.fail(err)
    }
    return seqid
  }

  /** The reply to seqid, if it has come. */
  reply(seqid: number): Reply | undefined {
    return this.replies.find((r) => r.seqid === seqid)
  }

  /** The connection closes: parked calls are released, then the daemon detaches the owner. */
  close(): void {
    this.active = false
    for (const call of this.parked.values()) {
      call.parked?.cancel()
      call.answered = true
    }
    this.parked.clear()
    this.topics.detach(this.id)
  }
}

function setup(maxMessageBytes = 1024) {
  const clock = new FakeClock()
  const topics = new TopicEngine({ clock })
  const methods = pubsubServiceBindings({ topics, maxMessageBytes })
  const connect = () => new FakeSession(topics, methods)
  return { clock, topics, methods, connect }
}

function msg(content: string): Message {
  return { sender: 's', recipient: '', content }
}

/** A poll reply's bytes in protocol, its result written by write. */
function encode(protocol: ProtocolName, write: (w: BinaryWriter | CompactWriter) => void): Buffer {
  const writer = protocol === 'binary' ? new BinaryWriter(true, 1 << 20) : new CompactWriter(true, 1 << 20)
  writer.beginMessage('poll', MESSAGE_REPLY, 1)
  write(writer)
  writer.endMessage()
  return writer.take()!
}

function contentsOf(reply: Reply | undefined): string[] | undefined {
  return (reply?.result?.success as Message[] | undefined)?.map((m) => m.content)
}

t.test('every PubSub method is bound under its bare and its multiplexed name', async (t) => {
  const { methods } = setup()
  const names = ['publish', 'subscribe', 'poll', 'unsubscribe', 'listSubscriptions']
  t.same([...methods.keys()].sort(), [...names, ...names.map((n) => `PubSub:${n}`)].sort())
  t.equal(methods.get('poll'), methods.get('PubSub:poll'))
})

t.test('subscribe, publish and poll: the subscription belongs to the calling connection', async (t) => {
  const { connect } = setup()
  const alice = connect()
  const bob = connect()
  const sub = alice.reply(alice.call('subscribe', { pattern: 'builds.*', durableName: '', maxQueued: 0 }))!.result.success as number
  t.type(sub, 'number')
  t.same(bob.reply(bob.call('publish', { topic: 'builds.linux', message: msg('ok') }))!.result, { success: 1 })
  const polled = alice.reply(alice.call('poll', { subscription: sub, max: 10, timeoutMs: 0 }))!
  t.same(contentsOf(polled), ['ok'])
  t.equal(polled.result.success[0].topic, 'builds.linux')
  const other = bob.reply(bob.call('poll', { subscription: sub, max: 10, timeoutMs: 0 }))!
  t.equal(other.result.error.code, ErrorCode.NOT_FOUND, 'another connection cannot poll it')
  t.same(alice.reply(alice.call('poll', { subscription: sub, max: 10, timeoutMs: 0 }))!.result, { success: [] }, 'timeoutMs 0 answers at once')
})

t.test('bad arguments are answered with BusException, with the code', async (t) => {
  const { connect } = setup()
  const c = connect()
  const sub = c.reply(c.call('subscribe', { pattern: 'a', durableName: '', maxQueued: 0 }))!.result.success as number
  const cases: [string, object, ErrorCode][] = [
    ['poll', { subscription: sub, max: 0, timeoutMs: 0 }, ErrorCode.INVALID_ARGUMENT],
    ['poll', { subscription: 999_999, max: 1, timeoutMs: -1 }, ErrorCode.NOT_FOUND],
    ['publish', { topic: 'a.*', message: msg('x') }, ErrorCode.INVALID_ARGUMENT],
    ['publish', { topic: 'a', message: undefined }, ErrorCode.INVALID_ARGUMENT],
    ['subscribe', { pattern: 'a.>.b', durableName: '', maxQueued: 0 }, ErrorCode.INVALID_ARGUMENT],
  ]
  for (const [name, args, code] of cases) {
    const r = c.reply(c.call(name, args))!
    t.equal(r.result?.error?.code, code, `${name} ${JSON.stringify(args)}: ${r.result?.error?.message}`)
  }
  t.equal(c.parkedCount, 0)
})

t.test('a long poll is parked, woken by a publish from another connection, or answered [] at its timeout', async (t) => {
  const { clock, connect } = setup()
  const alice = connect()
  const bob = connect()
  const sub = alice.reply(alice.call('subscribe', { pattern: 'q', durableName: '', maxQueued: 0 }))!.result.success as number
  const waiting = alice.call('poll', { subscription: sub, max: 10, timeoutMs: 5000 })
  t.equal(alice.reply(waiting), undefined)
  t.equal(alice.parkedCount, 1)
  bob.call('publish', { topic: 'q', message: msg('wake') })
  bob.call('publish', { topic: 'q', message: msg('same turn') })
  t.equal(alice.reply(waiting), undefined, 'the woken poll collects what is published in the same turn')
  await Promise.resolve()
  t.same(contentsOf(alice.reply(waiting)), ['wake', 'same turn'], 'one reply for the burst')
  t.equal(alice.parkedCount, 0)
  const timing = alice.call('poll', { subscription: sub, max: 10, timeoutMs: 100 })
  clock.advance(99)
  t.equal(alice.reply(timing), undefined)
  clock.advance(1)
  t.same(alice.reply(timing)!.result, { success: [] })
  t.equal(alice.parkedCount, 0)
})

t.test('poll returns at most MAX_POLL_BATCH messages and about maxMessageBytes of them', async (t) => {
  const { connect } = setup()
  const c = connect()
  const sub = c.reply(c.call('subscribe', { pattern: 'q', durableName: '', maxQueued: 0 }))!.result.success as number
  for (let i = 0; i < 5; i++) c.call('publish', { topic: 'q', message: msg('x'.repeat(99)) }) // replyBytes 64 + 3 x 101 = 367
  t.equal(contentsOf(c.reply(c.call('poll', { subscription: sub, max: 1_000_000, timeoutMs: 0 })))!.length, 2, '2 x 367 <= 1024')
  t.equal(MAX_POLL_BATCH, 10_000)
})

t.test('messages of a reply that cannot be written go back to the head of their subscription', async (t) => {
  const { connect } = setup()
  const c = connect()
  const sub = c.reply(c.call('subscribe', { pattern: 'q', durableName: '', maxQueued: 0 }))!.result.success as number
  for (const x of ['1', '2', '3']) c.call('publish', { topic: 'q', message: msg(x) })
  c.failWrites = true
  const first = c.call('poll', { subscription: sub, max: 2, timeoutMs: 0 })
  const second = c.call('poll', { subscription: sub, max: 10, timeoutMs: 0 })
  t.equal(c.reply(first), undefined, 'the write failed')
  t.equal(c.reply(second), undefined, 'the write failed')
  c.failWrites = false
  t.same(contentsOf(c.reply(c.call('poll', { subscription: sub, max: 10, timeoutMs: 0 }))), ['1', '2', '3'])
  t.same(c.toBroker, [], 'nothing was sent to the mailboxes')
})

t.test('closing the connection ends its subscriptions; a durable one is resumed by name on a new connection', async (t) => {
  const { connect, topics } = setup()
  const a = connect()
  a.call('subscribe', { pattern: 'q', durableName: '', maxQueued: 0 })
  const durable = a.reply(a.call('subscribe', { pattern: 'q', durableName: 'keep', maxQueued: 0 }))!.result.success as number
  a.call('poll', { subscription: durable, max: 10, timeoutMs: -1 })
  a.close()
  const b = connect()
  t.same(b.reply(b.call('publish', { topic: 'q', message: msg('while away') }))!.result, { success: 1 })
  t.same(b.reply(b.call('listSubscriptions', {}))!.result.success.map((s: any) => [s.id, s.attached, s.queued]), [[durable, false, 1]])
  t.same(b.reply(b.call('subscribe', { pattern: 'q', durableName: 'keep', maxQueued: 0 }))!.result, { success: durable })
  t.same(contentsOf(b.reply(b.call('poll', { subscription: durable, max: 10, timeoutMs: -1 }))), ['while away'])
  t.same(b.reply(b.call('unsubscribe', { subscription: durable }))!.result, { success: true })
  t.same(b.reply(b.call('unsubscribe', { subscription: durable }))!.result, { success: false })
  t.equal(topics.size, 0)
})

t.test('a connection may park only its limit of polls; the one over it gets LIMIT_EXCEEDED', async (t) => {
  const { connect, topics } = setup()
  const c = connect()
  const sub = c.reply(c.call('subscribe', { pattern: 'q', durableName: '', maxQueued: 0 }))!.result.success as number
  c.call('poll', { subscription: sub, max: 1, timeoutMs: -1 })
  c.call('poll', { subscription: sub, max: 1, timeoutMs: -1 })
  const over = c.reply(c.call('poll', { subscription: sub, max: 1, timeoutMs: -1 }))!
  t.equal(over.result.error.code, ErrorCode.LIMIT_EXCEEDED)
  t.equal(topics.publish('q', msg('a')), 1)
  t.equal(topics.publish('q', msg('b')), 1)
  t.same(c.replies.filter((r) => Array.isArray(r.result?.success)).map(contentsOf), [['a'], ['b']], 'the refused poll took nothing')
})

t.test('a message published to several subscriptions is encoded once per protocol, and every reply has the bytes the generated writer writes', async (t) => {
  const { connect, methods } = setup()
  const publisher = connect()
  const subscribers = [connect(), connect(), connect(), connect()]
  const ids = subscribers.map((c) => c.reply(c.call('subscribe', { pattern: 'news.>', durableName: '', maxQueued: 0 }))!.result.success as number)
  const lone = subscribers[0]!.reply(subscribers[0]!.call('subscribe', { pattern: 'solo', durableName: '', maxQueued: 0 }))!.result.success as number
  const rich: Message = { sender: 'sender é', recipient: '', content: `${'x'.repeat(100)} ü ✓`, headers: { k: 'v', ü: '✓' }, body: Buffer.from([0, 1, 255]), ttlMs: 60_000 }
  publisher.call('publish', { topic: 'news.today', message: rich })
  publisher.call('publish', { topic: 'news.today', message: msg('second') })
  publisher.call('publish', { topic: 'solo', message: msg('alone') })
  const codec = methods.get('poll')!.codec
  const protocols: ProtocolName[] = ['binary', 'compact', 'binary', 'compact']
  for (const [i, c] of subscribers.entries()) {
    const result = c.reply(c.call('poll', { subscription: ids[i], max: 10, timeoutMs: 0 }))!.result as PubSub_poll_result
    t.same(result.success!.map((m) => m.content), [rich.content, 'second'])
    const protocol = protocols[i]!
    const shared = encodingOf(result.success![0]!)
    t.ok(shared, 'a message that went to several subscriptions shares its encodings')
    const before = shared![protocol]
    const bytes = encode(protocol, (w) => codec.writeResult(w, result))
    t.same(bytes, encode(protocol, (w) => PubSub.methods.poll.writeResult(w, result)), `subscriber ${i} (${protocol}): the generated writer's bytes`)
    if (i < 2) t.equal(before, undefined, `the first ${protocol} reply encodes the message`)
    else t.equal(shared![protocol], before, `a later ${protocol} reply copies the first one's bytes`)
    t.type(shared![protocol], EncodedRange)
    t.equal(encodingOf(result.success![1]!)![protocol]!.block, shared![protocol]!.block, 'messages encoded by one reply share a block')
  }
  const alone = subscribers[0]!.reply(subscribers[0]!.call('poll', { subscription: lone, max: 10, timeoutMs: 0 }))!.result as PubSub_poll_result
  t.equal(encodingOf(alone.success![0]!), undefined, 'a message that went to one subscription is encoded as usual')
  t.equal(encodingOf(msg('never published')), undefined, 'a message that was not published has no shared encoding')
})

t.test('the messages a reply encodes share blocks of about 8 KiB, which later replies copy whole', async (t) => {
  const { connect, methods } = setup(1 << 20)
  const codec = methods.get('poll')!.codec
  const publisher = connect()
  const [first, second] = [connect(), connect()].map((c) => ({ c, id: c.reply(c.call('subscribe', { pattern: 'big', durableName: '', maxQueued: 0 }))!.result.success as number }))
  for (let i = 0; i < 12; i++) publisher.call('publish', { topic: 'big', message: msg(`${i} ${'x'.repeat(2000)}`) })
  const poll = (s: typeof first) => s!.c.reply(s!.c.call('poll', { subscription: s!.id, max: 100, timeoutMs: 0 }))!.result as PubSub_poll_result
  const a = poll(first)
  const written = encode('binary', (w) => codec.writeResult(w, a))
  t.same(written, encode('binary', (w) => PubSub.methods.poll.writeResult(w, a)))
  const blocks = new Set(a.success!.map((m) => encodingOf(m)!.binary!.block))
  t.ok(blocks.size >= 2, `${blocks.size} blocks for 12 messages of 2 kB`)
  for (const block of blocks) t.ok(block.length < 8 * 1024 + 2100, `a block of ${block.length} bytes`)
  const b = poll(second)
  t.same(encode('binary', (w) => codec.writeResult(w, b)), written, 'the second reply copies the blocks: the same bytes')
})

t.test('poll replies mixing copied, newly encoded and unshared messages are the generated writer\'s bytes', async (t) => {
  const { connect, methods } = setup()
  const codec = methods.get('poll')!.codec
  const publisher = connect()
  // Overlapping patterns: a message reaches one to five of them, so replies mix every case.
  const subscribers = ['mix.>', 'mix.a', 'mix.*', 'mix.b', 'mix.a'].map((pattern, i) => {
    const c = connect()
    const id = c.reply(c.call('subscribe', { pattern, durableName: '', maxQueued: 0 }))!.result.success as number
    return { c, id, protocol: (i % 2 === 0 ? 'binary' : 'compact') as ProtocolName }
  })
  let seed = 12345
  const random = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % n
  let replies = 0
  let mismatches = 0
  let gaps = 0
  for (let step = 0; step < 3000; step++) {
    if (random(3) > 0) {
      publisher.call('publish', { topic: ['mix.a', 'mix.b', 'mix.c'][random(3)]!, message: msg(`m${step} ${'é'.repeat(random(4))}`) })
      continue
    }
    const s = subscribers[random(subscribers.length)]!
    const result = s.c.reply(s.c.call('poll', { subscription: s.id, max: 1 + random(8), timeoutMs: 0 }))!.result as PubSub_poll_result
    if (result.success!.length === 0) continue
    replies++
    const ours = encode(s.protocol, (w) => codec.writeResult(w, result))
    if (!ours.equals(encode(s.protocol, (w) => PubSub.methods.poll.writeResult(w, result)))) mismatches++
    // Ranges of one block with a gap between them: the other messages of the gap went elsewhere.
    const ranges = result.success!.map((m) => encodingOf(m)?.[s.protocol])
    for (let k = 1; k < ranges.length; k++) if (ranges[k] && ranges[k]!.block === ranges[k - 1]?.block && ranges[k]!.start !== ranges[k - 1]!.end) gaps++
  }
  t.ok(replies > 500, `${replies} replies checked`)
  t.ok(gaps > 0, `${gaps} times, a reply took two messages of one block with others between them`)
  t.equal(mismatches, 0, 'every reply has the generated writer\'s bytes')
})
