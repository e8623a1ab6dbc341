import t from 'tap'
import { connect } from '../../sdk/index.js'
import { startDaemon, tempDir } from '../helpers/daemon.js'
import { LEGACY_IDL, generate, missing, python, result, writeIdl } from './interop-helpers.js'

// The tutorial default (TBufferedTransport + TBinaryProtocol) and the other common pairing.
for (const [transport, protocol, label] of [
  ['buffered', 'binary', 'TBufferedTransport + TBinaryProtocol'],
  ['framed', 'compact', 'TFramedTransport + TCompactProtocol'],
] as const) {
  t.test(
    `a stock Python client using the original two-method IDL sends and receives over ${label}, and an empty mailbox raises instead of hanging`,
    { skip: missing('thrift-compiler', 'python3-thrift') },
    async (t) => {
      const dir = tempDir(t)
      const gen = await generate(t, 'py', writeIdl(dir, LEGACY_IDL, 'legacy'), dir)
      const d = await startDaemon(t)
      const c = await connect({ socket: d.socket, spawn: false })
      t.teardown(() => c.close())
      await c.send('from-sdk', 'hello python, from node')

      const out = result(await python(t, 'py_legacy_client.py', [gen, d.socket, transport, protocol]))

      t.equal(out.sent, true, 'sendMessage returns true')
      t.same(out.received, ['alice', 'bob', 'hello from python'], 'receiveMessage returns the message sent')
      t.match(out.empty, { missingResult: true }, 'an empty mailbox raises TApplicationException MISSING_RESULT ("unknown result")')
      t.equal(out.sentAfterEmpty, true, 'the connection is still usable after that exception')
      t.equal(out.receivedAfterEmpty, 'still works')
      t.equal(out.fromSdk[2], 'hello python, from node', 'the old client receives what the Node SDK sent')
      t.equal(out.fromSdk[1], 'from-sdk')
      t.equal(out.toSdk, true)
      const m = await c.receive('to-sdk', { timeoutMs: 1000 })
      t.equal(m.content, 'hello node, from an old python client', 'the Node SDK receives what the old client sent')
      t.equal(m.sender, 'python-legacy')
    },
  )
}
