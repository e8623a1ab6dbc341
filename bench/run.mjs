#!/usr/bin/env node
// bench/run.mjs — the thriftbus benchmark harness (`npm run bench`).
// Runs every peer (ceiling, thrift-plain, node-ipc, redis, redis-aof,
// thriftbus-memory, thriftbus) through the same mailbox scenarios, each server
// and each client in its own process, on Unix sockets in a fresh temp dir.
// Peers are interleaved and rotated every repetition; the table shows medians
// over the reps and the median of the per-rep ratios to the ceiling row. `rtt`
// runs all peers of a rep at once, each pinging alone in turn for short slices,
// so that all of them see the same machine (rttSession).
// Two more scenarios have a table of their own: `fanout` (pub/sub: one
// publisher, 10 subscribers) and `reqresp` (a stock Thrift service called
// directly, the thrift-plain row, and through the daemon's routing).
// Results: Markdown tables on stdout, raw numbers in bench/results/*.json.
//
//   node bench/run.mjs [--quick] [--reps N] [--duration MS] [--warmup MS] [--slice MS]
//                      [--peers a,b] [--scenarios a,b] [--no-queue] [--verbose]
import { fork, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cpuTotals, cpuUs, median, rssKiB, sleep, waitForSocket } from './common.mjs'
import { generate as generateExample, providerCommand } from './peers/example-service.mjs'

const HERE = fileURLToPath(new URL('.', import.meta.url))
const WORKER = join(HERE, 'worker.mjs')
const peerModule = (file) => new URL(`./peers/${file}`, import.meta.url).href

// ---- options ---------------------------------------------------------------
const argv = process.argv.slice(2)
const flag = (name) => argv.includes(`--${name}`)
const opt = (name, dflt) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : dflt }
const quick = flag('quick')
const cfg = {
  mode: quick ? 'quick' : 'full',
  reps: Number(opt('reps', 3)),
  // Unmeasured start of every run. Full: 2 s, because a fresh daemon's CPU per message falls for its first
  // 2-3 s under load while V8 optimises it (bench/README.md), and the servers compared here live for hours.
  warmupMs: Number(opt('warmup', quick ? 30 : 2000)),
  durationMs: Number(opt('duration', quick ? 150 : 1500)), // the measured window of every run
  window: 256, // outstanding sends per sender / parked receives per receiver
  // --quick keeps one server per peer for the whole run (every run uses its own mailboxes),
  // warmed once by an unmeasured tput100 run, to fit in ~40 s; the full run starts a fresh
  // server for every peer x scenario x rep.
  serverPer: quick ? 'run' : 'scenario',
  prewarmMs: quick ? 400 : 0,
  // Full: before the first rep, every row's clients run fan-out once, unmeasured, for this long (--prime MS).
  // The pool's client processes otherwise meet pub/sub first in rep 0, which then measures their start-up
  // (bench/README.md), while the apps compared here live for hours.
  primeMs: Number(opt('prime', quick ? 0 : 4000)),
  queue1M: !quick && !flag('no-queue'),
  maxCount: 5_000_000
}

// `na`: scenarios a row does not run, and why (shown in the table). `reqresp`: 'direct' is the stock
// Thrift server the routed rows are compared with; 'routed' goes through the daemon.
const NOT_ROUTED = 'n/a (not routed; direct = thrift-plain row)'
const PEERS = [
  { name: 'ceiling', file: 'ceiling.mjs', na: { reqresp: NOT_ROUTED } },
  { name: 'thrift-plain', file: 'thrift-plain.mjs', reqresp: 'direct', na: { fanout: 'n/a (the stock thrift server has no pub/sub)' } },
  { name: 'node-ipc', file: 'node-ipc.mjs', na: { reqresp: NOT_ROUTED } },
  { name: 'redis', file: 'redis.mjs', opts: { aof: false }, na: { reqresp: NOT_ROUTED } },
  { name: 'redis-aof', file: 'redis.mjs', opts: { aof: true }, na: { fanout: 'n/a (PUBLISH is not written to the AOF: see redis)', reqresp: NOT_ROUTED } },
  { name: 'thriftbus-memory', file: 'thriftbus.mjs', opts: { durability: 'memory' }, reqresp: 'routed' },
  // Routing does not touch the store: --quick runs reqresp through the memory daemon only.
  { name: 'thriftbus', file: 'thriftbus.mjs', opts: { durability: 'durable' }, reqresp: 'routed', na: quick ? { reqresp: 'n/a in --quick (same routing as thriftbus-memory)' } : {} }
].filter((p) => !opt('peers') || opt('peers').split(',').includes(p.name))
const naReason = (peer, sc) => peer.na?.[sc.name] ?? null

