// bench/peers/thriftbus.mjs — the real thing: the thriftbus daemon from dist/
// (built by `npm run build`) and clients using the SDK (dist/sdk/index.js).
// Two rows: "thriftbus-memory" (--durability memory) and "thriftbus" (the
// daemon's default durability, assumed durable). Until the daemon knows
// --durability, the memory row runs without the flag and the durable row is n/a.
import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { sleep, waitForSocket } from '../common.mjs'

const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))
const SDK = new URL('../../dist/sdk/index.js', import.meta.url).href
let durabilityFlag = null // null = not probed yet; true/false once probed

function daemonCommand (dir, extra) {
  const socket = `${dir}/bus.sock`
  mkdirSync(`${dir}/state`, { recursive: true })
  return { socket, cmd: process.execPath, args: [CLI, 'daemon', '--socket', socket, '--state-dir', `${dir}/state`, ...extra] }
}

/**
 * Called once by the harness before the reps. Returns null when the row can run,
 * or { skip: reason } / { error: reason }. `spawn(cmd, args)` is the harness's
 * tracked spawn; `dir` is a scratch directory.
 */
export async function prepare ({ dir, spawn }, { durability }) {
  if (!existsSync(CLI)) return { error: 'dist/src/cli/main.js missing (npm run build)' }
  if (!existsSync(fileURLToPath(SDK))) return { error: 'dist/sdk/index.js missing (npm run build)' }
  if (durabilityFlag === null) {
    const { socket, cmd, args } = daemonCommand(dir, ['--durability', 'memory'])
    const child = spawn(cmd, args)
    let stderr = ''
    child.stderr?.on('data', (d) => { stderr += d })
    child.stdout?.on('data', () => {})
    let exited = null
    child.on('exit', (code) => { exited = code })
    try {
      await waitForSocket(socket, { timeoutMs: 8000, gone: () => exited !== null && `exit ${exited}` })
      durabilityFlag = true
    } catch {
      // A usage error for the flag means the daemon predates it; anything else is a real failure.
      if (exited !== null && /durab|usage|unknown|option|argument/i.test(stderr)) durabilityFlag = false
      else return { error: `daemon did not start: ${(stderr.trim().split('\n').pop() || 'no output').slice(0, 120)}` }
    } finally {
      if (exited === null) { child.kill('SIGTERM'); for (let i = 0; i < 100 && exited === null; i++) await sleep(20) }
      if (exited === null) child.kill('SIGKILL')
    }
  }
  if (!durabilityFlag && durability !== 'memory') return { skip: 'n/a (not built yet)' }
  return null
}

export function serverCommand (dir, { durability }) {
  return daemonCommand(dir, durability === 'memory' && durabilityFlag ? ['--durability', 'memory'] : [])
}

export async function connect (socket) {
  const { connect } = await import(SDK)
  const client = await connect({ socket, spawn: false })
  const subs = []
  let closing = false
  return {
    send: (recipient, content) => client.send(recipient, content),
    receive: (recipient) => client.receive(recipient).then((m) => m.content),
    publish: (topic, content) => client.publish(topic, content),
    /** A plain (non-durable) subscription, default bound and batch size; resolves once the daemon has it. */
    async subscribe (topic, onMessage, onError) {
      const sub = await client.subscribe(topic)
      subs.push(sub)
      ;(async () => {
        try { for await (const batch of sub.batches()) for (const m of batch) onMessage(m.content) } catch (e) { if (!closing) onError(e) }
        if (!closing) onError(new Error('subscription ended'))
      })()
    },
    /** Messages the durable store has written since the daemon started (status().store); null in memory mode. */
    async storeWrites () {
      const s = (await client.status()).store
      return s ? { journal: Number(s.journalWrites), database: Number(s.databaseWrites) } : null
    },
    /** The daemon's counters for this connection's subscriptions (status().subscriptions). */
    async subStats () {
      const st = await client.status()
      const mine = st.subscriptions.filter((s) => subs.some((sub) => sub.id === s.id))
      const sum = (k) => mine.reduce((a, s) => a + Number(s[k]), 0)
      return { dropped: sum('dropped'), queued: sum('queued'), serverDelivered: sum('delivered'), found: mine.length }
    },
    async close () {
      closing = true
      await Promise.allSettled(subs.map((s) => s.close()))
      await client.close()
    }
  }
}
