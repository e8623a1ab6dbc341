import t from 'tap'
import type { Waiter } from '../../src/broker/broker.js'
import {
  checkDurableName, checkTopic, DEFAULT_SUBSCRIPTION_QUEUE_MESSAGES, MAX_SUBSCRIPTION_QUEUE_MESSAGES,
  MAX_CACHED_ROUTES, MAX_TOPIC_NAME_BYTES, parsePattern, TopicEngine, type TopicEngineOptions,
} from '../../src/broker/topics.js'
import type { Message, SubscriptionInfo } from '../../src/gen/thriftbus.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { MemoryTopicStore } from '../helpers/memory-topic-store.js'

const ALICE = 1
const BOB = 2

function msg(content: string, extra: Partial<Message> = {}): Message {
  return { sender: 's', recipient: '', content, ...extra }
}

function contents(ms: Message[]): string[] {
  return ms.map((m) => m.content)
}

/** A waiter that records what it was settled with. */
class RecordingWaiter implements Waiter {
  active = true
  settled: Message[][] = []
  settle(messages: Message[]): void {
    this.settled.push(messages)
  }
  get contents(): string[][] {
    return this.settled.map(contents)
  }
}

function setup(opts: TopicEngineOptions = {}) {
  const clock = new FakeClock()
  let lastId = 0
  const topics = new TopicEngine({ clock, nextId: () => ++lastId, ...opts })
  return { clock, topics }
}

/** The subscription's entry in list(). */
function infoOf(topics: TopicEngine, id: number): SubscriptionInfo | undefined {
  return topics.list().find((s) => s.id === id)
}

/** Which of the given patterns receive a message published to topic (each subscription on its own connection). */
function receivers(patterns: string[], topic: string): string[] {
  const { topics } = setup()
  const ids = patterns.map((p, i) => topics.subscribe(100 + i, p))
  const n = topics.publish(topic, msg('x'))
  const got = patterns.filter((_, i) => topics.take(100 + i, ids[i]!, 10).length === 1)
  if (n !== got.length) throw new Error(`publish counted ${n} receivers, ${got.length} got the message`)
  return got
}

t.test('an exact pattern matches only its own topic', async (t) => {
  t.same(receivers(['a.b'], 'a.b'), ['a.b'])
  t.same(receivers(['a.b'], 'a.c'), [])
  t.same(receivers(['a.b'], 'a'), [])
  t.same(receivers(['a.b'], 'a.b.c'), [])
  t.same(receivers(['a'], 'a'), ['a'])
  t.same(receivers(['builds.linux'], 'builds.Linux'), [], 'names are case-sensitive')
})

t.test('"*" matches exactly one segment, in any position', async (t) => {
  const patterns = ['a.*', '*.b', '*', '*.*', 'a.*.c']
  t.same(receivers(patterns, 'a.b'), ['a.*', '*.b', '*.*'])
  t.same(receivers(patterns, 'a'), ['*'])
  t.same(receivers(patterns, 'a.b.c'), ['a.*.c'], '"*" does not match two segments')
  t.same(receivers(patterns, 'x.y'), ['*.*'])
})

t.test('">" matches one or more remaining segments, never zero', async (t) => {
  const patterns = ['a.>', '>', 'a.*.>', 'a.b.>']
  t.same(receivers(patterns, 'a'), ['>'], '"a.>" does not match "a"')
  t.same(receivers(patterns, 'a.b'), ['a.>', '>'])
  t.same(receivers(patterns, 'a.b.c'), ['a.>', '>', 'a.*.>', 'a.b.>'])
  t.same(receivers(patterns, 'a.b.c.d.e'), ['a.>', '>', 'a.*.>', 'a.b.>'])
  t.same(receivers(patterns, 'b.c'), ['>'])
})

t.test('a subscription reachable by several routes through the patterns gets each message once', async (t) => {
  const { topics } = setup()
  const ids = [topics.subscribe(ALICE, 'a.b'), topics.subscribe(ALICE, 'a.b'), topics.subscribe(ALICE, 'a.*')]
  t.equal(topics.publish('a.b', msg('m')), 3)
  for (const id of ids) t.same(contents(topics.take(ALICE, id, 10)), ['m'])
})

t.test('two subscriptions with one pattern: ending one leaves the other matching', async (t) => {
  const { topics } = setup()
  const a = topics.subscribe(ALICE, 'x.*.z')
  const b = topics.subscribe(ALICE, 'x.*.z')
  const c = topics.subscribe(ALICE, 'x.>')
  t.equal(topics.unsubscribe(ALICE, a), true)
  t.equal(topics.publish('x.y.z', msg('1')), 2)
  t.equal(topics.unsubscribe(ALICE, c), true)
  t.equal(topics.publish('x.y.z', msg('2')), 1)
  t.same(contents(topics.take(ALICE, b, 10)), ['1', '2'])
  t.equal(topics.unsubscribe(ALICE, b), true)
  t.equal(topics.publish('x.y.z', msg('3')), 0)
  const d = topics.subscribe(ALICE, 'x.y.z')
  t.equal(topics.publish('x.y.z', msg('4')), 1, 'a pattern added after its branch was pruned still matches')
  t.same(contents(topics.take(ALICE, d, 10)), ['4'])
})

