import t from 'tap'
import {
  Broker, checkMailboxName, DRAINED_RECENTLY_MS, IDLE_SWEEP_MIN, FLOW_HIGH_DEPTH, FLOW_LOW_DEPTH, FLOW_MAX_HOLD_MS, MAX_MAILBOX_NAME_BYTES, replyBytes,
  type Waiter,
} from '../../src/broker/broker.js'
import { BusError } from '../../src/errors.js'
import type { Message } from '../../src/gen/thriftbus.js'
import { FakeClock } from '../helpers/fake-clock.js'

function msg(recipient: string, content: string, extra: Partial<Message> = {}): Message {
  return { sender: 's', recipient, content, ...extra }
}

/** A waiter that records what it was settled with. */
class RecordingWaiter implements Waiter {
  active = true
  settled: Message[][] = []
  settle(messages: Message[]): void {
    this.settled.push(messages)
  }
  get contents(): string[][] {
    return this.settled.map((b) => b.map((m) => m.content))
  }
}

function contents(ms: Message[]): string[] {
  return ms.map((m) => m.content)
}

function setup(opts: { maxMailboxDepth?: number; maxMailboxBytes?: number } = {}) {
  const clock = new FakeClock()
  const broker = new Broker({ clock, ...opts })
  return { clock, broker }
}

t.test('FakeClock fires due timers in due order, ties in the order set, and skips cleared ones', async (t) => {
  const clock = new FakeClock(1000)
  const fired: string[] = []
  clock.setTimer(() => fired.push(`b@${clock.now()}`), 20)
  clock.setTimer(() => fired.push(`a@${clock.now()}`), 10)
  clock.setTimer(() => fired.push(`a2@${clock.now()}`), 10)
  const h = clock.setTimer(() => fired.push('never'), 15)
  clock.setTimer(() => {
    fired.push(`c@${clock.now()}`)
    clock.setTimer(() => fired.push(`d@${clock.now()}`), 5) // set during advance, due within the window
  }, 30)
  clock.clearTimer(h)
  clock.advance(9)
  t.same(fired, [])
  clock.advance(100)
  t.same(fired, ['a@1010', 'a2@1010', 'b@1020', 'c@1030', 'd@1035'])
  t.equal(clock.now(), 1109)
  t.equal(clock.pending, 0)
})

t.test('messages of one mailbox come out in the order they were sent', async (t) => {
  const { broker } = setup()
  for (let i = 0; i < 50; i++) broker.send(msg('jobs', `m${i}`))
  broker.send(msg('other', 'x'))
  const out: string[] = []
  for (let m = broker.takeOne('jobs'); m; m = broker.takeOne('jobs')) out.push(m.content)
  t.same(out, Array.from({ length: 50 }, (_, i) => `m${i}`))
  t.equal(broker.takeOne('other')?.content, 'x')
})

t.test('send stamps increasing ids and the clock time', async (t) => {
  const { clock, broker } = setup()
  const a = broker.send(msg('a', '1', { id: 999, sentAtMs: 5 }))
  clock.advance(7)
  const b = broker.send(msg('b', '2'))
  const c = broker.send(msg('a', '3'))
  t.ok(a.id! > 0)
  t.ok(b.id! > a.id!)
  t.ok(c.id! > b.id!)
  t.equal(a.sentAtMs, clock.now() - 7, 'sender-supplied sentAtMs is replaced')
  t.equal(b.sentAtMs, clock.now())
})

t.test('a parked waiter gets the next message at once, without it entering the queue', async (t) => {
  const { broker } = setup()
  const w = new RecordingWaiter()
  broker.wait('inbox', w, -1)
  t.match(broker.stats('inbox'), { name: 'inbox', depth: 0, bytes: 0, waiters: 1 })
  broker.send(msg('inbox', 'hello'))
  t.same(w.contents, [['hello']])
  t.equal(broker.takeOne('inbox'), undefined)
  broker.send(msg('inbox', 'second'))
  t.same(w.contents, [['hello']], 'a settled waiter takes nothing more')
  t.equal(broker.takeOne('inbox')?.content, 'second')
})

