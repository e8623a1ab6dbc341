/**
 * The router (src/broker/router.ts) with fake links and a fake clock: routing, seqids, sharing, every way a call
 * can end, activation, limits and counters.
 */
import t from 'tap'
import {
  checkServiceName, MAX_SERVICE_NAME_BYTES, Router, splitServiceName,
  type Activator, type CallerLink, type ProviderLink, type RouterOptions,
} from '../../src/broker/router.js'
import { BusError } from '../../src/errors.js'
import { MESSAGE_CALL, MESSAGE_EXCEPTION, MESSAGE_ONEWAY, MESSAGE_REPLY } from '../../src/gen/thriftbus.js'
import { FakeClock } from '../helpers/fake-clock.js'

interface Sent {
  method: string
  type: number
  seqid: number
  body: string
}

/** A provider connection that records the calls written to it. */
class FakeProvider implements ProviderLink<string> {
  readonly calls: Sent[] = []
  /** When set, relayCall throws it. */
  throws: unknown
  /** When set, called from within relayCall (a provider that answers at once). */
  onCall: ((s: Sent) => void) | undefined
  constructor(readonly label: string) {}

  relayCall(method: string, type: number, seqid: number, body: string): void {
    if (this.throws !== undefined) throw this.throws
    const s = { method, type, seqid, body }
    this.calls.push(s)
    this.onCall?.(s)
  }

  /** The router's seqid of the call whose body is body. */
  seqidOf(body: string): number {
    const s = this.calls.find((c) => c.body === body)
    if (!s) throw new Error(`${this.label} got no call ${body}`)
    return s.seqid
  }
}

type Event =
  | { reply: { method: string; type: number; seqid: number; body: string } }
  | { error: { method: string; seqid: number; code: string; message: string } }

/** A caller connection that records what it is told. */
class FakeCaller implements CallerLink<string> {
  readonly events: Event[] = []
  relayReply(method: string, type: number, seqid: number, body: string): void {
    this.events.push({ reply: { method, type, seqid, body } })
  }
  failCall(method: string, seqid: number, err: BusError): void {
    if (!(err instanceof BusError)) throw new Error(`failCall got ${String(err)}, not a BusError`)
    this.events.push({ error: { method, seqid, code: err.code, message: err.message } })
  }
}

function reply(method: string, seqid: number, body: string, type = MESSAGE_REPLY): Event {
  return { reply: { method, type, seqid, body } }
}

function error(method: string, seqid: number, code: string, message: string): Event {
  return { error: { method, seqid, code, message } }
}

function setup(options: RouterOptions<string> = {}) {
  const clock = new FakeClock()
  const router = new Router<string>({ clock, ...options })
  return { clock, router }
}

const NO_RESPONDERS = 'NO_RESPONDERS: no provider is registered for service "UserService"; start one, or configure a helper for it'

/** An activator that records its calls and answers with whatever the test puts in `answer`. */
class FakeActivator implements Activator {
  readonly asked: string[] = []
  answer: () => boolean | Promise<boolean> = () => true
  timeoutText?: (service: string, waitedMs: number) => string
  activate(service: string): boolean | Promise<boolean> {
    this.asked.push(service)
    return this.answer()
  }
}

/** A promise and the functions that settle it. */
function deferred<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

t.test('splitServiceName splits a multiplexed name at its first colon', async (t) => {
  t.same(splitServiceName('UserService:getUser'), { service: 'UserService', method: 'getUser' })
  t.same(splitServiceName('a:b:c'), { service: 'a', method: 'b:c' })
  t.same(splitServiceName(':x'), { service: '', method: 'x' })
  t.equal(splitServiceName('getUser'), undefined)
})

