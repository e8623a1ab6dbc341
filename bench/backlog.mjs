#!/usr/bin/env node
// bench/backlog.mjs — a durable daemon with a large backlog: how much memory it holds, and how long a restart
// after kill -9 takes until it listens, answers, and hands out the oldest message.
//
//   node bench/backlog.mjs [--count 1000000] [--size 100] [--durability durable|fsync]
//
// Steps: start `thriftbus daemon` (dist/, built by `npm run build`) in a fresh temp folder; fill one mailbox
// with --count messages of --size bytes through the SDK (256 outstanding sends); read the daemon's RSS; kill -9
// it; start it again on the same folder and time (wall clock, from spawn): "listening" printed, first
// mailboxStats answered, first message received. Then RSS again, the store's size on disk, and a drain of the
// first 100,000 messages in order. Prints a Markdown table and writes bench/results/backlog-<time>.json.
import { spawn } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir, cpus } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { rssKiB } from './common.mjs'

const args = process.argv.slice(2)
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : dflt
}
const COUNT = Number(opt('count', '1000000'))
const SIZE = Number(opt('size', '100'))
const DURABILITY = opt('durability', 'durable')
const CLI = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url))
const { connect } = await import(new URL('../dist/sdk/index.js', import.meta.url).href)

const dir = mkdtempSync(join(tmpdir(), 'tb-backlog-'))
const socket = join(dir, 'bus.sock')
const state = join(dir, 'state')
mkdirSync(state)

function startDaemon () {
  const t0 = performance.now()
  const child = spawn(process.execPath, [CLI, 'daemon', '--socket', socket, '--state-dir', state, '--durability', DURABILITY], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr.on('data', (d) => (err += d))
  const listening = new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      if (out.includes('listening on')) resolve(performance.now() - t0)
    })
    child.on('exit', (code) => reject(new Error(`daemon exited ${code}: ${err}`)))
  })
  return { child, t0, listening, exited: new Promise((resolve) => child.on('exit', resolve)) }
}

const payload = 'x'.repeat(SIZE)
const result = { date: new Date().toISOString(), nproc: cpus().length, node: process.version, count: COUNT, size: SIZE, durability: DURABILITY }
try {
  let d = startDaemon()
  await d.listening
  const rssRest = rssKiB(d.child.pid)
  const c = await connect({ socket, spawn: false, reconnect: false })
  const fillStart = performance.now()
  const inFlight = new Set()
  for (let i = 0; i < COUNT; i++) {
    const p = c.send('backlog', payload)
    inFlight.add(p)
    p.finally(() => inFlight.delete(p))
    if (inFlight.size >= 256) await Promise.race(inFlight)
  }
  await Promise.all(inFlight)
  result.fillSeconds = (performance.now() - fillStart) / 1000
  result.depth = (await c.mailboxStats('backlog')).depth
  await new Promise((r) => setTimeout(r, 500))
  result.rssRestMiB = rssRest / 1024
  result.rssQueuedMiB = rssKiB(d.child.pid) / 1024
  await c.close()
  d.child.kill('SIGKILL')
  await d.exited
  result.storeMiB = ['thriftbus.db', 'thriftbus.db-wal', 'thriftbus.journal'].reduce((n, f) => {
    try { return n + statSync(join(state, f)).size } catch { return n }
  }, 0) / 2 ** 20

  d = startDaemon()
  result.restartListeningMs = await d.listening
  const c2 = await connect({ socket, spawn: false, reconnect: false })
  const stats = await c2.mailboxStats('backlog')
  result.restartStatsMs = performance.now() - d.t0
  result.depthAfterRestart = stats.depth
  const first = await c2.receive('backlog', { timeoutMs: 0 })
  result.restartFirstMessageMs = performance.now() - d.t0
  result.firstId = first.id
  result.rssAfterRestartMiB = rssKiB(d.child.pid) / 1024
  const drainStart = performance.now()
  let n = 1
  let last = first.id
  let inOrder = true
  while (n < Math.min(100_000, COUNT)) {
    const batch = await c2.receiveMany('backlog', 1000, { timeoutMs: 0 })
    for (const m of batch) {
      if (m.id <= last) inOrder = false
      last = m.id
    }
    n += batch.length
  }
  result.drain100kSeconds = (performance.now() - drainStart) / 1000
  result.drainInOrder = inOrder
  result.rssAfterDrainMiB = rssKiB(d.child.pid) / 1024
  await c2.close()
  d.child.kill('SIGTERM')
  await d.exited
} finally {
  rmSync(dir, { recursive: true, force: true })
}

const f = (v, digits = 1) => (typeof v === 'number' ? v.toFixed(digits) : String(v))
console.log(`\nbacklog: ${COUNT.toLocaleString('en')} × ${SIZE} B, --durability ${DURABILITY}, ${result.date}, nproc ${result.nproc}, Node ${result.node}\n`)
console.log('| measure | value |\n|---|---|')
console.log(`| fill (SDK, 256 outstanding) | ${f(result.fillSeconds)} s (${f(COUNT / result.fillSeconds, 0)} msgs/s) |`)
console.log(`| RSS at rest / with the backlog | ${f(result.rssRestMiB)} / ${f(result.rssQueuedMiB)} MiB |`)
console.log(`| store on disk | ${f(result.storeMiB)} MiB |`)
console.log(`| restart after kill -9: listening | ${f(result.restartListeningMs, 0)} ms |`)
console.log(`| restart: first mailboxStats answered (depth ${result.depthAfterRestart}) | ${f(result.restartStatsMs, 0)} ms |`)
console.log(`| restart: first message received (id ${result.firstId}) | ${f(result.restartFirstMessageMs, 0)} ms |`)
console.log(`| RSS after restart / after draining 100k | ${f(result.rssAfterRestartMiB)} / ${f(result.rssAfterDrainMiB)} MiB |`)
console.log(`| drain of 100k after restart | ${f(result.drain100kSeconds, 2)} s, in order: ${result.drainInOrder} |`)
const out = fileURLToPath(new URL(`./results/backlog-${result.date.replace(/[:.]/g, '-')}.json`, import.meta.url))
mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true })
writeFileSync(out, JSON.stringify(result, null, 2) + '\n')
console.log(`\nwrote ${out}`)
