// bench/worker.mjs — a bench client process (sender, receiver, pinger, ponger;
// publisher, subscriber for `fanout`; caller for `reqresp`).
// The harness forks a small pool of these once and hands each a job per run over
// IPC: { cmd: 'job' } -> connect with the peer's client adapter -> 'ready';
// { cmd: 'go' } -> run the loop for warmup+duration -> 'result' (one JSON
// message); { cmd: 'stop' } ends open loops; then it closes the connection and
// reports 'idle'. `rtt`'s pinger is driven slice by slice instead: 'warm',
// then { cmd: 'slice' } -> 'sliced' per slice, until 'stop'. Reusing the
// processes keeps process start-up (and loading the `redis`/`thrift` packages)
// out of the measured runs and out of --quick's budget;
// every run still opens fresh connections to a fresh (or per-rep) server.
// Every loop is bounded in time (its window) and count (maxCount).
import { nowUs, percentile, sleep } from './common.mjs'

const adapters = new Map() // module path -> imported peer module
let client = null
let job = null
let stop = null
let inbox = null // a subscriber's counters: its subscription is made at 'job' time, before 'ready'
let orders = [] // a sliced pinger's pending 'slice' orders ({ ms, leadMs })
let wakeOrder = null

const post = (m) => process.send?.(m)
process.on('disconnect', () => process.exit(0))
process.on('unhandledRejection', (e) => console.error('worker: unhandled rejection:', e?.message ?? e))

function deferred () {
  let resolve
  const promise = new Promise((r) => { resolve = r })
  return { promise, resolve, flag: false }
}

async function connectWithRetry (mod, socket, options) {
  const deadline = Date.now() + 10000
  for (;;) {
    try { return await mod.connect(socket, options) } catch (e) {
      if (Date.now() > deadline) throw e
      await sleep(50)
    }
  }
}

// Sends round-robin over job.boxes with up to job.window outstanding, until the
// window ends, maxCount is reached, stop, or the first failure.
function sender (c, j) {
  const payload = 'x'.repeat(j.size)
  const end = performance.now() + j.warmupMs + j.durationMs
  const t0 = performance.now()
  let sent = 0; let acked = 0; let inflight = 0; let i = j.offset || 0; let error = null
  return new Promise((resolve) => {
    const finish = () => resolve({ sent, acked, error, elapsedMs: performance.now() - t0 })
    const pump = () => {
      while (inflight < j.window && sent < j.maxCount && !error && !stop.flag && performance.now() < end) {
        inflight++; sent++
        c.send(j.boxes[i++ % j.boxes.length], payload).then(onAck, onFail)
      }
      if (inflight === 0) finish()
    }
    const onAck = () => { inflight--; acked++; pump() }
    const onFail = (e) => { inflight--; error = error || String(e?.message ?? e); pump() }
    pump()
    // Do not wait forever for acks that never come.
    setTimeout(finish, j.warmupMs + j.durationMs + 5000).unref()
  })
}

// Keeps ceil(window / boxes) long-polling receives parked on each of its boxes;
// counts what arrives inside [warmup, warmup + duration).
async function receiver (c, j) {
  // A durable thriftbus daemon tells how many messages it wrote (storeWrites): counted from here to the end.
  const writes0 = c.storeWrites ? await c.storeWrites().catch(() => null) : null
  const counted = await receiveLoop(c, j)
  const writes1 = writes0 ? await c.storeWrites().catch(() => null) : null
  if (writes1) counted.storeWrites = { journal: writes1.journal - writes0.journal, database: writes1.database - writes0.database }
  return counted
}

function receiveLoop (c, j) {
  const t0 = performance.now()
  const winStart = t0 + j.warmupMs
  const winEnd = winStart + j.durationMs
  const perBox = Math.max(1, Math.ceil(j.window / j.boxes.length))
  let count = 0; let bytes = 0; let total = 0; let error = null
  return new Promise((resolve) => {
    const loop = (box) => {
      c.receive(box).then((content) => {
        const t = performance.now()
        total++
        if (t >= winStart && t < winEnd) { count++; bytes += content.length }
        if (t < winEnd && !stop.flag) loop(box)
      }, (e) => { if (!stop.flag) error = error || String(e?.message ?? e) })
    }
    for (const box of j.boxes) for (let k = 0; k < perBox; k++) loop(box)
    const done = () => resolve({ count, bytes, total, error, seconds: j.durationMs / 1000 })
    setTimeout(done, winEnd - performance.now())
    stop.promise.then(done)
  })
}