t.test('a call goes to the provider under its bare name and the router\'s seqid; the reply comes back under the caller\'s', async (t) => {
  const { clock, router } = setup()
  const p = new FakeProvider('connection A')
  const c = new FakeCaller()
  router.register('UserService', p)
  t.equal(router.isProvider(p), true)
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 41, 'args-1')
  router.forward(c, 'UserService', 'deleteUser', MESSAGE_CALL, 42, 'args-2')
  t.same(p.calls, [
    { method: 'getUser', type: MESSAGE_CALL, seqid: 1, body: 'args-1' },
    { method: 'deleteUser', type: MESSAGE_CALL, seqid: 2, body: 'args-2' },
  ])
  t.same(c.events, [], 'nothing goes back before the provider answers')
  t.same(router.serviceInfo('UserService'), { name: 'UserService', providers: 1, calls: 2, inFlight: 2, failures: 0 })
  t.equal(clock.pending, 2, 'one deadline per call')

  t.equal(router.providerReply(p, 2, MESSAGE_EXCEPTION, 'result-2'), true)
  t.equal(router.providerReply(p, 1, MESSAGE_REPLY, 'result-1'), true)
  t.same(c.events, [reply('deleteUser', 42, 'result-2', MESSAGE_EXCEPTION), reply('getUser', 41, 'result-1')])
  t.equal(router.providerReply(p, 1, MESSAGE_REPLY, 'again'), false, 'a second reply to the same call is dropped')
  t.equal(c.events.length, 2)
  t.same(router.serviceInfo('UserService'), { name: 'UserService', providers: 1, calls: 2, inFlight: 0, failures: 0 })
  t.equal(clock.pending, 0, 'the deadlines are cleared')
})

t.test('two callers using the same seqid each get their own reply', async (t) => {
  const { router } = setup()
  const p = new FakeProvider('connection A')
  const a = new FakeCaller()
  const b = new FakeCaller()
  router.register('UserService', p)
  router.forward(a, 'UserService', 'getUser', MESSAGE_CALL, 7, 'from-a')
  router.forward(b, 'UserService', 'getUser', MESSAGE_CALL, 7, 'from-b')
  t.same(p.calls.map((s) => [s.body, s.seqid]), [['from-a', 1], ['from-b', 2]], 'distinct seqids towards the provider')
  router.providerReply(p, 2, MESSAGE_REPLY, 'for-b')
  t.same(a.events, [])
  t.same(b.events, [reply('getUser', 7, 'for-b')])
  router.providerReply(p, 1, MESSAGE_REPLY, 'for-a')
  t.same(a.events, [reply('getUser', 7, 'for-a')])
  t.equal(b.events.length, 1)
})

t.test('a provider cannot answer a call that went to another provider', async (t) => {
  const { router } = setup()
  const p = new FakeProvider('connection A')
  const q = new FakeProvider('connection B')
  const c = new FakeCaller()
  router.register('UserService', p)
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 1, 'x')
  router.register('UserService', q)
  t.equal(router.providerReply(q, 1, MESSAGE_REPLY, 'forged'), false)
  t.equal(router.providerReply(new FakeProvider('stranger'), 1, MESSAGE_REPLY, 'forged'), false)
  t.same(c.events, [])
  t.equal(router.isProvider(new FakeProvider('stranger')), false)
})

t.test('calls go to the provider with the fewest calls in flight, round robin among ties', async (t) => {
  const { router } = setup()
  const providers = ['A', 'B', 'C'].map((l) => new FakeProvider(l))
  for (const p of providers) router.register('UserService', p)
  const c = new FakeCaller()
  const owner = (body: string): string => providers.find((p) => p.calls.some((s) => s.body === body))!.label
  const answer = (body: string): void => {
    const p = providers.find((x) => x.calls.some((s) => s.body === body))!
    t.equal(router.providerReply(p, p.seqidOf(body), MESSAGE_REPLY, `r-${body}`), true)
  }
  for (const body of ['c1', 'c2', 'c3', 'c4']) router.forward(c, 'UserService', 'm', MESSAGE_CALL, 0, body)
  t.same(['c1', 'c2', 'c3', 'c4'].map(owner), ['A', 'B', 'C', 'A'], 'one each, then the tie goes round')
  answer('c2') // B now has none in flight, A two, C one
  router.forward(c, 'UserService', 'm', MESSAGE_CALL, 0, 'c5')
  t.equal(owner('c5'), 'B', 'the least busy provider')
  for (const body of ['c1', 'c3', 'c4', 'c5']) answer(body)
  const idle: string[] = []
  for (let i = 6; i <= 11; i++) {
    router.forward(c, 'UserService', 'm', MESSAGE_CALL, 0, `c${i}`)
    idle.push(owner(`c${i}`))
    answer(`c${i}`)
  }
  t.same(idle, ['C', 'A', 'B', 'C', 'A', 'B'], 'idle providers take turns, from where the turn was')
  t.same(router.serviceInfo('UserService'), { name: 'UserService', providers: 3, calls: 11, inFlight: 0, failures: 0 })
})

