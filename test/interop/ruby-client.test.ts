import t from 'tap'
import { connect } from '../../sdk/index.js'
import { startDaemon, tempDir } from '../helpers/daemon.js'
import { FULL_IDL, generate, missing, result, ruby } from './interop-helpers.js'

t.test(
  'a stock Ruby client (Thrift::UNIXSocket, buffered binary) generated from the full IDL sends, receives and gets BusException NO_MESSAGE',
  { skip: missing('thrift-compiler', 'ruby-thrift') },
  async (t) => {
    const gen = await generate(t, 'rb', FULL_IDL, tempDir(t))
    const d = await startDaemon(t)
    const c = await connect({ socket: d.socket, spawn: false })
    t.teardown(() => c.close())
    await c.send('from-sdk', 'hello ruby, from node')

    const out = result(await ruby(t, 'ruby_client.rb', [gen, d.socket]))

    t.equal(out.sent, true, 'sendMessage returns true')
    t.same(out.received, ['ruby', 'rq', 'hello from ruby'], 'receiveMessage returns the message')
    t.same(out.empty, { code: 1, name: 'NO_MESSAGE' }, 'an empty mailbox raises BusException NO_MESSAGE')
    t.same(out.fromSdk.slice(1), ['from-sdk', 'hello ruby, from node'], 'Ruby receives what the Node SDK sent')
    t.equal(out.toSdk, true)
    t.match(await c.receive('to-sdk', { timeoutMs: 1000 }), { sender: 'ruby', content: 'hello node, from ruby' }, 'the Node SDK receives what Ruby sent')
  },
)
