/**
 * The SDK's send batches (sdk/connection.ts): the send() calls of one tick travel as one sendMessages call (one
 * alone stays a sendMessage),
 * each send still settles on its own, other calls keep their place in the order, large messages and messages
 * with headers go alone, and a daemon that does not know sendMessages gets single calls instead.
 *
 * A proxy between the SDK and a real daemon records the method name of every call frame the SDK writes, and
 * can play a daemon that predates a method by answering it with UNKNOWN_METHOD itself.
 */
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { connect } from '../../sdk/index.js'
import { BATCH_MESSAGE_BYTES, Connection } from '../../sdk/connection.js'
import { connectReading } from '../../src/wire/socket-reads.js'
import { ApplicationErrorType, writeApplicationException } from '../../src/wire/application-exception.js'
import { createWriter } from '../../src/wire/frame-reader.js'
import { ErrorCode, MESSAGE_EXCEPTION, MessageService, type Message } from '../../src/gen/thriftbus.js'
import { startDaemon, tempDir } from '../helpers/daemon.js'
import { RawClient } from '../helpers/raw-client.js'
import { MAX_SEND_BATCH } from '../../src/daemon/message-service.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

interface Proxy {
  readonly socket: string
  /** Method names of the call frames the clients wrote, in order. */
  readonly calls: string[]
}

/**
 * Listens on dir/proxy.sock and relays every connection to the daemon. The SDK speaks framed binary, so a
 * frame is u32 length | i32 version and type | string name | i32 seqid | arguments.
 */