t.test('a call to a service with no provider fails at once with NO_RESPONDERS', async (t) => {
  const { clock, router } = setup()
  const c = new FakeCaller()
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 9, 'x')
  t.same(c.events, [error('getUser', 9, 'NO_RESPONDERS', NO_RESPONDERS)])
  t.equal(clock.pending, 0)
  t.equal(router.serviceInfo('UserService'), undefined, 'a name nobody provides leaves no trace')
  t.same(router.list(), [])

  // Once served, the service is remembered with its counters, and the failure is counted.
  const p = new FakeProvider('connection A')
  router.register('UserService', p)
  router.providerGone(p)
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 10, 'y')
  t.same(c.events[1], error('getUser', 10, 'NO_RESPONDERS', NO_RESPONDERS))
  t.same(router.list(), [{ name: 'UserService', providers: 0, calls: 0, inFlight: 0, failures: 1 }])
})

t.test('a provider that goes away fails each of its calls at once with PROVIDER_FAILED; the others carry on', async (t) => {
  const { clock, router } = setup()
  const a = new FakeProvider('connection 7')
  const b = new FakeProvider('connection 8')
  router.register('UserService', a)
  router.register('UserService', b)
  router.register('Other', a)
  router.register('Third', b)
  const x = new FakeCaller()
  const y = new FakeCaller()
  router.forward(x, 'UserService', 'getUser', MESSAGE_CALL, 1, 'x1') // a
  router.forward(y, 'UserService', 'getUser', MESSAGE_CALL, 2, 'y1') // b
  router.forward(y, 'Other', 'ping', MESSAGE_CALL, 3, 'y2') // a
  t.same([a.calls.length, b.calls.length], [2, 1])
  t.same(router.providerGone(a), ['Other'], 'the services it leaves without a provider')
  t.same(x.events, [error('getUser', 1, 'PROVIDER_FAILED',
    'PROVIDER_FAILED: the provider of service "UserService" (connection 7) disconnected before it replied to getUser; the call may or may not have taken effect; retry it if that is safe')])
  t.same(y.events, [error('ping', 3, 'PROVIDER_FAILED',
    'PROVIDER_FAILED: the provider of service "Other" (connection 7) disconnected before it replied to ping; the call may or may not have taken effect; retry it if that is safe')])
  t.equal(clock.pending, 1, 'only the call to b still has a deadline')
  t.equal(router.isProvider(a), false)
  t.equal(router.providerReply(a, 1, MESSAGE_REPLY, 'late'), false, 'a reply from the gone provider is dropped')

  router.forward(x, 'UserService', 'getUser', MESSAGE_CALL, 4, 'x2')
  t.same(b.calls.map((s) => s.body), ['y1', 'x2'], 'new calls go to the provider that is left')
  router.providerReply(b, b.seqidOf('y1'), MESSAGE_REPLY, 'ok')
  t.same(y.events[1], reply('getUser', 2, 'ok'))
  t.same(router.serviceInfo('UserService'), { name: 'UserService', providers: 1, calls: 3, inFlight: 1, failures: 1 })
  t.same(router.serviceInfo('Other'), { name: 'Other', providers: 0, calls: 1, inFlight: 0, failures: 1 })
  t.same(router.providerGone(a), [], 'twice: nothing more happens')
  t.equal(x.events.length, 1)
  t.same(router.providerGone(b), ['UserService', 'Third'])
})

t.test('a call past its deadline fails with TIMEOUT, and a late reply is dropped', async (t) => {
  const { clock, router } = setup()
  const p = new FakeProvider('connection 3')
  const c = new FakeCaller()
  router.register('UserService', p)
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 5, 'x')
  clock.advance(29_999)
  t.same(c.events, [])
  clock.advance(1)
  t.same(c.events, [error('getUser', 5, 'TIMEOUT',
    "TIMEOUT: no reply to UserService.getUser within 30000 ms from its provider (connection 3); the call may still take effect; check that provider, or raise the daemon's call timeout")])
  t.equal(router.providerReply(p, 1, MESSAGE_REPLY, 'late'), false)
  t.equal(c.events.length, 1)
  t.same(router.serviceInfo('UserService'), { name: 'UserService', providers: 1, calls: 1, inFlight: 0, failures: 1 })
  t.equal(clock.pending, 0)
})

t.test('the call deadline is configurable', async (t) => {
  const { clock, router } = setup({ callTimeoutMs: 500 })
  const p = new FakeProvider('connection 3')
  const c = new FakeCaller()
  router.register('UserService', p)
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 5, 'x')
  clock.advance(499)
  t.equal(c.events.length, 0)
  clock.advance(1)
  t.equal((c.events[0] as { error: { code: string } }).error.code, 'TIMEOUT')
})