// Each scenario returns the client jobs of one run; `n` makes mailbox names unique per run.
const range = (k) => [...Array(k).keys()]
const W = cfg.window
const FANOUT_SUBSCRIBERS = 10
const RR_WINDOW = 64 // outstanding calls in reqresp's first phase
const ALL_SCENARIOS = [
  { name: 'tput100', cpu: true, jobs: (n) => [{ role: 'receiver', boxes: [`${n}.in`], window: W }, { role: 'sender', boxes: [`${n}.in`], size: 100, window: W }] },
  { name: 'tput4k', jobs: (n) => [{ role: 'receiver', boxes: [`${n}.in`], window: W }, { role: 'sender', boxes: [`${n}.in`], size: 4096, window: W }] },
  // The multi-process scenarios keep the total in flight at 256 sends and ~256 parked receives,
  // as in tput100, so they measure the cost of more connections, not of a deeper pipeline.
  // 8 sender processes (32 outstanding each) into one mailbox drained by one receiver.
  { name: 'senders8', jobs: (n) => [{ role: 'receiver', boxes: [`${n}.in`], window: W }, ...range(8).map(() => ({ role: 'sender', boxes: [`${n}.in`], size: 100, window: W / 8 }))] },
  // 100 mailboxes: 4 senders (64 outstanding each) round-robin over all 100 (staggered start),
  // 2 receivers covering 50 mailboxes each with 3 receives parked per mailbox.
  {
    name: 'mbox100',
    jobs: (n) => {
      const boxes = range(100).map((i) => `${n}.m${i}`)
      return [{ role: 'receiver', boxes: boxes.slice(0, 50), window: W / 2 }, { role: 'receiver', boxes: boxes.slice(50), window: W / 2 },
        ...range(4).map((i) => ({ role: 'sender', boxes, offset: i * 25, size: 100, window: W / 4 }))]
    }
  },
  // rtt runs every row at once, interleaved in short slices (rttSession): `sliced`.
  { name: 'rtt', sliced: true, jobs: (n) => [{ role: 'ponger', myBox: `${n}.b`, peerBox: `${n}.a` }, { role: 'pinger', myBox: `${n}.a`, peerBox: `${n}.b`, size: 100 }] },
  // Pub/sub fan-out: 10 subscriber processes on one topic (subscribed before the run starts), one
  // publisher (up to 256 publishes outstanding) of 100 B messages. Delivered = messages the subscribers
  // got inside the window, all of them together; the subscribers then drain so that the harness can
  // check received + dropped (by a server's bound) = acked publishes x 10.
  {
    name: 'fanout',
    kind: 'fanout',
    jobs: (n) => [...range(FANOUT_SUBSCRIBERS).map(() => ({ role: 'subscriber', topic: `${n}.news` })),
      { role: 'publisher', topic: `${n}.news`, size: 100, window: W }]
  },
  // Request/response: one stock Thrift client process calling processRequest(100 B) of ExampleService
  // (echo) on a provider process, directly or through the daemon; two phases per run (64 outstanding,
  // then 1). The provider is started per run (full) or once per row (quick), outside the measurement.
  { name: 'reqresp', kind: 'reqresp', jobs: () => [{ role: 'caller', size: 100, window: RR_WINDOW }] }
]
// --quick shortens the new scenarios further (their runs start more processes or run two phases), unless
// --warmup/--duration are given; the full run uses cfg's timing for every scenario.
const QUICK_TIMING = { fanout: { warmupMs: 30, durationMs: 100 }, reqresp: { warmupMs: 20, durationMs: 100 } }
// The full run measures round trips warm, for every row: a fresh server and fresh clients are still being
// optimised by V8 for the first few thousand round trips (JIT work in helper threads, mprotect and madvise
// calls), while the daemons and apps this compares live for hours.
const FULL_TIMING = { rtt: { warmupMs: 3000, durationMs: 1500 }, fanout: { warmupMs: 4000, durationMs: 1500 } }
const timingOf = (sc) => (!opt('warmup') && !opt('duration') && (quick ? QUICK_TIMING : FULL_TIMING)[sc.name]) || cfg
// rtt's measured window is cut into slices of about this length (--slice MS), the same number for every row.
const SLICE_MS = Number(opt('slice', quick ? 25 : 100))
// Each slice starts with an unmeasured lead-in: the first round trips after the pair sat idle are
// 2-30x slower (caches and the idle vCPU are cold), an effect of the slicing itself.
const slicing = (timing) => {
  const slices = Math.max(1, Math.round(timing.durationMs / SLICE_MS))
  const sliceMs = timing.durationMs / slices
  return { slices, sliceMs, leadMs: Math.min(10, sliceMs / 5) }
}
const SCENARIOS = ALL_SCENARIOS.filter((s) => !opt('scenarios') || opt('scenarios').split(',').includes(s.name))
for (const name of opt('scenarios')?.split(',') ?? []) {
  if (!ALL_SCENARIOS.some((s) => s.name === name)) {
    console.error(`bench: unknown scenario '${name}' (known: ${ALL_SCENARIOS.map((s) => s.name).join(' ')})`)
    process.exit(2)
  }
}
const MAILBOX = (sc) => !sc.kind
// What the bench does not measure (printed under the tables).
const LATER = ['durable subscriptions and pattern subscriptions (fanout uses plain exact-topic ones)', 'oneway calls and helper activation through the daemon']

// ---- process tracking: everything we start is stopped, also on failure/SIGINT ----
const children = new Set()
function track (child) {
  children.add(child)
  child.on('exit', () => children.delete(child))
  return child
}
const trackedSpawn = (cmd, args) => track(spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] }))
async function stopChild (child, ms = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  if (await Promise.race([exited.then(() => true), sleep(ms).then(() => false)])) return
  child.kill('SIGKILL')
  await Promise.race([exited, sleep(1000)])
}
const killAllNow = () => { for (const c of children) try { process.kill(c.pid, 'SIGKILL') } catch {} }
let tmpRoot = null
const removeTmp = () => { if (tmpRoot) try { rmSync(tmpRoot, { recursive: true, force: true }) } catch {} }
process.on('exit', () => { killAllNow(); removeTmp() })
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => { console.error(`\nbench: ${sig}, stopping ${children.size} processes`); killAllNow(); removeTmp(); process.exit(130) })
}
const tail = (s, n = 200) => s.trim().split('\n').slice(-2).join(' | ').slice(-n)

