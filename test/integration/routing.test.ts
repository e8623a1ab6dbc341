import { createRequire } from 'node:module'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { client, connect, serve, serviceClient, serviceErrorCode } from '../../sdk/index.js'
import { startDaemon, tempDir } from '../helpers/daemon.js'
import { missing } from '../interop/interop-helpers.js'
import { USER_IDL, USER_PROVIDER, generateJs, requireFrom, startProvider } from '../interop/service-helpers.js'

// The user's code comes from the stock compiler (thrift --gen js:node,es6), generated at run time.
const needs = { skip: missing('thrift-compiler'), timeout: 60_000 }
const thrift = createRequire(import.meta.url)('thrift')

async function userCode(t: { teardown(fn: () => unknown): void }): Promise<{ gen: string; UserService: any; types: any }> {
  const gen = await generateJs(t, USER_IDL, tempDir(t))
  const req = requireFrom(gen)
  return { gen, UserService: req('./UserService.js'), types: req('./user-service_types.js') }
}

t.test('two Node providers of one name both get calls', needs, async (t) => {
  const { gen, UserService } = await userCode(t)
  const d = await startDaemon(t)
  await startProvider(t, USER_PROVIDER, [gen, d.socket, 'p1'])
  await startProvider(t, USER_PROVIDER, [gen, d.socket, 'p2'])
  const conn = await serviceClient(UserService, 'UserService', { socket: d.socket, spawn: false })
  t.teardown(() => conn.close())

  const served = new Map<string, number>()
  for (let i = 0; i < 10; i++) {
    const u = await conn.client.createUser(`u${i}`)
    t.equal(u.name, `u${i}`, `call ${i} answered`)
    served.set(u.servedBy, (served.get(u.servedBy) ?? 0) + 1)
  }
  t.same([...served.keys()].sort(), ['p1', 'p2'], 'both providers served calls')

  const parallel = await Promise.all(Array.from({ length: 20 }, (_, i) => conn.client.getUser(1050 + i)))
  t.same(parallel.map((u: any) => u.id), Array.from({ length: 20 }, (_, i) => 1050 + i), 'concurrent calls each get their own reply')
  t.same(new Set(parallel.map((u: any) => u.servedBy)), new Set(['p1', 'p2']), 'concurrent calls are shared too')

  const bus = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => bus.close())
  const info = (await bus.status()).services.find((s) => s.name === 'UserService')
  t.match(info, { providers: 2, calls: 30, inFlight: 0, failures: 0 }, 'status() counts the providers and the calls')
})

t.test('a provider killed with a call in flight fails that call with PROVIDER_FAILED', needs, async (t) => {
  const { gen, UserService } = await userCode(t)
  const d = await startDaemon(t)
  const provider = await startProvider(t, USER_PROVIDER, [gen, d.socket, 'doomed'])
  const conn = await serviceClient(UserService, 'UserService', { socket: d.socket, spawn: false })
  t.teardown(() => conn.close())

  const call = conn.client.getUser(999).then((v: unknown) => ({ returned: v }), (err: unknown) => err)
  await provider.waitFor((e) => e.call === 'getUser' && e.id === 999, 'the call')
  await provider.kill('SIGKILL')

  const err = await call
  t.match(err, { message: /^PROVIDER_FAILED: / }, 'the call rejects with PROVIDER_FAILED rather than hanging')
  t.equal(serviceErrorCode(err), 'PROVIDER_FAILED', 'serviceErrorCode() reads the code')
})

t.test('a call to a service nobody provides fails at once with NO_RESPONDERS', needs, async (t) => {
  const { UserService } = await userCode(t)
  const d = await startDaemon(t)
  const conn = await serviceClient(UserService, 'UserService', { socket: d.socket, spawn: false })
  t.teardown(() => conn.close())

  const err = await conn.client.getUser(1).catch((e: unknown) => e)
  t.ok(err instanceof thrift.Thrift.TApplicationException, 'a TApplicationException')
  t.match(err.message, /^NO_RESPONDERS: .*"UserService"/, 'its message starts with the code and names the service')
  t.equal(serviceErrorCode(err), 'NO_RESPONDERS', 'serviceErrorCode() reads the code')
})

