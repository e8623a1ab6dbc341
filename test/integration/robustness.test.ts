import { once } from 'node:events'
import { connect as netConnect } from 'node:net'
import t from 'tap'
import { connect } from '../../sdk/index.js'
import { MESSAGE_EXCEPTION, MessageService } from '../../src/gen/thriftbus.js'
import { startDaemon } from '../helpers/daemon.js'
import { RawClient } from '../helpers/raw-client.js'

const m = MessageService.methods

async function sendJunk(path: string, bytes: Buffer): Promise<Buffer> {
  const s = netConnect(path)
  s.on('error', () => {})
  await once(s, 'connect')
  s.write(bytes)
  const chunks: Buffer[] = []
  s.on('data', (c) => chunks.push(c))
  await once(s, 'close')
  return Buffer.concat(chunks)
}

t.test('junk input closes that connection only; a good client is still served', async (t) => {
  const d = await startDaemon(t)
  const good = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => good.close())
  await good.send('keep', 'before')
  for (const junk of [
    Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
    Buffer.from([0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa]),
    Buffer.from([0x80, 0x01, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff]), // a method name of negative length
    Buffer.from([0x00, 0x00, 0x00, 0x10, 0x0f, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), // THeader
  ]) {
    await sendJunk(d.socket, junk)
  }
  await good.send('keep', 'after')
  t.equal((await good.receive('keep', { timeoutMs: 0 })).content, 'before', 'nothing accepted before was lost')
  t.equal((await good.receive('keep', { timeoutMs: 0 })).content, 'after')
  t.match(d.stderr(), /an HTTP request, not Thrift/, 'the reason is logged')
})

t.test('an oversized frame gets a TApplicationException, then the connection closes', async (t) => {
  const d = await startDaemon(t, { args: ['--max-message-bytes', '1K'] })
  const raw = await RawClient.open(d.socket, { protocol: 'binary', transport: 'framed' })
  raw.call(m.sendMessage, { message: { sender: 's', recipient: 'big', content: 'x'.repeat(4096) } }, 7)
  await raw.closed
  t.equal(raw.replies.length, 1)
  t.equal(raw.replies[0]!.type, MESSAGE_EXCEPTION)
  t.equal(raw.replies[0]!.seqid, 7)
  t.match(raw.replies[0]!.body.message, /over the 1024-byte message limit/)
  const good = await connect({ socket: d.socket, spawn: false, maxMessageBytes: 1024 })
  t.teardown(() => good.close())
  await good.send('small', 'fits')
  t.equal((await good.receive('small', { timeoutMs: 0 })).content, 'fits')
})

t.test('a truncated message followed by a close loses nothing already accepted', async (t) => {
  const d = await startDaemon(t)
  const raw = await RawClient.open(d.socket)
  raw.call(m.sendMessage, { message: { sender: 's', recipient: 'box', content: 'whole' } }, 1)
  await raw.waitForReplies(1)
  raw.socket.write(Buffer.from([0x80, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0b, 0x73, 0x65])) // half a header
  raw.destroy()
  const good = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => good.close())
  t.equal((await good.receive('box', { timeoutMs: 0 })).content, 'whole')
})

t.test('a waiter whose connection has gone does not swallow the next message', async (t) => {
  const d = await startDaemon(t)
  const raw = await RawClient.open(d.socket)
  raw.call(m.receiveMessage, { recipient: 'inbox', timeoutMs: -1 }, 1)
  const good = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => good.close())
  while ((await good.mailboxStats('inbox')).waiters === 0) await new Promise((r) => setTimeout(r, 5))
  raw.destroy()
  await raw.closed
  await good.send('inbox', 'for the living')
  t.equal((await good.receive('inbox', { timeoutMs: 1000 })).content, 'for the living')
})

t.test('unknown methods and services get a TApplicationException and the connection stays usable', async (t) => {
  const d = await startDaemon(t)
  const raw = await RawClient.open(d.socket)
  raw.call(m.ping, {}, 1, 'noSuchMethod')
  raw.call(m.ping, {}, 2, 'OtherService:ping')
  raw.call(m.ping, {}, 3, 'MessageService:ping')
  raw.call(m.ping, {}, 4)
  raw.call(m.ping, {}, 5, 'PubSub:noSuchMethod')
  const replies = await raw.waitForReplies(5)
  raw.destroy()
  t.match(replies[0]!.body.message, /unknown method "noSuchMethod"; the daemon serves .*sendMessage/)
  t.match(replies[1]!.body.message, /^NO_RESPONDERS: no provider is registered for service "OtherService"/, 'another service is routed')
  t.same(replies[2]!.body, { success: '0.1.0' }, 'multiplexed name')
  t.same(replies[3]!.body, { success: '0.1.0' }, 'bare name')
  t.match(replies[4]!.body.message, /unknown method "noSuchMethod" in PubSub; PubSub serves publish, subscribe/)
})

t.test('a bad mailbox name gets the declared exception with INVALID_ARGUMENT', async (t) => {
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  await t.rejects(c.send('has space', 'x'), { code: 'INVALID_ARGUMENT', message: /not allowed/ })
  await t.rejects(c.send('', 'x'), { code: 'INVALID_ARGUMENT', message: /empty/ })
  await t.rejects(c.receive('a'.repeat(300), { timeoutMs: 0 }), { code: 'INVALID_ARGUMENT', message: /longer than 200 bytes/ })
})