t.test('waiters are served oldest first', async (t) => {
  const { broker } = setup()
  const ws = [new RecordingWaiter(), new RecordingWaiter(), new RecordingWaiter()]
  for (const w of ws) broker.wait('q', w, -1)
  broker.send(msg('q', 'a'))
  broker.send(msg('q', 'b'))
  broker.send(msg('q', 'c'))
  t.same(ws.map((w) => w.contents), [[['a']], [['b']], [['c']]])
})

t.test('an inactive waiter is passed over and the message goes to the next active waiter', async (t) => {
  const { broker } = setup()
  const gone = new RecordingWaiter()
  const live = new RecordingWaiter()
  broker.wait('q', gone, -1)
  broker.wait('q', live, -1)
  gone.active = false
  broker.send(msg('q', 'x'))
  t.same(gone.settled, [], 'the gone waiter is never settled with a message')
  t.same(live.contents, [['x']])
})

t.test('when the only waiter is inactive the message is queued, not lost', async (t) => {
  const { broker } = setup()
  const gone = new RecordingWaiter()
  broker.wait('q', gone, -1)
  gone.active = false
  broker.send(msg('q', 'kept'))
  t.same(gone.settled, [])
  t.match(broker.list(), [{ name: 'q', depth: 1, bytes: 5, waiters: 0 }])
  t.equal(broker.takeOne('q')?.content, 'kept')
})

t.test('returnMessages to a mailbox whose only waiter is inactive keeps the messages', async (t) => {
  const { broker } = setup()
  const gone = new RecordingWaiter()
  broker.wait('q', gone, -1)
  gone.active = false
  broker.returnMessages([msg('q', 'r1', { id: 1 }), msg('q', 'r2', { id: 2 })].map((m) => (broker.nextId(), m)))
  t.same(contents(broker.take('q', 10)), ['r1', 'r2'])
})

t.test('a timed-out waiter settles with [] once and no longer takes messages', async (t) => {
  const { clock, broker } = setup()
  const w = new RecordingWaiter()
  const parked = broker.wait('q', w, 100)
  clock.advance(99)
  t.same(w.settled, [])
  clock.advance(1)
  t.same(w.settled, [[]])
  t.equal(broker.stats('q').waiters, 0)
  broker.send(msg('q', 'after'))
  t.same(w.settled, [[]], 'settled exactly once')
  t.equal(broker.takeOne('q')?.content, 'after')
  t.equal(parked.cancel(), false, 'cancel after timeout reports it had settled')
  clock.advance(1000)
  t.same(w.settled, [[]])
})

t.test('a waiter that got a message is not settled again by its timer', async (t) => {
  const { clock, broker } = setup()
  const w = new RecordingWaiter()
  broker.wait('q', w, 50)
  broker.send(msg('q', 'm'))
  clock.advance(1000)
  t.same(w.contents, [['m']])
  t.equal(clock.pending, 0, 'the timer was cleared')
})

t.test('cancel() of a parked waiter returns true once, then false; it never settles', async (t) => {
  const { clock, broker } = setup()
  const w = new RecordingWaiter()
  const p = broker.wait('q', w, 100)
  t.equal(p.cancel(), true)
  t.equal(p.cancel(), false)
  t.equal(broker.stats('q').waiters, 0)
  t.same(broker.list(), [], 'the idle mailbox is forgotten')
  broker.send(msg('q', 'm'))
  clock.advance(500)
  t.same(w.settled, [])
  t.equal(broker.takeOne('q')?.content, 'm')
})

t.test('a cancelled waiter is skipped: the next waiter gets the message', async (t) => {
  const { broker } = setup()
  const a = new RecordingWaiter()
  const b = new RecordingWaiter()
  const pa = broker.wait('q', a, -1)
  broker.wait('q', b, -1)
  pa.cancel()
  broker.send(msg('q', 'm'))
  t.same(a.settled, [])
  t.same(b.contents, [['m']])
})

t.test('cancel() of a waiter that already received a message returns false', async (t) => {
  const { broker } = setup()
  const w = new RecordingWaiter()
  const p = broker.wait('q', w, -1)
  broker.send(msg('q', 'm'))
  t.equal(p.cancel(), false)
})

