import { createServer, connect as netConnect } from 'node:net'
import { once } from 'node:events'
import { join } from 'node:path'
import { existsSync, unlinkSync } from 'node:fs'
import t from 'tap'
import { connect } from '../../sdk/index.js'
import { startDaemon, tempDir } from '../helpers/daemon.js'

t.test('a full mailbox refuses sends with MAILBOX_FULL and the limit in the text', async (t) => {
  const d = await startDaemon(t, { args: ['--max-mailbox-depth', '2'] })
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  await c.send('small', 'one')
  await c.send('small', 'two')
  await t.rejects(c.send('small', 'three'), { code: 'MAILBOX_FULL', message: /the limits are 2 messages/ })
  t.equal((await c.receive('small', { timeoutMs: 0 })).content, 'one', 'what was accepted is still there')
  await c.send('small', 'three')
})

t.test('past the waiting-calls limit of a connection, calls fail with LIMIT_EXCEEDED', async (t) => {
  const d = await startDaemon(t, { args: ['--max-calls-per-connection', '2'] })
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  const waiting = [c.receive('w1'), c.receive('w2')]
  await t.rejects(c.receive('w3'), { code: 'LIMIT_EXCEEDED', message: /2 calls waiting, the limit/ })
  await c.send('w1', 'a')
  await c.send('w2', 'b')
  t.same((await Promise.all(waiting)).map((m) => m.content), ['a', 'b'])
})

t.test('past the connection limit, new connections are closed and the daemon keeps serving', async (t) => {
  const d = await startDaemon(t, { args: ['--max-connections', '1'] })
  const c = await connect({ socket: d.socket, spawn: false, reconnect: false })
  t.teardown(() => c.close())
  const extra = netConnect(d.socket)
  extra.on('error', () => {})
  await once(extra, 'close')
  t.pass('the extra connection was closed')
  t.equal(await c.ping(), '0.1.0', 'the first connection is still served')
  t.match(d.stderr(), /refused a connection: 1 connections is the limit/)
})

t.test('a daemon that never answers makes calls fail with TIMEOUT, not hang', async (t) => {
  const socket = join(tempDir(t), 'mute.sock')
  const mute = createServer((s) => s.on('data', () => {}))
  mute.listen(socket)
  await once(mute, 'listening')
  t.teardown(() => new Promise<void>((r) => mute.close(() => r())))
  const c = await connect({ socket, spawn: false, reconnect: false, callTimeoutMs: 200 })
  t.teardown(() => c.close())
  await t.rejects(c.ping(), { code: 'TIMEOUT' })
  await t.rejects(c.send('x', 'y', { timeoutMs: 100 }), { code: 'TIMEOUT' })
  await t.rejects(c.receive('x', { timeoutMs: 50 }), { code: 'TIMEOUT' }, 'a long-poll past its wait plus the call deadline')
})

t.test('a daemon whose socket file is removed shuts itself down', async (t) => {
  const d = await startDaemon(t)
  unlinkSync(d.socket)
  t.equal(await d.exited, 0, 'exits 0 without being signalled')
  t.match(d.stderr(), /socket file .* was removed; shutting down/)
  t.notOk(existsSync(d.socket))
})
