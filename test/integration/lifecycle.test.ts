import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { connect } from '../../sdk/index.js'
import { CLI, runCli, startDaemon, tempDir } from '../helpers/daemon.js'

t.test('SIGTERM answers parked calls, removes the socket and exits 0', async (t) => {
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false, reconnect: false })
  t.teardown(() => c.close())
  await c.send('kept', 'x')
  const parked = c.receive('waiting')
  while ((await c.mailboxStats('waiting')).waiters === 0) await new Promise((r) => setTimeout(r, 5))
  d.process.kill('SIGTERM')
  await t.rejects(parked, { code: 'SHUTTING_DOWN' }, 'the parked receive is answered, not dropped')
  t.equal(await d.stop(), 0, 'exit code 0')
  t.notOk(existsSync(d.socket), 'socket file removed')
  t.match(d.stderr(), /received SIGTERM; shutting down/)
  t.match(d.stderr(), /stopped: pid/)
})

t.test('`thriftbus stop` shuts the daemon down and exits 0; with no daemon it exits 3', async (t) => {
  const d = await startDaemon(t)
  const stopped = await runCli(['stop', '--socket', d.socket])
  t.equal(stopped.code, 0, stopped.stderr)
  t.match(stopped.stdout, /stopped the daemon/)
  t.equal(await d.stop(), 0)
  t.notOk(existsSync(d.socket))
  const again = await runCli(['stop', '--socket', d.socket])
  t.equal(again.code, 3)
  t.match(again.stderr, /no daemon at .*start one with `thriftbus daemon`/)
})

t.test('a second daemon on the same socket says one is running and exits 0', async (t) => {
  const d = await startDaemon(t)
  const second = await runCli(['daemon', '--socket', d.socket, '--state-dir', d.stateDir])
  t.equal(second.code, 0)
  t.match(second.stdout, new RegExp(`already running on .*bus.sock \\(pid ${d.process.pid}\\)`))
})

t.test('a socket file left by a crashed daemon is replaced', async (t) => {
  const dir = tempDir(t)
  const socket = join(dir, 'bus.sock')
  // A process that listens on the path and dies by SIGKILL leaves the socket file behind.
  const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`])
  await new Promise((r) => holder.stdout.once('data', r))
  holder.kill('SIGKILL')
  await new Promise((r) => holder.once('exit', r))
  t.ok(existsSync(socket), 'the stale socket file is there')
  const d = await startDaemon(t, { dir })
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  t.equal(await c.ping(), '0.1.0')
})

t.test('a socket directory that others can write is refused with a clear error', async (t) => {
  const dir = join(tempDir(t), 'shared')
  mkdirSync(dir)
  chmodSync(dir, 0o777)
  const r = await runCli(['daemon', '--socket', join(dir, 'bus.sock'), '--state-dir', join(dir, 'state')])
  t.equal(r.code, 1)
  t.match(r.stderr, /can be written by other users \(mode 777\).*chmod 700/)
})

t.test('a socket path too long for sun_path is refused with a clear error', async (t) => {
  const long = join(tempDir(t), 'x'.repeat(120), 'bus.sock')
  const r = await runCli(['daemon', '--socket', long])
  t.equal(r.code, 1)
  t.match(r.stderr, /over the 10[37]-byte limit of Unix sockets/)
  const sent = await runCli(['send', 'bob', 'hi', '--socket', long])
  t.equal(sent.code, 2, 'the CLI reports it as bad usage')
  t.match(sent.stderr, /choose a shorter one with --socket/)
})

t.test('THRIFTBUS_SOCKET points the daemon, the CLI and the SDK at the same endpoint', async (t) => {
  const dir = tempDir(t)
  const socket = join(dir, 'env.sock')
  const env = { ...process.env, THRIFTBUS_SOCKET: socket, THRIFTBUS_STATE_DIR: join(dir, 'state') }
  const child = spawn(process.execPath, [CLI, 'daemon'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => {
    child.kill('SIGTERM')
  })
  await new Promise((r) => child.stdout.once('data', r))
  t.ok(existsSync(socket))
  const sent = await new Promise<number | null>((resolve) => {
    spawn(process.execPath, [CLI, 'send', 'viaenv', 'hello', '--no-spawn'], { env, stdio: 'ignore' }).on('exit', resolve)
  })
  t.equal(sent, 0)
  const c = await connect({ socket, spawn: false })
  t.teardown(() => c.close())
  t.equal((await c.receive('viaenv', { timeoutMs: 0 })).content, 'hello')
})
