#!/usr/bin/env node
// bench/run.mjs — the thriftbus benchmark harness (`npm run bench`).
// Runs every peer (ceiling, thrift-plain, node-ipc, redis, redis-aof,
// thriftbus-memory, thriftbus) through the same mailbox scenarios, each server
// and each client in its own process, on Unix sockets in a fresh temp dir.
// Peers are interleaved and rotated every repetition; the table shows medians
// over the reps and the median of the per-rep ratios to the ceiling row.
// Results: a Markdown table on stdout, raw numbers in bench/results/*.json.
//
//   node bench/run.mjs [--quick] [--reps N] [--duration MS] [--warmup MS]
//                      [--peers a,b] [--scenarios a,b] [--no-queue] [--verbose]
import { fork, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cpuTotals, cpuUs, median, rssKiB, sleep, waitForSocket } from './common.mjs'

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
  warmupMs: Number(opt('warmup', quick ? 30 : 500)), // unmeasured start of every run
  durationMs: Number(opt('duration', quick ? 150 : 1500)), // the measured window of every run
  window: 256, // outstanding sends per sender / parked receives per receiver
  // --quick keeps one server per peer for the whole run (every run uses its own mailboxes),
  // warmed once by an unmeasured tput100 run, to fit in ~40 s; the full run starts a fresh
  // server for every peer x scenario x rep.
  serverPer: quick ? 'run' : 'scenario',
  prewarmMs: quick ? 400 : 0,
  queue1M: !quick && !flag('no-queue'),
  maxCount: 5_000_000
}

const PEERS = [
  { name: 'ceiling', file: 'ceiling.mjs' },
  { name: 'thrift-plain', file: 'thrift-plain.mjs' },
  { name: 'node-ipc', file: 'node-ipc.mjs' },
  { name: 'redis', file: 'redis.mjs', opts: { aof: false } },
  { name: 'redis-aof', file: 'redis.mjs', opts: { aof: true } },
  { name: 'thriftbus-memory', file: 'thriftbus.mjs', opts: { durability: 'memory' } },
  { name: 'thriftbus', file: 'thriftbus.mjs', opts: { durability: 'durable' } }
].filter((p) => !opt('peers') || opt('peers').split(',').includes(p.name))

// Each scenario returns the client jobs of one run; `n` makes mailbox names unique per run.
const range = (k) => [...Array(k).keys()]
const W = cfg.window
const SCENARIOS = [
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
  { name: 'rtt', jobs: (n) => [{ role: 'ponger', myBox: `${n}.b`, peerBox: `${n}.a` }, { role: 'pinger', myBox: `${n}.a`, peerBox: `${n}.b`, size: 100 }] }
].filter((s) => !opt('scenarios') || opt('scenarios').split(',').includes(s.name))
// Scenario 4 of the issue (pub/sub fan-out, request/response through the daemon) is a hook for later.
const LATER = ['pub/sub fan-out and request/response through the daemon: not measured yet (hook: add a scenario here and the matching roles in worker.mjs)']

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

// ---- one run: one scenario against one server --------------------------------
async function runScenario (peer, server, sc, tag, timing = cfg) {
  const jobs = sc.jobs(tag).map((j) => ({ maxCount: cfg.maxCount, ...j, module: peerModule(peer.file), socket: server.socket }))
  await ensurePool(jobs.length)
  const ws = pool.slice(0, jobs.length)
  try {
    ws.forEach((w) => { w.msgs = [] })
    ws.forEach((w, i) => w.send({ cmd: 'job', job: jobs[i] }))
    await Promise.all(ws.map((w) => w.next('ready', 20000)))
    // Server CPU over the measured window: read /proc at its start and end (harness clock).
    const cpu = {}
    const cpuRead = !sc.cpu ? null : new Promise((resolve) => {
      setTimeout(() => { cpu.start = cpuUs(server.pid) }, timing.warmupMs)
      setTimeout(() => { cpu.end = cpuUs(server.pid); resolve() }, timing.warmupMs + timing.durationMs)
    })
    ws.forEach((w) => w.send({ cmd: 'go', warmupMs: timing.warmupMs, durationMs: timing.durationMs }))
    const limit = timing.warmupMs + timing.durationMs + 15000
    const measured = ws.filter((w, i) => jobs[i].role !== 'ponger')
    const others = ws.filter((w) => !measured.includes(w)) // they report only after 'stop', or fail early
    const results = new Map()
    const failure = new Promise((resolve, reject) => others.forEach((w) => { w.onError = (m) => reject(new Error(m.message)) }))
    try {
      await Promise.race([failure, Promise.all(measured.map(async (w) => results.set(w, (await w.next('result', limit)).result)))])
    } finally { others.forEach((w) => { w.onError = null }) }
    await cpuRead
    ws.forEach((w) => w.send({ cmd: 'stop' }))
    for (const w of ws) if (!results.has(w)) results.set(w, (await w.next('result', 5000)).result)
    await Promise.all(ws.map((w) => w.next('idle', 5000)))
    return summarize(sc, jobs.map((j, i) => ({ role: j.role, ...results.get(ws[i]) })), cpu, timing)
  } catch (e) {
    await replaceWorkers(ws) // a stuck or crashed client is not reused
    throw e
  }
}

