/**
 * Activation of helpers: a services config maps a service name to a command; the first call to that service
 * starts the helper, which registers and answers. Driven through the CLI (`thriftbus call`, `status --json`)
 * against a real daemon process.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { ROOT, runCli, startDaemon, tempDir } from '../helpers/daemon.js'

const ECHO = join(ROOT, 'test', 'integration', 'fixtures', 'echo-provider.mjs')

function config(dir: string, services: object): string {
  const path = join(dir, 'services.json')
  writeFileSync(path, JSON.stringify({ services }))
  return path
}

t.test('the first call to a configured service starts its helper, waits for it to register, and is answered', async (t) => {
  const dir = tempDir(t)
  const path = config(dir, {
    EchoService: { command: [process.execPath, ECHO], startTimeoutMs: 20_000 },
  })
  const d = await startDaemon(t, { dir, args: ['--config', path] })
  const before = JSON.parse((await runCli(['status', '--json', '--socket', d.socket])).stdout)
  t.match(before.helpers, [{ serviceName: 'EchoService', state: 'idle', pid: 0, restarts: 0 }])

  const r = await runCli(['call', 'EchoService', 'hello', '["world", 42]', '--socket', d.socket, '--no-spawn'])
  t.equal(r.code, 0, r.stderr)
  const answer = JSON.parse(r.stdout) as string
  t.match(answer, /^EchoService\.hello\(\{"1":"world","2":42\}\) from pid \d+$/)

  const after = JSON.parse((await runCli(['status', '--json', '--socket', d.socket])).stdout)
  const pid = Number(/pid (\d+)/.exec(answer)![1])
  t.match(after.helpers, [{ serviceName: 'EchoService', state: 'running', pid }])
  t.match(after.services, [{ name: 'EchoService', providers: 1, calls: 1 }])
  const again = await runCli(['call', 'EchoService', 'hello', '[]', '--socket', d.socket, '--no-spawn'])
  t.match(again.stdout, `from pid ${pid}`, 'the second call goes to the same helper')
  await d.stop()
  t.throws(() => process.kill(pid, 0), 'the daemon stopped its helper when it shut down')
})

t.test('a helper that fails to start makes the call fail with ACTIVATION_FAILED and the helper\'s stderr', async (t) => {
  const dir = tempDir(t)
  const script = join(dir, 'broken.mjs')
  writeFileSync(script, "process.stderr.write('cannot open /etc/broken.conf: permission denied\\n'); process.exit(3)\n")
  const path = config(dir, { Broken: { command: [process.execPath, script], startTimeoutMs: 15_000 } })
  const d = await startDaemon(t, { dir, args: ['--config', path] })
  const r = await runCli(['call', 'Broken', 'anything', '--socket', d.socket, '--no-spawn'])
  t.equal(r.code, 1)
  t.match(r.stderr, /ACTIVATION_FAILED/)
  t.match(r.stderr, /cannot open \/etc\/broken\.conf: permission denied/)
  const s = JSON.parse((await runCli(['status', '--json', '--socket', d.socket])).stdout)
  t.match(s.helpers, [{ serviceName: 'Broken', pid: 0 }])
  t.ok(s.helpers[0].restarts >= 1, 'it was restarted with backoff before giving up')
  t.match(s.helpers[0].lastError, /exit|code 3/)
})

t.test('a call to a service nobody provides and no helper is configured for fails at once with NO_RESPONDERS', async (t) => {
  const d = await startDaemon(t)
  const r = await runCli(['call', 'Nobody', 'ping', '--socket', d.socket, '--no-spawn'])
  t.equal(r.code, 1)
  t.match(r.stderr, /NO_RESPONDERS/)
  t.match(r.stderr, /Nobody/)
})

t.test('a bad services config stops the daemon at start, naming the file and the problem', async (t) => {
  const dir = tempDir(t)
  const path = config(dir, { Bad: { command: 'not-an-array' } })
  const r = await runCli(['daemon', '--socket', join(dir, 'bus.sock'), '--state-dir', join(dir, 'state'), '--config', path])
  t.equal(r.code, 1)
  t.match(r.stderr, path)
  t.match(r.stderr, /command/)
  const missing = await runCli(['daemon', '--socket', join(dir, 'bus.sock'), '--state-dir', join(dir, 'state'), '--config', join(dir, 'nope.json')])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /nope\.json/)
})
