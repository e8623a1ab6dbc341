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

/**
 * Starts a server (pauseOnConnect, as the daemon's) whose one connection goes through `prepare` and then
 * takeReads(), sends it `parts` from a client, and returns the socket takeReads() gave and what it read.
 * Resolves once the server has closed, which it does only when it counts no connection any more.
 */
async function readThroughServer(t: Parameters<typeof tempDir>[0], parts: string[], prepare: (accepted: Socket) => void = () => {}): Promise<{ accepted: Socket; socket: Socket; read: string }> {
  const path = join(tempDir(t), 'reads.sock')
  const chunks: string[] = []
  let seen: { accepted: Socket; socket: Socket } | undefined
  const server = createServer({ pauseOnConnect: true }, (accepted) => {
    prepare(accepted)
    const socket = takeReads(accepted)
    seen = { accepted, socket }
    readInto(socket, { received: (buf, length) => chunks.push(buf.toString('latin1', 0, length)) })
    socket.on('end', () => socket.end())
  })
  server.listen(path)
  await once(server, 'listening')
  const client = netConnect(path)
  await once(client, 'connect')
  for (const part of parts) client.write(part)
  client.end()
  await once(client, 'close')
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return { ...seen!, read: chunks.join('') }
}

t.test('takeReads moves an accepted connection to an onread socket; the server still counts it until it closes', async (t) => {
  // readThroughServer resolves only once the server counts no connection: the socket left behind was destroyed.
  const { accepted, socket, read } = await readThroughServer(t, ['hello, ', 'server'])
  t.not(socket, accepted, 'a new socket')
  t.equal(read, 'hello, server', 'everything sent was read')
})

t.test('takeReads returns the accepted socket itself, reading it as data events, when its handle cannot take a buffer', async (t) => {
  const { accepted, socket, read } = await readThroughServer(t, ['still read'], (accepted) => {
    // What a Node whose handles differ would look like.
    Object.defineProperty((accepted as unknown as { _handle: object })._handle, 'useUserBuffer', { value: undefined })
  })
  t.equal(socket, accepted, 'the same socket')
  t.equal(read, 'still read')
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