t.test('a caller that goes away has its calls forgotten; replies to them are dropped', async (t) => {
  const { clock, router } = setup()
  const p = new FakeProvider('connection A')
  const x = new FakeCaller()
  const y = new FakeCaller()
  router.register('UserService', p)
  router.forward(x, 'UserService', 'a', MESSAGE_CALL, 1, 'x1')
  router.forward(x, 'UserService', 'b', MESSAGE_CALL, 2, 'x2')
  router.forward(y, 'UserService', 'c', MESSAGE_CALL, 1, 'y1')
  router.callerGone(x)
  t.equal(clock.pending, 1, 'the deadlines of x\'s calls are cleared')
  t.same(router.serviceInfo('UserService'), { name: 'UserService', providers: 1, calls: 3, inFlight: 1, failures: 0 },
    'forgotten calls are not failures')
  t.equal(router.providerReply(p, p.seqidOf('x1'), MESSAGE_REPLY, 'late'), false)
  t.equal(router.providerReply(p, p.seqidOf('x2'), MESSAGE_REPLY, 'late'), false)
  t.same(x.events, [])
  t.equal(router.providerReply(p, p.seqidOf('y1'), MESSAGE_REPLY, 'ok'), true)
  t.same(y.events, [reply('c', 1, 'ok')])
  clock.advance(60_000)
  t.same(x.events, [], 'and no timeout reaches the gone caller')
  router.callerGone(x) // twice, and for a caller never seen: nothing happens
  router.callerGone(new FakeCaller())
})

t.test('a oneway call is forwarded and forgotten', async (t) => {
  const { clock, router } = setup()
  const p = new FakeProvider('connection A')
  const c = new FakeCaller()
  router.register('Events', p)
  router.forward(c, 'Events', 'notify', MESSAGE_ONEWAY, 5, 'payload')
  t.same(p.calls, [{ method: 'notify', type: MESSAGE_ONEWAY, seqid: 1, body: 'payload' }])
  t.equal(clock.pending, 0, 'no deadline')
  t.same(router.serviceInfo('Events'), { name: 'Events', providers: 1, calls: 1, inFlight: 0, failures: 0 })
  t.equal(router.providerReply(p, 1, MESSAGE_REPLY, 'nonsense'), false, 'nothing waits for an answer')
  router.providerGone(p)
  router.forward(c, 'Events', 'notify', MESSAGE_ONEWAY, 6, 'payload')
  router.forward(c, 'Nobody', 'notify', MESSAGE_ONEWAY, 7, 'payload')
  t.same(c.events, [], 'a oneway call that cannot be delivered is dropped without a word')
  t.same(router.serviceInfo('Events'), { name: 'Events', providers: 0, calls: 1, inFlight: 0, failures: 1 })
})

t.test('a provider that answers from within relayCall is handled', async (t) => {
  const { clock, router } = setup()
  const p = new FakeProvider('connection A')
  p.onCall = (s) => router.providerReply(p, s.seqid, MESSAGE_REPLY, `r-${s.body}`)
  const c = new FakeCaller()
  router.register('UserService', p)
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 3, 'x')
  t.same(c.events, [reply('getUser', 3, 'r-x')])
  t.equal(clock.pending, 0)
  t.same(router.serviceInfo('UserService'), { name: 'UserService', providers: 1, calls: 1, inFlight: 0, failures: 0 })
})

t.test('a call the provider link cannot write fails with the link\'s error, or INTERNAL', async (t) => {
  const { clock, router } = setup()
  const p = new FakeProvider('connection A')
  const c = new FakeCaller()
  router.register('UserService', p)
  p.throws = new BusError('INVALID_ARGUMENT', 'the arguments cannot be written in the provider\'s protocol: bad type 0')
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 1, 'x')
  p.throws = new Error('socket gone')
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 2, 'y')
  t.same(c.events, [
    error('getUser', 1, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT: the arguments cannot be written in the provider\'s protocol: bad type 0'),
    error('getUser', 2, 'INTERNAL', 'INTERNAL: the call could not be forwarded to the provider (connection A): socket gone'),
  ])
  t.equal(clock.pending, 0)
  t.same(router.serviceInfo('UserService'), { name: 'UserService', providers: 1, calls: 0, inFlight: 0, failures: 2 })
})

