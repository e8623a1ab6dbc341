import { createServer, connect as netConnect, type Server, type Socket } from 'node:net'
import { once } from 'node:events'
import { join } from 'node:path'
import { existsSync, unlinkSync } from 'node:fs'
import t from 'tap'
import { connect } from '../../sdk/index.js'
import { MESSAGE_EXCEPTION } from '../../src/gen/thriftbus.js'
import { ApplicationErrorType, writeApplicationException } from '../../src/wire/application-exception.js'
import { FrameReader, createWriter } from '../../src/wire/frame-reader.js'
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
  await t.rejects(connect({ socket: d.socket, spawn: false, reconnect: false, connectTimeoutMs: 300 }), {
    code: 'NO_DAEMON',
    message: /closes connections before answering: it is shutting down, or at its connection limit \(--max-connections\)/,
  }, 'a client past the limit is told so by connect()')
  t.equal(await c.ping(), '0.1.0', 'and the first connection is still served')
})

t.test('a daemon that accepts but never answers makes connect() fail with NO_DAEMON, not hang', async (t) => {
  const socket = join(tempDir(t), 'mute.sock')
  const closed: Promise<unknown>[] = []
  await listening(createServer((s) => {
    s.on('data', () => {})
    closed.push(once(s, 'close'))
  }), socket)
  await t.rejects(connect({ socket, spawn: false, reconnect: false, connectTimeoutMs: 200 }), {
    code: 'NO_DAEMON',
    message: /accepted the connection but did not answer within the connect timeout \(200 ms\); it may be stuck/,
  })
  t.equal(closed.length, 1, 'one connection was made')
  await closed[0]
  t.pass('and the client closed it when it gave up')
})

t.test('a daemon that answers once and then falls silent makes calls fail with TIMEOUT, not hang', async (t) => {
  const socket = join(tempDir(t), 'mute.sock')
  await listening(createServer(answerFirstCallOnly), socket)
  const c = await connect({ socket, spawn: false, reconnect: false, callTimeoutMs: 200 })
  t.teardown(() => c.close())
  await t.rejects(c.ping(), { code: 'TIMEOUT' })
  await t.rejects(c.send('x', 'y', { timeoutMs: 100 }), { code: 'TIMEOUT' })
  await t.rejects(c.receive('x', { timeoutMs: 50 }), { code: 'TIMEOUT' }, 'a long-poll past its wait plus the call deadline')
})

/** Listens on socket; the test's teardown closes the server. */
async function listening(server: Server, socket: string): Promise<void> {
  server.listen(socket)
  await once(server, 'listening')
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
}

/**
 * Answers a connection's first call (the SDK's limits call) with "unknown method", as a daemon older than the
 * SDK would, and reads everything after it without a word.
 */
function answerFirstCallOnly(socket: Socket): void {
  const reader = new FrameReader(1 << 20)
  let answered = false
  socket.on('data', (chunk) => {
    if (answered) return
    reader.push(chunk)
    const call = reader.next((_header, r) => r.skipStruct())
    if (!call) return
    answered = true
    const w = createWriter(reader.format!, 1 << 20)
    w.beginMessage(call.name, MESSAGE_EXCEPTION, call.seqid)
    writeApplicationException(w, { message: `unknown method ${call.name}`, type: ApplicationErrorType.UNKNOWN_METHOD })
    w.endMessage()
    socket.write(w.take()!)
  })
}

t.test('a daemon whose socket file is removed shuts itself down', async (t) => {
  const d = await startDaemon(t)
  unlinkSync(d.socket)
  t.equal(await d.exited, 0, 'exits 0 without being signalled')
  t.match(d.stderr(), /socket file .* was removed; shutting down/)
  t.notOk(existsSync(d.socket))
})
