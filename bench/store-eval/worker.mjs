// bench/store-eval/worker.mjs — one measurement in its own process, started by run.mjs:
//   node worker.mjs '<json task>'
// Prints progress/result lines `RESULT {json}` on stdout with writeSync (so a line printed
// before a crash or a kill -9 is never lost in a buffer). Every loop is bounded by time and count.
import { writeSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setImmediate as yieldLoop } from 'node:timers/promises'
import { checkMessage, dirUsage, mailboxName, makeMessage, memKiB, nowMs, summarize } from './common.mjs'

const task = JSON.parse(process.argv[2])
const out = (obj) => writeSync(1, `RESULT ${JSON.stringify(obj)}\n`)
const errText = (e) => `${e && e.code ? `[${e.code}] ` : ''}${e && e.message ? e.message : String(e)}${e && e.cause ? ` (cause: ${e.cause.code ? `[${e.cause.code}] ` : ''}${e.cause.message})` : ''}`
const memBase = memKiB()
const storeMod = await import(`./store-${task.store}.mjs`)

const MAILBOXES = task.mailboxes ?? 10
const mbFor = (id) => mailboxName(id % MAILBOXES)

async function appendBench() {
  const s = await storeMod.openStore(task.dir, task.variant)
  const N = task.n
  let id = 0
  const batch = () => { const a = []; for (let i = 0; i < N; i++) { id++; a.push(makeMessage(id, mbFor(id))) } return a }
  const lat = [], block = []
  const eld = monitorEventLoopDelay({ resolution: 1 })
  let tEnd = nowMs() + task.warmupMs, measuring = false, t0 = 0, appended = 0, batches = 0
  for (;;) {
    const now = nowMs()
    if (now >= tEnd) {
      if (measuring) break
      measuring = true; t0 = now; tEnd = now + task.durationMs; eld.enable()
    }
    const msgs = batch()
    const c0 = nowMs()
    const b = await s.appendBatch(msgs)
    const c1 = nowMs()
    if (measuring) { lat.push(c1 - c0); block.push(b); appended += N; batches++ }
    if (batches >= task.maxBatches) break
    await yieldLoop() // a daemon goes back to its sockets between commits
  }
  const elapsed = nowMs() - t0
  eld.disable()
  const du = dirUsage(task.dir)
  await s.close()
  out({ kind: 'append', store: task.store, variant: task.variant, n: N, appendsPerSec: appended / (elapsed / 1000), batches, elapsedMs: elapsed,
    lat: summarize(lat), block: summarize(block),
    eld: { p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6 }, bytesPerMsg: du.allocated / id, du })
}

async function steadyBench() {
  const s = await storeMod.openStore(task.dir, task.variant)
  const N = task.n, B = task.backlog
  let id = 0
  const queues = Array.from({ length: MAILBOXES }, () => [])
  const mk = () => { id++; const m = makeMessage(id, mbFor(id)); queues[id % MAILBOXES].push(id); return m }
  for (let done = 0; done < B;) { const k = Math.min(256, B - done); const a = []; for (let i = 0; i < k; i++) a.push(mk()); await s.appendBatch(a); done += k }
  const duFilled = dirUsage(task.dir)
  let rr = 0
  const lat = [], block = []
  const eld = monitorEventLoopDelay({ resolution: 1 })
  let tEnd = nowMs() + task.warmupMs, measuring = false, t0 = 0, moved = 0, batches = 0
  for (;;) {
    const now = nowMs()
    if (now >= tEnd) { if (measuring) break; measuring = true; t0 = now; tEnd = now + task.durationMs; eld.enable() }
    const appends = [], deletes = []
    for (let i = 0; i < N; i++) appends.push(mk())
    for (let i = 0; i < N; i++) { const q = queues[rr++ % MAILBOXES]; const d = q.shift(); deletes.push({ mailbox: mbFor(d), id: d }) }
    const c0 = nowMs()
    const b = await s.steadyBatch(appends, deletes)
    const c1 = nowMs()
    if (measuring) { lat.push(c1 - c0); block.push(b); moved += N; batches++ }
    if (batches >= task.maxBatches) break
    await yieldLoop()
  }
  const elapsed = nowMs() - t0
  eld.disable()
  const backlog = queues.reduce((a, q) => a + q.length, 0)
  const duEnd = dirUsage(task.dir)
  await s.close()
  out({ kind: 'steady', store: task.store, variant: task.variant, n: N, backlog, appendsPerSec: moved / (elapsed / 1000), batches, totalWritten: id,
    lat: summarize(lat), block: summarize(block), eld: { p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6 },
    duFilled, duEnd })
}

async function fill() {
  const s = await storeMod.openStore(task.dir, task.variant)
  const t0 = nowMs()
  const B = task.batch ?? 10_000
  for (let id = 1; id <= task.count;) {
    const a = []
    for (let i = 0; i < B && id <= task.count; i++, id++) a.push(makeMessage(id, mbFor(id)))
    await s.appendBatch(a)
    if (nowMs() - t0 > task.maxMs) throw new Error(`fill exceeded ${task.maxMs} ms at id ${id}`)
  }
  const ms = nowMs() - t0
  const tc = nowMs(); await s.close(); const closeMs = nowMs() - tc
  out({ kind: 'fill', store: task.store, count: task.count, fillMs: ms, closeMs, du: dirUsage(task.dir), mem: memKiB() })
}