t.test('invalid topics throw INVALID_ARGUMENT saying what is wrong, and publish nothing', async (t) => {
  const { topics } = setup()
  const sub = topics.subscribe(ALICE, '>')
  const cases: [string, RegExp][] = [
    ['', /topic is empty/],
    ['a'.repeat(MAX_TOPIC_NAME_BYTES + 1), /longer than 200 bytes/],
    ['é'.repeat(101), /longer than 200 bytes/],
    ['a..b', /empty segment/],
    ['.a', /empty segment/],
    ['a.', /empty segment/],
    ['.', /empty segment/],
    ['a.*', /contains a wildcard.*publish to a concrete topic/],
    ['a.>', /contains a wildcard/],
    ['a*b', /contains a wildcard/],
    ['has space', /characters that are not allowed in the segment "has space"/],
    ['a.tab\there', /characters that are not allowed/],
    ['café', /characters that are not allowed/],
  ]
  for (const [topic, text] of cases) {
    t.throws(() => checkTopic(topic), { code: 'INVALID_ARGUMENT', message: text }, `checkTopic(${JSON.stringify(topic)})`)
    t.throws(() => topics.publish(topic, msg('x')), { code: 'INVALID_ARGUMENT' })
  }
  t.same(topics.take(ALICE, sub, 100), [])
  for (const good of ['a', 'a'.repeat(MAX_TOPIC_NAME_BYTES), 'builds.linux.x86_64', 'user@host.a/b:c+d-e', '0.1']) {
    t.doesNotThrow(() => checkTopic(good), good)
  }
})

t.test('invalid patterns throw INVALID_ARGUMENT saying what is wrong, and subscribe nothing', async (t) => {
  const { topics } = setup()
  const cases: [string, RegExp][] = [
    ['', /pattern is empty/],
    ['a'.repeat(MAX_TOPIC_NAME_BYTES + 1), /pattern is longer than 200 bytes/],
    ['a.>.b', /">" before its last segment.*only come last/],
    ['>.a', /">" before its last segment/],
    ['>.>', /">" before its last segment/],
    ['a.b*', /wildcard inside the segment "b\*"; "\*" and ">" must be whole segments/],
    ['**', /wildcard inside the segment/],
    ['a.>b', /wildcard inside the segment/],
    ['a..b', /empty segment/],
    ['a.', /empty segment/],
    ['a b.*', /characters that are not allowed/],
  ]
  for (const [pattern, text] of cases) {
    t.throws(() => parsePattern(pattern), { code: 'INVALID_ARGUMENT', message: text }, `parsePattern(${JSON.stringify(pattern)})`)
    t.throws(() => topics.subscribe(ALICE, pattern), { code: 'INVALID_ARGUMENT' })
  }
  t.same(topics.list(), [])
  t.same(parsePattern('a.*.>'), ['a', '*', '>'])
  t.same(parsePattern('>'), ['>'])
  t.doesNotThrow(() => parsePattern('a'.repeat(MAX_TOPIC_NAME_BYTES)))
})

t.test('invalid durable names and maxQueued values throw INVALID_ARGUMENT', async (t) => {
  const { topics } = setup()
  for (const name of ['a'.repeat(MAX_TOPIC_NAME_BYTES + 1), 'has space', '.dot-first', 'a*']) {
    t.throws(() => checkDurableName(name), { code: 'INVALID_ARGUMENT' }, JSON.stringify(name))
    t.throws(() => topics.subscribe(ALICE, 'a', name), { code: 'INVALID_ARGUMENT' })
  }
  t.throws(() => topics.subscribe(ALICE, 'a', '', -1), { code: 'INVALID_ARGUMENT', message: /maxQueued must be 0 .*got -1/ })
  t.same(topics.list(), [])
  t.doesNotThrow(() => checkDurableName('app.worker-1@host'))
})