async function startProxy(t: Teardown, dir: string, daemonSocket: string, options: { refuse?: string } = {}): Promise<Proxy> {
  const calls: string[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = netConnect(daemonSocket)
    sockets.add(client).add(upstream)
    client.on('error', () => {})
    upstream.on('error', () => {})
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    upstream.on('data', (d) => client.write(d))
    let pending = Buffer.alloc(0)
    client.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk])
      while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
        const frame = pending.subarray(0, 4 + pending.readUInt32BE(0))
        pending = pending.subarray(frame.length)
        const nameLength = frame.readUInt32BE(8)
        const name = frame.toString('utf8', 12, 12 + nameLength)
        const seqid = frame.readInt32BE(12 + nameLength)
        calls.push(name)
        if (name === options.refuse) {
          const w = createWriter({ protocol: 'binary', transport: 'framed' }, 1 << 20)
          w.beginMessage(name, MESSAGE_EXCEPTION, seqid)
          writeApplicationException(w, { type: ApplicationErrorType.UNKNOWN_METHOD, message: `Unknown method ${name}` })
          w.endMessage()
          client.write(w.take()!)
        } else {
          upstream.write(frame)
        }
      }
    })
  })
  const socket = join(dir, 'proxy.sock')
  await new Promise<void>((resolve) => server.listen(socket, resolve))
  t.teardown(async () => {
    for (const s of sockets) s.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  return { socket, calls }
}

async function setup(t: Teardown, options: { refuse?: string; daemonArgs?: string[] } = {}) {
  const dir = tempDir(t)
  const d = await startDaemon(t, { dir, args: ['--durability', 'memory', ...(options.daemonArgs ?? [])] })
  const proxy = await startProxy(t, dir, d.socket, options)
  const c = await connect({ socket: proxy.socket, spawn: false, reconnect: false })
  t.teardown(() => c.close())
  // The connection's first call asks for the daemon's limits; the ping's answer comes after that one's.
  await c.ping()
  const handshake = proxy.calls.splice(0)
  // The daemon checks what it reads, not who wrote it: a direct client to look at the mailboxes.
  const direct = await connect({ socket: d.socket, spawn: false, reconnect: false })
  t.teardown(() => direct.close())
  return { c, direct, proxy, handshake }
}

/** Everything in the mailbox, oldest first (a receiveMessages reply is bounded by the daemon's message limit). */
async function drain(c: Awaited<ReturnType<typeof connect>>, mailbox: string): Promise<string[]> {
  const out: string[] = []
  for (;;) {
    const got = await c.receiveMany(mailbox, 10_000, { timeoutMs: 0 })
    if (got.length === 0) return out
    for (const m of got) out.push(m.content)
  }
}

t.test('the sends of one tick go as one sendMessages call, and each resolves', async (t) => {
  const { c, direct, proxy, handshake } = await setup(t)
  t.same(handshake, ['limits', 'ping'], 'a connection first asks for the daemon\'s limits')
  const sends = Array.from({ length: 300 }, (_, i) => c.send('jobs', `job ${i}`))
  t.same(await Promise.all(sends), Array(300).fill(undefined), 'every send resolves')
  t.same(proxy.calls, ['sendMessages'], 'one call on the wire')
  t.same(await drain(direct, 'jobs'), Array.from({ length: 300 }, (_, i) => `job ${i}`), 'all accepted, in order')
})

t.test('a send alone in its tick is a plain sendMessage', async (t) => {
  const { c, direct, proxy } = await setup(t)
  await c.send('one', 'a')
  await c.send('one', 'b')
  t.same(proxy.calls, ['sendMessage', 'sendMessage'])
  t.same(await drain(direct, 'one'), ['a', 'b'])
})

t.test('a batch is closed at BATCH_BYTES and the next one opened', async (t) => {
  const { c, direct, proxy } = await setup(t)
  const text = (i: number) => `${i}:`.padEnd(5000, '.') // 15 KiB by the batch's bound, 5 KB on the wire
  await Promise.all(Array.from({ length: 120 }, (_, i) => c.send('big', text(i))))
  t.ok(proxy.calls.length >= 2, `${proxy.calls.length} calls for 600 KB`)
  t.ok(proxy.calls.every((name) => name === 'sendMessages'))
  t.same(await drain(direct, 'big'), Array.from({ length: 120 }, (_, i) => text(i)))
})

t.test('a refused send of a batch rejects alone; the others are accepted', async (t) => {
  const { c, direct, proxy } = await setup(t, { daemonArgs: ['--max-mailbox-depth', '2'] })
  const results = await Promise.allSettled([
    c.send('box', 'a'),
    c.send('not a valid name', 'b'),
    c.send('box', 'c'),
    c.send('box', 'd'), // the mailbox holds 2
    c.send('other', 'e'),
  ])
  t.same(proxy.calls, ['sendMessages'])
  t.same(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'])
  t.match((results[1] as PromiseRejectedResult).reason, { name: 'BusError', code: 'INVALID_ARGUMENT', message: /mailbox name/ })
  t.match((results[3] as PromiseRejectedResult).reason, { name: 'BusError', code: 'MAILBOX_FULL' })
  t.same(await drain(direct, 'box'), ['a', 'c'])
  t.same(await drain(direct, 'other'), ['e'])
})

t.test('other calls close the batch: the daemon sees every call in the order it was made', async (t) => {
  const { c, direct, proxy } = await setup(t)
  const [, , purged] = await Promise.all([c.send('q', 'one'), c.send('q', 'two'), c.purge('q'), c.send('q', 'three'), c.send('q', 'four')])
  t.equal(purged, 2, 'the purge came after the first two sends')
  t.same(proxy.calls, ['sendMessages', 'purgeMailbox', 'sendMessages'])
  t.same(await drain(direct, 'q'), ['three', 'four'], 'and before the last two')
})

t.test('large messages and messages with headers go alone, in their place', async (t) => {
  const { c, direct, proxy } = await setup(t)
  const big = 'x'.repeat(BATCH_MESSAGE_BYTES)
  await Promise.all([
    c.send('mixed', 'small 1'),
    c.send('mixed', big),
    c.send('mixed', 'small 2'),
    c.send('mixed', { content: 'with headers', headers: { k: 'v' } }),
    c.send('mixed', 'small 3'),
    c.send('mixed', new Uint8Array([1, 2, 3])),
  ])
  // A send alone between two others stays a plain sendMessage; the last two share a batch.
  t.same(proxy.calls, ['sendMessage', 'sendMessage', 'sendMessage', 'sendMessage', 'sendMessages'])
  const got = await direct.receiveMany('mixed', 10, { timeoutMs: 0 })
  t.same(got.map((m) => (m.content.length > 100 ? 'big' : m.content)), ['small 1', 'big', 'small 2', 'with headers', 'small 3', ''])
  t.same(got[3]!.headers, { k: 'v' })
  t.same([...got[5]!.body!], [1, 2, 3])
})

t.test('a send that cannot be encoded rejects alone, and the batch goes on without it', async (t) => {
  const { c, direct, proxy } = await setup(t)
  // send() checks what it is given before it batches; a malformed Message at the connection is taken back
  // out of the batch it was being written into.
  const malformed = { sender: 's', recipient: 'enc', content: 'bad', topic: 42 } as unknown as Message
  const results = await Promise.allSettled([
    c.send('enc', 'first'),
    c.rpc(MessageService.methods.sendMessage, { message: malformed }, c.plain({})),
    c.send('enc', 'last'),
  ])
  t.same(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled'])
  t.match((results[1] as PromiseRejectedResult).reason, { name: 'BusError', code: 'INVALID_ARGUMENT' })
  t.same(proxy.calls, ['sendMessages'], 'one batch, without the bad message')
  t.same(await drain(direct, 'enc'), ['first', 'last'])

  // As the first send of a tick it goes nowhere either, and the next send goes alone.
  const [bad] = await Promise.allSettled([c.rpc(MessageService.methods.sendMessage, { message: malformed }, c.plain({})), c.send('enc', 'after')])
  t.equal(bad.status, 'rejected')
  t.same(proxy.calls, ['sendMessages', 'sendMessage'])
  t.same(await drain(direct, 'enc'), ['after'])
})

t.test('a daemon that does not know the limits call (older than the SDK) gets no batches', async (t) => {
  const { c, direct, proxy } = await setup(t, { refuse: 'limits' })
  await Promise.all([c.send('old', '1'), c.send('old', '2'), c.send('old', '3')])
  t.same(proxy.calls, ['sendMessage', 'sendMessage', 'sendMessage'])
  t.same(await drain(direct, 'old'), ['1', '2', '3'])
})

t.test('batches fit under the daemon\'s message limit, whatever the SDK\'s', async (t) => {
  const texts = Array.from({ length: 3000 }, (_, i) => `message number ${i}`)
  // 128 KiB: batches of at most 64 KiB. 32 KiB: too small to batch. The SDK keeps its default of 16 MiB.
  for (const [limit, batched] of [['128K', true], ['32K', false]] as const) {
    const { c, direct, proxy } = await setup(t, { daemonArgs: ['--max-message-bytes', limit] })
    await Promise.all(texts.map((text) => c.send('fits', text)))
    if (batched) {
      t.ok(proxy.calls.length >= 2 && proxy.calls.every((name) => name === 'sendMessages'), `${limit}: ${proxy.calls.length} sendMessages calls`)
    } else {
      t.same(new Set(proxy.calls), new Set(['sendMessage']), `${limit}: single calls`)
    }
    t.same(await drain(direct, 'fits'), texts, `${limit}: all accepted, in order`)
  }
})

t.test('an aborted send of a batch rejects alone with CANCELLED', async (t) => {
  const { c, direct, proxy } = await setup(t)
  const abort = new AbortController()
  const sends = [c.send('ab', 'kept 1'), c.send('ab', 'aborted', { signal: abort.signal }), c.send('ab', 'kept 2')]
  abort.abort()
  const results = await Promise.allSettled(sends)
  t.same(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled'])
  t.match((results[1] as PromiseRejectedResult).reason, { name: 'BusError', code: 'CANCELLED' })
  t.same(proxy.calls, ['sendMessages'])
  // As with a single send, a send aborted after it was written may still have been accepted.
  const got = await drain(direct, 'ab')
  t.same(got.filter((m) => m !== 'aborted'), ['kept 1', 'kept 2'])
})

t.test('a sendMessages call of more than MAX_SEND_BATCH messages is refused whole', async (t) => {
  const d = await startDaemon(t, { args: ['--durability', 'memory'] })
  const raw = await RawClient.open(d.socket, { protocol: 'binary', transport: 'framed' })
  t.teardown(() => raw.destroy())
  const list = (n: number) => Array.from({ length: n }, (_, i) => ({ sender: 'raw', recipient: 'many', content: `m${i}` }) as Message)
  raw.call(MessageService.methods.sendMessages, { messages: list(MAX_SEND_BATCH + 1) }, 1)
  raw.call(MessageService.methods.sendMessages, { messages: list(MAX_SEND_BATCH) }, 2)
  const [tooMany, atLimit] = await raw.waitForReplies(2)
  t.match(tooMany!.body, { error: { code: ErrorCode.INVALID_ARGUMENT, message: /at most 10000 messages, got 10001; split the list/ } })
  t.same(atLimit!.body.success, [], 'a list at the limit is accepted')
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  t.equal(Number((await c.mailboxStats('many')).depth), MAX_SEND_BATCH, 'nothing of the refused list was accepted')
})

t.test('the connection\'s own limits call is not a call in flight: closing does not wait for it', async (t) => {
  const socket = join(tempDir(t), 'mute.sock')
  const mute = createServer((s) => s.on('data', () => {}))
  await new Promise<void>((resolve) => mute.listen(socket, resolve))
  t.teardown(() => new Promise((resolve) => mute.close(resolve)))
  const sock = netConnect(socket)
  await new Promise((resolve) => sock.once('connect', resolve))
  const conn = new Connection(sock, 1 << 20, () => {})
  t.teardown(() => conn.destroy())
  t.equal(conn.pendingCount, 0, 'the limits call, unanswered, is not counted')
  conn.call(MessageService.methods.ping, {}, { codec: MessageService.methods.ping, settle: () => {} })
  t.equal(conn.pendingCount, 1, 'a call of the user\'s is')
})

t.test('a Connection reads replies from any socket: through onread from connectReading(), else as data events', async (t) => {
  const d = await startDaemon(t)
  const ask = async (sock: Socket): Promise<unknown> => {
    await new Promise((resolve) => sock.once('connect', resolve))
    const conn = new Connection(sock, 1 << 20, () => {})
    t.teardown(() => conn.destroy())
    // Large enough to take several reads, so that a reply also arrives split across them.
    const content = 'x'.repeat(200_000)
    await new Promise<void>((resolve, reject) => {
      conn.call(MessageService.methods.sendMessage, { message: { sender: 't', recipient: 'big', content } as Message }, {
        codec: MessageService.methods.sendMessage, settle: (_r: unknown, err: unknown) => (err ? reject(err) : resolve()),
      })
    })
    return new Promise((resolve, reject) => {
      conn.call(MessageService.methods.receiveMessage, { recipient: 'big', timeoutMs: 0 }, {
        codec: MessageService.methods.receiveMessage,
        settle: (r: { success?: Message } | undefined, err: unknown) => (err ? reject(err) : resolve(r?.success?.content.length)),
      })
    })
  }
  t.equal(await ask(connectReading(d.socket)), 200_000, 'onread socket')
  t.equal(await ask(netConnect(d.socket)), 200_000, 'plain socket')
})
