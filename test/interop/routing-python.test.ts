import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { serviceClient, serviceErrorCode } from '../../sdk/index.js'
import { startDaemon, tempDir } from '../helpers/daemon.js'
import { FIXTURES, FULL_IDL, PYTHON, generate, missing, python, result } from './interop-helpers.js'
import { EXAMPLE_IDL, USER_IDL, USER_PROVIDER, generateJs, requireFrom, startProvider } from './service-helpers.js'

const PY_PROVIDER = `${FIXTURES}py_example_provider.py`
const needs = { skip: missing('thrift-compiler', 'python3-thrift') }

for (const protocol of ['binary', 'compact']) {
  t.test(`a stock Python client (${protocol}) calls a Node-hosted UserService through the daemon`, { ...needs, timeout: 60_000 }, async (t) => {
    const pyGen = await generate(t, 'py', USER_IDL, tempDir(t))
    const jsGen = await generateJs(t, USER_IDL, tempDir(t))
    const d = await startDaemon(t)
    await startProvider(t, USER_PROVIDER, [jsGen, d.socket, 'node-1'])

    const out = result(await python(t, 'py_user_client.py', [pyGen, d.socket, protocol, 'calls']))

    t.same(out.found, { id: 1, name: 'user 1', servedBy: 'node-1' }, 'getUser returns the User the Node handler made')
    t.same(out.notFound, { id: 404, message: 'no user 404' }, 'the declared NotFound reaches the Python caller as NotFound')
    t.same(out.created, { id: 100, name: 'ada', servedBy: 'node-1' }, 'createUser returns the new User')
  })
}

t.test('a stock Python client gets TApplicationException NO_RESPONDERS when nobody provides the service', { ...needs, timeout: 60_000 }, async (t) => {
  const pyGen = await generate(t, 'py', USER_IDL, tempDir(t))
  const d = await startDaemon(t)

  const out = result(await python(t, 'py_user_client.py', [pyGen, d.socket, 'binary', 'none']))

  t.equal(out.none.type, 0, 'a TApplicationException of type UNKNOWN')
  t.match(out.none.message, /^NO_RESPONDERS: /, 'whose message starts with the code')
})

/** Python code of the daemon's IDL and of ExampleService, in one folder, and js code of ExampleService. */
async function exampleCode(t: { teardown(fn: () => unknown): void }): Promise<{ pyGen: string; ExampleService: any }> {
  const pyGen = tempDir(t)
  await generate(t, 'py', FULL_IDL, pyGen)
  await generate(t, 'py', EXAMPLE_IDL, pyGen)
  const jsGen = await generateJs(t, EXAMPLE_IDL, tempDir(t))
  return { pyGen, ExampleService: requireFrom(jsGen)('./ExampleService.js') }
}

for (const framing of ['buffered', 'framed']) {
  t.test(`a Node client calls a stock Python provider of ExampleService.processRequest (${framing})`, { ...needs, timeout: 60_000 }, async (t) => {
    const { pyGen, ExampleService } = await exampleCode(t)
    const d = await startDaemon(t)
    const provider = await startProvider(t, PY_PROVIDER, [pyGen, d.socket, framing])
    const pid = provider.events[0].pid

    const conn = await serviceClient(ExampleService, 'ExampleService', { socket: d.socket, spawn: false })
    t.teardown(() => conn.close())

    t.equal(await conn.client.processRequest('hello'), `python ${pid} got: hello`, 'the Python handler answers')
    const many = await Promise.all(['a', 'b', 'c'].map((x) => conn.client.processRequest(x)))
    t.same(many, ['a', 'b', 'c'].map((x) => `python ${pid} got: ${x}`), 'pipelined calls each get their own answer')
    const unicode = 'héllo wörld ✓'
    t.equal(await conn.client.processRequest(unicode), `python ${pid} got: ${unicode}`, 'text survives the trip')
  })
}

t.test('a stock Python provider killed mid-call gives the Node caller PROVIDER_FAILED', { ...needs, timeout: 60_000 }, async (t) => {
  const { pyGen, ExampleService } = await exampleCode(t)
  const d = await startDaemon(t)
  const provider = await startProvider(t, PY_PROVIDER, [pyGen, d.socket, 'framed'])
  const conn = await serviceClient(ExampleService, 'ExampleService', { socket: d.socket, spawn: false })
  t.teardown(() => conn.close())

  const call = conn.client.processRequest('hang').then(
    (v: unknown) => ({ returned: v }),
    (err: unknown) => err,
  )
  await provider.waitFor((e) => e.hanging === true, 'the call')
  await provider.kill('SIGKILL')

  const err = await call
  t.match(err, { message: /^PROVIDER_FAILED: / }, 'the call rejects with PROVIDER_FAILED (the test timeout guards a hang)')
  t.equal(serviceErrorCode(err), 'PROVIDER_FAILED', 'serviceErrorCode() reads the code')
  const again = await conn.client.processRequest('x').catch((e: unknown) => e)
  t.equal(serviceErrorCode(again), 'NO_RESPONDERS', 'with its only provider gone, the next call gets NO_RESPONDERS')
  t.ok(conn.connected, "the caller's connection is unaffected")
})

t.test('a stock Python provider started on demand (activation) answers the call that started it', { ...needs, timeout: 60_000 }, async (t) => {
  const { pyGen, ExampleService } = await exampleCode(t)
  const dir = tempDir(t)
  const config = join(dir, 'services.json')
  writeFileSync(config, JSON.stringify({
    services: { ExampleService: { command: [PYTHON, '-I', '-B', PY_PROVIDER, pyGen, '-', 'buffered'], startTimeoutMs: 20_000 } },
  }))
  const d = await startDaemon(t, { dir, args: ['--config', config] })
  const conn = await serviceClient(ExampleService, 'ExampleService', { socket: d.socket, spawn: false })
  t.teardown(() => conn.close())

  // The call is held while the helper starts; the helper reads the reply to its registerService first, then the call.
  t.match(await conn.client.processRequest('first'), /^python \d+ got: first$/, 'the held call is answered by the helper')
  t.match(await conn.client.processRequest('second'), /^python \d+ got: second$/, 'and so is the next one')
})