// One message at a time: park a receive on my box, send to the peer's box, wait
// for the echo. Latencies in µs. First an unmeasured warm-up; then either one
// measured window (no job.sliceMs: the quick prewarm) or `rtt`'s slices: after
// 'warm' it waits for the harness's { cmd: 'slice', ms, leadMs } orders and for
// each pings leadMs unmeasured (the first round trips after a pause are slow),
// then ms measured, and answers 'sliced'; until 'stop'. All slices' round trips
// are pooled into one result; sliceP50s shows the slow mode where it hit.
async function pinger (c, j) {
  const payload = 'x'.repeat(j.size)
  const samples = []
  const sliceP50s = []
  // Round trips started before `ms` are up; their latencies go to `into` (null: warm-up).
  const pingFor = async (ms, into) => {
    const end = performance.now() + ms
    const from = into?.length
    while (performance.now() < end && samples.length < j.maxCount && !stop.flag) {
      const t = nowUs()
      const reply = c.receive(j.myBox)
      let timer
      const late = new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error('round trip timed out')), end - performance.now() + 2000) })
      await Promise.race([Promise.all([c.send(j.peerBox, payload), reply]), late])
      clearTimeout(timer)
      into?.push(nowUs() - t)
    }
    if (into && into.length > from) sliceP50s.push(Math.round(percentile(into.slice(from).sort((a, b) => a - b), 50)))
  }
  await pingFor(j.warmupMs, null)
  if (!j.sliceMs) await pingFor(j.durationMs, samples)
  else {
    post({ type: 'warm' })
    for (let o; (o = await nextOrder()) != null;) {
      await pingFor(o.leadMs, null)
      await pingFor(o.ms, samples)
      post({ type: 'sliced' })
    }
  }
  samples.sort((a, b) => a - b)
  return { samples: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99), max: samples.at(-1) ?? null, slices: sliceP50s.length, sliceP50s }
}

// The sliced pinger's next order ({ ms, leadMs }), or null after 'stop'.
async function nextOrder () {
  while (!orders.length && !stop.flag) await new Promise((resolve) => { wakeOrder = resolve; stop.promise.then(resolve) })
  return stop.flag ? null : orders.shift()
}

// Echoes everything from my box into the peer's box until told to stop.
async function ponger (c, j) {
  let echoed = 0
  let next = c.receive(j.myBox)
  for (;;) {
    next.catch(() => {})
    const m = await Promise.race([next, stop.promise.then(() => stop)])
    if (m === stop || stop.flag || echoed >= j.maxCount) break
    next = c.receive(j.myBox)
    c.send(j.peerBox, m).catch(() => {})
    echoed++
  }
  return { echoed }
}

// Publishes 100 B to one topic with up to job.window outstanding (as sender does);
// counts the publishes acknowledged inside the measured window, and all of them.
function publisher (c, j) {
  const payload = 'x'.repeat(j.size)
  const t0 = performance.now()
  const winStart = t0 + j.warmupMs
  const end = winStart + j.durationMs
  let sent = 0; let acked = 0; let ackedInWindow = 0; let inflight = 0; let error = null
  return new Promise((resolve) => {
    const finish = () => resolve({ sent, acked, ackedInWindow, error, elapsedMs: performance.now() - t0 })
    const pump = () => {
      while (inflight < j.window && sent < j.maxCount && !error && !stop.flag && performance.now() < end) {
        inflight++; sent++
        c.publish(j.topic, payload).then(onAck, onFail)
      }
      if (inflight === 0) finish()
    }
    const onAck = () => {
      const t = performance.now()
      inflight--; acked++
      if (t >= winStart && t < end) ackedInWindow++
      pump()
    }
    const onFail = (e) => { inflight--; error = error || String(e?.message ?? e); pump() }
    pump()
    setTimeout(finish, j.warmupMs + j.durationMs + 5000).unref()
  })
}

