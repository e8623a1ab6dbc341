// The SDK's gathering of receive pools' calls into receiveAny (sdk/receive-any.ts), against a transport that
// records the daemon calls it is asked to make and answers them when the test says. The end-to-end behaviour,
// with a real daemon, is in test/integration/receive-any.test.ts.
import t from 'tap'
import { ReceiveGatherer, type AnyTransport, type Reject, type Resolve } from '../../sdk/receive-any.js'
import type { CancelHandle } from '../../sdk/client.js'
import type { Message } from '../../src/gen/thriftbus.js'

interface Sent {
  method: 'one' | 'any'
  wants: Record<string, number>
  handle: CancelHandle
  cancelled: boolean
  answer(messages: Message[]): void
  fail(err: Error): void
}

function transport(maxAnyMailboxes = 1000) {
  const sent: Sent[] = []
  const putBack: Message[] = []
  const record = (method: 'one' | 'any', wants: Record<string, number>, handle: CancelHandle, resolve: Resolve, reject: Reject) => {
    const s: Sent = { method, wants, handle, cancelled: false, answer: resolve, fail: reject }
    // As the client does once the call is written: cancelling rejects it.
    handle.cancel = () => {
      s.cancelled = true
      reject(new Error('cancelled'))
    }
    sent.push(s)
  }
  const tr: AnyTransport & { limit: number } = {
    limit: maxAnyMailboxes,
    one: (recipient, max, handle, resolve, reject) => record('one', { [recipient]: max }, handle, resolve, reject),
    any: (wants, handle, resolve, reject) => record('any', { ...wants }, handle, resolve, reject),
    putBack: (messages) => putBack.push(...messages),
    maxAnyMailboxes: () => tr.limit,
  }
  return { tr, sent, putBack }
}

const msg = (recipient: string, content: string): Message => ({
  sender: '', recipient, content, id: 1, sentAtMs: 0, body: undefined, headers: undefined, ttlMs: undefined, deliveryCount: undefined, topic: undefined,
})
const handle = (): CancelHandle => ({ cancelled: false, cancel: undefined })
/** The gatherer's take() as a promise of its messages. */
const take = (g: ReceiveGatherer, box: string, max: number, h: CancelHandle, gather: boolean) =>
  new Promise<Message[]>((resolve, reject) => g.take(box, max, h, gather, resolve, reject))
const nextTick = () => new Promise((r) => process.nextTick(r))
const names = (ms: Message[]) => ms.map((m) => m.content)

t.test('a call that is not to be gathered goes out at once, alone', async (t) => {
  const { tr, sent } = transport()
  const g = new ReceiveGatherer(tr)
  void take(g, 'a', 3, handle(), false)
  t.same(sent.map((s) => [s.method, s.wants]), [['one', { a: 3 }]])
})

t.test('with a daemon that does not know receiveAny, gathered calls go out at once, alone', async (t) => {
  const { tr, sent } = transport(0)
  const g = new ReceiveGatherer(tr)
  void take(g, 'a', 1, handle(), true)
  void take(g, 'b', 1, handle(), true)
  t.same(sent.map((s) => s.method), ['one', 'one'])
})

t.test('the calls of one tick for several mailboxes are one receiveAny; its reply is shared out in order', async (t) => {
  const { tr, sent, putBack } = transport()
  const g = new ReceiveGatherer(tr)
  const a1 = take(g, 'a', 2, handle(), true)
  const b = take(g, 'b', 1, handle(), true)
  const a2 = take(g, 'a', 1, handle(), true)
  const c = take(g, 'c', 2, handle(), true)
  t.equal(sent.length, 0, 'nothing goes out before the tick ends')
  await nextTick()
  t.same(sent.map((s) => [s.method, s.wants]), [['any', { a: 3, b: 1, c: 2 }]])
  sent[0]!.answer([msg('b', 'b0'), msg('a', 'a0'), msg('a', 'a1'), msg('a', 'a2'), msg('x', 'stray')])
  t.same(names(await a1), ['a0', 'a1'], 'the oldest call for a mailbox gets its max first')
  t.same(names(await a2), ['a2'])
  t.same(names(await b), ['b0'])
  t.same(names(await c), [], 'a mailbox that got nothing: an empty batch, and its pool asks again')
  t.same(names(putBack), ['stray'], 'a message no call asked for goes back')
})

