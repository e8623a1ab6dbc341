import t from 'tap'
import { connect } from '../../sdk/index.js'
import { startDaemon } from '../helpers/daemon.js'
import { FULL_IDL, missing, python, result } from './interop-helpers.js'

t.test(
  'a thriftpy client loading the full IDL at run time (buffered binary) sends, receives and gets BusException NO_MESSAGE',
  { skip: missing('python3-thriftpy') },
  async (t) => {
    const d = await startDaemon(t)
    const c = await connect({ socket: d.socket, spawn: false })
    t.teardown(() => c.close())
    await c.send('from-sdk', 'hello thriftpy, from node')

    const out = result(await python(t, 'thriftpy_client.py', [FULL_IDL, d.socket]))

    t.equal(out.sent, true, 'sendMessage returns true')
    t.match(out.received, ['thriftpy', 'tq', 'hello from thriftpy', Number], 'receiveMessage returns the message, with its id')
    t.same(out.empty, { code: 1, isNoMessage: true }, 'an empty mailbox raises BusException NO_MESSAGE')
    t.same(out.fromSdk.slice(1), ['from-sdk', 'hello thriftpy, from node'], 'thriftpy receives what the Node SDK sent')
    t.equal(out.toSdk, true)
    t.match(await c.receive('to-sdk', { timeoutMs: 1000 }), { sender: 'thriftpy', content: 'hello node, from thriftpy' }, 'the Node SDK receives what thriftpy sent')
  },
)