t.test('returnMessages puts messages back at the head, in id order, keeping their ids', async (t) => {
  const { broker } = setup()
  for (const c of ['a', 'b', 'c', 'd']) broker.send(msg('q', c))
  const taken = broker.take('q', 3)
  t.same(contents(taken), ['a', 'b', 'c'])
  t.equal(broker.returnMessages([taken[2]!, taken[0]!, taken[1]!]), 3, 'returned out of order')
  const all = broker.take('q', 10)
  t.same(contents(all), ['a', 'b', 'c', 'd'])
  t.same(all.map((m) => m.id), [1, 2, 3, 4])
})

t.test('returnMessages refuses messages without an id the daemon gave, and ignores repeats', async (t) => {
  const { broker } = setup()
  broker.send(msg('q', 'a'))
  t.throws(() => broker.returnMessages([msg('q', 'x')]), { code: 'INVALID_ARGUMENT' })
  t.throws(() => broker.returnMessages([msg('q', 'x', { id: 99 })]), { code: 'INVALID_ARGUMENT' }, 'an id not given yet')
  t.throws(() => broker.returnMessages([msg('q', 'x', { id: 1, deliveryCount: -5 })]), { code: 'INVALID_ARGUMENT', message: /deliveryCount -5/ },
    'a negative delivery count (found by handler-fuzz: the journal could not write it)')
  const a = broker.takeOne('q')!
  broker.returnMessages([a, a])
  t.same(contents(broker.take('q', 10)), ['a'])
})

t.test('returnMessages hands the first returned message to a parked waiter and queues the rest behind it', async (t) => {
  const { broker } = setup()
  const w = new RecordingWaiter()
  broker.wait('q', w, -1)
  for (let i = 0; i < 3; i++) broker.nextId()
  broker.returnMessages([msg('q', 'a', { id: 1 }), msg('q', 'b', { id: 2 }), msg('q', 'c', { id: 3 })])
  t.same(w.contents, [['a']])
  t.same(contents(broker.take('q', 10)), ['b', 'c'])
})

t.test('returnMessages with one message and a parked waiter hands it over', async (t) => {
  const { broker } = setup()
  const w = new RecordingWaiter()
  broker.wait('q', w, -1)
  for (let i = 0; i < 7; i++) broker.nextId()
  broker.returnMessages([msg('q', 'only', { id: 7 })])
  t.same(w.contents, [['only']])
  t.equal(broker.takeOne('q'), undefined)
})

t.test('returnMessages validates every name before changing anything', async (t) => {
  const { broker } = setup()
  t.throws(() => broker.returnMessages([msg('ok', 'a'), msg('bad name', 'b')]), { code: 'INVALID_ARGUMENT' })
  t.same(broker.list(), [])
})

t.test('take(name, max) batches up to max messages, oldest first', async (t) => {
  const { broker } = setup()
  for (const c of ['1', '2', '3', '4', '5']) broker.send(msg('q', c))
  t.same(contents(broker.take('q', 2)), ['1', '2'])
  t.same(contents(broker.take('q', 0)), [])
  t.same(contents(broker.take('q', 10)), ['3', '4', '5'])
  t.same(broker.take('q', 10), [])
  t.same(broker.take('never-used', 10), [])
})

t.test('take(name, max, maxBytes) stops before the reply budget would be passed but always takes one', async (t) => {
  const { broker } = setup()
  // replyBytes: 64 + 3 x (content + sender 's' + recipient 'q') (+ body, headers)
  broker.send(msg('q', 'aaaa')) // 64 + 18 = 82
  broker.send(msg('q', 'bbbb')) // 82
  broker.send(msg('q', 'cccccccccccccccccccc')) // 64 + 66 = 130
  broker.send(msg('q', 'd')) // 64 + 9 = 73
  t.equal(replyBytes(msg('q', 'cccccccccccccccccccc')), 130)
  t.same(contents(broker.take('q', 10, 3)), ['aaaa'], 'first message taken even over budget')
  t.same(contents(broker.take('q', 10, 212)), ['bbbb', 'cccccccccccccccccccc'], '82 + 130 = 212 fits exactly')
  t.same(contents(broker.take('q', 10, 1000)), ['d'])
})

