import t from 'tap'
import { connect } from '../../sdk/index.js'
import { startDaemon, tempDir } from '../helpers/daemon.js'
import { FULL_IDL, generate, missing, python, result } from './interop-helpers.js'

const NO_MESSAGE = 1
const INVALID_ARGUMENT = 2

t.test(
  'a stock Python client generated from the full IDL sends, receives, gets NO_MESSAGE, takes a batch, sends a batch and reads status',
  { skip: missing('thrift-compiler', 'python3-thrift') },
  async (t) => {
    const gen = await generate(t, 'py', FULL_IDL, tempDir(t))
    const d = await startDaemon(t)
    const c = await connect({ socket: d.socket, spawn: false })
    t.teardown(() => c.close())
    await c.send('from-sdk', 'hello python, from node')

    const out = result(await python(t, 'py_full_client.py', [gen, d.socket, 'basics']))

    t.equal(out.sent, true, 'sendMessage returns true')
    t.match(
      out.received,
      { sender: 'alice', recipient: 'q', content: 'one', body: [0, 1, 255], headers: { k: 'v' }, id: Number, sentAtMs: Number },
      'receiveMessage(recipient, 0) returns the message, body and headers intact, with id and sentAtMs filled in',
    )
    t.match(out.empty, { code: NO_MESSAGE, name: 'NO_MESSAGE' }, 'receiveMessage(recipient, 0) on an empty mailbox raises BusException NO_MESSAGE')
    t.same(out.batch, ['b0', 'b1', 'b2'], 'receiveMessages takes the batch, oldest first')
    t.same(out.batchEmpty, [], 'receiveMessages(…, 0) on an empty mailbox returns an empty list')
    t.match(out.sendMessages, [{ index: 1, code: INVALID_ARGUMENT, message: /mailbox name/ }], 'sendMessages returns the refused message, by its index')
    t.same(out.many, ['m0', 'm2'], 'sendMessages accepted the others, in order')
    t.same(out.receiveAny, ['any.a:a0', 'any.a:a1', 'any.b:b0'], 'receiveAny takes from several mailboxes in one call')
    t.equal(out.limits, 1000, 'limits() tells how many mailboxes one receiveAny may name')
    t.match(out.status, { pid: d.process.pid, endpoint: d.socket, version: String }, 'status() describes the daemon')
    t.ok(out.status.connections >= 1, 'status() counts the connections')
    t.ok(
      out.status.mailboxes.some(([name, depth]: [string, number]) => name === 'waiting' && depth === 1),
      'status() lists the mailbox with a waiting message',
    )
    t.equal(out.ping, out.status.version, 'ping() returns the version')
    t.match(out.fromSdk, { sender: String, recipient: 'from-sdk', content: 'hello python, from node' }, 'Python receives what the Node SDK sent')
    t.equal(out.toSdk, true)
    const m = await c.receive('to-sdk', { timeoutMs: 1000 })
    t.equal(m.content, 'hello node, from python', 'the Node SDK receives what Python sent')
    t.equal(m.sender, 'python')
  },
)
