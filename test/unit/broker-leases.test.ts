/**
 * Leases (at-least-once delivery), dead letters and TTLs in the broker, on a fake clock, without a store.
 * The same paths with the SQLite store are in store.test.ts.
 */
import t from 'tap'
import { Broker, DEAD_LETTER_SUFFIX, TTL_SWEEP_MS, type Waiter } from '../../src/broker/broker.js'
import type { Message } from '../../src/gen/thriftbus.js'
import { FakeClock } from '../helpers/fake-clock.js'

function msg(recipient: string, content: string, extra: Partial<Message> = {}): Message {
  return { sender: 's', recipient, content, ...extra }
}

const contents = (ms: Message[]): string[] => ms.map((m) => m.content)
const lease = (leaseMs: number, owner = 1) => ({ leaseMs, owner })

class RecordingWaiter implements Waiter {
  active = true
  settled: Message[][] = []
  settle(messages: Message[]): void {
    this.settled.push(messages)
  }
}

function setup(maxDeliveries = 3) {
  const clock = new FakeClock()
  const broker = new Broker({ clock, maxDeliveries })
  t.teardown(() => broker.close())
  return { clock, broker }
}

t.test('a leased message leaves the depth, counts as leased, and ack removes it for good', async (t) => {
  const { clock, broker } = setup()
  broker.send(msg('q', 'a'))
  broker.send(msg('q', 'b'))
  const [m] = broker.take('q', 1, Infinity, lease(1000))
  t.equal(m!.content, 'a')
  t.equal(m!.deliveryCount, 1)
  t.match(broker.stats('q'), { depth: 1, leased: 1 })
  t.equal(broker.ack([m!.id!, 12345]), 1, 'unknown ids are ignored')
  t.equal(broker.ack([m!.id!]), 0, 'a second ack counts nothing')
  clock.advance(5000)
  t.same(contents(broker.take('q', 10)), ['b'], 'the acked message never comes back')
  t.equal(broker.leasedCount, 0)
})

t.test('a lease that runs out puts the message back at the head with its delivery count', async (t) => {
  const { clock, broker } = setup()
  for (const c of ['a', 'b', 'c']) broker.send(msg('q', c))
  const leased = broker.take('q', 2, Infinity, lease(1000))
  t.same(contents(leased), ['a', 'b'])
  clock.advance(999)
  t.match(broker.stats('q'), { depth: 1, leased: 2 })
  clock.advance(1)
  t.match(broker.stats('q'), { depth: 3, leased: 0 })
  const again = broker.take('q', 3, Infinity, lease(1000))
  t.same(contents(again), ['a', 'b', 'c'], 'back at the head, in order')
  t.same(again.map((m) => m.deliveryCount), [2, 2, 1])
})

t.test('ack of part of a batch keeps the timer for the rest', async (t) => {
  const { clock, broker } = setup()
  for (const c of ['a', 'b']) broker.send(msg('q', c))
  const [a] = broker.take('q', 2, Infinity, lease(100))
  broker.ack([a!.id!])
  clock.advance(100)
  t.same(contents(broker.take('q', 10)), ['b'])
  t.equal(clock.pending, 0, 'no timer left behind')
})

t.test('nack gives messages back at once, in id order whatever the order of the ids', async (t) => {
  const { broker } = setup()
  for (const c of ['a', 'b', 'c', 'd']) broker.send(msg('q', c))
  const taken = broker.take('q', 3, Infinity, lease(60_000))
  t.equal(broker.nack([taken[2]!.id!]), 1)
  t.equal(broker.nack([taken[1]!.id!, taken[0]!.id!, 999]), 2)
  t.same(contents(broker.take('q', 10)), ['a', 'b', 'c', 'd'])
})

t.test('releaseOwner gives back only that owner\'s leases', async (t) => {
  const { broker } = setup()
  for (const c of ['a', 'b', 'c']) broker.send(msg('q', c))
  broker.take('q', 1, Infinity, lease(60_000, 1))
  const [b] = broker.take('q', 1, Infinity, lease(60_000, 2))
  t.equal(broker.releaseOwner(1), 1)
  t.equal(broker.releaseOwner(1), 0)
  t.match(broker.stats('q'), { depth: 2, leased: 1 })
  t.equal(broker.ack([b!.id!]), 1)
  t.same(contents(broker.take('q', 10)), ['a', 'c'])
})

t.test('a leasing waiter gets a sent message leased; a given-back message goes to a parked waiter', async (t) => {
  const { broker } = setup()
  const w = new RecordingWaiter()
  broker.wait('q', w, -1, lease(60_000, 7))
  broker.send(msg('q', 'a'))
  t.same(w.settled.map(contents), [['a']])
  t.equal(w.settled[0]![0]!.deliveryCount, 1)
  t.match(broker.stats('q'), { depth: 0, leased: 1 })
  const plain = new RecordingWaiter()
  broker.wait('q', plain, -1)
  t.equal(broker.releaseOwner(7), 1)
  t.same(plain.settled.map(contents), [['a']], 'handed to the next waiter at once')
  t.match(broker.stats('q'), { depth: 0, leased: 0 })
})

