// Reads through `onread` into the one buffer a process shares between its sockets (src/wire/socket-reads.ts):
// the daemon's connections read so, and a call that spans reads must survive the reads of other connections.
import { once } from 'node:events'
import { createServer, connect as netConnect, type Socket } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { connect } from '../../sdk/index.js'
import { MESSAGE_CALL, MessageService } from '../../src/gen/thriftbus.js'
import { createWriter } from '../../src/wire/frame-reader.js'
import { connectReading, readInto, takeReads } from '../../src/wire/socket-reads.js'
import { startDaemon, tempDir } from '../helpers/daemon.js'

function write(socket: Socket, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => socket.write(bytes, (err) => (err ? reject(err) : resolve())))
}

t.test('a call split across reads reaches the daemon whole, though other connections read in between', async (t) => {
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  const w = createWriter({ protocol: 'binary', transport: 'buffered' }, 1 << 20)
  w.beginMessage(MessageService.methods.sendMessage.name, MESSAGE_CALL, 1)
  MessageService.methods.sendMessage.writeArgs(w, { message: { sender: 'raw', recipient: 'split', content: 'x'.repeat(150_000) } })
  w.endMessage()
  const frame = w.take()!
  const raw = netConnect(d.socket)
  t.teardown(() => raw.destroy())
  await once(raw, 'connect')
  // Over 64 KiB, so the daemon reads it as several chunks and holds an unfinished call after each.
  await write(raw, frame.subarray(0, 100_000))
  // Another connection's reads overwrite the shared buffer while the first call waits for its rest.
  for (let i = 0; i < 3; i++) await c.send('other', `${i}`.repeat(80_000))
  await c.ping()
  const reply = once(raw, 'data')
  await write(raw, frame.subarray(100_000))
  await reply
  t.equal((await c.receive('split', { timeoutMs: 0 })).content, 'x'.repeat(150_000), 'the split call\'s content is intact')
  for (let i = 0; i < 3; i++) t.equal((await c.receive('other', { timeoutMs: 0 })).content, `${i}`.repeat(80_000))
})

t.test('takeReads moves an accepted connection to an onread socket; the server still counts it until it closes', async (t) => {
  const path = join(tempDir(t), 'reads.sock')
  const chunks: string[] = []
  const accepted: Socket[] = []
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    const moved = takeReads(socket)
    accepted.push(moved)
    t.not(moved, socket, 'a new socket')
    readInto(moved, { received: (buf, length) => chunks.push(buf.toString('latin1', 0, length)) })
    moved.on('end', () => moved.end())
  })
  server.listen(path)
  await once(server, 'listening')
  const client = netConnect(path)
  await once(client, 'connect')
  client.write('hello, ')
  client.write('server')
  client.end()
  await once(client, 'close')
  t.equal(chunks.join(''), 'hello, server', 'everything sent was read')
  // close() calls back once the server counts no connection: the socket left behind was destroyed.
  await new Promise<void>((resolve) => server.close(() => resolve()))
  t.equal(accepted.length, 1)
})

t.test('takeReads returns the accepted socket itself, reading it as data events, when its handle cannot take a buffer', async (t) => {
  const path = join(tempDir(t), 'fallback.sock')
  const chunks: string[] = []
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    // What a Node whose handles differ would look like.
    Object.defineProperty((socket as unknown as { _handle: object })._handle, 'useUserBuffer', { value: undefined })
    const same = takeReads(socket)
    t.equal(same, socket, 'the same socket')
    readInto(same, { received: (buf, length) => chunks.push(buf.toString('latin1', 0, length)) })
    same.on('end', () => same.end())
  })
  server.listen(path)
  await once(server, 'listening')
  const client = netConnect(path)
  await once(client, 'connect')
  client.end('still read')
  await once(client, 'close')
  t.equal(chunks.join(''), 'still read')
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

t.test('a socket from connectReading drops what it reads until readInto gives it a sink', async (t) => {
  const path = join(tempDir(t), 'early.sock')
  const server = createServer((socket) => socket.end('early'))
  server.listen(path)
  await once(server, 'listening')
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const socket = connectReading(path)
  await once(socket, 'close')
  const chunks: string[] = []
  readInto(socket, { received: (buf, length) => chunks.push(buf.toString('latin1', 0, length)) })
  t.same(chunks, [], 'nothing was kept for later')
})