t.test('publish stamps id, sentAtMs and topic from the owner\'s id sequence and the clock', async (t) => {
  const clock = new FakeClock()
  let lastId = 41
  const topics = new TopicEngine({ clock, nextId: () => ++lastId })
  const sub = topics.subscribe(ALICE, 'a.*') // takes id 42
  t.equal(sub, 42)
  const m = msg('hello', { id: 999, sentAtMs: 5, topic: 'forged' })
  clock.advance(7)
  t.equal(topics.publish('a.b', m), 1)
  t.equal(m.id, 43)
  t.equal(m.sentAtMs, clock.now())
  t.equal(m.topic, 'a.b')
  t.equal(topics.publish('nobody.listens', msg('lost')), 0, 'a topic with no subscriptions is not an error')
  t.equal(lastId, 44, 'ids are taken even when nobody listens')
  const [got] = topics.take(ALICE, sub, 10)
  // As JSON: the engine's stamp (sizes, shared encodings) sits on the message under a symbol.
  t.same(JSON.parse(JSON.stringify(got)), { sender: 's', recipient: '', content: 'hello', id: 43, sentAtMs: clock.now(), topic: 'a.b' })
  t.equal(got, m, 'poll hands out the published message itself')
})

t.test('a topic published to again reaches the subscriptions that joined or left in between', async (t) => {
  const { topics } = setup()
  t.equal(topics.publish('a.b', msg('0')), 0)
  topics.subscribe(ALICE, 'a.*')
  t.equal(topics.publish('a.b', msg('1')), 1, 'a new subscription is reached')
  const durable = topics.subscribe(BOB, 'a.>', 'd')
  t.equal(topics.publish('a.b', msg('2')), 2)
  topics.detach(BOB)
  t.equal(topics.publish('a.b', msg('3')), 2, 'a detached durable subscription is still reached')
  t.ok(topics.unsubscribe(BOB, durable))
  t.equal(topics.publish('a.b', msg('4')), 1, 'an ended one is not')
  topics.detach(ALICE)
  t.equal(topics.publish('a.b', msg('5')), 0, 'nor one ended with its connection')
  for (let round = 0; round < 2; round++) {
    t.throws(() => topics.publish('a..b', msg('x')), { code: 'INVALID_ARGUMENT' }, 'a bad topic is refused every time')
  }
  topics.subscribe(ALICE, 'a.b')
  t.equal(topics.publish('a.b', msg('6')), 1)
  for (let i = 0; i < MAX_CACHED_ROUTES + 10; i++) topics.publish(`many.t${i}`, msg('x'))
  t.equal(topics.publish('a.b', msg('7')), 1, 'past the remembered topics, publishes still reach their subscriptions')
})

t.test('fan-out: ten subscriptions each get every message, in order, and publish counts them', async (t) => {
  const { topics } = setup()
  const ids: number[] = []
  for (let i = 0; i < 10; i++) ids.push(topics.subscribe(i < 5 ? ALICE : BOB, i % 2 ? 'jobs.*' : 'jobs.>'))
  topics.subscribe(ALICE, 'other.>')
  t.equal(topics.publish('jobs.a', msg('1')), 10)
  t.equal(topics.publish('jobs.b', msg('2')), 10)
  t.equal(topics.publish('jobs.b.deep', msg('3')), 5, 'only the five "jobs.>" subscriptions take a deeper topic')
  for (let i = 0; i < 10; i++) {
    const got = topics.take(i < 5 ? ALICE : BOB, ids[i]!, 100)
    t.same(contents(got), i % 2 ? ['1', '2'] : ['1', '2', '3'], `subscription ${i}`)
    t.same(got.map((m) => m.topic), i % 2 ? ['jobs.a', 'jobs.b'] : ['jobs.a', 'jobs.b', 'jobs.b.deep'])
    t.equal(infoOf(topics, ids[i]!)!.delivered, i % 2 ? 2 : 3)
  }
})

t.test('a full queue drops its oldest messages and counts them, while other subscribers get everything', async (t) => {
  const { topics } = setup()
  const slow = topics.subscribe(ALICE, 'feed', '', 3)
  const fast = topics.subscribe(BOB, 'feed')
  for (let i = 0; i < 5; i++) t.equal(topics.publish('feed', msg(`m${i}`)), 2, `publish ${i} reaches both`)
  t.same(infoOf(topics, slow), {
    id: slow, pattern: 'feed', durableName: '', queued: 3, dropped: 2, delivered: 0, maxQueued: 3, attached: true,
  })
  t.same(contents(topics.take(ALICE, slow, 10)), ['m2', 'm3', 'm4'])
  t.same(contents(topics.take(BOB, fast, 10)), ['m0', 'm1', 'm2', 'm3', 'm4'])
  t.same(infoOf(topics, fast), {
    id: fast, pattern: 'feed', durableName: '', queued: 0, dropped: 0, delivered: 5,
    maxQueued: DEFAULT_SUBSCRIPTION_QUEUE_MESSAGES, attached: true,
  })
  t.equal(infoOf(topics, slow)!.dropped, 2, 'dropped counts since the subscription began')
})

