/**
 * Activation: the service config (src/daemon/service-config.ts) and the HelperManager
 * (src/daemon/helper-manager.ts), which starts helper processes on demand. No sockets: the helpers are small
 * node scripts written into a temp folder, which tell the test they are up by writing a "ready" file; the
 * test plays the daemon and calls registered() itself. Tests that walk through backoff and cool-down use a
 * fake clock, so nothing depends on how fast processes start. Every manager is closed at teardown, which
 * stops its helpers.
 */
import t, { type Test } from 'tap'
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isBusError } from '../../src/errors.js'
import {
  FAILED_COOLDOWN_MS,
  HelperManager,
  MAX_CONSECUTIVE_FAILURES,
  STDERR_TAIL_BYTES,
  STDERR_TAIL_LINES,
  StderrTail,
  type HelperManagerOptions,
} from '../../src/daemon/helper-manager.js'
import { processIsAlive } from '../../src/daemon/listen.js'
import {
  configLocation,
  defaultConfigPath,
  DEFAULT_START_TIMEOUT_MS,
  loadServiceConfig,
  ServiceConfigError,
} from '../../src/daemon/service-config.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { tempDir } from '../helpers/daemon.js'

// ---- helpers -----------------------------------------------------------------------------------------------

/** The fake helpers. Each reads its instructions from its environment (set through the config's env). */
const SCRIPTS: Record<string, string> = {
  // Says it is up (with what it was given) and stays up until stopped.
  'serve.mjs': `
    import { writeFileSync, renameSync } from 'node:fs'
    if (process.env.IGNORE_TERM) process.on('SIGTERM', () => process.stderr.write('ignoring SIGTERM\\n'))
    process.stdout.write('hello from stdout\\n')
    process.stderr.write('booting\\n')
    const ready = JSON.stringify({
      pid: process.pid,
      socket: process.env.THRIFTBUS_SOCKET,
      service: process.env.THRIFTBUS_SERVICE,
      cwd: process.cwd(),
      extra: process.env.EXTRA,
    })
    writeFileSync(process.env.READY_FILE + '.tmp', ready)
    renameSync(process.env.READY_FILE + '.tmp', process.env.READY_FILE)
    setInterval(() => {}, 1 << 30)
  `,
  // Fails at once, as a helper with a broken setup does.
  'fail.mjs': `
    process.stderr.write('starting up\\nfatal: cannot open database /nowhere/db.sqlite\\n')
    process.exit(3)
  `,
  // Crashes on its first run, then behaves like serve.mjs.
  'crash-once.mjs': `
    import { existsSync, writeFileSync } from 'node:fs'
    if (!existsSync(process.env.MARKER)) {
      writeFileSync(process.env.MARKER, '')
      process.stderr.write('first run: crashing on purpose\\n')
      process.exit(1)
    }
    await import('./serve.mjs')
  `,
}

interface Fixture {
  dir: string
  configPath: string
  options: HelperManagerOptions
  readyFile(service: string): string
}

/** A temp folder with the fake helpers, and a services.json made of the given entries. */
function fixture(t: Test, services: Record<string, object>, options: Partial<HelperManagerOptions> = {}): Fixture {
  const dir = tempDir(t)
  for (const [name, body] of Object.entries(SCRIPTS)) writeFileSync(join(dir, name), body)
  const configPath = join(dir, 'services.json')
  writeFileSync(configPath, JSON.stringify({ services }, null, 2))
  return {
    dir,
    configPath,
    options: { socket: join(dir, 'bus.sock'), stateDir: join(dir, 'state'), ...options },
    readyFile: (service) => join(dir, `${encodeURIComponent(service)}.ready`),
  }
}

/** A config entry that runs one of the scripts with node. */
function entry(dir: string, script: string, service: string, extra: { env?: Record<string, string>; [k: string]: unknown } = {}): object {
  return {
    command: [process.execPath, join(dir, script)],
    ...extra,
    // NODE_OPTIONS: not the test runner's loader: helpers start faster without it.
    env: { READY_FILE: join(dir, `${encodeURIComponent(service)}.ready`), NODE_OPTIONS: '', ...extra.env },
  }
}