function summarize (sc, results, cpu, timing) {
  const errors = results.map((r) => r.error).filter(Boolean)
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
  return v
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
  await ensurePool(9)
  const runs = []
  const active = () => PEERS.filter((p) => !status[p.name])
  const servers = new Map() // peer name -> running server (serverPer 'run')
  const serverFor = async (peer) => {
    let server = servers.get(peer.name)
    if (server) return server
    server = await startServer(peer)
    servers.set(peer.name, server)
    if (cfg.prewarmMs) { // unmeasured: JIT-warm the server and the clients' adapter
      await runScenario(peer, server, SCENARIOS.find((s) => s.name === 'tput100') ?? SCENARIOS[0], 'warm',
        { warmupMs: 0, durationMs: cfg.prewarmMs }).catch(() => {})
    }
    return server
  }
  const dropServer = async (peer) => {
    const server = servers.get(peer.name)
    servers.delete(peer.name)
    if (server) await stopChild(server.child)
  }
  try {
    for (let rep = 0; rep < cfg.reps; rep++) {
      const order = active().map((_, i, a) => a[(i + rep) % a.length])
      process.stderr.write(`rep ${rep + 1}/${cfg.reps}: ${order.map((p) => p.name).join(' ')}\n`)
      for (const peer of order) {
        for (const sc of SCENARIOS) {
          if (status[peer.name]) break
          const run = { rep, peer: peer.name, scenario: sc.name }
          let server = null
          try {
            server = await serverFor(peer)
          } catch (e) { // the server cannot start: drop the peer for the rest of the bench
            status[peer.name] = { error: String(e.message).split('\n')[0] }
            break
          }
          try {
            run.rssRestKiB = server.rssRestKiB
            Object.assign(run, await runScenario(peer, server, sc, `${sc.name}.${rep}`))
          } catch (e) { run.error = String(e.message).split('\n')[0] }
          runs.push(run)
          if (flag('verbose')) process.stderr.write(`  ${peer.name} ${sc.name}: ${JSON.stringify(run)}\n`)
          if (cfg.serverPer === 'scenario') await dropServer(peer)
        }
      }
    }
  } finally { for (const p of PEERS) await dropServer(p) }
  const queue = {}
  if (cfg.queue1M) {
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
    cpu: os.cpus()[0]?.model, stealPct, loadAtStart, ...cfg, elapsedS: (Date.now() - started) / 1000
  }
  console.log(renderTable(meta, status, summary))
  const json = JSON.stringify({ meta, status, summary, queue, runs }, null, 2)
  const dir = join(HERE, 'results'); mkdirSync(dir, { recursive: true })
  const file = join(dir, `${meta.date.replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, json); writeFileSync(join(dir, 'latest.json'), json)
  process.stderr.write(`wrote ${file} and bench/results/latest.json (${meta.elapsedS.toFixed(1)} s)\n`)
}

// ---- statistics and the table -------------------------------------------------
const METRICS = [
  ['tput100', 'msgsPerSec', true], ['tput4k', 'msgsPerSec', true], ['senders8', 'msgsPerSec', true],
  ['mbox100', 'msgsPerSec', true], ['rtt', 'p50Us', true], ['rtt', 'p99Us', true], ['tput100', 'cpuUsPerMsg', true]
]
function summarizeAll (runs, queue) {
  const out = {}
  const get = (peer, sc, rep, key) => runs.find((r) => r.peer === peer && r.scenario === sc && r.rep === rep && !r.error)?.[key]
  for (const peer of new Set([...runs.map((r) => r.peer), ...Object.keys(queue)])) {
    const s = (out[peer] = {})
    for (const [sc, key, withRatio] of METRICS) {
      const per = runs.filter((r) => r.peer === peer && r.scenario === sc)
      const vals = per.map((r) => r[key]).filter((x) => x != null)
      const m = { median: median(vals), reps: vals.length, errors: [...new Set(per.filter((r) => r.error).map((r) => r.error))] }
      if (withRatio) m.ratio = median(per.map((r) => { const c = get('ceiling', sc, r.rep, key); return c && r[key] != null ? r[key] / c : null }))
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
function renderTable (meta, status, summary) {
  const head = ['peer', 'msgs/s 100 B (÷ceil)', 'msgs/s 4 KiB (÷ceil)', '8 senders msgs/s', '100 mailboxes msgs/s',
    'RTT p50 µs (÷ceil)', 'RTT p99 µs', 'server CPU µs/msg', 'RSS rest MiB', 'RSS 1M queued MiB']
  const lines = [
    `thriftbus bench — ${meta.date} — nproc ${meta.nproc}, Node ${meta.node}, ${meta.reps} reps, mode ${meta.mode} ` +
      `(warm-up ${meta.warmupMs} ms + ${meta.durationMs} ms per run, server per ${meta.serverPer})` +
      `; load average at start ${meta.loadAtStart.toFixed(2)}` +
      (meta.stealPct == null ? '' : `, CPU steal ${meta.stealPct.toFixed(0)}%`) +
      ' (other work on the machine or VM host skews every row)', '',
    `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`
  ]
  for (const p of PEERS) {
    const st = status[p.name]; const s = summary[p.name]
    if (st || !s) {
      const why = st?.skip ?? (st?.error ? `error: ${st.error}` : 'n/a')
      lines.push(`| ${p.name} | ${why} |${' — |'.repeat(head.length - 2)}`)
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
  lines.push('', `Not measured: ${LATER.join('; ')}.`, 'See bench/README.md for what each row is and what is unfair in each comparison.')
  return lines.join('\n')
}

try { await main() } catch (e) { console.error('bench failed:', e); process.exitCode = 1 } finally {
  await Promise.all([...children].map((c) => stopChild(c, 1000)))
  removeTmp()
}
