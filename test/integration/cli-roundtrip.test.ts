import t from 'tap'
import { runCli, startDaemon } from '../helpers/daemon.js'

t.test('send then recv through the CLI prints the content and exits 0', async (t) => {
  const d = await startDaemon(t)
  const sent = await runCli(['send', 'bob', 'hi there', '--socket', d.socket, '--no-spawn'])
  t.equal(sent.code, 0, sent.stderr)
  const got = await runCli(['recv', 'bob', '--socket', d.socket, '--no-spawn'])
  t.equal(got.code, 0, got.stderr)
  t.equal(got.stdout, 'hi there\n')
})

t.test('recv on an empty mailbox exits 4 and says the mailbox is empty', async (t) => {
  const d = await startDaemon(t)
  const got = await runCli(['recv', 'nobody', '--socket', d.socket])
  t.equal(got.code, 4)
  t.match(got.stderr, /mailbox "nobody" is empty/)
})

t.test('send - reads the content from stdin as is; recv --json prints the whole message', async (t) => {
  const d = await startDaemon(t)
  const sent = await runCli(['send', 'json', '-', '--socket', d.socket, '--sender', 'script', '--header', 'kind=test', '--header', 'n=1'], 'line one\nline two\n')
  t.equal(sent.code, 0, sent.stderr)
  const got = await runCli(['recv', 'json', '--json', '--socket', d.socket])
  t.equal(got.code, 0, got.stderr)
  const m = JSON.parse(got.stdout)
  t.match(m, { sender: 'script', recipient: 'json', content: 'line one\nline two\n', headers: { kind: 'test', n: '1' } })
  t.type(m.id, 'number')
})

t.test('recv --wait gets a message sent while it waits', async (t) => {
  const d = await startDaemon(t)
  const waiting = runCli(['recv', 'later', '--wait', '30s', '--socket', d.socket])
  const { connect } = await import('../../sdk/index.js')
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  while ((await c.mailboxStats('later')).waiters === 0) await new Promise((r) => setTimeout(r, 10))
  await c.send('later', 'worth the wait')
  const got = await waiting
  t.equal(got.code, 0, got.stderr)
  t.equal(got.stdout, 'worth the wait\n')
})

t.test('status shows the mailboxes with their depth, and --json the same as data', async (t) => {
  const d = await startDaemon(t)
  await runCli(['send', 'a.box', 'x', '--socket', d.socket])
  await runCli(['send', 'a.box', 'y', '--socket', d.socket])
  const text = await runCli(['status', '--socket', d.socket])
  t.equal(text.code, 0)
  t.match(text.stdout, new RegExp(`^up +pid ${d.process.pid}, version 0\\.1\\.0, uptime \\d+s`, 'm'))
  t.match(text.stdout, /^ +a\.box +2 +\d+ +0 +0 +0 +0$/m)
  const json = await runCli(['status', '--json', '--socket', d.socket])
  const s = JSON.parse(json.stdout)
  t.equal(s.pid, d.process.pid)
  t.same(s.mailboxes.map((m: { name: string; depth: number }) => [m.name, m.depth]), [['a.box', 2]])
})

t.test('bad usage exits 2 with a hint; every command has --help', async (t) => {
  for (const args of [['frobnicate'], ['send', 'only-one-arg'], ['recv', 'x', '--wait', 'soon'], ['daemon', '--max-connections', '0'], ['status', '--bogus']]) {
    const r = await runCli(args)
    t.equal(r.code, 2, `${args.join(' ')}: exit 2`)
    t.match(r.stderr, /thriftbus: .*\nRun `thriftbus --help` for usage\./, `${args.join(' ')}: says what is wrong`)
  }
  for (const command of ['daemon', 'status', 'send', 'recv', 'stop']) {
    const r = await runCli([command, '--help'])
    t.equal(r.code, 0)
    t.match(r.stdout, new RegExp(`^Usage: thriftbus ${command}`))
  }
  const main = await runCli(['--help'])
  t.match(main.stdout, /Exit codes: 0 ok, 1 error, 2 bad usage, 3 no daemon, 4 no message/)
})
