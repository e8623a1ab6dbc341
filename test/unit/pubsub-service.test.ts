import t from 'tap'
import { EncodedRange, encodingOf, TopicEngine } from '../../src/broker/topics.js'
import { MAX_POLL_BATCH, pubsubServiceBindings } from '../../src/daemon/pubsub-service.js'
import { Call, type MethodBinding, type Session } from '../../src/daemon/session.js'
import { ErrorCode, MESSAGE_REPLY, PubSub, T_STRING, T_STRUCT, writeMessage, type Message, type PubSub_poll_result } from '../../src/gen/thriftbus.js'
import { BinaryReader } from '../../src/wire/binary-reader.js'
import { BinaryWriter } from '../../src/wire/binary-writer.js'
import { CompactReader } from '../../src/wire/compact-reader.js'
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

/**
 * publish's arguments as the daemon reads them off the wire from a publisher speaking protocol: written by the
 * generated writer (or by write, for bytes of one's own), then read with the bound codec's readArgs.
 */
function publishArgs(
  methods: Map<string, MethodBinding>, protocol: ProtocolName, topic: string, message: Message,
  write: (w: BinaryWriter | CompactWriter) => void = (w) => PubSub.methods.publish.writeArgs(w, { topic, message }),
): object {
  const w = protocol === 'binary' ? new BinaryWriter(false, 1 << 20) : new CompactWriter(false, 1 << 20)
  write(w)
  const bytes = Buffer.from(w.take()!)
  const r = protocol === 'binary' ? new BinaryReader(1 << 20) : new CompactReader(1 << 20)
  r.reset(bytes, 0, bytes.length)
  const args = methods.get('publish')!.codec.readArgs(r)
  if (r.underrun || r.pos !== bytes.length) throw new Error('publish arguments not read whole')
  return args
}