t.test('after maxDeliveries a message moves to <mailbox>.dead-letter with its history in headers', async (t) => {
  const { broker } = setup(2)
  broker.send(msg('jobs', 'poison', { headers: { k: 'v' } }))
  broker.send(msg('jobs', 'fine'))
  for (let i = 1; i <= 2; i++) {
    const [m] = broker.take('jobs', 1, Infinity, lease(1000))
    t.equal(m!.content, 'poison')
    t.equal(m!.deliveryCount, i)
    broker.nack([m!.id!])
  }
  t.match(broker.stats('jobs'), { depth: 1, deadLettered: 1 })
  t.same(contents(broker.take('jobs', 10)), ['fine'])
  const [dead] = broker.take('jobs' + DEAD_LETTER_SUFFIX, 10)
  t.equal(dead!.content, 'poison')
  t.equal(dead!.recipient, 'jobs.dead-letter')
  t.same(dead!.headers, { k: 'v', 'thriftbus-dead-letter-from': 'jobs', 'thriftbus-original-id': '1', 'thriftbus-deliveries': '2' })
  t.ok(dead!.id! > 2, 'a dead letter is a new message with a new id')
})

t.test('a dead-letter mailbox never dead-letters again, and is bounded by dropping its oldest', async (t) => {
  const clock = new FakeClock()
  const broker = new Broker({ clock, maxDeliveries: 1, maxMailboxDepth: 2 })
  t.teardown(() => broker.close())
  for (const c of ['a', 'b', 'c']) {
    broker.send(msg('q', c))
    const [m] = broker.take('q', 1, Infinity, lease(10))
    broker.nack([m!.id!])
  }
  t.same(contents(broker.take('q.dead-letter', 10, Infinity, lease(10))), ['b', 'c'], 'the oldest letter was dropped')
  clock.advance(10)
  t.same(contents(broker.take('q.dead-letter', 10)), ['b', 'c'], 'still there after a failed delivery')
})

t.test('an expired message is never delivered and is counted; fresh ones are', async (t) => {
  const { clock, broker } = setup()
  broker.send(msg('q', 'short', { ttlMs: 100 }))
  broker.send(msg('q', 'long', { ttlMs: 10_000 }))
  broker.send(msg('q', 'forever'))
  clock.advance(100)
  t.same(contents(broker.take('q', 10)), ['long', 'forever'])
  t.match(broker.stats('q'), { depth: 0, expired: 1 })
  t.equal(broker.purge('q'), 0)
  t.same(broker.list(), [], 'purge resets the counters and forgets the mailbox')
})

t.test('the sweep drops expired messages at the head without any receive', async (t) => {
  const { clock, broker } = setup()
  broker.send(msg('q', 'a', { ttlMs: 50 }))
  broker.send(msg('q', 'b', { ttlMs: 50 }))
  broker.send(msg('q', 'c'))
  clock.advance(TTL_SWEEP_MS)
  t.match(broker.stats('q'), { depth: 1, expired: 2, bytes: 2 })
  broker.take('q', 10)
  clock.advance(TTL_SWEEP_MS * 3)
  t.equal(clock.pending, 0, 'the sweep stops once no message has a TTL')
})

t.test('a leased message that expires while leased is dropped when given back', async (t) => {
  const { clock, broker } = setup()
  broker.send(msg('q', 'a', { ttlMs: 500 }))
  broker.take('q', 1, Infinity, lease(1000))
  clock.advance(1000)
  t.match(broker.stats('q'), { depth: 0, leased: 0, expired: 1 })
})

t.test('bad leases and TTLs are refused with INVALID_ARGUMENT', async (t) => {
  const { broker } = setup()
  t.throws(() => broker.send(msg('q', 'a', { ttlMs: 0 })), { code: 'INVALID_ARGUMENT', message: /ttlMs/ })
  t.throws(() => broker.send(msg('q', 'a', { ttlMs: -5 })), { code: 'INVALID_ARGUMENT' })
  broker.send(msg('q', 'a'))
  t.throws(() => broker.take('q', 1, Infinity, lease(-1)), { code: 'INVALID_ARGUMENT', message: /leaseMs/ })
  t.throws(() => broker.wait('q', new RecordingWaiter(), -1, lease(1e12)), { code: 'INVALID_ARGUMENT' })
  t.same(contents(broker.take('q', 10)), ['a'], 'nothing was lost to the refused calls')
})

t.test('returnMessages of a leased message ends its lease instead of duplicating it', async (t) => {
  const { broker } = setup()
  broker.send(msg('q', 'a'))
  const [m] = broker.take('q', 1, Infinity, lease(60_000))
  broker.returnMessages([m!])
  t.match(broker.stats('q'), { depth: 1, leased: 0 })
  t.same(contents(broker.take('q', 10)), ['a'])
})

t.test('purge removes leased messages too: their acks count nothing', async (t) => {
  const { broker } = setup()
  broker.send(msg('q', 'a'))
  broker.send(msg('q', 'b'))
  const [m] = broker.take('q', 1, Infinity, lease(60_000))
  t.equal(broker.purge('q'), 2)
  t.equal(broker.ack([m!.id!]), 0)
  t.same(broker.list(), [])
})