t.test('a caller that disconnects with a call in flight does not break the provider', needs, async (t) => {
  const { gen, UserService } = await userCode(t)
  const d = await startDaemon(t)
  const provider = await startProvider(t, USER_PROVIDER, [gen, d.socket, 'steady'])

  // A stock client that makes a slow call and drops its connection before the reply.
  const rude = thrift.createUDSConnection(d.socket, { transport: thrift.TFramedTransport, protocol: thrift.TBinaryProtocol })
  rude.on('error', () => {})
  await new Promise((resolve) => rude.once('connect', resolve))
  const abandoned = new thrift.Multiplexer().createClient('UserService', UserService, rude).getUser(1300)
  abandoned.catch(() => {})
  await provider.waitFor((e) => e.call === 'getUser' && e.id === 1300, 'the abandoned call')
  rude.destroy()

  const conn = await serviceClient(UserService, 'UserService', { socket: d.socket, spawn: false })
  t.teardown(() => conn.close())
  await sleep(400) // the provider answers the abandoned call meanwhile; the daemon drops that reply
  t.match(await conn.client.getUser(7), { id: 7, servedBy: 'steady' }, 'the provider serves the next caller')
  t.match(await conn.client.getUser(1010), { id: 1010, servedBy: 'steady' }, 'and the one after')
  t.equal(provider.process.exitCode, null, 'the provider still runs')
  t.same(provider.events.filter((e) => e.error), [], 'the provider reported no error')
  t.notMatch(d.stderr(), /error/i, 'the daemon logged no error')
})

t.test('serve() in this process: calls are served, close() stops the routing, later calls get CLOSED', needs, async (t) => {
  const { UserService, types } = await userCode(t)
  const d = await startDaemon(t)
  const errors: Error[] = []
  let calls = 0
  const served = await serve('UserService', new UserService.Processor({
    async getUser(id: number) {
      calls++
      if (id < 0) throw new types.NotFound({ id, message: 'negative' })
      if (id === 13) throw new Error('unlucky')
      if (id > 1000) await sleep(id - 1000)
      return new types.User({ id, name: `in-process ${id}` })
    },
    createUser(name: string) {
      throw new Error(`cannot create ${name}`) // thrown, not rejected: the caller must still get an answer
    },
  }), { socket: d.socket, spawn: false, onError: (err) => errors.push(err) })
  t.teardown(() => served.close())
  t.equal(served.registered, true, 'registered once serve() resolves')

  const conn = await serviceClient(UserService, 'UserService', { socket: d.socket, spawn: false })
  t.teardown(() => conn.close())
  t.match(await conn.client.getUser(5), { id: 5, name: 'in-process 5' }, 'a call is served')
  const notFound = await conn.client.getUser(-1).catch((e: unknown) => e)
  t.ok(notFound instanceof types.NotFound, 'a declared exception arrives as itself')
  t.equal(serviceErrorCode(notFound), undefined, 'and carries no thriftbus code')
  t.match(await conn.client.getUser(13).catch((e: unknown) => e), { message: 'unlucky' }, 'a handler that rejects: TApplicationException with its message')
  t.match(await conn.client.createUser('bob').catch((e: unknown) => e), { message: 'cannot create bob' }, 'a handler that throws: the same')
  t.equal(calls, 3, 'the handler saw each call once')
  t.same(errors.map((e) => e.message), ['UserService.createUser failed: cannot create bob'], 'onError heard of the handler that threw')

  const slow = conn.client.getUser(1300)
  for (let i = 0; i < 200 && served.inFlight === 0; i++) await sleep(5)
  t.equal(served.inFlight, 1, 'the slow call is in flight')
  await served.close()
  t.match(await slow, { id: 1300 }, 'close() let the call in flight finish')
  t.equal(served.registered, false, 'not registered once closed')
  t.equal(serviceErrorCode(await conn.client.getUser(1).catch((e: unknown) => e)), 'NO_RESPONDERS', 'after close() the daemon has nobody to route to')

  await conn.close()
  const closed = await conn.client.getUser(1).catch((e: unknown) => e)
  t.match(closed, { name: 'BusError', code: 'CLOSED' }, 'a call after close() rejects with CLOSED')
  t.equal(conn.connected, false)
})

