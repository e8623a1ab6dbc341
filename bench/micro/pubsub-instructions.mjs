// bench/micro/pubsub-instructions.mjs — pub/sub fan-out counted by callgrind, for thriftbus beside Redis: the
// instructions a subscriber runs per message it receives (thriftbus's SDK, or the `redis` npm client), or those
// the server runs per message it delivers (the daemon, or redis-server). Subscribers are the bench's own adapters
// (bench/peers/*.mjs), one process each, counting messages with the callback bench/worker.mjs uses; this process
// starts the server and publishes. A round is BURST 100-byte messages (256 outstanding); each subscriber says it
// has them by publishing its count on a second topic. Counting starts after WARM rounds, covers N rounds, and
// counts user space only.
//   node bench/micro/pubsub-instructions.mjs [subscriber|server] [thriftbus-memory|thriftbus|redis] [N=10] [--by-function] [--callers=NAME]
// Environment: SUBS (subscribers; default 1 when counting a subscriber, 10 when counting the server), BURST
// (2560), TOP (40 functions listed). Needs valgrind, and redis-server for redis.
// What is counted runs about 50 times slower than the rest: a counted subscriber lags and reads full batches
// (thriftbus: 256 a poll; redis: what one socket read holds), while a counted server serves subscribers that
// keep up, so its polls are small. Compare rows within one side, not across sides.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitForSocket } from '../common.mjs'
import { count, report, startNode, totalOf } from './callgrind.mjs'

const HERE = fileURLToPath(import.meta.url)
const TOPIC = 'bench.news'
const PROGRESS = 'bench.progress'
const BURST = Number(process.env.BURST ?? 2560)
const WINDOW = 256
const adapterOf = (row) => new URL(`../peers/${row === 'redis' ? 'redis' : 'thriftbus'}.mjs`, import.meta.url).href

if (process.argv[2] === '--child') {
  // A subscriber: argv row, socket, its number. It reports its count after every BURST messages.
  const [,,, row, socket, who] = process.argv
  const peer = await import(adapterOf(row))
  const c = await peer.connect(socket)
  const box = { count: 0, bytes: 0, total: 0, last: 0, winStart: 0, winEnd: Infinity, error: null }
  await c.subscribe(TOPIC, (content) => {
    const t = performance.now()
    box.total++; box.last = t
    if (t >= box.winStart && t < box.winEnd) { box.count++; box.bytes += content.length }
    if (box.total % BURST === 0) c.publish(PROGRESS, `${who} ${box.total}`)
  }, (e) => { console.error(e); process.exit(1) })
  c.publish(PROGRESS, 'ready')
  process.stdin.on('end', () => c.close().then(() => process.exit(0)))
  process.stdin.resume()
} else {
  const [side = 'subscriber', row = 'thriftbus-memory', nArg = '10'] = process.argv.slice(2).filter((a) => !a.startsWith('--'))
  if (side !== 'subscriber' && side !== 'server') throw new Error(`count the subscriber or the server, not ${side}`)
  const countServer = side === 'server'
  const SUBS = Number(process.env.SUBS ?? (countServer ? 10 : 1))
  const byFunction = process.argv.includes('--by-function')
  const callersOf = process.argv.find((a) => a.startsWith('--callers='))?.slice('--callers='.length)
  const N = Number(nArg)
  const WARM = 10
  const peer = await import(adapterOf(row))
  const dir = mkdtempSync(join(tmpdir(), 'tb-sub-instr-'))
  const out = join(dir, 'callgrind.out')
  const opts = row === 'redis' ? {} : { durability: row === 'thriftbus' ? 'durable' : 'memory' }
  if (peer.prepare) {
    const failed = await peer.prepare({ dir, spawn: (cmd, args) => spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }) }, opts)
    if (failed) throw new Error(JSON.stringify(failed))
  }
  const { socket, cmd, args } = peer.serverCommand(dir, opts)
  const server = countServer ? startNode(true, args, out, cmd) : spawn(cmd, args, { stdio: 'ignore' })
  const children = []
  let c
  try {
    await waitForSocket(socket, { timeoutMs: 20000 })
    c = await peer.connect(socket)
    let waiting = null
    let reported = 0 // what the slowest subscriber has
    let ready = 0
    const counts = new Map()
    await c.subscribe(PROGRESS, (s) => {
      if (s === 'ready') ready++
      else {
        const [who, n] = s.split(' ').map(Number)
        counts.set(who, n)
        if (counts.size === SUBS) reported = Math.min(...counts.values())
      }
      waiting?.()
    }, (e) => { throw e })
    const progress = () => new Promise((resolve) => { waiting = resolve })
    for (let i = 0; i < SUBS; i++) children.push(startNode(!countServer && i === 0, [HERE, '--child', row, socket, String(i)], out))
    while (ready < SUBS) await progress()
    const payload = 'x'.repeat(100)
    let published = 0
    const round = async () => {
      let inflight = 0
      let sent = 0
      await new Promise((resolve, reject) => {
        const pump = () => {
          while (inflight < WINDOW && sent < BURST) {
            inflight++; sent++
            c.publish(TOPIC, payload).then(() => { inflight--; if (sent < BURST) pump(); else if (inflight === 0) resolve() }, reject)
          }
        }
        pump()
      })
      published += BURST
      while (reported < published) await progress()
    }
    for (let i = 0; i < WARM; i++) await round()
    const text = await count(countServer ? server : children[0], out, async () => { for (let i = 0; i < N; i++) await round() })
    const received = N * BURST * (countServer ? SUBS : 1)
    console.log(`${row} ${countServer ? 'server' : 'subscriber'}: ${Math.round(totalOf(text) / received)} instructions a ${countServer ? 'delivered' : 'received'} message (${N} rounds of ${BURST}, ${SUBS} subscriber${SUBS === 1 ? '' : 's'})`)
    if (byFunction) {
      const map = `/tmp/perf-${(countServer ? server : children[0]).pid}.map`
      report(text, existsSync(map) ? readFileSync(map, 'utf8') : '', received, { top: Number(process.env.TOP ?? 40), callersOf })
    }
  } finally {
    for (const child of children) child.stdin.end()
    await c?.close()
    server.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
}