t.test('a gathering of one mailbox goes out as receiveMessages, and the limit splits a long gathering', async (t) => {
  const { tr, sent } = transport(2)
  const g = new ReceiveGatherer(tr)
  for (const box of ['a', 'b', 'c']) void take(g, box, 1, handle(), true)
  await nextTick()
  t.same(sent.map((s) => [s.method, s.wants]), [['any', { a: 1, b: 1 }], ['one', { c: 1 }]])
})

t.test('a cancelled call is settled at once; the receiveAny is cancelled once no call wants it', async (t) => {
  const { tr, sent, putBack } = transport()
  const g = new ReceiveGatherer(tr)
  const ha = handle()
  const hb = handle()
  const a = take(g, 'a', 1, ha, true)
  const b = take(g, 'b', 1, hb, true)
  await nextTick()
  ha.cancel!()
  await t.rejects(a, { code: 'CANCELLED' })
  t.equal(sent[0]!.cancelled, false, 'b still wants it')
  sent[0]!.answer([msg('a', 'a0'), msg('b', 'b0')])
  t.same(names(await b), ['b0'])
  t.same(names(putBack), ['a0'], 'what it brought for the cancelled call goes back')

  const hc = handle()
  const hd = handle()
  const c = take(g, 'c', 1, hc, true)
  const d = take(g, 'd', 1, hd, true)
  await nextTick()
  hc.cancel!()
  hd.cancel!()
  await t.rejects(c, { code: 'CANCELLED' })
  await t.rejects(d, { code: 'CANCELLED' })
  t.equal(sent[1]!.cancelled, true, 'nobody wants it: cancelled on the daemon')
})

t.test('a call cancelled before its tick ends is not sent', async (t) => {
  const { tr, sent } = transport()
  const g = new ReceiveGatherer(tr)
  const h = handle()
  const a = take(g, 'a', 1, h, true)
  void take(g, 'b', 1, handle(), true)
  void take(g, 'c', 1, handle(), true)
  h.cancel!()
  await t.rejects(a, { code: 'CANCELLED' })
  await nextTick()
  t.same(sent.map((s) => s.wants), [{ b: 1, c: 1 }])
})

t.test('a failed receiveAny fails every call it carried', async (t) => {
  const { tr, sent } = transport()
  const g = new ReceiveGatherer(tr)
  const a = take(g, 'a', 1, handle(), true)
  const b = take(g, 'b', 1, handle(), true)
  await nextTick()
  sent[0]!.fail(Object.assign(new Error('the connection was lost'), { code: 'CLOSED' }))
  await t.rejects(a, { code: 'CLOSED' })
  await t.rejects(b, { code: 'CLOSED' })
})

t.test('mailboxes named like Object.prototype members, "__proto__" included, are gathered by their own names', async (t) => {
  const { tr, sent } = transport()
  const g = new ReceiveGatherer(tr)
  const ts = take(g, 'toString', 1, handle(), true)
  void take(g, 'constructor', 2, handle(), true)
  const proto = take(g, '__proto__', 1, handle(), true)
  await nextTick()
  t.same(sent.map((s) => [s.method, Object.keys(s.wants), Object.values(s.wants)]), [['any', ['toString', 'constructor', '__proto__'], [1, 2, 1]]])
  sent[0]!.answer([msg('toString', 't0'), msg('__proto__', 'p0')])
  t.same(names(await ts), ['t0'])
  t.same(names(await proto), ['p0'])
})

t.test('pools deferred while a reply is handed out, and by the promise callbacks after it, ask together in one tick', async (t) => {
  const { tr, sent } = transport()
  const g = new ReceiveGatherer(tr)
  const order: string[] = []
  await new Promise<void>((resolve) => {
    // A macrotask, as the connection's data callback is: Node runs the ticks queued in it before its microtasks.
    setImmediate(() => {
      // The reply's pool defers as it hands the reply out...
      g.defer(() => {
        order.push('pool a')
        void take(g, 'a', 1, handle(), true)
      })
      // ...and the receive loops resumed by it (promise callbacks) ask again, then send, which queues the flush.
      void Promise.resolve().then(() => {
        g.defer(() => {
          order.push('pool b')
          void take(g, 'b', 2, handle(), true)
        })
        process.nextTick(() => {
          order.push(`the flush finds ${sent.length} call(s) written`)
          resolve()
        })
      })
    })
  })
  t.same(order, ['pool a', 'pool b', 'the flush finds 1 call(s) written'])
  t.same(sent.map((s) => [s.method, { ...s.wants }]), [['any', { a: 1, b: 2 }]])
})