function start(t: Test, f: Fixture): HelperManager {
  const manager = HelperManager.fromConfig({ ...f.options, config: f.configPath })
  // The manager holds no handle that keeps a process alive (in the daemon, its listener does that); here a
  // timer stands in for the listener, so that the test runs while it awaits helpers.
  const keepAlive = setInterval(() => {}, 60_000)
  t.teardown(async () => {
    await manager.close()
    clearInterval(keepAlive)
  })
  return manager
}

/** Polls probe until it returns something truthy. Generous: two shared cores start processes slowly. */
async function waitFor<T>(what: string, probe: () => T | undefined | false | null, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value) return value
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function readReady(file: string): { pid: number; socket: string; service: string; cwd: string; extra?: string } | undefined {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined
}

function info(manager: HelperManager, service: string) {
  const found = manager.list().find((h) => h.serviceName === service)
  if (!found) throw new Error(`no helper ${service} in list()`)
  return found
}

/** Settles to the error a promise rejects with, or undefined when it resolves. */
function outcome(p: Promise<unknown>): Promise<any> {
  return p.then(
    () => undefined,
    (err: unknown) => err,
  )
}

function configError(t: Test, text: string | object, explicit = true): ServiceConfigError {
  const dir = tempDir(t)
  const path = join(dir, 'services.json')
  writeFileSync(path, typeof text === 'string' ? text : JSON.stringify(text))
  try {
    loadServiceConfig(path, { explicit })
  } catch (err) {
    if (err instanceof ServiceConfigError) return err
    throw err
  }
  throw new Error('the config was accepted')
}

// ---- the config ---------------------------------------------------------------------------------------------

