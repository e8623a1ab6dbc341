/**
 * Crash and restart, end to end: a real daemon process killed with SIGKILL, then started again on the same
 * state folder. What the daemon acknowledged must be there exactly once and in order; leases not acked must
 * come back; SDK clients must pick up where they were.
 */
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { connect, type Message } from '../../sdk/index.js'
import { ROOT, runCli, startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon.js'

async function kill9(d: RunningDaemon): Promise<void> {
  d.process.kill('SIGKILL')
  await d.exited
}

/** Takes every message of a mailbox without waiting. */
async function drain(socket: string, mailbox: string): Promise<Message[]> {
  const c = await connect({ socket, spawn: false, reconnect: false })
  try {
    const all: Message[] = []
    for (;;) {
      const batch = await c.receiveMany(mailbox, 1000, { timeoutMs: 0 })
      if (batch.length === 0) return all
      all.push(...batch)
    }
  } finally {
    await c.close()
  }
}

t.test('kill -9 in the middle of 10,000 acknowledged sends: after a restart every acknowledged one is there, once, in order', async (t) => {
  const dir = tempDir(t)
  const first = await startDaemon(t, { dir })
  const sender = spawn(process.execPath, [join(ROOT, 'test/integration/fixtures/stream-sender.mjs'), first.socket, 'stream', '10000', '3000'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  const done = new Promise<void>((resolve) => sender.on('close', () => resolve()))
  await new Promise<void>((resolve) => sender.stdout!.on('data', (d) => {
    out += d
    if (out.includes('ready')) resolve()
  }))
  await kill9(first)
  await done
  const { acked, lost } = JSON.parse(out.trim().split('\n').pop()!) as { acked: number[]; lost: boolean }
  t.ok(lost, 'the sender lost its connection mid-stream')
  t.ok(acked.length >= 3000 && acked.length < 10000, `${acked.length} sends were acknowledged before the kill`)

  await startDaemon(t, { dir })
  const got = (await drain(join(dir, 'bus.sock'), 'stream')).map((m) => Number(m.content))
  const present = new Set(got)
  t.equal(present.size, got.length, 'no message twice')
  t.ok(got.every((v, i) => i === 0 || v > got[i - 1]!), 'in the order they were sent')
  const missing = acked.filter((i) => !present.has(i))
  t.same(missing, [], 'every acknowledged message survived')
  t.ok(got.length >= acked.length, `${got.length} stored; ${got.length - acked.length} of them were committed but their acknowledgement was lost with the daemon`)
})

t.test('leases outstanding at kill -9 are delivered again after the restart; acked ones are not', async (t) => {
  const dir = tempDir(t)
  const first = await startDaemon(t, { dir })
  const c = await connect({ socket: first.socket, spawn: false, reconnect: false })
  for (let i = 0; i < 6; i++) await c.send('jobs', `job ${i}`)
  const leased = await c.receiveMany('jobs', 4, { leaseMs: 60_000, timeoutMs: 0 })
  t.same(leased.map((m) => m.deliveryCount), [1, 1, 1, 1])
  t.equal(await c.ack([leased[1]!.id!, leased[3]!.id!]), 2)
  await kill9(first)
  await c.close()

  const second = await startDaemon(t, { dir })
  const c2 = await connect({ socket: second.socket, spawn: false })
  t.teardown(() => c2.close())
  t.match(await c2.mailboxStats('jobs'), { depth: 4, leased: 0 })
  const again = await c2.receiveMany('jobs', 10, { leaseMs: 60_000, timeoutMs: 0 })
  t.same(again.map((m) => m.content), ['job 0', 'job 2', 'job 4', 'job 5'])
  t.same(again.map((m) => m.deliveryCount), [2, 2, 1, 1], 'the delivery count survived too')
  t.equal(await c2.ack(again.map((m) => m.id!)), 4)
})

t.test('a connection that drops gives its leases back at once, to the next receiver', async (t) => {
  const d = await startDaemon(t)
  const a = await connect({ socket: d.socket, spawn: false, reconnect: false })
  const b = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => b.close())
  await b.send('q', 'only')
  const m = await a.receive('q', { leaseMs: 60_000, timeoutMs: 0 })
  const waiting = b.receive('q', { leaseMs: 60_000, timeoutMs: 10_000 })
  await a.close()
  const again = await waiting
  t.equal(again.content, 'only')
  t.equal(again.id, m.id)
  t.equal(again.deliveryCount, 2)
})

t.test('the visibility timeout gives an unacked message back; nack at once; poison goes to the dead-letter mailbox', async (t) => {
  const d = await startDaemon(t, { args: ['--max-deliveries', '2'] })
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  await c.send('q', 'slow')
  const first = await c.receive('q', { leaseMs: 200, timeoutMs: 0 })
  const second = await c.receive('q', { leaseMs: 60_000, timeoutMs: 10_000 })
  t.equal(second.id, first.id, 'redelivered once the 200 ms lease ran out')
  t.equal(second.deliveryCount, 2)
  t.equal(await c.nack(second.id!), 1)
  t.match(await c.mailboxStats('q'), { depth: 0, leased: 0, deadLettered: 1 })
  const dead = await c.receive('q.dead-letter', { timeoutMs: 0 })
  t.equal(dead.content, 'slow')
  t.match(dead.headers, { 'thriftbus-dead-letter-from': 'q', 'thriftbus-deliveries': '2' })
})

t.test('the SDK iterator in ack mode: a handler that throws nacks; across kill -9 the unacked message comes back', async (t) => {
  const dir = tempDir(t)
  const first = await startDaemon(t, { dir })
  const c = await connect({ socket: first.socket, spawn: false })
  t.teardown(() => c.close())
  for (const s of ['a', 'boom', 'b']) await c.send('work', s)

  // A loop body that throws nacks its message: the next loop sees it again.
  const failing = async () => {
    for await (const m of c.messages('work', { ack: 60_000 })) {
      if (m.content === 'boom') throw new Error('handler failed')
    }
  }
  await t.rejects(failing(), { message: 'handler failed' })
  const seen: { content: string; deliveries: number }[] = []
  let release!: () => void
  const held = new Promise<void>((r) => (release = r))
  let holding!: () => void
  const isHolding = new Promise<void>((r) => (holding = r))
  const loop = (async () => {
    for await (const m of c.messages('work', { ack: 60_000 })) {
      seen.push({ content: m.content, deliveries: m.deliveryCount! })
      if (m.content === 'b' && m.deliveryCount === 1) {
        holding()
        await held // the daemon is killed while this handler holds the lease
      }
      if (seen.length === 3) return
    }
  })()
  await isHolding
  await kill9(first)
  await startDaemon(t, { dir })
  release()
  await loop
  t.same(seen, [
    { content: 'boom', deliveries: 2 }, // nacked by the failing loop, so delivered a second time
    { content: 'b', deliveries: 1 },
    { content: 'b', deliveries: 2 }, // its lease died with the daemon: delivered again after the restart
  ])
})

t.test('memory mode loses queued messages on restart; fsync mode keeps them', async (t) => {
  for (const [level, kept] of [['memory', []], ['fsync', ['x']]] as const) {
    const dir = tempDir(t)
    const first = await startDaemon(t, { dir, args: ['--durability', level] })
    const c = await connect({ socket: first.socket, spawn: false, reconnect: false })
    await c.send('q', 'x')
    t.equal((await c.status()).durability, level)
    await kill9(first)
    await c.close()
    await startDaemon(t, { dir, args: ['--durability', level] })
    t.same((await drain(join(dir, 'bus.sock'), 'q')).map((m) => m.content), kept, level)
  }
})

t.test('status shows the store: a message handed to a waiting receiver is written nowhere, one that waits goes to the journal, a restart checkpoints', async (t) => {
  const dir = tempDir(t)
  const first = await startDaemon(t, { dir })
  const c = await connect({ socket: first.socket, spawn: false, reconnect: false })
  const store = async () => (await c.status()).store!
  t.match(await store(), { path: join(dir, 'state', 'thriftbus.db'), journalMessages: 0, journalWrites: 0, databaseWrites: 0, checkpoints: 0 })

  const waiting = c.receive('now')
  while ((await c.mailboxStats('now')).waiters === 0) await new Promise((r) => setTimeout(r, 5))
  await c.send('now', 'a')
  t.equal((await waiting).content, 'a')
  t.equal((await store()).journalWrites, 0, 'a message taken by a waiting receiver is not written')

  await Promise.all(['1', '2', '3'].map((x) => c.send('later', x)))
  const queued = await store()
  t.match(queued, { journalMessages: 3, journalWrites: 3, databaseWrites: 0 }, 'queued messages are in the journal')
  t.ok(queued.journalBytes > 16, `the journal holds them (${queued.journalBytes} bytes)`)
  const cli = await runCli(['status', '--socket', first.socket])
  t.match(cli.stdout, /^store +\S+thriftbus\.db: 3 queued in the journal \(\d+ bytes\); since start 3 written to the journal, 0 to SQLite, 0 checkpoints$/m)
  t.same((await c.receiveMany('later', 10)).map((m) => m.content), ['1', '2', '3'])
  t.match(await store(), { journalMessages: 0, journalWrites: 3 }, 'received: no longer counted in the journal')

  await c.send('kept', 'k')
  await kill9(first)
  await c.close()
  const second = await startDaemon(t, { dir })
  const after = await connect({ socket: second.socket, spawn: false, reconnect: false })
  t.teardown(() => after.close())
  t.match((await after.status()).store, { journalMessages: 0, journalWrites: 0, checkpoints: 1 }, 'the restart applied the journal to SQLite')
  t.same((await drain(second.socket, 'kept')).map((m) => m.content), ['k'])

  const memory = await startDaemon(t, { args: ['--durability', 'memory'] })
  const m = await connect({ socket: memory.socket, spawn: false, reconnect: false })
  t.teardown(() => m.close())
  t.equal((await m.status()).store, undefined, 'memory mode has no store')
  t.notMatch((await runCli(['status', '--socket', memory.socket])).stdout, /^store/m)
})

t.test('a corrupt store stops the daemon at start with the path, and the file is left as it was', async (t) => {
  const dir = tempDir(t)
  const first = await startDaemon(t, { dir })
  const c = await connect({ socket: first.socket, spawn: false, reconnect: false })
  for (let i = 0; i < 3000; i++) void c.send('q', 'x'.repeat(100))
  await c.send('q', 'last')
  await c.shutdownDaemon()
  await c.close()
  await first.exited
  const path = join(dir, 'state', 'thriftbus.db')
  const bytes = readFileSync(path)
  bytes.fill(0x5a, 4096 * 6, 4096 * 7)
  writeFileSync(path, bytes)
  const r = await runCli(['daemon', '--socket', join(dir, 'bus.sock'), '--state-dir', join(dir, 'state')])
  t.equal(r.code, 1)
  t.match(r.stderr, path)
  t.match(r.stderr, /does not delete or reset/)
  t.same(readFileSync(path), bytes, 'untouched')
})