t.test('activation: calls are held while a helper starts, and flow in order once its provider registers', async (t) => {
  const activator = new FakeActivator()
  const started = deferred<boolean>()
  activator.answer = () => started.promise
  const { clock, router } = setup({ activator })
  const x = new FakeCaller()
  const y = new FakeCaller()
  router.forward(x, 'UserService', 'getUser', MESSAGE_CALL, 1, 'x1')
  router.forward(y, 'UserService', 'getUser', MESSAGE_CALL, 1, 'y1')
  router.forward(x, 'UserService', 'log', MESSAGE_ONEWAY, 2, 'x2')
  t.same(activator.asked, ['UserService'], 'asked once for all the calls')
  t.same([x.events, y.events], [[], []])
  t.same(router.serviceInfo('UserService'), { name: 'UserService', providers: 0, calls: 0, inFlight: 3, failures: 0 })
  clock.advance(5_000)
  const p = new FakeProvider('connection 9')
  router.register('UserService', p)
  t.same(p.calls, [
    { method: 'getUser', type: MESSAGE_CALL, seqid: 1, body: 'x1' },
    { method: 'getUser', type: MESSAGE_CALL, seqid: 2, body: 'y1' },
    { method: 'log', type: MESSAGE_ONEWAY, seqid: 3, body: 'x2' },
  ])
  t.equal(clock.pending, 2, 'the activation timer is gone; the two-way calls keep their deadlines')
  started.resolve(false) // too late to matter
  await tick()
  router.providerReply(p, 2, MESSAGE_REPLY, 'for-y')
  router.providerReply(p, 1, MESSAGE_REPLY, 'for-x')
  t.same(x.events, [reply('getUser', 1, 'for-x')])
  t.same(y.events, [reply('getUser', 1, 'for-y')])
  t.same(router.serviceInfo('UserService'), { name: 'UserService', providers: 1, calls: 3, inFlight: 0, failures: 0 })
  clock.advance(30_000)
  t.equal(x.events.length + y.events.length, 2, 'the deadlines counted from when the calls came, and were cleared')
})

t.test('activation: no provider within the timeout fails the held calls with ACTIVATION_FAILED and the hook\'s text', async (t) => {
  const activator = new FakeActivator()
  activator.timeoutText = (service, waitedMs) => `helper "user-svc" for ${service} did not register within ${waitedMs} ms; its log is /tmp/user-svc.log`
  const { clock, router } = setup({ activator })
  const c = new FakeCaller()
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 1, 'a')
  clock.advance(4_000)
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 2, 'b')
  clock.advance(5_999)
  t.same(c.events, [])
  clock.advance(1)
  const text = 'ACTIVATION_FAILED: helper "user-svc" for UserService did not register within 10000 ms; its log is /tmp/user-svc.log'
  t.same(c.events, [error('getUser', 1, 'ACTIVATION_FAILED', text), error('getUser', 2, 'ACTIVATION_FAILED', text)])
  t.equal(clock.pending, 0)
  t.equal(router.serviceInfo('UserService'), undefined, 'a service never provided is not kept')

  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 3, 'c')
  t.same(activator.asked, ['UserService', 'UserService'], 'the next call tries again')
  delete activator.timeoutText
  clock.advance(10_000)
  t.same(c.events[2], error('getUser', 3, 'ACTIVATION_FAILED',
    'ACTIVATION_FAILED: a helper was started for service "UserService" but no provider registered it within 10000 ms; check the helper\'s log'))
})

