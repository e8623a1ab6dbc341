/**
 * Topics through a real daemon process, with SDK clients: fan-out, a slow subscriber that drops its oldest
 * while the others keep up, subscriptions that end with their connection, a durable subscription resumed
 * after a restart, and the two ways to iterate (per message, per batch).
 */
import t from 'tap'
import { connect, type Client, type Message } from '../../sdk/index.js'
import { startDaemon, tempDir } from '../helpers/daemon.js'

/** Takes n messages from an async iterable. */
async function take(iterable: AsyncIterable<Message>, n: number): Promise<Message[]> {
  const out: Message[] = []
  if (n === 0) return out
  for await (const m of iterable) {
    out.push(m)
    if (out.length === n) break
  }
  return out
}

t.test('fan-out: ten subscribers on their own connections each get every message, in order', async (t) => {
  const d = await startDaemon(t)
  const subscribers: Client[] = []
  for (let i = 0; i < 10; i++) {
    const c = await connect({ socket: d.socket, spawn: false })
    t.teardown(() => c.close())
    subscribers.push(c)
  }
  const subs = await Promise.all(subscribers.map((c) => c.subscribe('events.>')))
  const publisher = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => publisher.close())
  const receiving = subs.map((s) => take(s, 100))
  const counts = await Promise.all(Array.from({ length: 100 }, (_, i) => publisher.publish(`events.e${i % 3}`, String(i))))
  t.ok(counts.every((n) => n === 10), 'each publish reached all ten subscriptions')
  const got = await Promise.all(receiving)
  for (const g of got) {
    t.same(g.map((m) => m.content), Array.from({ length: 100 }, (_, i) => String(i)))
  }
  t.equal(got[0]![5]!.topic, 'events.e2', 'messages carry their topic')
})

t.test('a slow subscriber drops its oldest and counts them; the others keep up and the publisher never waits', async (t) => {
  const d = await startDaemon(t)
  const fast = await connect({ socket: d.socket, spawn: false })
  const slow = await connect({ socket: d.socket, spawn: false })
  const publisher = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => Promise.all([fast.close(), slow.close(), publisher.close()]))
  const fastSub = await fast.subscribe('ticks')
  const slowSub = await slow.subscribe('ticks', { maxQueued: 5 })
  const fastGot = take(fastSub, 50)
  for (let i = 0; i < 50; i++) t.equal(await publisher.publish('ticks', String(i)), 2)
  t.same((await fastGot).map((m) => m.content), Array.from({ length: 50 }, (_, i) => String(i)))
  const info = (await publisher.status()).subscriptions.find((s) => s.id === slowSub.id)
  t.match(info, { pattern: 'ticks', queued: 5, dropped: 45, maxQueued: 5, attached: true })
  t.same((await take(slowSub, 5)).map((m) => m.content), ['45', '46', '47', '48', '49'], 'the newest five are kept')
})

t.test('a plain subscription ends with its connection; close() unsubscribes', async (t) => {
  const d = await startDaemon(t)
  const a = await connect({ socket: d.socket, spawn: false })
  const b = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => b.close())
  await a.subscribe('news')
  const sub = await b.subscribe('news')
  t.equal(await b.publish('news', 'x'), 2)
  await a.close()
  while ((await b.status()).subscriptions.length > 1) await new Promise((r) => setTimeout(r, 10))
  t.equal(await b.publish('news', 'y'), 1)
  await sub.close()
  t.equal(await b.publish('news', 'z'), 0)
})

t.test('a durable subscription queues while detached and is resumed, by name, after a restart', async (t) => {
  const dir = tempDir(t)
  const first = await startDaemon(t, { dir })
  const c = await connect({ socket: first.socket, spawn: false, reconnect: false })
  const sub = await c.subscribe('orders.>', { durableName: 'audit' })
  t.equal(await c.publish('orders.new', 'o1'), 1)
  await c.close() // detached: it keeps queueing
  const p = await connect({ socket: first.socket, spawn: false, reconnect: false })
  t.equal(await p.publish('orders.paid', 'o2'), 1, 'a detached durable subscription still receives')
  t.match((await p.status()).subscriptions, [{ durableName: 'audit', attached: false, queued: 2 }])
  await p.close()
  await first.stop()

  const second = await startDaemon(t, { dir })
  const c2 = await connect({ socket: second.socket, spawn: false })
  t.teardown(() => c2.close())
  t.equal(await c2.publish('orders.shipped', 'o3'), 1, 'it survived the restart, detached')
  const resumed = await c2.subscribe('orders.>', { durableName: 'audit' })
  t.equal(resumed.id, sub.id, 'resumed under the same id')
  const got = await take(resumed, 3)
  t.same(got.map((m) => [m.content, m.topic]), [['o1', 'orders.new'], ['o2', 'orders.paid'], ['o3', 'orders.shipped']])
  await resumed.unsubscribe()
  t.same((await c2.status()).subscriptions, [])
})

