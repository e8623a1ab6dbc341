// bench/micro/fanout-instructions.mjs — the daemon's instructions per delivered message in pub/sub fan-out,
// counted by callgrind. One publisher and SUBS subscriptions (one connection each) on one topic, all driven
// by this process. A round publishes BURST 100-byte messages (pipelined), then each subscriber polls (up to
// 256 a poll, no waiting) until it has them all. That is the daemon's work in the `fanout` scenario of
// `npm run bench`, where subscribers fall behind and every poll takes a full batch from a queue, without the
// scheduling noise. Counting starts after a warm-up and covers N rounds; it counts user space only.
//   node bench/micro/fanout-instructions.mjs [memory|durable] [N=20] [--by-function] [--callers=NAME]
// Environment: SUBS (10), BURST (2560), TOP (40 functions listed). Needs valgrind.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitForSocket } from '../common.mjs'
import { count, report, startNode, totalOf } from './callgrind.mjs'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const [kind = 'memory', nArg = '20'] = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const byFunction = process.argv.includes('--by-function')
const callersOf = process.argv.find((a) => a.startsWith('--callers='))?.slice('--callers='.length)
const N = Number(nArg)
const WARM = 30
const SUBS = Number(process.env.SUBS ?? 10)
const BURST = Number(process.env.BURST ?? 2560)
const TOPIC = 'bench.news'

const { connect } = await import(join(ROOT, 'dist/sdk/index.js'))
const { PubSub } = await import(join(ROOT, 'dist/src/gen/thriftbus.js'))

const dir = mkdtempSync(join(tmpdir(), 'tb-fan-instr-'))
const sock = join(dir, 's.sock')
const out = join(dir, 'callgrind.out')
mkdirSync(join(dir, 'state'))
const daemon = startNode(true, [join(ROOT, 'dist/src/cli/main.js'), 'daemon', '--socket', sock, '--state-dir', join(dir, 'state'), '--durability', kind], out)
const clients = []
try {
  await waitForSocket(sock, { timeoutMs: 60000 })
  const open = async () => {
    const c = await connect({ socket: sock, spawn: false, callTimeoutMs: 600_000 })
    clients.push(c)
    return c
  }
  const publisher = await open()
  const subscribers = []
  for (let i = 0; i < SUBS; i++) {
    const c = await open()
    const id = await c.rpc(PubSub.methods.subscribe, { pattern: TOPIC, durableName: '', maxQueued: 0 }, c.plain({}))
    subscribers.push({ c, id })
  }
  const payload = 'x'.repeat(100)
  const round = async () => {
    const acks = []
    for (let i = 0; i < BURST; i++) acks.push(publisher.publish(TOPIC, payload))
    await Promise.all(acks)
    await Promise.all(subscribers.map(async ({ c, id }) => {
      let got = 0
      while (got < BURST) {
        const batch = await c.rpc(PubSub.methods.poll, { subscription: id, max: 256, timeoutMs: 0 }, c.plain({}))
        if (batch.length === 0) throw new Error(`subscription ${id} got ${got} of ${BURST} messages`)
        got += batch.length
      }
    }))
  }
  for (let i = 0; i < WARM; i++) await round()
  const text = await count(daemon, out, async () => { for (let i = 0; i < N; i++) await round() })
  const delivered = N * BURST * SUBS
  console.log(`${kind} daemon: ${Math.round(totalOf(text) / delivered)} instructions a delivered message (${N} rounds of ${BURST} messages to ${SUBS} subscribers)`)
  if (byFunction) report(text, readFileSync(`/tmp/perf-${daemon.pid}.map`, 'utf8'), delivered, { top: Number(process.env.TOP ?? 40), callersOf })
} finally {
  await Promise.allSettled(clients.map((c) => c.close()))
  daemon.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
}
