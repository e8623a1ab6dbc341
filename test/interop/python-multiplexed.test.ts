import t from 'tap'
import { startDaemon, tempDir } from '../helpers/daemon.js'
import { FULL_IDL, generate, missing, python, result } from './interop-helpers.js'

t.test(
  'a stock Python client through TMultiplexedProtocol(protocol, "MessageService") sends, receives and gets NO_MESSAGE',
  { skip: missing('thrift-compiler', 'python3-thrift') },
  async (t) => {
    const gen = await generate(t, 'py', FULL_IDL, tempDir(t))
    const d = await startDaemon(t)

    const out = result(await python(t, 'py_full_client.py', [gen, d.socket, 'multiplexed']))

    t.equal(out.sent, true, 'sendMessage returns true')
    t.match(out.received, { sender: 'alice', recipient: 'mux', content: 'through the multiplexer' }, 'receiveMessage returns it')
    t.match(out.empty, { code: 1, name: 'NO_MESSAGE' }, 'an empty mailbox raises BusException NO_MESSAGE')
    t.type(out.ping, 'string', 'ping() answers')
  },
)
