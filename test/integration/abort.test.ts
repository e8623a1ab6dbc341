import t from 'tap'
import { connect } from '../../sdk/index.js'
import { startDaemon } from '../helpers/daemon.js'

t.test('an aborted long-poll is released on the daemon and the next message stays in the mailbox', async (t) => {
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  const ac = new AbortController()
  const pending = c.receive('jobs', { signal: ac.signal })
  while ((await c.mailboxStats('jobs')).waiters === 0) await new Promise((r) => setTimeout(r, 5))
  ac.abort()
  await t.rejects(pending, { code: 'CANCELLED' })
  while ((await c.mailboxStats('jobs')).waiters !== 0) await new Promise((r) => setTimeout(r, 5))
  await c.send('jobs', 'not lost')
  t.equal((await c.receive('jobs', { timeoutMs: 0 })).content, 'not lost')
})

t.test('aborting a receive while its message is on the way loses nothing (race, many rounds)', async (t) => {
  const d = await startDaemon(t)
  const receiver = await connect({ socket: d.socket, spawn: false })
  const sender = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => receiver.close())
  t.teardown(() => sender.close())
  const rounds = 200
  let delivered = 0
  for (let i = 0; i < rounds; i++) {
    const ac = new AbortController()
    const pending = receiver.receive('race', { signal: ac.signal }).then(
      () => delivered++,
      (err) => {
        if (err.code !== 'CANCELLED') throw err
      },
    )
    // Send and abort with varying gaps, so that the abort lands before, during and after delivery.
    const send = sender.send('race', `m${i}`)
    if (i % 3 === 1) await new Promise((r) => setImmediate(r))
    if (i % 3 === 2) await send
    ac.abort()
    await pending
    await send
  }
  const left = []
  for (;;) {
    const batch = await receiver.receiveMany('race', 1000, { timeoutMs: 200 })
    if (batch.length === 0) break
    left.push(...batch)
  }
  t.equal(delivered + left.length, rounds, `every message was delivered (${delivered}) or is still in the mailbox (${left.length})`)
  t.equal(new Set(left.map((m) => m.content)).size, left.length, 'no message is duplicated')
})

t.test('close() fails a pending receive with CLOSED and releases it on the daemon', async (t) => {
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false })
  const watcher = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => watcher.close())
  const pending = c.receive('closing')
  while ((await watcher.mailboxStats('closing')).waiters === 0) await new Promise((r) => setTimeout(r, 5))
  const closed = c.close()
  t.equal(c.close(), closed, 'close() returns the same promise every time')
  await t.rejects(pending, { code: 'CLOSED' })
  await closed
  await t.rejects(c.send('x', 'y'), { code: 'CLOSED' }, 'calls after close fail with CLOSED')
  await watcher.send('closing', 'kept')
  t.equal((await watcher.receive('closing', { timeoutMs: 1000 })).content, 'kept')
})

t.test('a receive with a timeout rejects with NO_MESSAGE when nothing arrives', async (t) => {
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  await t.rejects(c.receive('quiet', { timeoutMs: 50 }), { code: 'NO_MESSAGE', message: /within 50 ms/ })
  t.same(await c.receiveMany('quiet', 10, { timeoutMs: 50 }), [])
})

t.test('the mailbox iterator yields messages in order and puts back what it took when the loop ends', async (t) => {
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  for (let i = 0; i < 10; i++) await c.send('it', `m${i}`)
  const seen: string[] = []
  for await (const m of c.messages('it', { batchSize: 8 })) {
    seen.push(m.content)
    if (seen.length === 3) break
  }
  t.same(seen, ['m0', 'm1', 'm2'])
  const rest = await c.receiveMany('it', 100, { timeoutMs: 1000 })
  t.same(rest.map((m) => m.content), ['m3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9'], 'the unyielded rest is back, in order')
})

t.test('an aborted mailbox iterator throws CANCELLED and loses nothing', async (t) => {
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false })
  t.teardown(() => c.close())
  const ac = new AbortController()
  const loop = (async () => {
    for await (const m of c.messages('it2', { signal: ac.signal })) t.fail(`unexpected ${m.content}`)
  })()
  while ((await c.mailboxStats('it2')).waiters === 0) await new Promise((r) => setTimeout(r, 5))
  ac.abort()
  await t.rejects(loop, { code: 'CANCELLED' })
  await c.send('it2', 'still here')
  t.equal((await c.receive('it2', { timeoutMs: 1000 })).content, 'still here')
})