t.test('the default config path follows XDG on Linux, and the platform conventions elsewhere', async (t) => {
  t.equal(defaultConfigPath({ XDG_CONFIG_HOME: '/xdg/config', HOME: '/home/ann' }, 'linux'), '/xdg/config/thriftbus/services.json')
  t.equal(defaultConfigPath({ HOME: '/home/ann' }, 'linux'), '/home/ann/.config/thriftbus/services.json')
  t.equal(defaultConfigPath({ XDG_CONFIG_HOME: 'relative/dir', HOME: '/home/ann' }, 'linux'), '/home/ann/.config/thriftbus/services.json', 'a relative XDG_CONFIG_HOME is ignored, as the XDG spec says')
  t.equal(defaultConfigPath({ HOME: '/Users/ann' }, 'darwin'), '/Users/ann/Library/Application Support/thriftbus/services.json')
  t.equal(defaultConfigPath({ APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' }, 'win32'), 'C:\\Users\\ann\\AppData\\Roaming\\thriftbus\\services.json')
  t.equal(defaultConfigPath({ USERPROFILE: 'C:\\Users\\ann' }, 'win32'), 'C:\\Users\\ann\\AppData\\Roaming\\thriftbus\\services.json')

  t.same(configLocation('/etc/tb.json', { THRIFTBUS_CONFIG: '/env/tb.json' }, 'linux'), { path: '/etc/tb.json', explicit: true }, '--config wins')
  t.same(configLocation(undefined, { THRIFTBUS_CONFIG: '/env/tb.json' }, 'linux'), { path: '/env/tb.json', explicit: true })
  t.same(configLocation(undefined, { THRIFTBUS_CONFIG: '', HOME: '/home/ann' }, 'linux'), { path: '/home/ann/.config/thriftbus/services.json', explicit: false }, 'an empty variable counts as unset')
})

t.test('a missing default config means no helpers; a missing explicit one is an error that names the file', async (t) => {
  const dir = tempDir(t)
  const path = join(dir, 'nope', 'services.json')
  const none = loadServiceConfig(path, { explicit: false })
  t.equal(none.services.size, 0)
  const manager = new HelperManager(none, { socket: join(dir, 'bus.sock'), stateDir: dir })
  t.teardown(() => manager.close())
  t.same(manager.list(), [])
  t.equal(manager.has('UserService'), false)
  const err = await outcome(manager.ensure('UserService'))
  t.equal(err.code, 'NO_RESPONDERS')
  t.match(err.message, /no provider is registered for service "UserService"/)

  t.throws(() => loadServiceConfig(path, { explicit: true }), {
    name: 'ServiceConfigError',
    message: `service config ${path} is invalid: the file does not exist; create it, or name another with --config or $THRIFTBUS_CONFIG`,
  })
})

t.test('invalid JSON is an error that names the file and where the syntax breaks', async (t) => {
  const err = configError(t, '{\n  "services": {\n    "A": { "command": ["x"] },\n  }\n}\n')
  t.match(err.message, /^service config \/.*services\.json is invalid: it is not valid JSON: /)
  t.match(err.message, /\(line 4, column 3\)/)
  t.match(err.message, /no comments and no trailing commas/)
})

t.test('unknown keys are errors that name them and list the allowed ones', async (t) => {
  const err = configError(t, { services: { UserService: { comand: ['node', 'x.js'], command: ['node', 'x.js'], timeout: 5 } }, service: {} })
  t.same(err.problems, [
    'the top level has unknown key "service"; the allowed keys are services (check the spelling)',
    'services["UserService"] has unknown keys "comand", "timeout"; the allowed keys are command, cwd, env, startTimeoutMs (check the spelling)',
  ])
  t.equal(err.message, `service config ${err.path} is invalid: ${err.problems.join('; ')}`, 'the message names the file and lists every problem')
})

t.test('bad entries are errors that name the entry and say what to fix', async (t) => {
  const err = configError(t, {
    services: {
      NoCommand: {},
      ShellLine: { command: 'node /srv/helper.js --fast' },
      EmptyProgram: { command: [''] },
      'bad:name': { command: ['x'] },
      BadEnv: { command: ['x'], env: { PORT: 8080, THRIFTBUS_SOCKET: '/tmp/s', 'A=B': 'c' } },
      BadTimeout: { command: ['x'], startTimeoutMs: 0 },
      BadCwd: { command: ['x'], cwd: 42 },
      NotAnObject: ['x'],
    },
  })
  t.equal(err.problems.length, 10)
  t.match(err.problems, [
    'services["NoCommand"].command is missing; add the program and its arguments, e.g. "command": ["node", "/path/helper.js"]',
    'services["ShellLine"].command must be a non-empty array of strings, the program and its arguments; found a string "node /srv/helper.js --fast" (it is run without a shell, so split it: ["node","/srv/helper.js","--fast"])',
    'services["EmptyProgram"].command[0] is empty; it must name the program to run',
    // registerService's own rule and text (src/broker/router.ts), with what to do.
    /^services\["bad:name"\]: service name "bad:name" is not allowed; .*; rename it$/,
    'services["BadEnv"].env.PORT must be a string; found a number 8080 (quote it: "8080")',
    'services["BadEnv"].env sets THRIFTBUS_SOCKET, which the daemon sets for each helper; remove it',
    'services["BadEnv"].env has the invalid variable name "A=B"; names are non-empty, without = or NUL',
    'services["BadTimeout"].startTimeoutMs must be a whole number of milliseconds from 1 to 600000; found a number 0',
    'services["BadCwd"].cwd must be a non-empty string, a folder; found a number 42',
    'services["NotAnObject"] must be an object like {"command": ["program", "arg"]}; found an array ["x"]',
  ])
})

t.test('the top level must be an object with "services"', async (t) => {
  t.same(configError(t, '[]').problems, ['the top level must be an object like {"services": {"Name": {"command": ["program", "arg"]}}}; found an array []'])
  t.same(configError(t, '{}').problems, ['the "services" key is missing; add "services": {"Name": {"command": ["program", "arg"]}}, or {} for none'])
  t.same(configError(t, '{"services": null}').problems, ['"services" must be an object keyed by service name; found null'])
})

t.test('a valid config fills in the defaults; folders are relative to the config file', async (t) => {
  const dir = tempDir(t)
  const path = join(dir, 'services.json')
  writeFileSync(
    path,
    JSON.stringify({
      services: {
        Plain: { command: ['node', 'helper.js'] },
        Full: { command: ['/usr/bin/env', 'python3', '-u', 'h.py'], cwd: 'sub/dir', env: { LOG: 'debug' }, startTimeoutMs: 2500 },
      },
    }),
  )
  const config = loadServiceConfig(path, { explicit: true })
  t.equal(config.path, path)
  t.same([...config.services.keys()], ['Plain', 'Full'])
  t.same(config.services.get('Plain'), { service: 'Plain', command: ['node', 'helper.js'], cwd: dir, env: {}, startTimeoutMs: DEFAULT_START_TIMEOUT_MS })
  t.same(config.services.get('Full'), { service: 'Full', command: ['/usr/bin/env', 'python3', '-u', 'h.py'], cwd: join(dir, 'sub', 'dir'), env: { LOG: 'debug' }, startTimeoutMs: 2500 })
  t.same(loadServiceConfig(join(dir, 'services.json'), { explicit: false }).services.size, 2)
})

// ---- the helpers ----------------------------------------------------------------------------------------------

t.test('StderrTail keeps a bounded tail: the last lines, without a line cut by the byte bound', async (t) => {
  const lines = new StderrTail()
  for (let i = 1; i <= 30; i++) lines.push(Buffer.from(`line ${i}\n`))
  const shown = lines.text().split('\n')
  t.equal(shown.length, STDERR_TAIL_LINES)
  t.equal(shown[shown.length - 1], 'line 30')

  const bytes = new StderrTail()
  for (let i = 0; i < 1000; i++) bytes.push(Buffer.from(`entry ${String(i).padStart(4, '0')}\n`))
  const text = bytes.text()
  t.ok(Buffer.byteLength(text) <= STDERR_TAIL_BYTES)
  t.ok(text.split('\n').every((l) => /^entry \d{4}$/.test(l)), 'no partial first line')
  t.match(text, /entry 0999$/)

  const big = new StderrTail()
  big.push(Buffer.alloc(STDERR_TAIL_BYTES * 3, 'x'))
  t.equal(big.text().length, STDERR_TAIL_BYTES, 'one huge line is kept, cut to the bound')
})

t.test('the first call starts the helper, with the socket and service in its environment, and waits for it to register', async (t) => {
  const f = fixture(t, {})
  const dir = f.dir
  mkdirSync(join(dir, 'work'))
  writeFileSync(f.configPath, JSON.stringify({ services: { Echo: entry(dir, 'serve.mjs', 'Echo', { cwd: 'work', env: { EXTRA: 'yes' } }) } }))
  const manager = start(t, f)
  t.ok(manager.has('Echo'))
  t.match(info(manager, 'Echo'), { serviceName: 'Echo', command: [process.execPath, join(dir, 'serve.mjs')], pid: 0, state: 'idle', restarts: 0, lastError: '' })

  let settled = false
  const first = manager.ensure('Echo').finally(() => (settled = true))
  const second = manager.activate('Echo') // the Router's Activator interface
  t.equal(manager.activate('Unknown'), false, 'no helper configured: the router answers NO_RESPONDERS')
  const ready = await waitFor('the helper to start', () => readReady(f.readyFile('Echo')))
  t.same(ready, { pid: ready.pid, socket: f.options.socket, service: 'Echo', cwd: realpathSync(join(dir, 'work')), extra: 'yes' })
  t.match(info(manager, 'Echo'), { pid: ready.pid, state: 'starting' }, 'one process for both calls')
  t.equal(settled, false, 'the call waits until the service is registered')
  t.match(manager.timeoutText('Echo', 10_000), `no provider registered service "Echo" within 10000 ms of a call asking for it; it is starting (pid ${ready.pid})`)

  manager.registered('Echo')
  await first
  t.equal(await second, true)
  t.match(info(manager, 'Echo'), { pid: ready.pid, state: 'running', restarts: 0, lastError: '' })
  await manager.ensure('Echo') // registered: resolves at once

  // Its stdout and stderr are in its log.
  const logFile = join(f.options.stateDir, 'helpers', 'Echo.log')
  await waitFor('the helper log', () => existsSync(logFile) && /hello from stdout/.test(readFileSync(logFile, 'utf8')) && /booting/.test(readFileSync(logFile, 'utf8')))

  // Its provider went away but the process runs: a call waits for it to register again, and can be cancelled.
  manager.unregistered('Echo')
  const abort = new AbortController()
  const waiting = outcome(manager.ensure('Echo', { signal: abort.signal }))
  abort.abort()
  t.match(await waiting, { code: 'CANCELLED' })
  t.match(info(manager, 'Echo'), { pid: ready.pid, state: 'running' })
  manager.registered('Echo')
  await manager.ensure('Echo')
})

t.test('a helper that keeps failing at once is restarted with backoff, then fails the call with its stderr until a cool-down', async (t) => {
  const clock = new FakeClock()
  const f = fixture(t, {}, { clock })
  writeFileSync(f.configPath, JSON.stringify({ services: { Broken: entry(f.dir, 'fail.mjs', 'Broken') } }))
  const manager = start(t, f)

  const call = outcome(manager.ensure('Broken'))
  // Each failure schedules a restart on the (fake) clock: 100, 200, 400, 800 ms.
  for (let i = 0; i < MAX_CONSECUTIVE_FAILURES - 1; i++) {
    const h = await waitFor(`failure ${i + 1}`, () => (info(manager, 'Broken').state === 'backoff' ? info(manager, 'Broken') : undefined))
    t.match(h, { pid: 0, restarts: i })
    t.match(h.lastError, /exited with code 3 before registering the service/)
    clock.advance(100 * 2 ** i)
    t.equal(info(manager, 'Broken').state, 'starting')
  }
  const err = await call
  t.ok(isBusError(err))
  t.equal(err.code, 'ACTIVATION_FAILED')
  t.match(err.message, /^helper for service "Broken" failed 5 times in a row, so calls to it fail for the next 30 s/)
  t.match(err.message, new RegExp(`its entry in ${f.configPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))
  t.match(err.message, /\(.*fail\.mjs\) exited with code 3 before registering the service/)
  t.match(err.message, /its stderr ended with .*:\n {2}starting up\n {2}fatal: cannot open database \/nowhere\/db\.sqlite$/)
  t.match(info(manager, 'Broken'), { state: 'failed', pid: 0, restarts: MAX_CONSECUTIVE_FAILURES - 1, lastError: /fatal: cannot open database/ })

  // While failed, calls fail at once, without a start.
  t.match(await outcome(manager.ensure('Broken')), { code: 'ACTIVATION_FAILED', message: /failed 5 times in a row/ })
  t.match(info(manager, 'Broken'), { state: 'failed', pid: 0 })

  // After the cool-down, the next call starts it afresh.
  clock.advance(FAILED_COOLDOWN_MS)
  const again = outcome(manager.ensure('Broken'))
  t.equal(info(manager, 'Broken').state, 'starting')
  await manager.close()
  t.match(await again, { code: 'SHUTTING_DOWN' })
})

t.test('a helper that crashes while a call waits is restarted, and the call goes through', async (t) => {
  const f = fixture(t, {})
  writeFileSync(f.configPath, JSON.stringify({ services: { Flaky: entry(f.dir, 'crash-once.mjs', 'Flaky', { env: { MARKER: join(f.dir, 'crashed') } }) } }))
  const manager = start(t, f)

  const call = manager.ensure('Flaky')
  const ready = await waitFor('the second run', () => readReady(f.readyFile('Flaky')))
  t.ok(existsSync(join(f.dir, 'crashed')), 'the first run crashed')
  t.match(info(manager, 'Flaky'), { pid: ready.pid, state: 'starting', restarts: 1 })
  t.match(info(manager, 'Flaky').lastError, /exited with code 1 before registering the service; its stderr ended with .*:\n {2}first run: crashing on purpose/)
  manager.registered('Flaky')
  await call
  t.match(info(manager, 'Flaky'), { pid: ready.pid, state: 'running', restarts: 1 })
})

t.test('a helper that does not register within startTimeoutMs is stopped and the call fails saying so', async (t) => {
  const f = fixture(t, {})
  writeFileSync(f.configPath, JSON.stringify({ services: { Slow: entry(f.dir, 'serve.mjs', 'Slow', { startTimeoutMs: 500 }) } }))
  const manager = start(t, f)

  const err = await outcome(manager.ensure('Slow'))
  t.equal(err?.code, 'ACTIVATION_FAILED')
  t.match(err.message, /^helper for service "Slow" \(.*serve\.mjs\) did not register the service within 500 ms of starting, so it was stopped; it must connect to \$THRIFTBUS_SOCKET and call registerService\("Slow"\), or, if it needs longer, raise startTimeoutMs in .*services\.json/)
  // The process is stopped: list() shows pid 0 once it has exited.
  await waitFor('the helper to exit', () => info(manager, 'Slow').pid === 0)
  t.match(info(manager, 'Slow'), { state: 'idle', lastError: /did not register the service within 500 ms/ })
  const ready = readReady(f.readyFile('Slow'))
  if (ready) t.notOk(processIsAlive(ready.pid), 'its process is gone')
  t.match(manager.timeoutText('Slow', 500), /it is idle; its last failure: .*did not register the service within 500 ms/)
})

t.test('a command that cannot be spawned is a failure that says why', async (t) => {
  const clock = new FakeClock()
  const f = fixture(t, {}, { clock })
  writeFileSync(f.configPath, JSON.stringify({ services: { Missing: { command: [join(f.dir, 'no-such-helper')] } } }))
  const manager = start(t, f)
  const call = outcome(manager.ensure('Missing'))
  const h = await waitFor('the failure', () => (info(manager, 'Missing').state === 'backoff' ? info(manager, 'Missing') : undefined))
  t.match(h.lastError, /^helper for service "Missing" \(.*no-such-helper\) could not be started \(.*ENOENT.*\) before registering the service/)
  await manager.close()
  t.match(await call, { code: 'SHUTTING_DOWN' })
})

t.test('close() stops every helper, SIGKILL for one that ignores SIGTERM, and fails waiting calls', async (t) => {
  const f = fixture(t, {})
  writeFileSync(
    f.configPath,
    JSON.stringify({
      services: {
        'tools/Echo': entry(f.dir, 'serve.mjs', 'tools/Echo'),
        Stubborn: entry(f.dir, 'serve.mjs', 'Stubborn', { env: { IGNORE_TERM: '1' } }),
        Pending: entry(f.dir, 'serve.mjs', 'Pending'),
      },
    }),
  )
  const manager = start(t, f)
  const calls = [manager.ensure('tools/Echo'), manager.ensure('Stubborn')]
  const pids: number[] = []
  for (const service of ['tools/Echo', 'Stubborn']) {
    pids.push((await waitFor(`${service} to start`, () => readReady(f.readyFile(service)))).pid)
    manager.registered(service)
  }
  await Promise.all(calls)
  const pending = outcome(manager.ensure('Pending'))
  t.equal(info(manager, 'Pending').state, 'starting')

  const closing = manager.close()
  t.equal(manager.close(), closing, 'close() is idempotent')
  await closing
  t.match(await pending, { code: 'SHUTTING_DOWN' })
  for (const pid of pids) t.notOk(processIsAlive(pid), `pid ${pid} is gone`)
  const pendingReady = readReady(f.readyFile('Pending'))
  if (pendingReady) t.notOk(processIsAlive(pendingReady.pid))
  t.same(manager.list().map((h) => h.pid), [0, 0, 0])
  t.match(await outcome(manager.ensure('tools/Echo')), { code: 'SHUTTING_DOWN' })
  t.ok(existsSync(join(f.options.stateDir, 'helpers', 'tools%2FEcho.log')), 'a "/" in the name is encoded in its log file name')
})