t.test('activation: a helper that fails to start fails the held calls at once with the hook\'s message', async (t) => {
  const activator = new FakeActivator()
  const { clock, router } = setup({ activator, activationTimeoutMs: 60_000 })
  const c = new FakeCaller()

  const attempt = deferred<boolean>()
  activator.answer = () => attempt.promise
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 1, 'a')
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 2, 'b')
  attempt.reject(new Error('helper "user-svc" exited with code 1 before registering; see ~/.local/state/thriftbus/user-svc.log'))
  await tick()
  const text = 'ACTIVATION_FAILED: helper "user-svc" exited with code 1 before registering; see ~/.local/state/thriftbus/user-svc.log'
  t.same(c.events, [error('getUser', 1, 'ACTIVATION_FAILED', text), error('getUser', 2, 'ACTIVATION_FAILED', text)])
  t.equal(clock.pending, 0)

  activator.answer = () => {
    throw new Error('no such file: /opt/user-svc/bin/run; fix the helper\'s command in the daemon configuration')
  }
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 3, 'c')
  t.same(c.events[2], error('getUser', 3, 'ACTIVATION_FAILED',
    'ACTIVATION_FAILED: no such file: /opt/user-svc/bin/run; fix the helper\'s command in the daemon configuration'), 'a hook that throws')

  const none = deferred<boolean>()
  activator.answer = () => none.promise
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 4, 'd')
  none.resolve(false)
  await tick()
  t.same(c.events[3], error('getUser', 4, 'NO_RESPONDERS', NO_RESPONDERS), 'a hook that finds no helper after all')

  const busy = deferred<boolean>()
  activator.answer = () => busy.promise
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 4, 'd2')
  busy.reject(new BusError('SHUTTING_DOWN', 'the daemon is shutting down and starts no helpers'))
  await tick()
  t.same(c.events[4], error('getUser', 4, 'SHUTTING_DOWN', 'SHUTTING_DOWN: the daemon is shutting down and starts no helpers'),
    'a BusError from the hook keeps its code')
  c.events.splice(4, 1)

  activator.answer = () => false
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 5, 'e')
  t.same(c.events[4], error('getUser', 5, 'NO_RESPONDERS', NO_RESPONDERS), 'a hook with no helper for the service')

  activator.answer = () => true
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 6, 'f')
  t.equal(router.activationFailed('UserService', 'helper "user-svc" exited with signal SIGSEGV; see its log'), true)
  t.same(c.events[5], error('getUser', 6, 'ACTIVATION_FAILED', 'ACTIVATION_FAILED: helper "user-svc" exited with signal SIGSEGV; see its log'),
    'a helper that fails after the hook returned')
  t.equal(router.activationFailed('UserService', 'again'), false, 'no activation is under way any more')
  t.equal(c.events.length, 6)
  t.equal(clock.pending, 0)
})

t.test('activation: the hold queue is bounded; calls past it fail at once with LIMIT_EXCEEDED', async (t) => {
  const activator = new FakeActivator()
  const { router } = setup({ activator, maxHeldPerService: 2 })
  const c = new FakeCaller()
  for (let i = 1; i <= 4; i++) router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, i, `b${i}`)
  const limit = 'LIMIT_EXCEEDED: 2 calls already wait for service "UserService" to start, the limit; retry once its provider has registered'
  t.same(c.events, [error('getUser', 3, 'LIMIT_EXCEEDED', limit), error('getUser', 4, 'LIMIT_EXCEEDED', limit)])
  const p = new FakeProvider('connection 2')
  router.register('UserService', p)
  t.same(p.calls.map((s) => s.body), ['b1', 'b2'])
  t.same(router.serviceInfo('UserService'), { name: 'UserService', providers: 1, calls: 2, inFlight: 2, failures: 2 })
})

t.test('activation: the bytes held for a service are bounded too', async (t) => {
  const activator = new FakeActivator()
  const { router } = setup({ activator, maxHeldBytesPerService: 10, bodyBytes: (body: string) => body.length })
  const c = new FakeCaller()
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 1, 'six-b.')
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 2, 'five.')
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 3, 'four')
  t.same(c.events, [error('getUser', 2, 'LIMIT_EXCEEDED',
    'LIMIT_EXCEEDED: the calls waiting for service "UserService" to start already hold 6 bytes of arguments, and this one has 5; the limit is 10; retry once its provider has registered')])
  router.callerGone(c) // frees the bytes of both held calls
  const d = new FakeCaller()
  router.forward(d, 'UserService', 'getUser', MESSAGE_CALL, 4, 'ten bytes.')
  const p = new FakeProvider('connection 1')
  router.register('UserService', p)
  t.same(p.calls.map((s) => s.body), ['ten bytes.'])
  router.providerGone(p)
  router.forward(d, 'UserService', 'getUser', MESSAGE_CALL, 5, 'ten bytes.')
  t.equal(d.events.length, 1, 'sending a held call frees its bytes too')
  t.equal((d.events[0] as { error: { code: string } }).error.code, 'PROVIDER_FAILED')
  t.same(router.serviceInfo('UserService'), { name: 'UserService', providers: 0, calls: 1, inFlight: 1, failures: 2 })
})