// The subscription was made at 'job' time (so nothing published after 'go' is missed). Counts what
// arrives inside the window; after 'stop' (which carries how many publishes were acked) it keeps
// counting until everything expected has arrived or nothing came for 500 ms (at most 6 s), then asks
// the adapter what its server dropped, if it can say. The harness checks received + dropped = expected.
async function subscriber (c, j) {
  inbox.winStart = performance.now() + j.warmupMs
  inbox.winEnd = inbox.winStart + j.durationMs
  await stop.promise
  const expect = stop.expect ?? 0
  const deadline = performance.now() + 6000
  while (!inbox.error && inbox.total < expect && performance.now() < deadline && performance.now() - inbox.last < 500) await sleep(10)
  let stats = null
  try { stats = c.subStats ? await c.subStats() : null } catch (e) { inbox.error = inbox.error || `stats: ${e?.message ?? e}` }
  const { count, bytes, total, error } = inbox
  return { count, bytes, total, expect, dropped: stats?.dropped ?? null, stats, error, seconds: j.durationMs / 1000 }
}

// Request/response: two phases of warmup + duration each. (1) up to job.window calls outstanding:
// calls completed inside the window; (2) one call at a time: latencies of the calls started after
// the warm-up, in µs. Every reply must echo its request.
async function caller (c, j) {
  const payload = 'x'.repeat(j.size)
  let error = null
  const check = (r) => { if (r !== payload && !error) error = `bad reply: ${String(r).slice(0, 40)}` }
  const t0 = performance.now()
  const winStart = t0 + j.warmupMs
  const end = winStart + j.durationMs
  let sent = 0; let done = 0; let inflight = 0
  await new Promise((resolve) => {
    const finish = () => resolve()
    const pump = () => {
      while (inflight < j.window && sent < j.maxCount && !error && !stop.flag && performance.now() < end) {
        inflight++; sent++
        c.call(payload).then(onReply, onFail)
      }
      if (inflight === 0) finish()
    }
    const onReply = (r) => {
      const t = performance.now()
      inflight--; check(r)
      if (t >= winStart && t < end) done++
      pump()
    }
    const onFail = (e) => { inflight--; error = error || String(e?.message ?? e); pump() }
    pump()
    setTimeout(finish, j.warmupMs + j.durationMs + 5000).unref()
  })
  const pipelined = { calls: done, callsPerSec: done / (j.durationMs / 1000), window: j.window }
  const samples = []
  const t1 = performance.now()
  const end2 = t1 + j.warmupMs + j.durationMs
  while (!error && performance.now() < end2 && samples.length < j.maxCount && !stop.flag) {
    const started = performance.now()
    let timer
    const late = new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error('call timed out')), end2 - performance.now() + 2000) })
    try { check(await Promise.race([c.call(payload), late])) } catch (e) { error = error || String(e?.message ?? e) }
    clearTimeout(timer)
    if (started >= t1 + j.warmupMs) samples.push((performance.now() - started) * 1000)
  }
  samples.sort((a, b) => a - b)
  return { ...pipelined, samples: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99), max: samples.at(-1) ?? null, error }
}

const roles = { sender, receiver, pinger, ponger, publisher, subscriber, caller }

process.on('message', async (m) => {
  try {
    if (m.cmd === 'job') {
      job = m.job
      stop = deferred()
      orders = []
      let mod = adapters.get(job.module)
      if (!mod) adapters.set(job.module, (mod = await import(job.module)))
      client = await connectWithRetry(mod, job.socket, job.connect)
      if (job.role === 'subscriber') {
        const box = (inbox = { count: 0, bytes: 0, total: 0, last: 0, winStart: Infinity, winEnd: -Infinity, error: null })
        await client.subscribe(job.topic, (content) => {
          const t = performance.now()
          box.total++; box.last = t
          if (t >= box.winStart && t < box.winEnd) { box.count++; box.bytes += content.length }
        }, (e) => { box.error = box.error || String(e?.message ?? e) })
        box.last = performance.now()
      }
      post({ type: 'ready' })
    } else if (m.cmd === 'go') {
      const result = await roles[job.role](client, { ...job, warmupMs: m.warmupMs, durationMs: m.durationMs })
      post({ type: 'result', result })
      await Promise.race([Promise.resolve(client.close()).catch(() => {}), sleep(2000)])
      client = null
      post({ type: 'idle' })
    } else if (m.cmd === 'slice') {
      orders.push(m); wakeOrder?.()
    } else if (m.cmd === 'stop') {
      if (stop) { stop.flag = true; stop.expect = m.expect; stop.resolve() }
    }
  } catch (e) {
    post({ type: 'error', message: String(e?.message ?? e).split('\n')[0].slice(0, 200) })
  }
})
post({ type: 'hello' })
