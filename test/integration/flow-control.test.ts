/**
 * Flow control over real sockets: a producer far ahead of a consumer that drains its mailbox has its
 * acknowledgements held (src/broker/broker.ts, FLOW_HIGH_DEPTH), yet every send is acknowledged, nothing is lost
 * or received twice, and the order holds. The hold's rules are tested on a fake clock in test/unit/broker.test.ts.
 */
import t from 'tap'
import { connect } from '../../sdk/index.js'
import { FLOW_HIGH_DEPTH } from '../../src/broker/broker.js'
import { startDaemon } from '../helpers/daemon.js'

for (const durability of ['durable', 'memory']) {
  t.test(`${durability}: a producer ${3 * FLOW_HIGH_DEPTH} sends ahead of a draining consumer gets every send acknowledged, each message once, in order`, async (t) => {
    const d = await startDaemon(t, { args: ['--durability', durability] })
    const producer = await connect({ socket: d.socket, spawn: false })
    const consumer = await connect({ socket: d.socket, spawn: false })
    t.teardown(() => Promise.all([producer.close(), consumer.close()]))
    // The mailbox is being drained: a receiver took from it, and it is not empty (an empty one is forgotten).
    await producer.send('jobs', 'm0')
    await producer.send('jobs', 'm1')
    t.equal((await consumer.receive('jobs')).content, 'm0')
    const total = 3 * FLOW_HIGH_DEPTH
    let acked = 0
    const sends = Array.from({ length: total - 2 }, (_, i) => producer.send('jobs', `m${i + 2}`).then(() => { acked++ }))
    const got: string[] = ['m0']
    while (got.length < total) {
      for (const m of await consumer.receiveMany('jobs', 100)) got.push(m.content)
      await new Promise((resolve) => setImmediate(resolve)) // a consumer slower than the producer
    }
    await Promise.all(sends)
    t.equal(acked, total - 2, 'every send acknowledged')
    t.same(got, Array.from({ length: total }, (_, i) => `m${i}`), 'every message once, in order')
    t.equal((await producer.mailboxStats('jobs')).depth, 0)
  })
}
