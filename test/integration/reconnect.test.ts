import { once } from 'node:events'
import { createServer, connect as netConnect } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { connect } from '../../sdk/index.js'
import { shutdownAndWait, startDaemon, tempDir } from '../helpers/daemon.js'

t.test('losing the daemon rejects pending calls with CLOSED; the client respawns it and goes on', async (t) => {
  const dir = tempDir(t)
  const first = await startDaemon(t, { dir })
  const c = await connect({ socket: first.socket, stateDir: first.stateDir })
  t.teardown(() => shutdownAndWait(c))
  const pending = c.receive('work')
  while ((await c.mailboxStats('work')).waiters === 0) await new Promise((r) => setTimeout(r, 5))
  first.process.kill('SIGKILL')
  const err = await pending.catch((e) => e)
  t.equal(err.code, 'CLOSED', 'the pending receive fails with CLOSED')
  t.ok(err.cause, 'with its cause')
  // The client reconnects on its own, starting a new daemon (spawn is allowed). It reconnects at once, while
  // the killed process may still be closing its files: a connection that lands in the dying listener's
  // backlog is reset before the daemon answers, and the client must not send on it.
  await c.send('work', 'after the crash')
  const status = await c.status()
  t.not(status.pid, first.process.pid, 'a new daemon serves the socket')
  t.equal((await c.receive('work', { timeoutMs: 1000 })).content, 'after the crash')
})

t.test('a connection closed before the daemon answers is not used: the client connects again', async (t) => {
  const d = await startDaemon(t)
  // In front of the daemon: the first connection is closed unanswered, as a dying daemon's backlog is; the
  // others are passed through.
  const front = join(tempDir(t), 'front.sock')
  let accepted = 0
  const proxy = createServer((s) => {
    if (++accepted === 1) return s.destroy()
    const back = netConnect(d.socket)
    s.pipe(back).pipe(s)
    s.on('error', () => back.destroy())
    back.on('error', () => s.destroy())
  })
  proxy.listen(front)
  await once(proxy, 'listening')
  t.teardown(() => new Promise<void>((r) => proxy.close(() => r())))
  const c = await connect({ socket: front, spawn: false, reconnect: false })
  t.teardown(() => c.close())
  await c.send('work', 'once')
  t.equal(accepted, 2, 'the client connected a second time')
  t.equal((await c.mailboxStats('work')).depth, 1, 'the message was sent once')
  t.equal((await c.receive('work', { timeoutMs: 0 })).content, 'once')
})

t.test('the mailbox iterator goes on across a daemon restart', async (t) => {
  const dir = tempDir(t)
  const first = await startDaemon(t, { dir })
  const c = await connect({ socket: first.socket, spawn: false })
  t.teardown(() => c.close())
  const seen: string[] = []
  const loop = (async () => {
    for await (const m of c.messages('stream')) {
      seen.push(m.content)
      if (seen.length === 2) return
    }
  })()
  await c.send('stream', 'one')
  while (seen.length < 1) await new Promise((r) => setTimeout(r, 5))
  await first.stop()
  const second = await startDaemon(t, { dir })
  const sender = await connect({ socket: second.socket, spawn: false })
  t.teardown(() => sender.close())
  await sender.send('stream', 'two')
  await loop
  t.same(seen, ['one', 'two'])
})

t.test('with spawn off and no daemon, connect() fails with NO_DAEMON and advice', async (t) => {
  const socket = join(tempDir(t), 'none.sock')
  await t.rejects(connect({ socket, spawn: false }), { code: 'NO_DAEMON', message: /no daemon at .*none\.sock \(connect ENOENT\); start one with `thriftbus daemon`/ })
})

t.test('a daemon that cannot start makes connect() fail with its log', async (t) => {
  const dir = tempDir(t)
  const { chmodSync, mkdirSync } = await import('node:fs')
  const shared = join(dir, 'shared')
  mkdirSync(shared)
  chmodSync(shared, 0o777)
  await t.rejects(connect({ socket: join(shared, 'bus.sock'), stateDir: join(dir, 'state') }), {
    code: 'NO_DAEMON',
    message: /exited with code 1.*daemon\.log ends with:\n.*can be written by other users/s,
  })
})
