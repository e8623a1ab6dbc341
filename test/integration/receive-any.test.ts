// receiveAny: one call that takes messages from several mailboxes (src/daemon/message-service.ts), and the SDK's
// receive() calls on several mailboxes sharing such calls (sdk/receive-any.ts). Real daemon, real sockets.
import t from 'tap'
import { connect, type Client } from '../../sdk/index.js'
import { MessageService, type Message } from '../../src/gen/thriftbus.js'
import { startDaemon } from '../helpers/daemon.js'

const tick = () => new Promise((r) => setTimeout(r, 5))

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await tick()
}

const receiveAny = (c: Client, wants: Record<string, number>, timeoutMs: number, signal?: AbortSignal): Promise<Message[]> =>
  c.rpc<Message[]>(MessageService.methods.receiveAny, { wants, timeoutMs }, { signal, receive: true })

const message = (recipient: string, content: string): Message => ({
  sender: 'test', recipient, content, id: undefined, sentAtMs: undefined, body: undefined, headers: undefined,
  ttlMs: undefined, deliveryCount: undefined, topic: undefined,
})

/** Sends the messages in one sendMessages call: the daemon accepts them all in one turn. */
const sendTogether = (c: Client, messages: Message[]) => c.rpc(MessageService.methods.sendMessages, { messages }, c.plain({}))

const contents = (ms: Message[]) => ms.map((m) => `${m.recipient}:${m.content}`)

async function setup(t: { teardown(fn: () => unknown): void }, args: string[] = []) {
  const d = await startDaemon(t, { args })
  const c = await connect({ socket: d.socket, spawn: false })
  const other = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  t.teardown(() => other.close())
  return { d, c, other }
}

t.test('what the mailboxes hold comes back at once, oldest first, up to each mailbox\'s want', async (t) => {
  const { c } = await setup(t)
  for (const [box, n] of [['a', 3], ['b', 2]] as const) for (let i = 0; i < n; i++) await c.send(box, `${box}${i}`)
  const got = await receiveAny(c, { a: 2, b: 1, empty: 5 }, -1)
  t.same(contents(got), ['a:a0', 'a:a1', 'b:b0'])
  t.equal((await c.mailboxStats('a')).depth, 1, 'a keeps what was not wanted')
  t.equal((await c.mailboxStats('b')).depth, 1)
  t.equal((await c.mailboxStats('empty')).waiters, 0, 'nothing waits: the call was answered at once')
  t.same(await receiveAny(c, { nothing: 1, here: 1 }, 0), [], 'timeoutMs 0 and nothing there: an empty list at once')
  t.same(await receiveAny(c, { nothing: 1, here: 1 }, 30), [], 'a wait that runs out: an empty list')
  t.equal((await c.mailboxStats('here')).waiters, 0, 'and it is released from every mailbox')
})

t.test('a waiting call takes what arrives in one turn for any of its mailboxes, and lets go of the others', async (t) => {
  const { c, other } = await setup(t)
  const pending = receiveAny(c, { x: 10, y: 10, z: 10 }, -1)
  await until(async () => (await other.mailboxStats('z')).waiters === 1)
  for (const box of ['x', 'y']) t.equal((await other.mailboxStats(box)).waiters, 1, `it waits on ${box} too`)
  await sendTogether(other, [message('y', 'y0'), message('x', 'x0'), message('y', 'y1')])
  t.same(contents(await pending), ['y:y0', 'y:y1', 'x:x0'], 'one reply: each mailbox in order, the first to get a message first')
  for (const box of ['x', 'y', 'z']) t.equal((await other.mailboxStats(box)).waiters, 0, `released from ${box}`)
  await other.send('z', 'later')
  t.equal((await other.mailboxStats('z')).depth, 1, 'a later message stays queued')
})

t.test('a waiting call takes no more than each mailbox\'s want; the rest stays queued in order', async (t) => {
  const { c, other } = await setup(t)
  const pending = receiveAny(c, { p: 1, q: 2 }, -1)
  await until(async () => (await other.mailboxStats('q')).waiters === 1)
  await sendTogether(other, ['p0', 'p1', 'p2'].map((s) => message('p', s)))
  t.same(contents(await pending), ['p:p0'])
  t.same(contents(await other.receiveMany('p', 10, { timeoutMs: 0 })), ['p:p1', 'p:p2'])
})