t.test('replyBytes bounds the encoded size of a reply, whatever the characters', async (t) => {
  const { BinaryWriter } = await import('../../src/wire/binary-writer.js')
  const { MessageService } = await import('../../src/gen/thriftbus.js')
  const heavy = [
    msg('box', '€'.repeat(1000), { headers: { 'ключ': 'значение', k: '' }, body: new Uint8Array(77), id: 2 ** 40, sentAtMs: Date.now(), ttlMs: 5, deliveryCount: 3 }),
    msg('x', '', { id: 1, sentAtMs: 1 }),
    msg('😀'.repeat(50), '😀'.repeat(50), { id: 1, sentAtMs: 1, topic: 'a.b' }),
  ]
  for (const m of heavy) {
    const w = new BinaryWriter(false, 1 << 20)
    w.beginMessage('receiveMessages', 2, 1)
    MessageService.methods.receiveMessages.writeResult(w, { success: [m] })
    w.endMessage()
    const single = w.take()!.length - 40 // the message header and list header of a one-message reply
    t.ok(single <= replyBytes(m), `${single} <= ${replyBytes(m)}`)
  }
})

t.test('stats and list report depth, bytes and waiters; bytes count body and headers', async (t) => {
  const { broker } = setup()
  broker.send(msg('b-box', 'hello', { body: new Uint8Array(10), headers: { k: 'vv' } })) // 1+5+10+3 = 19
  broker.send(msg('b-box', 'xy')) // 3
  broker.send(msg('a-box', 'z'))
  broker.wait('c-box', new RecordingWaiter(), -1)
  t.match(broker.stats('b-box'), { name: 'b-box', depth: 2, bytes: 22, waiters: 0 })
  t.match(broker.stats('unknown'), { name: 'unknown', depth: 0, bytes: 0, waiters: 0 })
  t.match(broker.list(), [
    { name: 'a-box', depth: 1, bytes: 2, waiters: 0 },
    { name: 'b-box', depth: 2, bytes: 22, waiters: 0 },
    { name: 'c-box', depth: 0, bytes: 0, waiters: 1 },
  ])
  broker.takeOne('b-box')
  t.equal(broker.stats('b-box').bytes, 3)
})

t.test('purge removes every message, returns the count, and keeps waiters parked', async (t) => {
  const { broker } = setup()
  broker.send(msg('q', '1'))
  broker.send(msg('q', '2'))
  t.equal(broker.purge('q'), 2)
  t.equal(broker.purge('q'), 0)
  t.equal(broker.purge('never'), 0)
  t.same(broker.list(), [])
  const w = new RecordingWaiter()
  broker.wait('p', w, -1)
  t.equal(broker.purge('p'), 0)
  broker.send(msg('p', 'x'))
  t.same(w.contents, [['x']])
})

t.test('a full mailbox (depth limit) throws MAILBOX_FULL naming the limit, and keeps what it had', async (t) => {
  const { broker } = setup({ maxMailboxDepth: 3 })
  for (let i = 0; i < 3; i++) broker.send(msg('q', `${i}`))
  const err = t.throws(() => broker.send(msg('q', 'over'))) as BusError
  t.ok(err instanceof BusError)
  t.equal(err.code, 'MAILBOX_FULL')
  t.match(err.message, /3 messages/)
  t.equal(broker.stats('q').depth, 3)
  broker.takeOne('q')
  t.doesNotThrow(() => broker.send(msg('q', 'fits again')))
})

t.test('a full mailbox (byte limit) throws MAILBOX_FULL naming the limit', async (t) => {
  const { broker } = setup({ maxMailboxBytes: 10 })
  broker.send(msg('q', '12345678')) // 9 bytes with the sender
  const err = t.throws(() => broker.send(msg('q', 'ab'))) as BusError
  t.equal(err.code, 'MAILBOX_FULL')
  t.match(err.message, /10 bytes/)
  t.doesNotThrow(() => broker.send(msg('q', '')), 'one more byte still fits') // 1 byte: 10 total
  t.equal(broker.stats('q').bytes, 10)
})

t.test('a message over the byte limit for an empty mailbox is refused and the mailbox not kept', async (t) => {
  const { broker } = setup({ maxMailboxBytes: 4 })
  t.throws(() => broker.send(msg('q', 'too long')), { code: 'MAILBOX_FULL' })
  t.same(broker.list(), [])
})

t.test('a full mailbox still hands messages straight to a parked waiter', async (t) => {
  const { broker } = setup({ maxMailboxDepth: 1 })
  broker.wait('q', new RecordingWaiter(), -1)
  // mailbox empty with a waiter: the limit does not come into play
  t.doesNotThrow(() => broker.send(msg('q', 'a')))
})