t.test('the byte bound drops the oldest messages too, but keeps a single oversized message', async (t) => {
  const { topics } = setup({ maxQueueBytes: 10 })
  const sub = topics.subscribe(ALICE, 't')
  topics.publish('t', msg('aaaa')) // 5 bytes with the sender
  topics.publish('t', msg('bbbb')) // 10
  topics.publish('t', msg('cc')) // 13: "aaaa" goes
  t.same(infoOf(topics, sub)!.queued, 2)
  t.equal(infoOf(topics, sub)!.dropped, 1)
  topics.publish('t', msg('x'.repeat(50)))
  t.same(contents(topics.take(ALICE, sub, 10)), ['x'.repeat(50)])
  t.equal(infoOf(topics, sub)!.dropped, 3)
})

t.test('maxQueued 0 takes the default bound, and a bound above the maximum is capped', async (t) => {
  const { topics } = setup()
  t.equal(infoOf(topics, topics.subscribe(ALICE, 'a'))!.maxQueued, DEFAULT_SUBSCRIPTION_QUEUE_MESSAGES)
  t.equal(infoOf(topics, topics.subscribe(ALICE, 'a', '', 7))!.maxQueued, 7)
  t.equal(infoOf(topics, topics.subscribe(ALICE, 'a', '', 2_000_000_000))!.maxQueued, MAX_SUBSCRIPTION_QUEUE_MESSAGES)
  const custom = setup({ defaultQueueMessages: 50, maxQueueMessages: 100 }).topics
  t.equal(infoOf(custom, custom.subscribe(ALICE, 'a'))!.maxQueued, 50)
  t.equal(infoOf(custom, custom.subscribe(ALICE, 'a', '', 101))!.maxQueued, 100)
})

t.test('take batches up to max messages and stops before maxBytes, always taking one', async (t) => {
  const { topics } = setup()
  const sub = topics.subscribe(ALICE, 'q')
  // replyBytes: 64 + 3 x (content + sender 's' + topic 'q')
  for (const c of ['aaaa', 'bbbb', 'c'.repeat(20), 'd']) topics.publish('q', msg(c)) // 82, 82, 130, 73
  t.same(contents(topics.take(ALICE, sub, 1)), ['aaaa'])
  t.same(contents(topics.take(ALICE, sub, 10, 3)), ['bbbb'], 'the first message is taken even over budget')
  t.same(contents(topics.take(ALICE, sub, 10, 203)), ['c'.repeat(20), 'd'], '130 + 73 = 203 fits exactly')
  t.same(topics.take(ALICE, sub, 10), [])
})

t.test('a parked poll is woken by the next publish, without the message entering the queue', async (t) => {
  const { clock, topics } = setup()
  const sub = topics.subscribe(ALICE, 'news.*')
  const w = new RecordingWaiter()
  topics.wait(ALICE, sub, w, 1000)
  clock.advance(500)
  t.same(w.settled, [])
  t.equal(topics.publish('news.today', msg('extra')), 1)
  t.same(w.contents, [['extra']])
  t.equal(w.settled[0]![0]!.topic, 'news.today')
  t.equal(clock.pending, 0, 'the wait\'s timer was cleared')
  t.same(topics.take(ALICE, sub, 10), [])
  t.equal(infoOf(topics, sub)!.delivered, 1)
  topics.publish('news.today', msg('later'))
  t.same(w.contents, [['extra']], 'a settled poll takes nothing more')
  t.same(contents(topics.take(ALICE, sub, 10)), ['later'])
})

t.test('parked polls are served oldest first, one message each', async (t) => {
  const { topics } = setup()
  const sub = topics.subscribe(ALICE, 'q')
  const ws = [new RecordingWaiter(), new RecordingWaiter(), new RecordingWaiter()]
  for (const w of ws) topics.wait(ALICE, sub, w, -1)
  for (const c of ['a', 'b', 'c', 'd']) topics.publish('q', msg(c))
  t.same(ws.map((w) => w.contents), [[['a']], [['b']], [['c']]])
  t.same(contents(topics.take(ALICE, sub, 10)), ['d'])
})

t.test('a parked poll that times out settles with [] exactly once, at its deadline', async (t) => {
  const { clock, topics } = setup()
  const sub = topics.subscribe(ALICE, 'q')
  const w = new RecordingWaiter()
  const parked = topics.wait(ALICE, sub, w, 100)
  clock.advance(99)
  t.same(w.settled, [])
  clock.advance(1)
  t.same(w.settled, [[]])
  topics.publish('q', msg('after'))
  t.same(w.settled, [[]])
  t.equal(parked.cancel(), false, 'cancel after the timeout reports it had settled')
  t.same(contents(topics.take(ALICE, sub, 10)), ['after'])
})

t.test('a poll whose caller has gone is passed over and never swallows a message', async (t) => {
  const { topics } = setup()
  const sub = topics.subscribe(ALICE, 'q')
  const gone = new RecordingWaiter()
  const live = new RecordingWaiter()
  topics.wait(ALICE, sub, gone, -1)
  topics.wait(ALICE, sub, live, -1)
  gone.active = false
  topics.publish('q', msg('x'))
  t.same(gone.settled, [])
  t.same(live.contents, [['x']])
  const gone2 = new RecordingWaiter()
  topics.wait(ALICE, sub, gone2, -1)
  gone2.active = false
  topics.publish('q', msg('kept'))
  t.same(gone2.settled, [])
  t.same(contents(topics.take(ALICE, sub, 10)), ['kept'], 'with no active poll the message is queued')
  t.equal(infoOf(topics, sub)!.delivered, 2)
})

