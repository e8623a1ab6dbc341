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
