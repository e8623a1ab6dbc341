import t from 'tap'
import { connect } from '../../sdk/index.js'
import { runSdkClient, startDaemon } from '../helpers/daemon.js'

t.test('a message sent by one process is received by another', async (t) => {
  const d = await startDaemon(t)
  await runSdkClient({ op: 'send', socket: d.socket, to: 'bob', count: 1, prefix: 'hello' })
  const got = await runSdkClient({ op: 'receive', socket: d.socket, from: 'bob', timeoutMs: 0 })
  t.same(got, { content: 'hello:0' })
})

t.test('a receiver parked in a long-poll gets a message sent later by another process', async (t) => {
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  const pending = c.receive('later')
  const stats = await c.mailboxStats('later')
  t.equal(stats.waiters, 1, 'the receive is parked on the daemon')
  await runSdkClient({ op: 'send', socket: d.socket, to: 'later', count: 1, prefix: 'wake' })
  const m = await pending
  t.equal(m.content, 'wake:0')
  t.equal(m.recipient, 'later')
  t.type(m.id, 'number')
  t.type(m.sentAtMs, 'number')
})

t.test('each mailbox is FIFO per sender under concurrent sender processes', async (t) => {
  const d = await startDaemon(t)
  const senders = 4
  const count = 500
  await Promise.all(
    Array.from({ length: senders }, (_, i) => runSdkClient({ op: 'send', socket: d.socket, to: 'fifo', count, prefix: `s${i}` })),
  )
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  const next = new Map<string, number>()
  let total = 0
  let lastId = 0
  for (;;) {
    const batch = await c.receiveMany('fifo', 256, { timeoutMs: 0 })
    if (batch.length === 0) break
    for (const m of batch) {
      const [sender, n] = m.content.split(':') as [string, string]
      if (Number(n) !== (next.get(sender) ?? 0)) t.fail(`${sender} out of order: got ${n}, expected ${next.get(sender) ?? 0}`)
      next.set(sender, Number(n) + 1)
      if (m.id! <= lastId) t.fail(`ids not increasing: ${m.id} after ${lastId}`)
      lastId = m.id!
      total++
    }
  }
  t.equal(total, senders * count, 'every message arrived exactly once')
  for (let i = 0; i < senders; i++) t.equal(next.get(`s${i}`), count, `all of s${i}'s messages, in order`)
})

t.test('many calls outstanding on one connection are matched to their replies', async (t) => {
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  const n = 2000
  await Promise.all(Array.from({ length: n }, (_, i) => c.send(`box${i % 10}`, `m${i}`)))
  const receives = await Promise.all(Array.from({ length: n }, (_, i) => c.receive(`box${i % 10}`, { timeoutMs: 0 })))
  for (let i = 0; i < n; i++) {
    if (receives[i]!.content !== `m${i}`) t.fail(`receive ${i} got ${receives[i]!.content}`)
  }
  t.equal(receives.length, n)
  t.same(await c.listMailboxes(), [], 'every mailbox is empty again')
})