t.test('serve() refuses a reserved or malformed name, and reports NO_DAEMON without a daemon', needs, async (t) => {
  const d = await startDaemon(t)
  const processor = { process() {} }
  await t.rejects(serve('MessageService', processor, { socket: d.socket, spawn: false }), { code: 'INVALID_ARGUMENT' }, 'a name the daemon serves itself')
  await t.rejects(serve('a:b', processor, { socket: d.socket, spawn: false }), { code: 'INVALID_ARGUMENT' }, "a name with ':'")
  await t.rejects(serve('X', processor, { socket: `${tempDir(t)}/none.sock`, spawn: false }), { code: 'NO_DAEMON' }, 'no daemon')
  await t.rejects(serviceClient(class {}, 'X', { socket: `${tempDir(t)}/none.sock`, spawn: false }), { code: 'NO_DAEMON' }, 'serviceClient: no daemon')
})

t.test('serve() and serviceClient() that must start a daemon that cannot start fail with its log', async (t) => {
  const { chmodSync, mkdirSync } = await import('node:fs')
  const dir = tempDir(t)
  const shared = `${dir}/shared`
  mkdirSync(shared)
  chmodSync(shared, 0o777) // the daemon refuses a socket folder other users can write to, and exits 1
  const refused = { code: 'NO_DAEMON', message: /started a daemon for .*exited with code 1.*daemon\.log ends with:\n.*can be written by other users/s }
  const options = { socket: `${shared}/bus.sock`, stateDir: `${dir}/state` }
  await t.rejects(serve('X', { process() {} }, options), refused, 'serve()')
  await t.rejects(serviceClient(class {}, 'X', options), refused, 'serviceClient()')
})

t.test('a served service loses its daemon, registers with the new one, and a call in flight fails instead of hanging', needs, async (t) => {
  const { UserService, types } = await userCode(t)
  const dir = tempDir(t)
  const d1 = await startDaemon(t, { dir })
  const served = await serve('UserService', new UserService.Processor({
    async getUser(id: number) {
      if (id === 999) return new Promise(() => {})
      return new types.User({ id, name: 'back' })
    },
    async createUser(name: string) {
      return new types.User({ id: 1, name })
    },
  }), { socket: d1.socket, spawn: false })
  t.teardown(() => served.close())
  const conn1 = await serviceClient(UserService, 'UserService', { socket: d1.socket, spawn: false })
  t.teardown(() => conn1.close())
  const pending = conn1.client.getUser(999).catch((e: unknown) => e)
  await sleep(100)

  await d1.stop()
  const lost = await pending
  t.ok(['CLOSED', 'SHUTTING_DOWN', 'PROVIDER_FAILED'].includes(serviceErrorCode(lost)!), `the call in flight fails rather than hangs (${serviceErrorCode(lost)})`)
  t.equal(conn1.connected, false, 'the client knows its connection is gone')

  await startDaemon(t, { dir })
  for (let i = 0; i < 200 && !served.registered; i++) await sleep(25)
  t.equal(served.registered, true, 'the service registered with the new daemon')
  const conn2 = await serviceClient(UserService, 'UserService', { socket: d1.socket, spawn: false })
  t.teardown(() => conn2.close())
  t.match(await conn2.client.getUser(3), { id: 3, name: 'back' }, 'and serves calls again')
})

t.test('a call its provider does not answer within the daemon deadline fails with TIMEOUT, and the provider goes on', needs, async (t) => {
  const { UserService, types } = await userCode(t)
  const d = await startDaemon(t, { args: ['--call-timeout', '300ms'] })
  const served = await serve('UserService', new UserService.Processor({
    async getUser(id: number) {
      if (id === 999) return new Promise(() => {})
      return new types.User({ id, name: 'prompt' })
    },
    async createUser(name: string) {
      return new types.User({ id: 1, name })
    },
  }), { socket: d.socket, spawn: false })
  t.teardown(() => served.close())
  const conn = await serviceClient(UserService, 'UserService', { socket: d.socket, spawn: false })
  t.teardown(() => conn.close())

  const err = await conn.client.getUser(999).catch((e: unknown) => e)
  t.match(err, { message: /^TIMEOUT: no reply to UserService\.getUser within 300 ms/ }, 'the daemon fails the call at its deadline')
  t.equal(serviceErrorCode(err), 'TIMEOUT')
  t.match(await conn.client.getUser(2), { id: 2, name: 'prompt' }, 'the same provider answers the next call')
})

t.test('the SDK exports serviceClient also as client, the name the issue gives it', async (t) => {
  t.equal(client, serviceClient)
})