t.test('a reply holds one message-size of content; what does not fit stays at the head of its mailbox', async (t) => {
  const { c, other } = await setup(t, ['--max-message-bytes', '64K'])
  const big = (tag: string) => tag + 'x'.repeat(20_000)
  await other.send('m1', big('1'))
  await other.send('m2', big('2'))
  const now = await receiveAny(c, { m1: 1, m2: 1 }, 0)
  t.same(now.map((m) => m.content[0]), ['1'], 'at once: the second mailbox\'s message would not fit')
  t.equal((await other.mailboxStats('m2')).depth, 1)
  t.equal((await receiveAny(c, { m2: 1 }, 0))[0]!.content[0], '2')

  const pending = receiveAny(c, { m1: 1, m2: 1 }, -1)
  await until(async () => (await other.mailboxStats('m2')).waiters === 1)
  await sendTogether(other, [message('m1', big('3')), message('m2', big('4'))])
  t.same((await pending).map((m) => m.content[0]), ['3'], 'waiting: the one that does not fit goes back')
  t.same((await other.receiveMany('m2', 10, { timeoutMs: 0 })).map((m) => m.content[0]), ['4'], 'nothing is lost')
})

t.test('a cancelled call, or one whose connection goes, is released everywhere and takes nothing', async (t) => {
  const { d, c, other } = await setup(t)
  const ac = new AbortController()
  const pending = receiveAny(c, { r: 1, s: 1 }, -1, ac.signal)
  await until(async () => (await other.mailboxStats('s')).waiters === 1)
  ac.abort()
  await t.rejects(pending, { code: 'CANCELLED' })
  await until(async () => (await other.mailboxStats('r')).waiters === 0 && (await other.mailboxStats('s')).waiters === 0)

  const gone = await connect({ socket: d.socket, spawn: false })
  void receiveAny(gone, { r: 1, s: 1 }, -1).catch(() => {})
  await until(async () => (await other.mailboxStats('s')).waiters === 1)
  await gone.close()
  await until(async () => (await other.mailboxStats('r')).waiters === 0 && (await other.mailboxStats('s')).waiters === 0)
  await sendTogether(other, [message('r', 'r0'), message('s', 's0')])
  t.equal((await other.mailboxStats('r')).depth + (await other.mailboxStats('s')).depth, 2, 'both messages stay queued')
})

t.test('bad arguments get INVALID_ARGUMENT and the connection keeps working', async (t) => {
  const { c } = await setup(t)
  await t.rejects(receiveAny(c, {}, 0), { code: 'INVALID_ARGUMENT', message: /names 0 mailboxes; name 1 to 1000/ })
  await t.rejects(receiveAny(c, { ok: 1, none: 0 }, 0), { code: 'INVALID_ARGUMENT', message: /at least 1 message from each mailbox, got 0 for "none"/ })
  await t.rejects(receiveAny(c, { ok: 1, 'bad name!': 1 }, 0), { code: 'INVALID_ARGUMENT' })
  const many = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`box${i}`, 1]))
  await t.rejects(receiveAny(c, many, 0), { code: 'INVALID_ARGUMENT', message: /names 1001 mailboxes/ })
  t.equal((await c.mailboxStats('ok')).waiters, 0, 'a refused call parks nothing')
  await c.send('ok', 'still here')
  t.same(contents(await receiveAny(c, { ok: 1, other: 1 }, 0)), ['ok:still here'])
})

t.test('limits() tells how many mailboxes one receiveAny may name', async (t) => {
  const { c } = await setup(t)
  const limits = await c.rpc<{ maxReceiveAnyMailboxes?: number }>(MessageService.methods.limits, {}, c.plain({}))
  t.equal(limits.maxReceiveAnyMailboxes, 1000)
})

