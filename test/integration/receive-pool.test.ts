// The SDK's receive pool (sdk/receive-pool.ts): receive() calls waiting on one mailbox share daemon calls.
// Real daemon, real sockets; the daemon's mailboxStats shows what is parked on its side.
import t from 'tap'
import { connect, type Client } from '../../sdk/index.js'
import { startDaemon } from '../helpers/daemon.js'

const tick = () => new Promise((r) => setTimeout(r, 5))

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await tick()
}

async function drain(c: Client, mailbox: string): Promise<string[]> {
  const left: string[] = []
  for (;;) {
    const batch = await c.receiveMany(mailbox, 1000, { timeoutMs: 0 })
    if (batch.length === 0) return left
    left.push(...batch.map((m) => m.content))
  }
}

t.test('256 waiting receive() calls share daemon calls and get every message once, in order', async (t) => {
  const d = await startDaemon(t)
  const receiver = await connect({ socket: d.socket, spawn: false })
  const sender = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => receiver.close())
  t.teardown(() => sender.close())
  const total = 2000
  const got: string[] = []
  const order: number[] = []
  let calls = 0
  const loop = (): Promise<void> => {
    const n = calls++
    return receiver.receive('shared').then((m) => {
      order.push(n)
      got.push(m.content)
      if (got.length < total && calls < total) return loop()
    })
  }
  const loops = Array.from({ length: 256 }, loop)
  await until(async () => (await sender.mailboxStats('shared')).waiters > 0)
  const parked = (await sender.mailboxStats('shared')).waiters
  t.ok(parked <= 2, `256 receive() calls are ${parked} waiter(s) on the daemon, not 256`)
  const sends = []
  for (let i = 0; i < total; i++) sends.push(sender.send('shared', `m${i}`))
  await Promise.all(sends)
  await until(async () => got.length === total)
  t.same(got, Array.from({ length: total }, (_, i) => `m${i}`), 'every message once, in the order sent')
  t.same(order, [...order].sort((a, b) => a - b), 'the oldest receive() call is served first')
  await Promise.race([Promise.all(loops), tick()])
  t.equal((await sender.mailboxStats('shared')).depth, 0, 'nothing is left behind')
})

t.test('a receive() with a timeout is its own call and gives up alone; the shared call keeps waiting', async (t) => {
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  const patient = c.receive('mixed')
  await t.rejects(c.receive('mixed', { timeoutMs: 50 }), { code: 'NO_MESSAGE', message: /within 50 ms/ })
  t.equal((await c.mailboxStats('mixed')).waiters, 1, 'the shared call still waits for the patient receive()')
  await c.send('mixed', 'for the patient one')
  t.equal((await patient).content, 'for the patient one')
})

t.test('when every waiting receive() gives up, the shared call is cancelled and later messages stay queued', async (t) => {
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  const ac = new AbortController()
  const pending = [c.receive('quiet', { signal: ac.signal }), c.receive('quiet', { signal: ac.signal }), c.receive('quiet', { timeoutMs: 30 })]
  await until(async () => (await c.mailboxStats('quiet')).waiters > 0)
  await t.rejects(pending[2]!, { code: 'NO_MESSAGE' })
  ac.abort()
  await t.rejects(pending[0]!, { code: 'CANCELLED' })
  await t.rejects(pending[1]!, { code: 'CANCELLED' })
  await until(async () => (await c.mailboxStats('quiet')).waiters === 0)
  await c.send('quiet', 'kept')
  t.equal((await c.mailboxStats('quiet')).depth, 1, 'the message waits in the mailbox, not in a cancelled call')
  t.same(await drain(c, 'quiet'), ['kept'])
})

t.test('messages that arrive for calls that just gave up are put back, in order, and nothing is lost', async (t) => {
  const d = await startDaemon(t)
  const receiver = await connect({ socket: d.socket, spawn: false })
  const sender = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => receiver.close())
  t.teardown(() => sender.close())
  const rounds = 100
  const delivered: string[] = []
  for (let i = 0; i < rounds; i++) {
    const acs = [new AbortController(), new AbortController(), new AbortController()]
    const pending = acs.map((ac) => receiver.receive('giveup', { signal: ac.signal }).then(
      (m) => { delivered.push(m.content) },
      (err) => { if (err.code !== 'CANCELLED') throw err },
    ))
    // Three messages in one write, and two of the three calls giving up at varying moments.
    const sends = [0, 1, 2].map((k) => sender.send('giveup', `r${i}.${k}`))
    if (i % 3 === 1) await new Promise((r) => setImmediate(r))
    if (i % 3 === 2) await Promise.all(sends)
    acs[0]!.abort()
    acs[2]!.abort()
    await Promise.all(pending)
    await Promise.all(sends)
  }
  const left = await drain(receiver, 'giveup')
  const all = [...delivered, ...left]
  t.equal(all.length, rounds * 3, `every message was delivered (${delivered.length}) or is still queued (${left.length})`)
  t.equal(new Set(all).size, all.length, 'no message is duplicated')
  const key = (s: string) => s.slice(1).split('.').map(Number) as [number, number]
  const sorted = [...left].sort((a, b) => key(a)[0] - key(b)[0] || key(a)[1] - key(b)[1])
  t.same(left, sorted, 'what was put back is still in the order it was sent')
})

t.test('an error of the shared call reaches every receive() it was waiting for', async (t) => {
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  const bad = [c.receive('no spaces allowed'), c.receive('no spaces allowed'), c.receive('no spaces allowed')]
  for (const p of bad) await t.rejects(p, { code: 'INVALID_ARGUMENT', message: /characters that are not allowed/ })
  const good = c.receive('fine')
  await c.send('fine', 'still served')
  t.equal((await good).content, 'still served')
})

t.test('close() fails waiting receive() calls with CLOSED and releases the shared call on the daemon', async (t) => {
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false })
  const watcher = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => watcher.close())
  const pending = Array.from({ length: 10 }, () => c.receive('closing').then(() => 'delivered', (err) => err.code))
  await until(async () => (await watcher.mailboxStats('closing')).waiters > 0)
  await c.close()
  t.same(await Promise.all(pending), Array(10).fill('CLOSED'))
  await until(async () => (await watcher.mailboxStats('closing')).waiters === 0)
  await watcher.send('closing', 'kept')
  t.same(await drain(watcher, 'closing'), ['kept'], 'a message sent afterwards is not swallowed')
})