t.test('invalid mailbox names throw INVALID_ARGUMENT everywhere a name is taken', async (t) => {
  const { broker } = setup()
  const bad = ['', 'a'.repeat(MAX_MAILBOX_NAME_BYTES + 1), 'é'.repeat(101), 'has space', '*', '>', 'a*', 'a>b', '.leading-dot', 'tab\there', 'new\nline']
  for (const name of bad) {
    t.throws(() => checkMailboxName(name), { code: 'INVALID_ARGUMENT' }, `checkMailboxName(${JSON.stringify(name)})`)
    t.throws(() => broker.send(msg(name, 'x')), { code: 'INVALID_ARGUMENT' }, `send to ${JSON.stringify(name)}`)
    t.throws(() => broker.takeOne(name), { code: 'INVALID_ARGUMENT' })
    t.throws(() => broker.take(name, 1), { code: 'INVALID_ARGUMENT' })
    t.throws(() => broker.wait(name, new RecordingWaiter(), -1), { code: 'INVALID_ARGUMENT' })
    t.throws(() => broker.purge(name), { code: 'INVALID_ARGUMENT' })
    t.throws(() => broker.stats(name), { code: 'INVALID_ARGUMENT' })
  }
  t.same(broker.list(), [])
  for (const good of ['a', 'a'.repeat(MAX_MAILBOX_NAME_BYTES), 'app.worker-1', 'user@host', 'x/y:z+w', '_private', '0']) {
    t.doesNotThrow(() => checkMailboxName(good), good)
  }
})

t.test('idle mailboxes are forgotten: list() is empty after everything is taken', async (t) => {
  const { clock, broker } = setup()
  broker.send(msg('a', '1'))
  broker.send(msg('b', '2'))
  broker.send(msg('b', '3'))
  broker.takeOne('a')
  broker.take('b', 10)
  t.same(broker.list(), [])
  broker.wait('c', new RecordingWaiter(), 10)
  t.equal(broker.list().length, 1)
  clock.advance(10)
  t.same(broker.list(), [], 'a timed-out waiter leaves nothing behind')
  const w = new RecordingWaiter()
  broker.wait('d', w, -1)
  broker.send(msg('d', 'x'))
  t.same(broker.list(), [], 'a handed-over message leaves nothing behind')
})

t.test('idle mailboxes are kept for a while, then forgotten together: names do not accumulate', async (t) => {
  const { broker } = setup()
  broker.send(msg('kept', 'x'))
  let most = 0
  for (let i = 0; i < 10_000; i++) {
    broker.send(msg(`once.${i}`, 'x'))
    broker.takeOne(`once.${i}`)
    most = Math.max(most, broker.mailboxesHeld)
  }
  t.ok(most > 2, 'idle mailboxes are kept for a while')
  t.ok(most <= IDLE_SWEEP_MIN + 2, `at most about IDLE_SWEEP_MIN idle ones are held (held ${most})`)
  t.same(broker.list().map((m) => m.name), ['kept'], 'idle mailboxes are not listed')
  t.same(contents(broker.take('kept', 10)), ['x'], 'a mailbox in use is never swept')
  // A receive loop's mailbox goes idle between its messages and is used again at once.
  for (let i = 0; i < 1000; i++) {
    const w = new RecordingWaiter()
    broker.wait('loop', w, -1)
    broker.send(msg('loop', String(i)))
    if (w.settled.length !== 1) t.fail(`message ${i} not handed over`)
  }
  t.ok(broker.mailboxesHeld <= IDLE_SWEEP_MIN + 2)
  t.same(broker.list(), [])
})

/** A waiter that takes up to capacity messages (and maxBytes) at once, as receiveMessages does. */
class BatchWaiter extends RecordingWaiter {
  constructor(readonly capacity: number, readonly maxBytes = Infinity) {
    super()
  }
}