t.test('receive() loops on 40 mailboxes get every message once, in each mailbox\'s order', async (t) => {
  const { c, other } = await setup(t)
  const boxes = Array.from({ length: 40 }, (_, i) => `loop${i}`)
  const perBox = 60
  const got = new Map<string, string[]>(boxes.map((b) => [b, []]))
  const issued = new Map<string, number>(boxes.map((b) => [b, 0]))
  const loop = (box: string): Promise<void> => {
    issued.set(box, issued.get(box)! + 1)
    return c.receive(box).then((m) => {
      got.get(box)!.push(m.content)
      if (issued.get(box)! < perBox) return loop(box)
    })
  }
  // Two receive() calls waiting on each mailbox, as a receiver that keeps a few in flight per mailbox does.
  const loops = boxes.flatMap((b) => [loop(b), loop(b)])
  await until(async () => (await other.mailboxStats(boxes.at(-1)!)).waiters > 0)
  for (let i = 0; i < perBox; i++) await Promise.all(boxes.map((b) => other.send(b, `${i}`)))
  await Promise.all(loops)
  for (const b of boxes) t.same(got.get(b), Array.from({ length: perBox }, (_, i) => `${i}`), `${b}: every message once, in order`)
})

t.test('receive() calls on several mailboxes that give up are released on the daemon; nothing is lost', async (t) => {
  const { c, other } = await setup(t)
  const boxes = ['g0', 'g1', 'g2', 'g3']
  const signals = new Map(boxes.map((b) => [b, new AbortController()]))
  // Per mailbox, the first receive() goes out at once on its own; the second ones, made while the first are in
  // flight, go out together as one receiveAny.
  const waiting = boxes.flatMap((b) => [0, 1].map(() => c.receive(b, { signal: signals.get(b)!.signal })))
  const waitersOf = async (b: string) => (await other.mailboxStats(b)).waiters
  await until(async () => (await Promise.all(boxes.map(waitersOf))).every((n) => n === 2))
  // g0 gives up: the receiveAny stays for the others.
  signals.get('g0')!.abort()
  await t.rejects(waiting[0]!, { code: 'CANCELLED' })
  await t.rejects(waiting[1]!, { code: 'CANCELLED' })
  await until(async () => (await waitersOf('g0')) <= 1)
  await sendTogether(other, boxes.map((b) => message(b, `${b}.a`)).concat(boxes.map((b) => message(b, `${b}.b`))))
  const served = await Promise.all(waiting.slice(2))
  t.same(served.map((m) => m.content).sort(), ['g1.a', 'g1.b', 'g2.a', 'g2.b', 'g3.a', 'g3.b'])
  // The receiveAny still wanted g0 on the daemon, so it may have taken g0.a; the SDK then puts it back at the
  // head of g0, in a call of its own that can reach the daemon after `other`'s next call: wait for it.
  await until(async () => (await other.mailboxStats('g0')).depth === 2)
  t.same((await other.receiveMany('g0', 10, { timeoutMs: 0 })).map((m) => m.content), ['g0.a', 'g0.b'], 'g0 keeps both, in order')

  // Everyone gives up: every call is released on the daemon, and what is sent later stays queued.
  const again = boxes.map(() => new AbortController())
  const more = boxes.flatMap((b, i) => [0, 1].map(() => c.receive(b, { signal: again[i]!.signal })))
  await until(async () => (await Promise.all(boxes.map(waitersOf))).every((n) => n >= 1))
  for (const ac of again) ac.abort()
  for (const w of more) await t.rejects(w, { code: 'CANCELLED' })
  await until(async () => (await Promise.all(boxes.map(waitersOf))).every((n) => n === 0))
  await sendTogether(other, boxes.map((b) => message(b, 'kept')))
  for (const b of boxes) t.equal((await other.mailboxStats(b)).depth, 1, `${b} keeps its message`)
})

t.test('a mailbox and a header named "__proto__" come through like any other', async (t) => {
  const { c, other } = await setup(t)
  const headers: Record<string, string> = { a: '1' }
  Object.defineProperty(headers, '__proto__', { value: 'kept', enumerable: true, writable: true, configurable: true })
  await other.send('__proto__', { content: 'odd', headers })
  const got = await receiveAny(c, { ['__proto__']: 1, plain: 1 }, 0)
  t.same(contents(got), ['__proto__:odd'])
  t.same(Object.entries(got[0]!.headers!), [['a', '1'], ['__proto__', 'kept']], 'the header is an own entry, not a prototype')
})