// ---- client worker pool -----------------------------------------------------
class Worker {
  constructor () {
    this.msgs = []; this.wake = null; this.stderr = ''
    this.child = track(fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] }))
    this.child.stderr.on('data', (d) => { this.stderr = (this.stderr + d).slice(-4000) })
    this.child.on('message', (m) => { this.msgs.push(m); if (m.type === 'error') this.onError?.(m); this.wake?.() })
    this.child.on('exit', () => { this.dead = true; this.wake?.() })
  }

  send (m) { if (!this.dead) this.child.send(m) }

  async next (type, timeoutMs) {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = this.msgs.findIndex((m) => m.type === type || m.type === 'error')
      if (i >= 0) {
        const [m] = this.msgs.splice(i, 1)
        if (m.type === 'error') throw new Error(m.message)
        return m
      }
      if (this.dead) throw new Error(`client process died: ${tail(this.stderr) || 'no output'}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`client timed out waiting for '${type}'`)
      await new Promise((resolve) => { const t = setTimeout(resolve, left); this.wake = () => { clearTimeout(t); resolve() } })
    }
  }
}
let pool = []
async function ensurePool (size) {
  pool = pool.filter((w) => !w.dead)
  const fresh = []
  while (pool.length < size) { const w = new Worker(); fresh.push(w); pool.push(w) }
  await Promise.all(fresh.map((w) => w.next('hello', 15000)))
}
async function replaceWorkers (ws) {
  await Promise.all(ws.map((w) => stopChild(w.child, 500)))
  pool = pool.filter((w) => !ws.includes(w))
}

// ---- servers ----------------------------------------------------------------
let runSeq = 0
async function startServer (peer) {
  const dir = join(tmpRoot, `r${++runSeq}`)
  mkdirSync(dir, { mode: 0o700 })
  const { socket, cmd, args } = peer.mod.serverCommand(dir, peer.opts || {})
  const child = trackedSpawn(cmd, args)
  let out = ''
  child.stdout.on('data', (d) => { out = (out + d).slice(-4000) })
  child.stderr.on('data', (d) => { out = (out + d).slice(-4000) })
  child.on('error', (e) => { out += `\n${e.message}` })
  const gone = () => (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) &&
    `server exited (${child.exitCode ?? child.signalCode ?? 'spawn failed'}): ${tail(out) || 'no output'}`
  try {
    await waitForSocket(socket, { timeoutMs: 15000, gone })
  } catch (e) { await stopChild(child); throw e }
  await sleep(50)
  return { child, socket, pid: child.pid, rssRestKiB: rssKiB(child.pid) }
}

// ---- request/response: the generated ExampleService code and its providers ----
let exampleGen = null // { dir } | { error }
function exampleCode () {
  if (!exampleGen) {
    try { exampleGen = { dir: generateExample(join(tmpRoot, 'example')) } } catch (e) { exampleGen = { error: String(e.message).split('\n')[0] } }
  }
  if (exampleGen.error) throw new Error(exampleGen.error)
  return exampleGen.dir
}

/**
 * Starts an ExampleService provider for the peer's reqresp row: 'direct' listens on its own socket; 'routed'
 * registers with the peer's (running) daemon. Resolves once it prints "ready" with the endpoint the caller
 * uses: { socket, connect: options for example-service.mjs connect(), child }.
 */
async function startProvider (peer, server) {
  const genDir = exampleCode()
  const direct = peer.reqresp === 'direct'
  const dir = join(tmpRoot, `p${++runSeq}`)
  mkdirSync(dir, { mode: 0o700 })
  const socket = direct ? join(dir, 'example.sock') : server.socket
  const { cmd, args } = providerCommand(genDir, direct ? 'listen' : 'daemon', socket)
  const child = trackedSpawn(cmd, args)
  let out = ''
  let ready = false
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ExampleService provider not ready after 15 s')), 15000)
    child.stdout.on('data', (d) => { if (!ready && String(d).includes('ready')) { ready = true; clearTimeout(timer); resolve() } })
    child.stderr.on('data', (d) => { out = (out + d).slice(-4000) })
    child.on('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`ExampleService provider exited (${code ?? sig}): ${tail(out) || 'no output'}`)) })
  }).catch(async (e) => { await stopChild(child); throw e })
  return { child, socket, pid: child.pid, connect: { genDir, multiplexed: !direct } }
}

// ---- one run: one scenario against one server --------------------------------
// `target`: where the clients connect, { socket, module?, connect? } (default: the peer's own server and module).
async function runScenario (peer, server, sc, tag, timing = cfg, target = server) {
  const module = target.module ?? peerModule(peer.file)
  const jobs = sc.jobs(tag).map((j) => ({ maxCount: cfg.maxCount, ...j, module, socket: target.socket, connect: target.connect }))
  await ensurePool(jobs.length)
  const ws = pool.slice(0, jobs.length)
  try {
    ws.forEach((w) => { w.msgs = [] })
    ws.forEach((w, i) => w.send({ cmd: 'job', job: jobs[i] }))
    await Promise.all(ws.map((w) => w.next('ready', 20000)))
    // Server CPU over the measured window: read /proc at its start and end (harness clock).
    // fanout also reads its clients', by role, to tell where a delivered message's CPU goes.
    const cpu = {}
    const clientCpu = () => sc.kind !== 'fanout' ? null : jobs.map((j, i) => ({ role: j.role, us: cpuUs(ws[i].child.pid) }))
    const cpuRead = !sc.cpu && sc.kind !== 'fanout' ? null : new Promise((resolve) => {
      setTimeout(() => { cpu.start = cpuUs(server.pid); cpu.clientsStart = clientCpu() }, timing.warmupMs)
      setTimeout(() => { cpu.end = cpuUs(server.pid); cpu.clientsEnd = clientCpu(); resolve() }, timing.warmupMs + timing.durationMs)
    })
    ws.forEach((w) => w.send({ cmd: 'go', warmupMs: timing.warmupMs, durationMs: timing.durationMs }))
    const limit = 2 * (timing.warmupMs + timing.durationMs) + 15000 // reqresp's caller runs two phases
    // Pongers and subscribers report only after 'stop' (or fail early).
    const measured = ws.filter((w, i) => jobs[i].role !== 'ponger' && jobs[i].role !== 'subscriber')
    const others = ws.filter((w) => !measured.includes(w)) // they report only after 'stop', or fail early
    const results = new Map()
    const failure = new Promise((resolve, reject) => others.forEach((w) => { w.onError = (m) => reject(new Error(m.message)) }))
    try {
      await Promise.race([failure, Promise.all(measured.map(async (w) => results.set(w, (await w.next('result', limit)).result)))])
    } finally { others.forEach((w) => { w.onError = null }) }
    await cpuRead
    // Subscribers drain until they have what the publisher got acked (or go quiet): tell them how much.
    const expect = jobs.reduce((a, j, i) => a + (j.role === 'publisher' ? results.get(ws[i])?.acked ?? 0 : 0), 0)
    ws.forEach((w) => w.send({ cmd: 'stop', expect }))
    for (const w of ws) if (!results.has(w)) results.set(w, (await w.next('result', 8000)).result)
    await Promise.all(ws.map((w) => w.next('idle', 5000)))
    return summarize(sc, jobs.map((j, i) => ({ role: j.role, ...results.get(ws[i]) })), cpu, timing)
  } catch (e) {
    await replaceWorkers(ws) // a stuck or crashed client is not reused
    throw e
  }
}

function summarize (sc, results, cpu, timing) {
  const errors = results.map((r) => r.error).filter(Boolean)
  const seconds = timing.durationMs / 1000
  if (sc.kind === 'fanout') {
    if (errors.length) throw new Error(errors[0])
    const pub = results.find((r) => r.role === 'publisher')
    const subs = results.filter((r) => r.role === 'subscriber')
    const delivered = subs.reduce((a, r) => a + r.count, 0)
    if (delivered === 0) throw new Error('no message delivered')
    const received = subs.reduce((a, r) => a + r.total, 0)
    const dropped = subs.every((r) => r.dropped == null) ? null : subs.reduce((a, r) => a + (r.dropped ?? 0), 0)
    const expected = pub.acked * subs.length
    // CPU µs per message delivered inside the window: the server's, all subscribers' together, the publisher's.
    const perDelivered = (role) => {
      if (!cpu.clientsStart || !cpu.clientsEnd) return null
      const us = cpu.clientsEnd.reduce((a, c, i) => a + (c.role === role ? c.us - cpu.clientsStart[i].us : 0), 0)
      return us / delivered
    }
    return {
      serverCpuUsPerMsg: cpu.start != null && cpu.end != null ? (cpu.end - cpu.start) / delivered : null,
      subscribersCpuUsPerMsg: perDelivered('subscriber'),
      publisherCpuUsPerMsg: perDelivered('publisher'),
      deliveredPerSec: delivered / seconds,
      publishesPerSec: pub.ackedInWindow / seconds,
      delivered,
      published: pub.acked, // every acked publish of the run, warm-up included
      expected, // published x subscribers
      received, // every message the subscribers got, drain included
      dropped, // by the server's per-subscription bound, where it can tell (null: cannot)
      // Published to a subscriber but neither received nor reported dropped: must be 0.
      missing: expected - received - (dropped ?? 0),
      receivedPct: expected ? (100 * received) / expected : null,
      subscribers: subs.length,
      perSubscriber: subs.map((r) => ({ count: r.count, total: r.total, dropped: r.dropped, ...(r.stats ? { stats: r.stats } : {}) }))
    }
  }
  if (sc.kind === 'reqresp') {
    if (errors.length) throw new Error(errors[0])
    const c = results.find((r) => r.role === 'caller')
    if (!c.calls) throw new Error('no call completed')
    if (!c.samples) throw new Error('no serial call completed')
    return { callsPerSec: c.calls / seconds, calls: c.calls, window: c.window, p50Us: c.p50, p99Us: c.p99, maxUs: c.max, samples: c.samples }
  }
  const acked = results.filter((r) => r.role === 'sender').reduce((a, r) => a + r.acked, 0)
  if (!results.some((r) => r.role !== 'sender')) return { acked, error: errors[0] } // a fill: no receiver
  if (errors.length) throw new Error(errors[0])
  if (sc.name === 'rtt') {
    const p = results.find((r) => r.role === 'pinger')
    if (!p.samples) throw new Error('no round trip completed')
    return { p50Us: p.p50, p99Us: p.p99, maxUs: p.max, samples: p.samples }
  }
  const recv = results.filter((r) => r.role === 'receiver')
  const count = recv.reduce((a, r) => a + r.count, 0)
  if (count === 0) throw new Error('no message received')
  const v = { msgsPerSec: count / (timing.durationMs / 1000), received: count, acked, bytes: recv.reduce((a, r) => a + r.bytes, 0) }
  if (cpu.start != null && cpu.end != null) v.cpuUsPerMsg = (cpu.end - cpu.start) / count
  // A durable thriftbus: the share of the acknowledged messages the store wrote (the rest went straight to a
  // waiting receiver), to the journal and straight to SQLite, over the whole run, warm-up included. Every
  // receiver reads the daemon's counters at its start and end: the widest reading counts.
  const writes = recv.map((r) => r.storeWrites).filter(Boolean)
  if (writes.length && acked) {
    v.journaledShare = Math.max(...writes.map((w) => w.journal)) / acked
    v.sqliteShare = Math.max(...writes.map((w) => w.database)) / acked
  }
  return v
}

// ---- rtt: every row of a rep at once, in short interleaved slices ------------
// On a 2-core VM the round trip has a slow mode (about 3x, for every row) that comes and goes every
// few hundred ms, so one window per row compared rows measured in different modes. Here every row's
// server, ponger and pinger run together; each pair is warmed up in turn, then in every round each
// row pings alone for one slice (rep order) while the others idle: pinger waiting for its next order,
// ponger parked in its receive. A row's percentiles pool all its slices. A row that fails (server
// gone, round trip timed out) gets its error and drops out of the rounds; the others go on.
// `serverFor` gives the row's server (started here, or kept from the rep in --quick).
async function rttSession (sc, rep, peers, serverFor, status) {
  const timing = timingOf(sc)
  const { slices, sliceMs, leadMs } = slicing(timing)
  const rows = []
  for (const peer of peers) {
    const t0 = Date.now()
    let server
    try { server = await serverFor(peer) } catch (e) { // as for the other scenarios: drop the peer
      status[peer.name] = { error: String(e.message).split('\n')[0] }
      continue
    }
    const run = { rep, peer: peer.name, scenario: sc.name, rssRestKiB: server.rssRestKiB, warmupMs: timing.warmupMs, durationMs: timing.durationMs, sliceMs, slices, leadMs }
    rows.push({ peer, server, run, spent: Date.now() - t0 })
  }
  const fail = (row, e) => {
    if (row.run.error) return
    const c = row.server.child
    const dead = c.exitCode !== null || c.signalCode !== null // the likelier cause of a timeout
    row.run.error = dead ? `server exited (${c.exitCode ?? c.signalCode})` : String(e?.message ?? e).split('\n')[0]
  }
  const live = () => rows.filter((r) => !r.run.error)
  // Time shared by all rows (connecting, stopping) is split evenly into their wallMs.
  const shared = async (fn) => { const t0 = Date.now(); await fn(); rows.forEach((r) => { r.spent += (Date.now() - t0) / rows.length }) }
  const timed = async (row, fn) => { const t0 = Date.now(); try { await fn() } catch (e) { fail(row, e) } row.spent += Date.now() - t0 }
  await ensurePool(2 * rows.length)
  // [ponger, pinger]; given in PEERS order, not the rep's, so that a row keeps the workers that
  // have its client adapter loaded (importing `thrift` or `redis` again costs --quick's budget).
  const byPeer = [...rows].sort((a, b) => PEERS.indexOf(a.peer) - PEERS.indexOf(b.peer))
  byPeer.forEach((row, i) => { row.ws = pool.slice(2 * i, 2 * i + 2) })
  try {
    await shared(() => Promise.all(rows.map(async (row) => {
      const jobs = sc.jobs(`${sc.name}.${rep}`).map((j) => ({ maxCount: cfg.maxCount, ...j, sliceMs, module: peerModule(row.peer.file), socket: row.server.socket }))
      row.ws.forEach((w, k) => { w.msgs = []; w.send({ cmd: 'job', job: jobs[k] }) })
      row.ws[0].onError = (m) => fail(row, new Error(m.message)) // the ponger reports only at the end, or fails early
      await Promise.all(row.ws.map((w) => w.next('ready', 20000))).catch((e) => fail(row, e))
    })))
    for (const row of live()) {
      await timed(row, async () => {
        row.ws.forEach((w) => w.send({ cmd: 'go', warmupMs: timing.warmupMs, durationMs: timing.durationMs }))
        await row.ws[1].next('warm', timing.warmupMs + 15000)
      })
    }
    for (let round = 0; round < slices; round++) {
      for (const row of live()) {
        await timed(row, async () => {
          if (row.ws[0].dead) throw new Error(`client process died: ${tail(row.ws[0].stderr) || 'no output'}`)
          row.ws[1].send({ cmd: 'slice', ms: sliceMs, leadMs })
          await row.ws[1].next('sliced', leadMs + sliceMs + 5000)
        })
      }
    }
    await shared(() => Promise.all(live().map(async (row) => {
      try {
        row.ws.forEach((w) => w.send({ cmd: 'stop' }))
        const [, p] = await Promise.all(row.ws.map(async (w) => (await w.next('result', 8000)).result))
        await Promise.all(row.ws.map((w) => w.next('idle', 5000)))
        if (!p.samples) throw new Error('no round trip completed')
        Object.assign(row.run, { p50Us: p.p50, p99Us: p.p99, maxUs: p.max, samples: p.samples, slices: p.slices, sliceP50sUs: p.sliceP50s })
      } catch (e) { fail(row, e) }
    })))
  } catch (e) { rows.forEach((row) => fail(row, e)) } finally {
    rows.forEach((row) => { row.ws[0].onError = null })
    // A stuck or crashed client is not reused: a failed row's pair is replaced.
    await replaceWorkers(rows.filter((r) => r.run.error).flatMap((r) => r.ws))
  }
  return rows.map((row) => ({ ...row.run, wallMs: Math.round(row.spent) }))
}

// ---- the 1M-message queue (full mode): RSS with 1,000,000 x 100 B waiting ----
async function queueMillion (peer) {
  const server = await startServer(peer)
  try {
    // 4 sender processes x 250,000 messages of 100 B into one mailbox nobody reads (at most 180 s).
    const sc = { name: 'queue1M', jobs: () => range(4).map(() => ({ role: 'sender', boxes: ['q1m'], size: 100, window: W, maxCount: 250_000 })) }
    const r = await runScenario(peer, server, sc, 'q', { warmupMs: 0, durationMs: 180_000 })
    await sleep(500)
    return { rssRestKiB: server.rssRestKiB, rss1MKiB: rssKiB(server.pid), queued: r.acked, error: r.acked ? undefined : r.error }
  } finally { await stopChild(server.child) }
}

// ---- main ---------------------------------------------------------------------
async function main () {
  const started = Date.now()
  const cpu0 = cpuTotals()
  const loadAtStart = os.loadavg()[0]
  tmpRoot = mkdtempSync(join(os.tmpdir(), 'thriftbus-bench-'))
  const status = {} // peer -> null (ok) | { skip } | { error }
  for (const p of PEERS) {
    try {
      p.mod = await import(peerModule(p.file))
      if (p.mod.available && !p.mod.available()) status[p.name] = { skip: 'n/a (redis-server not on PATH)' }
      else if (p.mod.prepare) {
        const dir = join(tmpRoot, `prep-${p.name}`); mkdirSync(dir)
        status[p.name] = await p.mod.prepare({ dir, spawn: trackedSpawn }, p.opts || {})
      } else status[p.name] = null
    } catch (e) { status[p.name] = { error: String(e.message).split('\n')[0] } }
  }
  const runs = []
  const primes = [] // the unmeasured priming runs (JSON and one line under the table; not in the medians)
  const active = () => PEERS.filter((p) => !status[p.name])
  // rtt runs the clients of every row at once.
  await ensurePool(Math.max(...SCENARIOS.map((s) => s.jobs('x').length * (s.sliced ? active().length : 1)), 1))
  const servers = new Map() // peer name -> running server (serverPer 'run')
  const providers = new Map() // peer name -> running ExampleService provider (reqresp; with its server)
  const serverFor = async (peer) => {
    let server = servers.get(peer.name)
    if (server) return server
    server = await startServer(peer)
    servers.set(peer.name, server)
    if (cfg.prewarmMs) { // unmeasured: JIT-warm the server and the clients' adapter (mailbox, else fan-out)
      const warm = SCENARIOS.find((s) => s.name === 'tput100') ?? SCENARIOS.find((s) => MAILBOX(s) && !naReason(peer, s)) ??
        SCENARIOS.find((s) => s.kind === 'fanout' && !naReason(peer, s))
      if (warm) await runScenario(peer, server, warm, 'warm', { warmupMs: 0, durationMs: cfg.prewarmMs }).catch(() => {})
    }
    return server
  }
  // The reqresp endpoint: a provider (direct: on its own socket; routed: registered with the peer's daemon).
  const providerFor = async (peer, sc) => {
    let p = providers.get(peer.name)
    if (p && p.child.exitCode === null && p.child.signalCode === null) return p
    p = await startProvider(peer, peer.reqresp === 'direct' ? null : await serverFor(peer))
    p.module = peerModule('example-service.mjs')
    providers.set(peer.name, p)
    if (cfg.prewarmMs) { // unmeasured, as for servers: both phases of one short run
      await runScenario(peer, null, sc, 'warm', { warmupMs: 0, durationMs: cfg.prewarmMs / 4 }, p).catch(() => {})
    }
    return p
  }
  const dropServer = async (peer) => {
    const provider = providers.get(peer.name)
    providers.delete(peer.name)
    if (provider) await stopChild(provider.child)
    const server = servers.get(peer.name)
    servers.delete(peer.name)
    if (server) await stopChild(server.child)
  }
  try {
    const fan = SCENARIOS.find((s) => s.kind === 'fanout')
    for (const peer of fan && cfg.primeMs > 0 ? active() : []) {
      if (naReason(peer, fan)) continue
      process.stderr.write(`prime: ${peer.name} ${fan.name}, ${cfg.primeMs} ms unmeasured\n`)
      try {
        const r = await runScenario(peer, await serverFor(peer), fan, 'prime', { warmupMs: 0, durationMs: cfg.primeMs })
        primes.push({ peer: peer.name, scenario: fan.name, durationMs: cfg.primeMs, ...r })
      } catch (e) { // the measured runs will meet it again, and report it
        process.stderr.write(`prime: ${peer.name}: ${String(e.message).split('\n')[0]}\n`)
      }
      if (cfg.serverPer === 'scenario') await dropServer(peer)
    }
    for (let rep = 0; rep < cfg.reps; rep++) {
      const order = active().map((_, i, a) => a[(i + rep) % a.length])
      process.stderr.write(`rep ${rep + 1}/${cfg.reps}: ${order.map((p) => p.name).join(' ')}\n`)
      for (const peer of order) {
        for (const sc of SCENARIOS) {
          if (status[peer.name]) break
          if (naReason(peer, sc) || sc.sliced) continue
          const run = { rep, peer: peer.name, scenario: sc.name }
          const t0 = Date.now()
          let server = null
          // reqresp's direct row needs no mailbox server, only its provider.
          const needsServer = !(sc.kind === 'reqresp' && peer.reqresp === 'direct')
          try {
            if (needsServer) server = await serverFor(peer)
          } catch (e) { // the server cannot start: drop the peer for the rest of the bench
            status[peer.name] = { error: String(e.message).split('\n')[0] }
            break
          }
          try {
            if (server && MAILBOX(sc)) run.rssRestKiB = server.rssRestKiB
            run.warmupMs = timingOf(sc).warmupMs; run.durationMs = timingOf(sc).durationMs
            if (sc.kind === 'reqresp') {
              run.mode = peer.reqresp
              Object.assign(run, await runScenario(peer, server, sc, `${sc.name}.${rep}`, timingOf(sc), await providerFor(peer, sc)))
            } else Object.assign(run, await runScenario(peer, server, sc, `${sc.name}.${rep}`, timingOf(sc)))
          } catch (e) { run.error = String(e.message).split('\n')[0] }
          run.wallMs = Date.now() - t0 // the whole run, server/provider start and prewarm included
          runs.push(run)
          if (flag('verbose')) process.stderr.write(`  ${peer.name} ${sc.name}: ${JSON.stringify(run)}\n`)
          if (cfg.serverPer === 'scenario') await dropServer(peer)
        }
      }
      for (const sc of SCENARIOS.filter((s) => s.sliced)) {
        const peers = order.filter((p) => !status[p.name] && !naReason(p, sc))
        if (flag('verbose')) process.stderr.write(`  ${sc.name}: ${peers.length} rows interleaved, ${slicing(timingOf(sc)).slices} slices each\n`)
        for (const run of await rttSession(sc, rep, peers, serverFor, status)) {
          runs.push(run)
          if (flag('verbose')) process.stderr.write(`  ${run.peer} ${sc.name}: ${JSON.stringify(run)}\n`)
        }
        if (cfg.serverPer === 'scenario') for (const p of peers) await dropServer(p)
      }
    }
  } finally { for (const p of PEERS) await dropServer(p) }
  const queue = {}
  if (cfg.queue1M && SCENARIOS.some(MAILBOX)) {
    for (const peer of active()) {
      process.stderr.write(`queue 1M: ${peer.name}\n`)
      queue[peer.name] = await queueMillion(peer).catch((e) => ({ error: e.message }))
    }
  }
  const summary = summarizeAll(runs, queue)
  const cpu1 = cpuTotals()
  const stealPct = cpu0 && cpu1 && cpu1.total > cpu0.total ? (100 * (cpu1.steal - cpu0.steal)) / (cpu1.total - cpu0.total) : null
  const meta = {
    date: new Date().toISOString(), nproc: os.availableParallelism(), node: process.version, platform: `${os.type()} ${os.release()}`,
    cpu: os.cpus()[0]?.model, stealPct, loadAtStart, ...cfg, elapsedS: (Date.now() - started) / 1000,
    scenarioTiming: Object.fromEntries(SCENARIOS.map((sc) => [sc.name, { warmupMs: timingOf(sc).warmupMs, durationMs: timingOf(sc).durationMs, ...(sc.sliced ? slicing(timingOf(sc)) : {}) }])),
    fanoutSubscribers: FANOUT_SUBSCRIBERS,
    reqresp: { window: RR_WINDOW, code: exampleGen?.dir ? 'generated by thrift --gen js:node,es6 at run time' : exampleGen?.error ?? null }
  }
  console.log(renderTable(meta, status, summary, primes))
  const json = JSON.stringify({ meta, status, summary, queue, runs, primes }, null, 2)
  const dir = join(HERE, 'results'); mkdirSync(dir, { recursive: true })
  const file = join(dir, `${meta.date.replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, json); writeFileSync(join(dir, 'latest.json'), json)
  process.stderr.write(`wrote ${file} and bench/results/latest.json (${meta.elapsedS.toFixed(1)} s)\n`)
}

// ---- statistics and the table -------------------------------------------------
// [scenario, key, the row ratios are taken to (same rep), or null]
const METRICS = [
  ['tput100', 'msgsPerSec', 'ceiling'], ['tput4k', 'msgsPerSec', 'ceiling'], ['senders8', 'msgsPerSec', 'ceiling'],
  ['mbox100', 'msgsPerSec', 'ceiling'], ['rtt', 'p50Us', 'ceiling'], ['rtt', 'p99Us', 'ceiling'], ['tput100', 'cpuUsPerMsg', 'ceiling'],
  ['fanout', 'deliveredPerSec', 'ceiling'], ['fanout', 'publishesPerSec', 'ceiling'], ['fanout', 'receivedPct', null], ['fanout', 'missing', null],
  ['fanout', 'serverCpuUsPerMsg', null], ['fanout', 'subscribersCpuUsPerMsg', null], ['fanout', 'publisherCpuUsPerMsg', null],
  // reqresp: the routed rows against the direct connection (the thrift-plain row).
  ['reqresp', 'callsPerSec', 'thrift-plain'], ['reqresp', 'p50Us', 'thrift-plain'], ['reqresp', 'p99Us', 'thrift-plain']
]
function summarizeAll (runs, queue) {
  const out = {}
  const get = (peer, sc, rep, key) => runs.find((r) => r.peer === peer && r.scenario === sc && r.rep === rep && !r.error)?.[key]
  for (const peer of new Set([...runs.map((r) => r.peer), ...Object.keys(queue)])) {
    const s = (out[peer] = {})
    for (const [sc, key, base] of METRICS) {
      const per = runs.filter((r) => r.peer === peer && r.scenario === sc)
      if (!per.length) continue
      const vals = per.map((r) => r[key]).filter((x) => x != null)
      const m = { median: median(vals), reps: vals.length, errors: [...new Set(per.filter((r) => r.error).map((r) => r.error))] }
      if (key === 'missing') m.max = vals.length ? Math.max(...vals) : null
      if (base) m.ratio = median(per.map((r) => { const c = get(base, sc, r.rep, key); return c && r[key] != null ? r[key] / c : null }))
      s[`${sc}.${key}`] = m
    }
    s.rssRestKiB = median(runs.filter((r) => r.peer === peer && r.rssRestKiB != null).map((r) => r.rssRestKiB))
    s.queue1M = queue[peer] ?? null
  }
  return out
}

const int = (x) => Math.round(x).toLocaleString('en-US')
const ratio = (r) => (r == null ? '' : ` (${r < 0.1 ? r.toFixed(3) : r.toFixed(2)})`)
const mib = (k) => (k == null ? 'n/a' : `${(k / 1024).toFixed(1)}`)
function cell (m, fmt, showRatio) {
  if (!m || m.median == null) return m?.errors?.length ? `error: ${m.errors[0].slice(0, 60)}` : 'n/a'
  return fmt(m.median) + (showRatio ? ratio(m.ratio) : '')
}
function renderTable (meta, status, summary, primes) {
  const lines = [
    `thriftbus bench — ${meta.date} — nproc ${meta.nproc}, Node ${meta.node}, ${meta.reps} reps, mode ${meta.mode} ` +
      `(warm-up ${meta.warmupMs} ms + ${meta.durationMs} ms per run, server per ${meta.serverPer})` +
      `; load average at start ${meta.loadAtStart.toFixed(2)}` +
      (meta.stealPct == null ? '' : `, CPU steal ${meta.stealPct.toFixed(0)}%`) +
      ' (other work on the machine or VM host skews every row)'
  ]
  if (SCENARIOS.some(MAILBOX)) lines.push('', ...mailboxTable(meta, status, summary))
  if (SCENARIOS.some((sc) => sc.kind)) lines.push('', ...routedTable(status, summary))
  if (primes.length) {
    const each = primes.map((r) => `${r.peer} ${int(r.deliveredPerSec)}/s (server ${r.serverCpuUsPerMsg?.toFixed(2)}, ` +
      `subscribers ${r.subscribersCpuUsPerMsg?.toFixed(2)} µs)`)
    lines.push('', `Priming, not in the medians: each row's first fan-out in the pool's client processes, ` +
      `${primes[0].durationMs} ms from the first publish, delivered msgs/s (CPU µs per delivered message): ${each.join('; ')}.`)
  }
  lines.push('', `Not measured: ${LATER.join('; ')}.`, 'See bench/README.md for what each row is and what is unfair in each comparison.')
  return lines.join('\n')
}

const rowStatus = (st) => st?.skip ?? (st?.error ? `error: ${st.error}` : 'n/a')

/** The second table: pub/sub fan-out (ratios to the ceiling) and request/response (ratios to the direct connection). */
function routedTable (status, summary) {
  const fan = SCENARIOS.find((sc) => sc.kind === 'fanout')
  const rr = SCENARIOS.find((sc) => sc.kind === 'reqresp')
  const head = ['peer']
  if (fan) {
    head.push(`fan-out delivered msgs/s, ${FANOUT_SUBSCRIBERS} subs (÷ceil)`, 'publishes/s (÷ceil)', 'received of published',
      'fan-out CPU µs/delivered: server, subscribers, publisher')
  }
  if (rr) head.push(`req/resp calls/s, ${RR_WINDOW} outstanding (÷direct)`, 'req/resp RTT p50 µs (÷direct)', 'req/resp RTT p99 µs')
  const t = (sc) => `warm-up ${timingOf(sc).warmupMs} ms + ${timingOf(sc).durationMs} ms`
  const about = [fan && `fan-out: 1 publisher (256 outstanding) -> ${FANOUT_SUBSCRIBERS} subscribers, 100 B, ${t(fan)}`,
    rr && `request/response: stock thrift client -> ExampleService.processRequest(100 B), direct (thrift-plain row) or through the daemon; ` +
      `${RR_WINDOW} outstanding, then 1, each ${t(rr)}`].filter(Boolean)
  const lines = [`${about.join('; ')}.`, '', `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  const received = (s) => {
    const pct = s['fanout.receivedPct']; const missing = s['fanout.missing']
    const c = cell(pct, (x) => `${x.toFixed(x > 99.95 ? 0 : 1)}%`, false)
    return missing?.max > 0 ? `${c}, ${int(missing.max)} missing` : c
  }
  for (const p of PEERS) {
    const st = status[p.name]
    if (st) { lines.push(`| ${p.name} | ${rowStatus(st)} |${' — |'.repeat(head.length - 2)}`); continue }
    const s = summary[p.name] ?? {}
    const row = [p.name]
    if (fan) {
      const na = naReason(p, fan)
      const us = (k) => cell(s[`fanout.${k}CpuUsPerMsg`], (x) => x.toFixed(2), false)
      row.push(...(na ? [na, '—', '—', '—'] : [cell(s['fanout.deliveredPerSec'], int, true), cell(s['fanout.publishesPerSec'], int, true), received(s),
        `${us('server')}, ${us('subscribers')}, ${us('publisher')}`]))
    }
    if (rr) {
      const na = naReason(p, rr)
      const direct = p.reqresp === 'direct' // the row the others are divided by
      const vs = (m) => direct ? cell(m, int, false) + (m?.median != null ? ' (direct)' : '') : cell(m, int, true)
      row.push(...(na ? [na, '—', '—'] : [vs(s['reqresp.callsPerSec']), vs(s['reqresp.p50Us']), cell(s['reqresp.p99Us'], int, false)]))
    }
    lines.push(`| ${row.join(' | ')} |`)
  }
  return lines
}

function mailboxTable (meta, status, summary) {
  const head = ['peer', 'msgs/s 100 B (÷ceil)', 'msgs/s 4 KiB (÷ceil)', '8 senders msgs/s', '100 mailboxes msgs/s',
    'RTT p50 µs (÷ceil)', 'RTT p99 µs', 'server CPU µs/msg', 'RSS rest MiB', 'RSS 1M queued MiB']
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  const rtt = SCENARIOS.find((sc) => sc.sliced)
  if (rtt) {
    const t = timingOf(rtt); const { slices, sliceMs } = slicing(t)
    lines.unshift(`RTT: all rows of a rep run together, each pinging alone in turn: warm-up ${t.warmupMs} ms each, ` +
      `then ${slices} slices of ${+sliceMs.toFixed(1)} ms each, interleaved.`, '')
  }
  for (const p of PEERS) {
    const st = status[p.name]; const s = summary[p.name]
    if (st || !s) {
      lines.push(`| ${p.name} | ${rowStatus(st)} |${' — |'.repeat(head.length - 2)}`)
      continue
    }
    const q = s.queue1M
    const q1m = !meta.queue1M ? 'n/a (full run only)' : q?.error ? `error: ${q.error.slice(0, 60)}`
      : q ? mib(q.rss1MKiB) + (q.queued != null && q.queued < 1e6 ? ` (only ${int(q.queued)} queued)` : '') : 'n/a'
    lines.push(`| ${[p.name,
      cell(s['tput100.msgsPerSec'], int, true), cell(s['tput4k.msgsPerSec'], int, true),
      cell(s['senders8.msgsPerSec'], int, false), cell(s['mbox100.msgsPerSec'], int, false),
      cell(s['rtt.p50Us'], int, true), cell(s['rtt.p99Us'], int, false),
      cell(s['tput100.cpuUsPerMsg'], (x) => x.toFixed(1), false), mib(s.rssRestKiB), q1m].join(' | ')} |`)
  }
  return lines
}

try { await main() } catch (e) { console.error('bench failed:', e); process.exitCode = 1 } finally {
  await Promise.all([...children].map((c) => stopChild(c, 1000)))
  removeTmp()
}