t.test('cancel() of a parked poll returns true once, then false, and it never settles', async (t) => {
  const { clock, topics } = setup()
  const sub = topics.subscribe(ALICE, 'q')
  const w = new RecordingWaiter()
  const p = topics.wait(ALICE, sub, w, 100)
  t.equal(p.cancel(), true)
  t.equal(p.cancel(), false)
  t.equal(clock.pending, 0)
  topics.publish('q', msg('m'))
  clock.advance(500)
  t.same(w.settled, [])
  t.same(contents(topics.take(ALICE, sub, 10)), ['m'])
})

t.test('detach ends non-durable subscriptions and frees them; durable ones stay and queue within bound', async (t) => {
  const { topics } = setup()
  const plain = topics.subscribe(ALICE, 'a.>')
  const durable = topics.subscribe(ALICE, 'a.>', 'keeper', 2)
  const bobs = topics.subscribe(BOB, 'a.>')
  const w = new RecordingWaiter()
  topics.wait(ALICE, plain, w, -1)
  w.active = false // the connection has gone
  topics.detach(ALICE)
  t.same(w.settled, [], 'a poll of the gone connection is released, not settled')
  t.same(topics.list().map((s) => [s.id, s.attached]), [[durable, false], [bobs, true]])
  t.equal(topics.size, 2)
  t.throws(() => topics.take(ALICE, plain, 10), { code: 'NOT_FOUND', message: /no subscription/ })
  for (let i = 0; i < 4; i++) t.equal(topics.publish('a.b', msg(`m${i}`)), 2, 'the detached durable one still receives')
  t.same(infoOf(topics, durable), {
    id: durable, pattern: 'a.>', durableName: 'keeper', queued: 2, dropped: 2, delivered: 0, maxQueued: 2, attached: false,
  })
  t.throws(() => topics.take(ALICE, durable, 10), { code: 'NOT_FOUND', message: /resume it with subscribe\("a.>", "keeper"\)/ })
  topics.detach(ALICE)
  topics.detach(99)
  t.equal(topics.size, 2, 'detaching twice, or an owner with nothing, changes nothing')
})

t.test('subscribing again with a durable name resumes it: same id, attached, its queue kept', async (t) => {
  const { topics } = setup()
  const id = topics.subscribe(ALICE, 'orders.*', 'audit')
  t.equal(topics.subscribe(ALICE, 'orders.*', 'audit'), id, 'the same connection subscribing again gets the same id')
  t.equal(topics.size, 1)
  topics.publish('orders.new', msg('1'))
  topics.detach(ALICE)
  topics.publish('orders.new', msg('2'))
  t.equal(topics.subscribe(BOB, 'orders.*', 'audit'), id)
  t.equal(infoOf(topics, id)!.attached, true)
  t.same(contents(topics.take(BOB, id, 10)), ['1', '2'])
  t.throws(() => topics.take(ALICE, id, 10), { code: 'NOT_FOUND', message: /belongs to another connection/ })
})

t.test('resuming a durable name with another pattern, or one attached elsewhere, is refused', async (t) => {
  const { topics } = setup()
  const id = topics.subscribe(ALICE, 'orders.*', 'audit')
  t.throws(() => topics.subscribe(BOB, 'orders.*', 'audit'), {
    code: 'INVALID_ARGUMENT', message: /"audit" is attached to another connection/,
  })
  t.throws(() => topics.subscribe(ALICE, 'orders.>', 'audit'), {
    code: 'INVALID_ARGUMENT', message: /"audit" is taken by a subscription to "orders\.\*"; .*unsubscribe it first/,
  })
  t.equal(topics.unsubscribe(ALICE, id), true)
  const again = topics.subscribe(BOB, 'orders.>', 'audit')
  t.not(again, id, 'after unsubscribe the name starts a new subscription')
})

t.test('resuming with a new maxQueued changes the bound and drops the oldest overflow; 0 keeps it', async (t) => {
  const { topics } = setup()
  const id = topics.subscribe(ALICE, 'q', 'd', 5)
  for (let i = 0; i < 5; i++) topics.publish('q', msg(`m${i}`))
  topics.detach(ALICE)
  t.equal(topics.subscribe(ALICE, 'q', 'd', 0), id)
  t.equal(infoOf(topics, id)!.maxQueued, 5)
  t.equal(topics.subscribe(ALICE, 'q', 'd', 2), id)
  t.same(infoOf(topics, id)!.dropped, 3)
  t.same(contents(topics.take(ALICE, id, 10)), ['m3', 'm4'])
})