async function startup() {
  const before = memKiB()
  const t0 = nowMs()
  const s = await storeMod.openStore(task.dir, task.variant)
  const t1 = nowMs()
  const mbs = await s.mailboxes()
  const ends = {}
  for (const mb of mbs) ends[mb] = await s.oldestNewest(mb)
  const t2 = nowMs()
  const memEnds = memKiB()
  const counts = {}
  for (const mb of mbs) counts[mb] = await s.count(mb)
  const t3 = nowMs()
  const memCounts = memKiB()
  let quickCheckMs, quickCheck
  if (task.quickCheck && s.quickCheck) { const q0 = nowMs(); quickCheck = s.quickCheck(); quickCheckMs = nowMs() - q0 }
  await s.close()
  const total = Object.values(counts).reduce((a, b) => a + b, 0)
  out({ kind: 'startup', store: task.store, cold: !!task.cold, openMs: t1 - t0, endsMs: t2 - t1, countMs: t3 - t2, firstToEndsMs: t2 - t0, mailboxes: mbs.length, total,
    sample: { [mbs[0]]: { ...ends[mbs[0]], count: counts[mbs[0]] } }, memBase, before, memEnds, memCounts, quickCheckMs, quickCheck })
}

async function crashChild() {
  const s = await storeMod.openStore(task.dir, task.variant)
  writeSync(1, 'ready\n')
  let id = 0
  const stopAt = nowMs() + task.maxMs
  while (nowMs() < stopAt) {
    const n = 1 + Math.floor(Math.random() * 64)
    const first = id + 1
    const a = []
    for (let i = 0; i < n; i++) { id++; a.push(makeMessage(id, mailboxName(id % 4))) }
    await s.appendBatch(a)
    writeSync(1, `C ${first} ${id}\n`) // only after the commit returned: this is the reply to these sends
  }
  await s.close()
  writeSync(1, 'done\n')
}

// Reads everything back: every id 1..max present exactly once, in order per mailbox, with the right content.
async function verify() {
  const s = await storeMod.openStore(task.dir, task.variant)
  const mbs = await s.mailboxes()
  const seen = new Set()
  let bad = 0, disorder = 0, maxId = 0
  for (const mb of mbs) {
    let prev = 0
    for await (const { id, m } of s.scan(mb)) {
      if (id <= prev) disorder++
      prev = id
      if (!checkMessage(m, id, mb) || mb !== mailboxName(id % 4)) bad++
      seen.add(id); if (id > maxId) maxId = id
    }
  }
  await s.close()
  let holes = 0
  for (let i = 1; i <= maxId; i++) if (!seen.has(i)) holes++
  let missingPrinted = 0
  for (let i = 1; i <= task.printedMax; i++) if (!seen.has(i)) missingPrinted++
  out({ kind: 'verify', store: task.store, variant: task.variant, stored: seen.size, maxId, holes, bad, disorder, printedMax: task.printedMax, missingPrinted })
}

// Opens a (deliberately damaged) store step by step; each step's outcome is printed as soon as it is
// known, so a native crash still leaves the earlier lines.
async function corruptOpen() {
  let s
  const step = async (name, fn) => {
    const t0 = nowMs()
    try { const r = await fn(); out({ kind: 'corrupt-step', step: name, ok: true, ms: nowMs() - t0, r }); return true } catch (e) { out({ kind: 'corrupt-step', step: name, ok: false, ms: nowMs() - t0, error: errText(e) }); return false }
  }
  if (!(await step('open', async () => { s = await storeMod.openStore(task.dir, task.variant, { createIfMissing: false }); return null }))) return
  await step('ends', async () => { const mbs = await s.mailboxes(); const r = {}; for (const mb of mbs) r[mb] = await s.oldestNewest(mb); return { mailboxes: mbs.length, sample: r[mbs[0]] } })
  await step('count', async () => { let t = 0; for (const mb of await s.mailboxes()) t += await s.count(mb); return { total: t, expected: task.count } })
  await step('scan', async () => {
    let read = 0, bad = 0
    for (const mb of await s.mailboxes()) for await (const { id, m } of s.scan(mb)) { read++; if (!checkMessage(m, id, mb)) bad++ }
    return { read, bad, expected: task.count }
  })
  if (s.quickCheck) await step('quick_check', async () => { const r = s.quickCheck(); return Array.isArray(r) ? r.slice(0, 3) : r })
  await step('write', async () => { await s.appendBatch([makeMessage(task.count + 1, mbFor(task.count + 1))]); return null })
  await step('close', async () => { await s.close(); return null })
}

async function lockHold() {
  const s = await storeMod.openStore(task.dir, task.variant)
  await s.appendBatch([makeMessage(1, mbFor(1))])
  writeSync(1, 'ready\n')
  await new Promise((resolve) => setTimeout(resolve, task.holdMs))
  await s.close()
}

async function lockTry() {
  let s
  try { s = await storeMod.openStore(task.dir, task.variant) } catch (e) { out({ kind: 'lock', store: task.store, open: false, error: errText(e) }); return }
  const r = { kind: 'lock', store: task.store, open: true }
  try { const t0 = nowMs(); await Promise.race([s.appendBatch([makeMessage(2, mbFor(2))]), new Promise((_, rej) => setTimeout(() => rej(new Error('write still waiting after 3 s')), 3000))]); r.write = true; r.writeMs = nowMs() - t0 } catch (e) { r.write = false; r.writeError = errText(e) }
  try { r.readFirst = !!(await s.read(mbFor(1), 1)) } catch (e) { r.readError = errText(e) }
  out(r)
  try { await Promise.race([s.close(), new Promise((resolve) => setTimeout(resolve, 1000))]) } catch {}
  process.exit(0)
}

const TASKS = { append: appendBench, steady: steadyBench, fill, startup, 'crash-child': crashChild, verify, 'corrupt-open': corruptOpen, 'lock-hold': lockHold, 'lock-try': lockTry }
try {
  await TASKS[task.task]()
} catch (e) {
  out({ kind: 'error', task: task.task, store: task.store, error: errText(e), stack: e && e.stack })
  process.exitCode = 1
}