t.test('a waiter that takes several is filled with the messages of its turn and settled once', async (t) => {
  const { broker } = setup()
  const w = new BatchWaiter(3)
  broker.wait('q', w, -1)
  for (const c of ['1', '2']) broker.send(msg('q', c))
  t.same(w.contents, [], 'not within the turn')
  t.same(broker.list(), [{ name: 'q', depth: 0, bytes: 0, waiters: 0, leased: 0, expired: 0, deadLettered: 0 }], 'nothing queued')
  await Promise.resolve()
  t.same(w.contents, [['1', '2']])
  const full = new BatchWaiter(2)
  broker.wait('q', full, -1)
  for (const c of ['3', '4', '5']) broker.send(msg('q', c))
  t.same(full.contents, [['3', '4']], 'settled at once when full; the rest is queued')
  t.same(contents(broker.take('q', 10)), ['5'])
})

t.test('a waiter being filled stops at its byte bound, and a take settles it first', async (t) => {
  const { broker } = setup()
  const w = new BatchWaiter(100, 2 * 85) // replyBytes: 64 + 3 x (5 + sender 's' + recipient 'q') = 85
  broker.wait('q', w, -1)
  broker.send(msg('q', 'aaaaa'))
  broker.send(msg('q', 'bbbbb'))
  broker.send(msg('q', 'ccccc'))
  t.same(w.contents, [['aaaaa', 'bbbbb']], '85 + 85 fit in 170')
  const v = new BatchWaiter(100)
  broker.wait('q', v, -1)
  t.same(contents(broker.take('q', 10)), ['ccccc'])
  broker.send(msg('q', 'd'))
  t.same(v.contents, [], 'filling')
  t.same(broker.take('q', 10), [], 'the take settles the filling waiter first and finds nothing')
  t.same(v.contents, [['d']])
})

t.test('a waiter that goes while it is being filled gets what it had; later messages are queued', async (t) => {
  const { broker } = setup()
  const w = new BatchWaiter(10)
  broker.wait('q', w, -1)
  broker.send(msg('q', '1'))
  w.active = false
  broker.send(msg('q', '2'))
  t.same(w.contents, [['1']])
  t.same(contents(broker.take('q', 10)), ['2'])
})

t.test('flow control: a deep mailbox that a receiver drains holds acknowledgements until it is drained, or for FLOW_MAX_HOLD_MS', async (t) => {
  const { clock, broker } = setup()
  const fill = (n: number) => { for (let i = 0; i < n; i++) broker.send(msg('q', `m${i}`)) }
  fill(FLOW_HIGH_DEPTH + 10)
  t.notOk(broker.congested('q'), 'nobody has received from it: work queued for later is never held up')
  t.notOk(broker.congested('other'), 'an unknown mailbox')

  broker.take('q', 1)
  t.ok(broker.congested('q'), 'deep, and drained a moment ago')
  const acked: string[] = []
  broker.hold('q', () => acked.push('a'))
  broker.hold('q', () => acked.push('b'))
  broker.take('q', 100)
  t.same(acked, [], 'still deeper than FLOW_LOW_DEPTH')
  broker.take('q', broker.stats('q').depth - FLOW_LOW_DEPTH)
  t.same(acked, ['a', 'b'], 'released in order once down to FLOW_LOW_DEPTH')
  t.notOk(broker.congested('q'))

  fill(FLOW_HIGH_DEPTH)
  t.ok(broker.congested('q'))
  broker.hold('q', () => acked.push('c'))
  clock.advance(FLOW_MAX_HOLD_MS - 1)
  t.same(acked, ['a', 'b'])
  clock.advance(1)
  t.same(acked, ['a', 'b', 'c'], 'a receiver that stalls holds a sender FLOW_MAX_HOLD_MS at most')
  t.equal(clock.pending, 0)

  clock.advance(DRAINED_RECENTLY_MS)
  t.notOk(broker.congested('q'), 'no receiver for DRAINED_RECENTLY_MS: not held any more')

  broker.take('q', 1)
  broker.hold('q', () => acked.push('d'))
  broker.purge('q')
  t.same(acked.at(-1), 'd', 'a purge releases them')
  broker.hold('gone', () => acked.push('e'))
  t.same(acked.at(-1), 'e', 'a mailbox that is gone acknowledges at once')

  fill(FLOW_HIGH_DEPTH)
  broker.take('q', 1)
  broker.hold('q', () => acked.push('f'))
  broker.close()
  t.same(acked.at(-1), 'f', 'close releases them')
  t.equal(clock.pending, 0, 'and clears the timer')
})
