import t from 'tap'
import { connect, type Client } from '../../sdk/index.js'
import { startDaemon, tempDir } from '../helpers/daemon.js'
import { FULL_IDL, generate, missing, python, result } from './interop-helpers.js'

const skip = missing('thrift-compiler', 'python3-thrift')

/** Resolves once the daemon reports a receiver parked on the mailbox (so the send below really wakes it). */
async function parked(c: Client, mailbox: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await c.mailboxStats(mailbox)).waiters > 0) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`no receiver parked on ${mailbox}`)
}

t.test('a stock Python long-poll receiveMessage(recipient, 5000) is woken by a send', { skip }, async (t) => {
  const gen = await generate(t, 'py', FULL_IDL, tempDir(t))
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())

  t.test('from the Node SDK', async (t) => {
    const waiting = python(t, 'py_full_client.py', [gen, d.socket, 'wait', 'lp1', '5000'])
    await parked(c, 'lp1')
    await c.send('lp1', 'wake up, from node')
    const out = result(await waiting)
    t.match(out.received, { recipient: 'lp1', content: 'wake up, from node' }, 'the parked receive returns the message')
  })

  t.test('from another Python process', async (t) => {
    const waiting = python(t, 'py_full_client.py', [gen, d.socket, 'wait', 'lp2', '5000'])
    await parked(c, 'lp2')
    const sent = result(await python(t, 'py_full_client.py', [gen, d.socket, 'send', 'lp2', 'wake up, from python']))
    t.equal(sent.sent, true)
    const out = result(await waiting)
    t.match(out.received, { sender: 'python-sender', recipient: 'lp2', content: 'wake up, from python' }, 'the parked receive returns the message')
  })

  t.test('that runs out raises NO_MESSAGE', async (t) => {
    const out = result(await python(t, 'py_full_client.py', [gen, d.socket, 'wait', 'lp3', '200']))
    t.match(out.error, { code: 1, name: 'NO_MESSAGE' })
  })
})