t.test('unsubscribe ends a subscription and frees its queue; only its owner can, unless it is detached', async (t) => {
  const { topics } = setup()
  const a = topics.subscribe(ALICE, 'q')
  const d = topics.subscribe(ALICE, 'q', 'dur')
  topics.publish('q', msg('1'))
  t.equal(topics.unsubscribe(BOB, a), false, 'another connection cannot end it')
  t.equal(topics.unsubscribe(ALICE, a), true)
  t.equal(topics.unsubscribe(ALICE, a), false)
  t.equal(topics.unsubscribe(ALICE, 12345), false)
  t.throws(() => topics.take(ALICE, a, 1), { code: 'NOT_FOUND' })
  t.throws(() => topics.wait(ALICE, a, new RecordingWaiter(), -1), { code: 'NOT_FOUND' })
  t.equal(topics.publish('q', msg('2')), 1)
  topics.detach(ALICE)
  t.equal(topics.unsubscribe(BOB, d), true, 'a detached durable subscription can be ended by anyone')
  t.same(topics.list(), [])
  t.equal(topics.publish('q', msg('3')), 0)
})

t.test('unsubscribe settles a poll parked on it with [] and clears its timer', async (t) => {
  const { clock, topics } = setup()
  const sub = topics.subscribe(ALICE, 'q')
  const w = new RecordingWaiter()
  const p = topics.wait(ALICE, sub, w, 1000)
  topics.unsubscribe(ALICE, sub)
  t.same(w.settled, [[]])
  t.equal(clock.pending, 0)
  t.equal(p.cancel(), false)
})

t.test('subscriptions per connection and in all are limited, with LIMIT_EXCEEDED', async (t) => {
  const { topics } = setup({ maxSubscriptionsPerConnection: 2, maxSubscriptions: 3 })
  const a1 = topics.subscribe(ALICE, 'a')
  topics.subscribe(ALICE, 'b', 'durable-b')
  t.throws(() => topics.subscribe(ALICE, 'c'), { code: 'LIMIT_EXCEEDED', message: /this connection already has 2 subscriptions, the limit/ })
  topics.subscribe(BOB, 'c')
  t.throws(() => topics.subscribe(BOB, 'd'), { code: 'LIMIT_EXCEEDED', message: /the daemon has 3 subscriptions, its limit/ })
  topics.detach(ALICE) // a1 ends; durable-b stays and still counts in all
  t.equal(topics.size, 2)
  topics.subscribe(BOB, 'd')
  t.throws(() => topics.subscribe(BOB, 'e'), { code: 'LIMIT_EXCEEDED', message: /2 subscriptions/ })
  t.throws(() => topics.subscribe(BOB, 'b', 'durable-b'), { code: 'LIMIT_EXCEEDED' }, 'resuming counts for the connection')
  t.doesNotThrow(() => topics.subscribe(ALICE, 'b', 'durable-b'), 'resuming does not count twice in all')
  t.equal(topics.size, 3)
  t.throws(() => topics.take(ALICE, a1, 1), { code: 'NOT_FOUND' })
})

t.test('returnToSubscription puts polled messages back at the head of that subscription only', async (t) => {
  const { topics } = setup()
  const a = topics.subscribe(ALICE, 'q')
  const b = topics.subscribe(BOB, 'q')
  for (const c of ['1', '2', '3', '4']) topics.publish('q', msg(c))
  const fromA = topics.take(ALICE, a, 2)
  const fromB = topics.take(BOB, b, 3)
  t.equal(fromA[0], fromB[0], 'a poll hands out the published message itself, shared by the subscriptions')
  t.equal(topics.returnToSubscription(a, fromA), 2)
  t.same(contents(topics.take(ALICE, a, 10)), ['1', '2', '3', '4'])
  t.same(contents(topics.take(BOB, b, 10)), ['4'], "the other subscription's queue is untouched")
  t.equal(topics.returnToSubscription(b, fromB), 3)
  t.same(contents(topics.take(BOB, b, 10)), ['1', '2', '3'])
  t.equal(infoOf(topics, a)!.delivered, 4, 'returned messages are not counted as delivered')
  t.equal(infoOf(topics, b)!.delivered, 4)
})

t.test('messages of two replies returned one after the other go back in publish order', async (t) => {
  const { topics } = setup()
  const sub = topics.subscribe(ALICE, 'q', 'd')
  for (const c of ['1', '2', '3', '4', '5', '6']) topics.publish('q', msg(c))
  const older = topics.take(ALICE, sub, 2)
  const newer = topics.take(ALICE, sub, 3)
  // Two replies written in one flush that failed: each call's messages come back, the older reply's first.
  t.equal(topics.returnToSubscription(sub, older), 2)
  t.equal(topics.returnToSubscription(sub, newer), 3)
  t.same(contents(topics.take(ALICE, sub, 10)), ['1', '2', '3', '4', '5', '6'])
})

