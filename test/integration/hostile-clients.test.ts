import { readFileSync } from 'node:fs'
import { connect as netConnect, type Socket } from 'node:net'
import { once } from 'node:events'
import t from 'tap'
import { connect } from '../../sdk/index.js'
import { MESSAGE_CALL, MessageService } from '../../src/gen/thriftbus.js'
import { createWriter } from '../../src/wire/frame-reader.js'
import { startDaemon } from '../helpers/daemon.js'

/** The daemon's resident memory in MiB, from /proc. */
function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!
  return Number(line.split(/\s+/)[1]) / 1024
}

async function openSockets(path: string, n: number): Promise<Socket[]> {
  const sockets: Socket[] = []
  for (let i = 0; i < n; i++) {
    const s = netConnect(path)
    s.on('error', () => {})
    sockets.push(s)
  }
  await Promise.all(sockets.map((s) => once(s, 'connect')))
  return sockets
}

t.test('1,000 idle and half-open connections do not stop a well-behaved client', async (t) => {
  const d = await startDaemon(t)
  const before = rssMiB(d.process.pid!)
  const idle = await openSockets(d.socket, 1000)
  t.teardown(() => idle.forEach((s) => s.destroy()))
  // Half of them start a call and never finish it: a frame header promising bytes that never come.
  for (const s of idle.slice(0, 500)) s.write(Buffer.from([0x00, 0x00, 0x01, 0x00, 0x80, 0x01]))
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  await c.send('calm', 'served')
  t.equal((await c.receive('calm', { timeoutMs: 1000 })).content, 'served')
  t.equal((await c.status()).connections, 1001, 'every connection is held, none refused')
  t.ok(rssMiB(d.process.pid!) - before < 100, `memory stays bounded (${before.toFixed(0)} -> ${rssMiB(d.process.pid!).toFixed(0)} MiB)`)
})

t.test('a slowloris client trickling one byte at a time does not hold up anyone else', async (t) => {
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  const w = createWriter({ protocol: 'binary', transport: 'buffered' }, 1 << 20)
  w.beginMessage('sendMessage', MESSAGE_CALL, 1)
  MessageService.methods.sendMessage.writeArgs(w, { message: { sender: 'slow', recipient: 'slow', content: 'x'.repeat(200) } })
  w.endMessage()
  const bytes = w.take()!
  const [slow] = await openSockets(d.socket, 1)
  t.teardown(() => slow!.destroy())
  for (let i = 0; i < bytes.length - 1; i++) {
    slow!.write(bytes.subarray(i, i + 1))
    if (i % 20 === 0) {
      await c.send('busy', `m${i}`)
      t.equal((await c.receive('busy', { timeoutMs: 1000 })).content, `m${i}`)
    }
  }
  slow!.write(bytes.subarray(bytes.length - 1))
  t.equal((await c.receive('slow', { timeoutMs: 2000 })).content, 'x'.repeat(200), 'the trickled message arrives whole once complete')
})

t.test('a client that floods calls and never reads its replies cannot make the daemon buffer without bound', async (t) => {
  const d = await startDaemon(t)
  const before = rssMiB(d.process.pid!)
  const [flood] = await openSockets(d.socket, 1)
  flood!.pause() // never read the replies
  t.teardown(() => flood!.destroy())
  const w = createWriter({ protocol: 'binary', transport: 'framed' }, 1 << 20)
  const content = 'y'.repeat(100)
  let written = 0
  // Write until the daemon stops reading (our writes back up) or 300,000 calls are out.
  while (written < 300_000) {
    for (let i = 0; i < 1000; i++, written++) {
      w.beginMessage('ping', MESSAGE_CALL, written)
      MessageService.methods.ping.writeArgs(w, {})
      w.endMessage()
    }
    if (!flood!.write(w.take()!)) {
      const drained = await Promise.race([once(flood!, 'drain').then(() => true), new Promise((r) => setTimeout(r, 500, false))])
      if (!drained) break
    }
  }
  t.ok(written < 300_000, `the daemon stopped reading from the flooding connection (after ${written} calls)`)
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  for (let i = 0; i < 100; i++) await c.send('steady', `${content}${i}`)
  const got = await c.receiveMany('steady', 1000, { timeoutMs: 1000 })
  t.equal(got.length, 100, 'the well-behaved client is served and loses nothing')
  const grown = rssMiB(d.process.pid!) - before
  t.ok(grown < 150, `the daemon's memory stays bounded while the flood's replies back up (grew ${grown.toFixed(0)} MiB for ${written} calls)`)
})