t.test('activation: a held call keeps its own deadline, and a gone caller\'s held calls are dropped', async (t) => {
  const activator = new FakeActivator()
  const { clock, router } = setup({ activator, callTimeoutMs: 1_000, activationTimeoutMs: 5_000 })
  const x = new FakeCaller()
  const y = new FakeCaller()
  router.forward(x, 'UserService', 'getUser', MESSAGE_CALL, 1, 'x1')
  router.forward(x, 'UserService', 'log', MESSAGE_ONEWAY, 2, 'x-oneway')
  clock.advance(600)
  router.forward(y, 'UserService', 'getUser', MESSAGE_CALL, 1, 'y1')
  router.forward(x, 'UserService', 'getUser', MESSAGE_CALL, 3, 'x3')
  clock.advance(400)
  t.same(x.events, [error('getUser', 1, 'TIMEOUT',
    "TIMEOUT: UserService.getUser waited 1000 ms for a provider of service \"UserService\" to start; check its helper, or raise the daemon's call timeout")])
  router.callerGone(x)
  const p = new FakeProvider('connection 4')
  router.register('UserService', p)
  t.same(p.calls.map((s) => s.body), ['y1'], 'the oneway call timed out too; x3 went with its caller')
  t.same(router.serviceInfo('UserService'), { name: 'UserService', providers: 1, calls: 1, inFlight: 1, failures: 2 })

  // A oneway call held while its caller goes still reaches the provider: "send and exit" is how they are used.
  router.providerGone(p)
  const z = new FakeCaller()
  router.forward(z, 'UserService', 'log', MESSAGE_ONEWAY, 1, 'z-oneway')
  router.callerGone(z)
  const q = new FakeProvider('connection 5')
  router.register('UserService', q)
  t.same(q.calls.map((s) => s.body), ['z-oneway'])
  t.same(z.events, [])
})

t.test('activation is not consulted while a provider is registered, and again once none is', async (t) => {
  const activator = new FakeActivator()
  const { router } = setup({ activator })
  const p = new FakeProvider('connection 1')
  const c = new FakeCaller()
  router.register('UserService', p)
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 1, 'a')
  t.same(activator.asked, [])
  router.providerGone(p)
  t.same(c.events.map((e) => 'error' in e && e.error.code), ['PROVIDER_FAILED'])
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 2, 'b')
  t.same(activator.asked, ['UserService'])
  // An activator that registers an in-process provider before it returns: the call goes straight to it.
  const inProcess = new FakeProvider('in-process')
  activator.answer = () => {
    router.register('Local', inProcess)
    return true
  }
  router.forward(c, 'Local', 'hello', MESSAGE_CALL, 3, 'h')
  t.same(inProcess.calls.map((s) => s.body), ['h'])
})

t.test('a provider at its in-flight limit is passed over; when all are, the call fails with LIMIT_EXCEEDED', async (t) => {
  const { router } = setup({ maxInFlightPerProvider: 2 })
  const a = new FakeProvider('A')
  const b = new FakeProvider('B')
  router.register('UserService', a)
  router.register('UserService', b)
  const c = new FakeCaller()
  for (let i = 1; i <= 5; i++) router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, i, `c${i}`)
  t.same([a.calls.map((s) => s.body), b.calls.map((s) => s.body)], [['c1', 'c3'], ['c2', 'c4']])
  t.same(c.events, [error('getUser', 5, 'LIMIT_EXCEEDED',
    'LIMIT_EXCEEDED: every provider of service "UserService" already has 2 calls in flight, the limit; retry later, or start more providers')])
  router.providerReply(a, a.seqidOf('c1'), MESSAGE_REPLY, 'ok')
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 6, 'c6')
  t.same(a.calls.map((s) => s.body), ['c1', 'c3', 'c6'], 'a slot freed by a reply is used again')
  t.equal(a.calls[2]!.seqid, 3, 'with a fresh seqid')
})

t.test('a caller with its limit of calls waiting gets LIMIT_EXCEEDED', async (t) => {
  const { router } = setup({ maxWaitingPerCaller: 2 })
  const p = new FakeProvider('A')
  router.register('UserService', p)
  const c = new FakeCaller()
  const other = new FakeCaller()
  for (let i = 1; i <= 3; i++) router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, i, `c${i}`)
  router.forward(other, 'UserService', 'getUser', MESSAGE_CALL, 1, 'o1')
  router.forward(c, 'UserService', 'notify', MESSAGE_ONEWAY, 4, 'c-oneway')
  t.same(c.events, [error('getUser', 3, 'LIMIT_EXCEEDED',
    'LIMIT_EXCEEDED: this connection already has 2 calls waiting for replies, the limit; wait for some to finish')])
  t.same(p.calls.map((s) => s.body), ['c1', 'c2', 'o1', 'c-oneway'], 'other callers and oneway calls are not limited by it')
})