t.test('returned messages go to a parked poll first, and are dropped once their subscription has ended', async (t) => {
  const { topics } = setup()
  const sub = topics.subscribe(ALICE, 'q')
  for (const c of ['1', '2', '3']) topics.publish('q', msg(c))
  const taken = topics.take(ALICE, sub, 3)
  const w = new RecordingWaiter()
  topics.wait(ALICE, sub, w, -1)
  t.equal(topics.returnToSubscription(sub, taken), 3)
  t.same(w.contents, [['1']])
  t.same(contents(topics.take(ALICE, sub, 10)), ['2', '3'])
  const again = topics.take(ALICE, sub, 10)
  t.same(again, [])
  topics.publish('q', msg('4'))
  const last = topics.take(ALICE, sub, 10)
  topics.unsubscribe(ALICE, sub)
  t.equal(topics.returnToSubscription(sub, last), 0)
  t.same(topics.list(), [])
})

t.test('returned messages that no longer fit drop the oldest, counted', async (t) => {
  const { topics } = setup()
  const sub = topics.subscribe(ALICE, 'q', '', 3)
  for (const c of ['1', '2', '3']) topics.publish('q', msg(c))
  const taken = topics.take(ALICE, sub, 2)
  topics.publish('q', msg('4'))
  topics.publish('q', msg('5'))
  t.equal(topics.returnToSubscription(sub, taken), 2)
  t.same(infoOf(topics, sub)!.dropped, 2)
  t.same(contents(topics.take(ALICE, sub, 10)), ['3', '4', '5'])
})

t.test('only durable subscriptions reach the store', async (t) => {
  const store = new MemoryTopicStore()
  const { topics } = setup({ store })
  const plain = topics.subscribe(ALICE, 'q')
  const dur = topics.subscribe(ALICE, 'q', 'd', 2)
  topics.publish('q', msg('1')) // id 3
  topics.publish('q', msg('2')) // id 4
  topics.publish('q', msg('3')) // id 5: drops 3
  const taken = topics.take(ALICE, dur, 1) // 4
  topics.returnToSubscription(dur, taken)
  topics.take(ALICE, plain, 10)
  const w = new RecordingWaiter()
  topics.take(ALICE, dur, 10)
  topics.wait(ALICE, dur, w, -1)
  topics.publish('q', msg('4')) // id 6: straight to the waiting poll, never stored
  topics.unsubscribe(ALICE, plain)
  topics.unsubscribe(ALICE, dur)
  t.same(w.contents, [['4']])
  t.same(store.ops, [
    `save ${dur}`,
    `enqueue ${dur} 3`, `enqueue ${dur} 4`, `enqueue ${dur} 5`, `dequeue ${dur} 3`,
    `dequeue ${dur} 4`, `enqueue ${dur} 4`,
    `dequeue ${dur} 4,5`,
    `delete ${dur}`,
  ])
  t.same(store.subscriptions.size, 0)
})

t.test('a restarted engine finds durable subscriptions and their queued messages, in order', async (t) => {
  const store = new MemoryTopicStore()
  const first = setup({ store }).topics
  const audit = first.subscribe(ALICE, 'orders.>', 'audit', 100)
  const small = first.subscribe(ALICE, 'orders.*', 'small', 2)
  first.subscribe(ALICE, 'orders.>')
  first.publish('orders.new', msg('o1'))
  first.publish('orders.new.eu', msg('o2', { headers: { k: 'v' }, body: new Uint8Array([1, 2, 3]) }))
  first.publish('orders.paid', msg('o3'))
  first.publish('orders.shipped', msg('o4'))
  t.same(contents(first.take(ALICE, audit, 1)), ['o1'])
  const before = first.list().filter((s) => s.durableName !== '')

  const second = new TopicEngine({ clock: new FakeClock(), store })
  t.same(second.list(), before.map((s) => ({ ...s, dropped: 0, delivered: 0, attached: false })), 'durable only, detached; counters restart')
  t.equal(second.highestLoadedId, 7, 'the last published message had id 7')
  t.equal(second.subscribe(BOB, 'orders.>', 'audit'), audit)
  const got = second.take(BOB, audit, 10)
  t.same(contents(got), ['o2', 'o3', 'o4'])
  t.same(got.map((m) => m.topic), ['orders.new.eu', 'orders.paid', 'orders.shipped'])
  t.same(got.map((m) => m.id), [5, 6, 7])
  t.same(got[0]!.headers, { k: 'v' })
  t.same([...got[0]!.body!], [1, 2, 3])
  t.equal(second.subscribe(BOB, 'orders.*', 'small'), small)
  const smallGot = second.take(BOB, small, 10)
  t.same(contents(smallGot), ['o3', 'o4'])
  t.equal(second.publish('orders.late', msg('o5')), 2)
  t.equal(second.subscribe(BOB, 'x'), 9, 'the default id counter continues above every loaded id')

  const third = new TopicEngine({ clock: new FakeClock(), store })
  t.same(third.list().map((s) => [s.durableName, s.queued]), [['audit', 1], ['small', 1]])
  third.subscribe(ALICE, 'orders.>', 'audit')
  const [late] = third.take(ALICE, audit, 10)
  t.same(late, { sender: 's', recipient: '', content: 'o5', id: 8, sentAtMs: late!.sentAtMs, topic: 'orders.late' })
})

