import { createRequire } from 'node:module'
import t from 'tap'
import { connect } from '../../sdk/index.js'
import { startDaemon } from '../helpers/daemon.js'

// The npm thrift package and the stock `thrift --gen js:node,ts,es6` code in src/gen/js are CommonJS.
const require = createRequire(import.meta.url)
const thrift = require('thrift')
const MessageService = require('../../src/gen/js/MessageService.js')
const { Message, BusException, ErrorCode } = require('../../src/gen/js/thriftbus_types.js')

const stacks = {
  'framed binary': { transport: thrift.TFramedTransport, protocol: thrift.TBinaryProtocol },
  'buffered binary': { transport: thrift.TBufferedTransport, protocol: thrift.TBinaryProtocol },
  'framed compact': { transport: thrift.TFramedTransport, protocol: thrift.TCompactProtocol },
  'buffered compact': { transport: thrift.TBufferedTransport, protocol: thrift.TCompactProtocol },
}

for (const [name, stack] of Object.entries(stacks)) {
  t.test(`the npm thrift client (createUDSConnection, ${name}) sends and receives, and gets BusException NO_MESSAGE`, { timeout: 20_000 }, async (t) => {
    const d = await startDaemon(t)
    const connection = thrift.createUDSConnection(d.socket, stack)
    const errors: Error[] = []
    // thrift's Connection re-emits socket errors; unhandled they would throw.
    connection.on('error', (err: Error) => errors.push(err))
    t.teardown(() => connection.end())
    await new Promise<void>((resolve, reject) => {
      connection.once('connect', resolve)
      connection.once('error', reject)
    })
    const client = thrift.createClient(MessageService, connection)

    t.equal(await client.sendMessage(new Message({ sender: 'npm', recipient: 'nq', content: 'hello from npm thrift' })), true, 'sendMessage resolves true')
    const m = await client.receiveMessage('nq', 0)
    t.match(m, { sender: 'npm', recipient: 'nq', content: 'hello from npm thrift' }, 'receiveMessage returns the message')
    t.ok(m.id, 'the daemon filled in id')

    const empty = await client.receiveMessage('nq', 0).then(
      (v: unknown) => ({ returned: v }),
      (e: unknown) => e,
    )
    t.ok(empty instanceof BusException, 'an empty mailbox rejects with a BusException')
    t.equal(empty.code, ErrorCode.NO_MESSAGE, 'with code NO_MESSAGE')

    // Interop with the Node SDK, both ways.
    const c = await connect({ socket: d.socket, spawn: false })
    t.teardown(() => c.close())
    await c.send('from-sdk', 'hello npm thrift, from the sdk')
    t.match(await client.receiveMessage('from-sdk', 0), { content: 'hello npm thrift, from the sdk' }, 'it receives what the SDK sent')
    await client.sendMessage(new Message({ sender: 'npm', recipient: 'to-sdk', content: 'hello sdk, from npm thrift' }))
    t.match(await c.receive('to-sdk', { timeoutMs: 1000 }), { sender: 'npm', content: 'hello sdk, from npm thrift' }, 'the SDK receives what it sent')

    t.same(errors, [], 'the connection emitted no error')
  })
}