t.test('the subscription iterator resubscribes after the daemon restarts', async (t) => {
  const dir = tempDir(t)
  const first = await startDaemon(t, { dir })
  const c = await connect({ socket: first.socket, spawn: false })
  t.teardown(() => c.close())
  const sub = await c.subscribe('jobs.*', { durableName: 'worker' })
  const got = take(sub, 2)
  await c.publish('jobs.a', 'before')
  await first.stop()
  const second = await startDaemon(t, { dir })
  const p = await connect({ socket: second.socket, spawn: false })
  t.teardown(() => p.close())
  // Published to the durable subscription whether or not the iterator has resubscribed yet.
  t.equal(await p.publish('jobs.b', 'after'), 1)
  t.same((await got).map((m) => m.content), ['before', 'after'])
})

t.test('batches(): arrays of at most batchSize, never empty, in publish order; break stops the polling', async (t) => {
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  const sub = await c.subscribe('logs', { batchSize: 4 })
  for (let i = 0; i < 10; i++) await c.publish('logs', String(i))
  const sizes: number[] = []
  const got: string[] = []
  for await (const batch of sub.batches()) {
    sizes.push(batch.length)
    got.push(...batch.map((m) => m.content))
    if (got.length === 10) break
  }
  t.same(got, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
  t.ok(sizes.every((n) => n >= 1 && n <= 4), `batch sizes ${sizes.join(',')} are within 1..4`)
  t.ok(sizes.length >= 3, 'ten messages need at least three polls of four')
  // The loop's end cancelled its outstanding poll (the cancel goes out before this publish, on the same
  // connection): the next message waits in the queue instead of going to a poll nobody reads.
  await c.publish('logs', 'after')
  t.match((await c.status()).subscriptions.find((s) => s.id === sub.id), { pattern: 'logs', queued: 1, delivered: 10 })
})

t.test('the per-message iterator: next() calls made without awaiting resolve in order, across batches', async (t) => {
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  const sub = await c.subscribe('q', { batchSize: 2 })
  const it = sub[Symbol.asyncIterator]()
  t.equal(it[Symbol.asyncIterator](), it, 'the iterator is its own iterable')
  // Five messages wait in the queue, and five next() calls are made at once: the first takes a batch of two,
  // the others queue behind it and are served from that batch and the following ones.
  for (let i = 0; i < 5; i++) await c.publish('q', `m${i}`)
  const first = await Promise.all([it.next(), it.next(), it.next(), it.next(), it.next()])
  t.same(first.map((r) => (r.done ? 'done' : r.value.content)), ['m0', 'm1', 'm2', 'm3', 'm4'])
  // Two more at once on an empty queue: both wait for the next batch.
  const waiting = [it.next(), it.next()]
  await c.publish('q', 'm5')
  await c.publish('q', 'm6')
  const second = await Promise.all(waiting)
  t.same(second.map((r) => (r.done ? 'done' : r.value.content)), ['m5', 'm6'])
  t.same(await it.return!(), { value: undefined, done: true })
  t.same(await it.next(), { value: undefined, done: true }, 'after return() the iterator stays done')
  await c.publish('q', 'later')
  t.match((await c.status()).subscriptions.find((s) => s.id === sub.id), { queued: 1 }, 'nothing polls after return()')
})

t.test('the per-message iterator ends when the subscription is closed while it waits', async (t) => {
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  const sub = await c.subscribe('quiet')
  const it = sub[Symbol.asyncIterator]()
  const waiting = it.next()
  const queued = it.next()
  await sub.close()
  t.same(await waiting, { value: undefined, done: true })
  t.same(await queued, { value: undefined, done: true }, 'a next() queued behind the wait ends too')
})

t.test("the subscription's signal ends its loop with CANCELLED and cancels the outstanding poll on the daemon", async (t) => {
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  const stop = new AbortController()
  const sub = await c.subscribe('news', { batchSize: 2, signal: stop.signal })
  for (let i = 0; i < 5; i++) await c.publish('news', `m${i}`)
  const got: string[] = []
  const reason = new Error('the app is quitting')
  const looped = (async () => {
    for await (const batch of sub.batches()) {
      got.push(...batch.map((m) => m.content))
      if (got.length === 5) stop.abort(reason) // the next poll already waits on the daemon
    }
  })()
  await t.rejects(looped, { code: 'CANCELLED', cause: reason })
  t.same(got, ['m0', 'm1', 'm2', 'm3', 'm4'])
  // The cancel went out before this publish, on the same connection: the message waits in the queue.
  await c.publish('news', 'after')
  t.match((await c.status()).subscriptions.find((s) => s.id === sub.id), { queued: 1, delivered: 5 })
  await t.rejects(sub.batches().next(), { code: 'CANCELLED' }, 'a new loop over an aborted subscription ends at once')
})