t.test('a restarted engine with smaller bounds trims the loaded queues, oldest first', async (t) => {
  const store = new MemoryTopicStore()
  const first = setup({ store }).topics
  const id = first.subscribe(ALICE, 'q', 'd', 10)
  for (const c of ['1', '2', '3', '4']) first.publish('q', msg(c))
  const second = new TopicEngine({ clock: new FakeClock(), store, maxQueueMessages: 2 })
  t.same(infoOf(second, id), { id, pattern: 'q', durableName: 'd', queued: 2, dropped: 2, delivered: 0, maxQueued: 2, attached: false })
  second.subscribe(ALICE, 'q', 'd')
  t.same(contents(second.take(ALICE, id, 10)), ['3', '4'])
  t.same([...store.queues.get(id)!.keys()], [], 'the store follows')
})

/** A waiter that takes up to capacity messages (and maxBytes) at once. */
class BatchWaiter extends RecordingWaiter {
  constructor(readonly capacity: number, readonly maxBytes = Infinity) {
    super()
  }
}

t.test('a poll being filled stops at its byte bound; the message that does not fit is queued', async (t) => {
  const { topics } = setup()
  const sub = topics.subscribe(ALICE, 'q')
  const w = new BatchWaiter(100, 2 * 97) // replyBytes: 64 + 3 x (9 + sender 's' + topic 'q') = 97
  topics.wait(ALICE, sub, w, -1)
  topics.publish('q', msg('x'.repeat(9)))
  topics.publish('q', msg('y'.repeat(9)))
  topics.publish('q', msg('z'.repeat(9)))
  t.same(w.contents, [['x'.repeat(9), 'y'.repeat(9)]], '97 + 97 fit, a third does not')
  t.same(contents(topics.take(ALICE, sub, 10)), ['z'.repeat(9)])
})

t.test('a poll that takes more than one message collects the burst published in its turn, in one settle', async (t) => {
  const { topics } = setup()
  const sub = topics.subscribe(ALICE, 'q')
  const w = new BatchWaiter(3)
  topics.wait(ALICE, sub, w, -1)
  topics.publish('q', msg('1'))
  topics.publish('q', msg('2'))
  t.same(w.contents, [], 'not settled within the turn')
  await Promise.resolve()
  t.same(w.contents, [['1', '2']])
  const full = new BatchWaiter(2)
  topics.wait(ALICE, sub, full, -1)
  for (const c of ['3', '4', '5']) topics.publish('q', msg(c))
  t.same(full.contents, [['3', '4']], 'settled at once when full; the rest is queued')
  t.same(contents(topics.take(ALICE, sub, 10)), ['5'])
})

t.test('a take while a poll is being filled settles that poll first, so order holds', async (t) => {
  const { topics } = setup()
  const sub = topics.subscribe(ALICE, 'q')
  const w = new BatchWaiter(1)
  const filling = new BatchWaiter(2)
  topics.wait(ALICE, sub, filling, -1)
  topics.publish('q', msg('a'))
  t.same(filling.contents, [])
  topics.publish('q', msg('b'))
  topics.publish('q', msg('c'))
  t.same(filling.contents, [['a', 'b']])
  t.same(contents(topics.take(ALICE, sub, 10)), ['c'])
  topics.wait(ALICE, sub, w, -1)
  topics.publish('q', msg('d'))
  const next = new BatchWaiter(5)
  topics.wait(ALICE, sub, next, -1)
  topics.publish('q', msg('e'))
  t.same(w.contents, [['d']])
  t.same(contents(topics.take(ALICE, sub, 10)), [], 'the filling poll is settled before the take')
  t.same(next.contents, [['e']])
})

t.test('a poll whose connection goes while it is being filled takes nothing more', async (t) => {
  const { topics } = setup()
  const sub = topics.subscribe(ALICE, 'q')
  const w = new BatchWaiter(10)
  topics.wait(ALICE, sub, w, -1)
  topics.publish('q', msg('1'))
  w.active = false
  topics.publish('q', msg('2'))
  t.same(w.contents, [['1']], 'settled with what it had: the daemon returns those if it cannot write them')
  t.same(contents(topics.take(ALICE, sub, 10)), ['2'])
})