t.test('register checks the name, refuses the daemon\'s own services, and is idempotent', async (t) => {
  const { router } = setup({ reservedServices: ['MessageService', 'PubSub'] })
  const p = new FakeProvider('A')
  for (const bad of ['', 'User:Service', 'x'.repeat(MAX_SERVICE_NAME_BYTES + 1), '.hidden', 'with space', 'MessageService', 'PubSub']) {
    t.throws(() => router.register(bad, p), { name: 'BusError', code: 'INVALID_ARGUMENT' }, JSON.stringify(bad.slice(0, 20)))
  }
  t.doesNotThrow(() => checkServiceName('x'.repeat(MAX_SERVICE_NAME_BYTES)))
  t.doesNotThrow(() => checkServiceName('com.example/User_Service-2'))
  t.equal(router.isProvider(p), false, 'a refused registration makes nothing')
  router.register('UserService', p)
  router.register('UserService', p)
  t.same(router.list(), [{ name: 'UserService', providers: 1, calls: 0, inFlight: 0, failures: 0 }])
  const c = new FakeCaller()
  router.forward(c, 'UserService', 'a', MESSAGE_CALL, 1, 'a')
  router.forward(c, 'UserService', 'b', MESSAGE_CALL, 2, 'b')
  t.same(p.calls.map((s) => s.seqid), [1, 2], 'one provider, registered once')
})

t.test('the router keeps at most maxServices services, dropping idle ones to make room', async (t) => {
  const { router } = setup({ maxServices: 2 })
  const p = new FakeProvider('A')
  const q = new FakeProvider('B')
  router.register('One', p)
  router.register('Two', q)
  t.throws(() => router.register('Three', q), { code: 'LIMIT_EXCEEDED', message: 'the daemon already hosts 2 services, the limit; stop some providers first' })
  router.providerGone(p)
  router.register('Three', q)
  t.same(router.list().map((s) => s.name), ['Two', 'Three'], 'One, idle, made room')
})

t.test('an activation that finds no room for its service fails the call with LIMIT_EXCEEDED', async (t) => {
  const activator = new FakeActivator()
  const attempt = deferred<boolean>()
  activator.answer = () => attempt.promise
  const { clock, router } = setup({ activator, maxServices: 1 })
  router.register('One', new FakeProvider('A'))
  const c = new FakeCaller()
  router.forward(c, 'Two', 'hello', MESSAGE_CALL, 1, 'h')
  t.same(activator.asked, ['Two'])
  t.same(c.events, [error('hello', 1, 'LIMIT_EXCEEDED', 'LIMIT_EXCEEDED: the daemon already hosts 1 services, the limit; stop some providers first')])
  attempt.reject(new Error('ignored, and not an unhandled rejection'))
  await tick()
  t.equal(c.events.length, 1)
  t.equal(clock.pending, 0)
})

t.test('shutdown fails held, in-flight and new calls with SHUTTING_DOWN, and drops late replies', async (t) => {
  const activator = new FakeActivator()
  const { clock, router } = setup({ activator })
  const p = new FakeProvider('A')
  const c = new FakeCaller()
  router.register('UserService', p)
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 1, 'in-flight')
  router.forward(c, 'Starting', 'hello', MESSAGE_CALL, 2, 'held')
  router.shutdown()
  router.shutdown()
  const text = 'SHUTTING_DOWN: the thriftbus daemon is shutting down; reconnect to start or reach a new one'
  t.same(c.events, [error('hello', 2, 'SHUTTING_DOWN', text), error('getUser', 1, 'SHUTTING_DOWN', text)])
  router.forward(c, 'UserService', 'getUser', MESSAGE_CALL, 3, 'new')
  t.same(c.events[2], error('getUser', 3, 'SHUTTING_DOWN', text))
  t.throws(() => router.register('Other', p), { code: 'SHUTTING_DOWN' })
  t.equal(router.providerReply(p, 1, MESSAGE_REPLY, 'done'), false, 'the late reply is dropped')
  t.equal(c.events.length, 3)
  t.equal(clock.pending, 0)
  t.same(activator.asked, ['Starting'])
})