/** publish's arguments in the binary protocol, as the generated writer writes them. */
function encodeArgs(topic: string, message: Message): Buffer {
  const w = new BinaryWriter(false, 1 << 20)
  PubSub.methods.publish.writeArgs(w, { topic, message })
  return Buffer.from(w.take()!)
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

t.test('a binary publisher\'s own bytes become the message\'s binary encoding at once, the generated writer\'s bytes', async (t) => {
  const { connect, methods } = setup(1 << 20)
  const codec = methods.get('poll')!.codec
  const publisher = connect()
  const subscribe = (pattern: string) => {
    const c = connect()
    return { c, id: c.reply(c.call('subscribe', { pattern, durableName: '', maxQueued: 0 }))!.result.success as number }
  }
  const [a, b, lone] = [subscribe('raw.>'), subscribe('raw.>'), subscribe('solo')]
  const poll = (s: typeof a) => s.c.reply(s.c.call('poll', { subscription: s.id, max: 100, timeoutMs: 0 }))!.result as PubSub_poll_result
  const publish = (args: object) => publisher.reply(publisher.call('publish', args))!.result.success as number

  const kinds: { name: string; args: object; captured: boolean }[] = [
    { name: 'plain, from a binary publisher', args: publishArgs(methods, 'binary', 'raw.x', msg('plain é ✓')), captured: true },
    { name: 'plain again', args: publishArgs(methods, 'binary', 'raw.x', { sender: '', recipient: 'r', content: '' }), captured: true },
    { name: 'from a compact publisher', args: publishArgs(methods, 'compact', 'raw.x', msg('compact')), captured: false },
    { name: 'as an object (no bytes)', args: { topic: 'raw.x', message: msg('object') }, captured: false },
    { name: 'with headers', args: publishArgs(methods, 'binary', 'raw.x', { ...msg('rich'), headers: { k: 'v' } }), captured: false },
    { name: 'with a body', args: publishArgs(methods, 'binary', 'raw.x', { ...msg(''), body: Buffer.from([1, 2]) }), captured: false },
    { name: 'with ttlMs', args: publishArgs(methods, 'binary', 'raw.x', { ...msg('ttl'), ttlMs: 5000 }), captured: false },
    { name: 'with a sender\'s own U+FFFD', args: publishArgs(methods, 'binary', 'raw.x', { ...msg('x'), sender: 'a\uFFFDb' }), captured: false },
    { name: 'over 1 KiB', args: publishArgs(methods, 'binary', 'raw.x', msg('y'.repeat(1100))), captured: false },
    { name: 'not UTF-8', captured: false, args: publishArgs(methods, 'binary', 'raw.x', msg(''), (w) => {
      const bytes = encodeArgs('raw.x', msg('ok XY ok'))
      bytes.set([0xff, 0xc3], bytes.indexOf('XY'))
      w.writeRaw(bytes)
    }) },
    { name: 'with its fields in another order', captured: false, args: publishArgs(methods, 'binary', 'raw.x', msg(''), (w) => {
      w.writeFieldBegin(T_STRING, 1)
      w.writeString('raw.x')
      w.writeFieldBegin(T_STRUCT, 2)
      for (const [id, v] of [[3, 'content first'], [1, 's'], [2, '']] as const) {
        w.writeFieldBegin(T_STRING, id)
        w.writeString(v)
      }
      w.writeFieldStop()
      w.writeFieldStop()
    }) },
    { name: 'with the message before the topic', captured: false, args: publishArgs(methods, 'binary', 'raw.x', msg(''), (w) => {
      w.writeFieldBegin(T_STRUCT, 2)
      writeMessage(w, msg('message first'))
      w.writeFieldBegin(T_STRING, 1)
      w.writeString('raw.x')
      w.writeFieldStop()
    }) },
  ]
  for (const k of kinds) t.equal(publish(k.args), 2, `${k.name}: published to both subscriptions`)
  publish(publishArgs(methods, 'binary', 'solo', msg('alone')))

  const first = poll(a)
  t.same(first.success!.map((m) => m.content.slice(0, 13)), ['plain é ✓', '', 'compact', 'object', 'rich', '', 'ttl', 'x', 'y'.repeat(13), 'ok \uFFFD\uFFFD ok', 'content first', 'message first'])
  for (const [i, k] of kinds.entries()) {
    t.equal(encodingOf(first.success![i]!)?.binary !== undefined, k.captured, `${k.name}: ${k.captured ? '' : 'not '}encoded before any reply`)
  }
  t.equal(encodingOf(first.success![1]!)!.binary!.block, encodingOf(first.success![0]!)!.binary!.block, 'captured messages share a block')
  t.equal(encodingOf(first.success![1]!)!.binary!.start, encodingOf(first.success![0]!)!.binary!.end, 'side by side')
  const written = encode('binary', (w) => codec.writeResult(w, first))
  t.same(written, encode('binary', (w) => PubSub.methods.poll.writeResult(w, first)), 'the first reply has the generated writer\'s bytes')
  const second = poll(b)
  t.same(encode('binary', (w) => codec.writeResult(w, second)), written, 'the second reply too')
  t.same(encode('compact', (w) => codec.writeResult(w, second)), encode('compact', (w) => PubSub.methods.poll.writeResult(w, second)), 'and a compact reply')

  const alone = poll(lone)
  const captured = encodingOf(alone.success![0]!)
  t.ok(captured?.binary && !captured.shared, 'a message for one subscription is captured too')
  t.same(encode('binary', (w) => codec.writeResult(w, alone)), encode('binary', (w) => PubSub.methods.poll.writeResult(w, alone)), 'and written from its capture')
  t.same(encode('compact', (w) => codec.writeResult(w, alone)), encode('compact', (w) => PubSub.methods.poll.writeResult(w, alone)), 'its compact reply is encoded as usual')
  t.equal(captured!.compact, undefined, 'and not kept: no other subscription will want it')
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
      const topic = ['mix.a', 'mix.b', 'mix.c'][random(3)]!
      const message = msg(`m${step} ${'é'.repeat(random(4))}`)
      // As objects, or read off the wire from a binary or a compact publisher (a binary one's bytes are reused).
      // By step, not by random(): the random sequence stays the one that makes the gaps counted below.
      const how = step % 3
      publisher.call('publish', how === 0 ? { topic, message } : publishArgs(methods, how === 1 ? 'binary' : 'compact', topic, message))
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
