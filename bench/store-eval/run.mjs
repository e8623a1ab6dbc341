#!/usr/bin/env node
// bench/store-eval/run.mjs — embedded-store evaluation for durable mailboxes (lmdb, better-sqlite3, classic-level).
// Every measurement runs in its own `node worker.mjs` process; all store files live under one
// mkdtemp folder in os.tmpdir(), removed at the end. Prints Markdown tables, and writes them with
// every per-rep number to results/latest.md and results/latest.json (git-ignored).
//
//   node run.mjs [--reps N] [--quick] [--only append,steady,startup,crash,corrupt,lock] [--verbose]
import { spawn } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync, closeSync, readFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { execFileSync } from 'node:child_process'
import { median } from './common.mjs'

const HERE = fileURLToPath(new URL('.', import.meta.url))
const argv = process.argv.slice(2)
const flag = (n) => argv.includes(`--${n}`)
const opt = (n, d) => { const i = argv.indexOf(`--${n}`); return i >= 0 ? argv[i + 1] : d }
const quick = flag('quick')
const verbose = flag('verbose')
const cfg = {
  reps: Number(opt('reps', quick ? 1 : 3)),
  warmupMs: quick ? 50 : 150,
  durationMs: quick ? 200 : 600,
  maxBatches: 200_000,
  steadyBacklog: 10_000,
  bigCount: quick ? 100_000 : 1_000_000,
  crashRuns: Number(opt('crash-runs', quick ? 3 : 10)),
  corruptCount: 100_000
}
const only = opt('only') ? opt('only').split(',') : ['append', 'steady', 'startup', 'crash', 'corrupt', 'lock']

// store x variant (see store-*.mjs for what each variant means)
const APPEND = [
  ['lmdb', 'durable-nosync'], ['lmdb', 'durable'], ['lmdb', 'durable-txsync'], ['lmdb', 'fsync'], ['lmdb', 'fsync-classic'],
  ['sqlite', 'durable'], ['sqlite', 'fsync'], ['level', 'durable'], ['level', 'fsync']
]
const NS = [1, 16, 256]
const STEADY = APPEND.filter(([s, v]) => v !== 'durable-txsync')
const MAIN = { lmdb: 'durable-nosync', sqlite: 'durable', level: 'durable' } // the `durable` config used for fill/crash/corruption
const LEVEL = { 'durable-nosync': 'durable', durable: 'durable', 'durable-txsync': 'durable', fsync: 'fsync', 'fsync-classic': 'fsync' }

const ROOT = mkdtempSync(join(os.tmpdir(), 'thriftbus-store-eval-'))
let cleaned = false
const cleanup = () => { if (!cleaned) { cleaned = true; rmSync(ROOT, { recursive: true, force: true }) } }
process.on('exit', cleanup)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { cleanup(); process.exit(130) })
let dirSeq = 0
const freshDir = (tag) => { const d = join(ROOT, `${String(++dirSeq).padStart(3, '0')}-${tag}`); mkdirSync(d, { recursive: true }); return d }
const log = (...a) => process.stderr.write(`${a.join(' ')}\n`)
const t0All = Date.now()

// Runs one worker task; resolves with its RESULT lines, raw stdout, exit code/signal. Killed at timeoutMs.
function runWorker(task, { timeoutMs = 60_000, onLine } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(HERE, 'worker.mjs'), JSON.stringify(task)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = '', stderr = '', buf = '', timedOut = false
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL') }, timeoutMs)
    child.stdout.on('data', (d) => {
      stdout += d; buf += d
      let i
      while ((i = buf.indexOf('\n')) >= 0) { const line = buf.slice(0, i); buf = buf.slice(i + 1); if (onLine) onLine(line, child) }
    })
    child.stderr.on('data', (d) => { stderr += d })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const results = stdout.split('\n').filter((l) => l.startsWith('RESULT ')).map((l) => JSON.parse(l.slice(7)))
      if (verbose) log(`  [${task.task} ${task.store} ${task.variant ?? ''}] exit=${code} sig=${signal} ${stderr.trim().slice(0, 300)}`)
      resolve({ results, stdout, stderr, code, signal, timedOut, pid: child.pid })
    })
  })
}
const one = async (task, o) => {
  const r = await runWorker(task, o)
  const res = r.results.find((x) => x.kind !== 'error')
  if (!res) throw new Error(`${task.task} ${task.store} ${task.variant}: ${JSON.stringify(r.results)} code=${r.code} sig=${r.signal} ${r.stderr.slice(0, 500)}`)
  return res
}

const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–')
const k = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–')
const mb = (b) => (Number.isFinite(b) ? `${(b / 1048576).toFixed(1)} MiB` : '–')
const out = { date: new Date().toISOString(), machine: {}, cfg, append: [], steady: [], startup: {}, crash: [], corrupt: [], lock: [] }
const md = []
const section = (title, lines) => { const s = [`### ${title}`, '', ...lines, ''].join('\n'); md.push(s); process.stdout.write(`${s}\n`) }

// ---------------------------------------------------------------------------
const pkgVersion = (p) => JSON.parse(readFileSync(join(HERE, 'node_modules', p, 'package.json'), 'utf8')).version
out.machine = { nproc: os.availableParallelism(), cpu: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${process.platform} ${os.release()}`,
  tmpdir: os.tmpdir(), packages: { lmdb: pkgVersion('lmdb'), 'better-sqlite3': pkgVersion('better-sqlite3'), 'classic-level': pkgVersion('classic-level') } }
try { out.machine.fs = execFileSync('df', ['-T', os.tmpdir()], { encoding: 'utf8' }).trim().split('\n')[1].split(/\s+/).slice(0, 2).join(' ') } catch {}
// fdatasync cost of this disk, to read the fsync rows against
{
  const p = join(ROOT, 'fsync-probe'); const fd = openSync(p, 'w'); const b = Buffer.alloc(4096)
  const { fdatasyncSync } = await import('node:fs'); const s = process.hrtime.bigint()
  for (let i = 0; i < 100; i++) { writeSync(fd, b); fdatasyncSync(fd) }
  out.machine.fdatasyncUs = Number(process.hrtime.bigint() - s) / 100 / 1000; closeSync(fd); rmSync(p)
}
section('Machine', [`${out.date} · ${out.machine.nproc} cores (${out.machine.cpu}) · ${out.machine.memGiB} GiB · Node ${out.machine.node} · ${out.machine.platform} · tmp on ${out.machine.fs ?? '?'} · write 4 KiB + fdatasync: ${f(out.machine.fdatasyncUs, 0)} µs`,
  `packages: ${Object.entries(out.machine.packages).map(([n, v]) => `${n}@${v}`).join(', ')}`])

// ---------------------------------------------------------------------------
if (only.includes('append')) {
  log(`append: ${APPEND.length} configs x ${NS.length} batch sizes x ${cfg.reps} reps`)
  for (let rep = 0; rep < cfg.reps; rep++) {
    for (const n of NS) {
      const order = APPEND.map((_, i) => APPEND[(i + rep) % APPEND.length]) // rotate the order every rep
      for (const [store, variant] of order) {
        const r = await one({ task: 'append', store, variant, n, dir: freshDir(`append-${store}`), warmupMs: cfg.warmupMs, durationMs: cfg.durationMs, maxBatches: cfg.maxBatches })
        out.append.push({ rep, ...r })
      }
    }
  }
  const rows = ['| store | variant | level | N | appends/s | commit p50 ms | commit p99 ms | main-thread block/commit p50 · max ms | event-loop delay p99 · max ms |', '|---|---|---|---:|---:|---:|---:|---:|---:|']
  for (const [store, variant] of APPEND) for (const n of NS) {
    const rs = out.append.filter((r) => r.store === store && r.variant === variant && r.n === n)
    const M = (fn) => median(rs.map(fn))
    rows.push(`| ${store} | ${variant} | ${LEVEL[variant]} | ${n} | ${k(M((r) => r.appendsPerSec))} | ${f(M((r) => r.lat.p50), 3)} | ${f(M((r) => r.lat.p99))} | ${f(M((r) => r.block.p50), 3)} · ${f(M((r) => r.block.max))} | ${f(M((r) => r.eld.p99))} · ${f(M((r) => r.eld.max))} |`)
  }
  section(`Group-commit appends (closed loop, one batch in flight; median of ${cfg.reps} runs × ${cfg.durationMs} ms)`, rows)
}

// ---------------------------------------------------------------------------
if (only.includes('steady')) {
  const N = 16
  log(`steady: ${STEADY.length} configs x ${cfg.reps} reps`)
  for (let rep = 0; rep < cfg.reps; rep++) {
    for (const [store, variant] of STEADY.map((_, i) => STEADY[(i + rep) % STEADY.length])) {
      const r = await one({ task: 'steady', store, variant, n: N, backlog: cfg.steadyBacklog, dir: freshDir(`steady-${store}`), warmupMs: cfg.warmupMs, durationMs: cfg.durationMs, maxBatches: cfg.maxBatches })
      out.steady.push({ rep, ...r })
    }
  }
  const rows = ['| store | variant | level | sends+receives/s (each) | commit p50 ms | commit p99 ms | block/commit max ms | messages written | disk after 10k backlog → after run |', '|---|---|---|---:|---:|---:|---:|---:|---|']
  for (const [store, variant] of STEADY) {
    const rs = out.steady.filter((r) => r.store === store && r.variant === variant)
    const M = (fn) => median(rs.map(fn))
    rows.push(`| ${store} | ${variant} | ${LEVEL[variant]} | ${k(M((r) => r.appendsPerSec))} | ${f(M((r) => r.lat.p50), 3)} | ${f(M((r) => r.lat.p99))} | ${f(M((r) => r.block.max))} | ${k(M((r) => r.totalWritten))} | ${mb(M((r) => r.duFilled.allocated))} → ${mb(M((r) => r.duEnd.allocated))} |`)
  }
  section(`Steady state: each commit = ${N} appends + ${N} receives (read head, delete), backlog held at ${cfg.steadyBacklog.toLocaleString('en-US')} in 10 mailboxes (median of ${cfg.reps})`, rows)
}

// ---------------------------------------------------------------------------
// Drops this file's pages from the page cache (posix_fadvise DONTNEED via GNU dd); no effect on other files.
function dropCache(dir) {
  const walk = (d) => { for (const e of readdirSync(d, { withFileTypes: true })) { const p = join(d, e.name); if (e.isDirectory()) walk(p); else try { { execFileSync('sync', [p]); execFileSync('dd', [`if=${p}`, 'iflag=nocache', 'count=0', 'status=none']) } } catch {} } }
  walk(dir)
}
if (only.includes('startup')) {
  const rows = [`| store | write ${cfg.bigCount.toLocaleString('en-US')} (10k/commit) | on disk | files | open ms | + oldest/newest of 10 mailboxes ms | count scan ms | RSS after open+ends (anon) | RSS after count scan (anon · file-backed) | cold: open+ends · count ms |`, '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
  for (const store of ['lmdb', 'sqlite', 'level']) {
    log(`startup: fill ${cfg.bigCount} ${store}`)
    const dir = freshDir(`big-${store}`)
    const fill = await one({ task: 'fill', store, variant: MAIN[store], dir, count: cfg.bigCount, maxMs: 120_000 }, { timeoutMs: 150_000 })
    const warm = [], cold = []
    for (let rep = 0; rep < cfg.reps; rep++) {
      dropCache(dir)
      cold.push(await one({ task: 'startup', store, variant: MAIN[store], dir, cold: true, quickCheck: rep === 0 }))
      warm.push(await one({ task: 'startup', store, variant: MAIN[store], dir }))
    }
    out.startup[store] = { fill, warm, cold }
    const M = (xs, fn) => median(xs.map(fn))
    const miB = (kib) => `${(kib / 1024).toFixed(0)} MiB`
    rows.push(`| ${store} | ${f(fill.fillMs / 1000, 1)} s | ${mb(fill.du.allocated)} | ${fill.du.files} | ${f(M(warm, (r) => r.openMs), 1)} | ${f(M(warm, (r) => r.endsMs), 1)} | ${k(M(warm, (r) => r.countMs))} | ${miB(M(warm, (r) => r.memEnds.rss))} (${miB(M(warm, (r) => r.memEnds.anon))}) | ${miB(M(warm, (r) => r.memCounts.rss))} (${miB(M(warm, (r) => r.memCounts.anon))} · ${miB(M(warm, (r) => r.memCounts.file))}) | ${f(M(cold, (r) => r.firstToEndsMs), 1)} · ${k(M(cold, (r) => r.countMs))} |`)
    if (cold[0].quickCheckMs !== undefined) out.startup[store].quickCheck = { ms: cold[0].quickCheckMs, result: cold[0].quickCheck }
    if (!warm.every((r) => r.total === cfg.bigCount && r.mailboxes === 10)) rows.push(`| ${store} | **count mismatch: ${warm.map((r) => r.total).join(',')}** |`)
  }
  const qc = out.startup.sqlite?.quickCheck
  section(`Startup with a backlog of ${cfg.bigCount.toLocaleString('en-US')} messages in 10 mailboxes (median of ${cfg.reps}; warm page cache unless "cold")`, [...rows, '',
    `RSS before opening (node + module loaded): ~${Math.round(median(Object.values(out.startup).flatMap((s) => s.warm.map((r) => r.before.rss))) / 1024)} MiB.` + (qc ? ` sqlite \`PRAGMA quick_check\` on this store: ${k(qc.ms)} ms (${qc.result}).` : '')])
}

// ---------------------------------------------------------------------------
if (only.includes('crash')) {
  const configs = [['lmdb', 'durable-nosync'], ['lmdb', 'durable'], ['sqlite', 'durable'], ['level', 'durable']]
  const rows = ['| store | variant | kills | commits acknowledged (total) | acknowledged ids missing after reopen | holes (ids absent below max stored) | damaged values | out of order | reopen errors |', '|---|---|---:|---:|---:|---:|---:|---:|---|']
  for (const [store, variant] of configs) {
    log(`crash: ${store} ${variant} x ${cfg.crashRuns}`)
    const runs = []
    for (let i = 0; i < cfg.crashRuns; i++) {
      const dir = freshDir(`crash-${store}`)
      const delay = 100 + Math.floor(Math.random() * 900)
      let printedMax = 0, commits = 0, ackGaps = 0
      const r = await runWorker({ task: 'crash-child', store, variant, dir, maxMs: 10_000 }, {
        timeoutMs: 20_000,
        onLine(line, child) {
          if (line === 'ready') setTimeout(() => child.kill('SIGKILL'), delay)
          else if (line.startsWith('C ')) { const [, a, b] = line.split(' ').map(Number); if (a !== printedMax + 1) ackGaps++; printedMax = b; commits++ }
        }
      })
      const v = await runWorker({ task: 'verify', store, variant, dir, printedMax })
      const res = v.results[0] ?? { kind: 'error', error: `verify exit ${v.code} ${v.signal} ${v.stderr.slice(0, 200)}` }
      runs.push({ delay, killed: r.signal, commits, printedMax, ackGaps, verify: res })
    }
    out.crash.push({ store, variant, runs })
    const sum = (fn) => runs.reduce((a, x) => a + (fn(x) || 0), 0)
    const errs = runs.filter((x) => x.verify.kind === 'error').map((x) => x.verify.error)
    rows.push(`| ${store} | ${variant} | ${runs.filter((x) => x.killed === 'SIGKILL').length}/${runs.length} | ${k(sum((x) => x.commits))} (${k(sum((x) => x.printedMax))} ids) | ${sum((x) => x.verify.missingPrinted)} | ${sum((x) => x.verify.holes)} | ${sum((x) => x.verify.bad)} | ${sum((x) => x.verify.disorder)} | ${errs.length ? errs.join('; ').slice(0, 200) : 'none'} |`)
  }
  section(`Crash safety: kill -9 at a random moment (100–1000 ms into a write loop of 1–64-message commits), reopen in a new process, read everything back`, rows)
}

// ---------------------------------------------------------------------------
function xorshiftBytes(n, seed) { const b = Buffer.alloc(n); let x = seed >>> 0 || 1; for (let i = 0; i < n; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; b[i] = x & 255 } return b }
// the largest file ending in suffix, or with oldest: the lowest-numbered one (LevelDB: a table surely in the live version)
function pickFile(dir, suffix = '', oldest = false) {
  let best = null
  const walk = (d) => { for (const e of readdirSync(d, { withFileTypes: true })) { const p = join(d, e.name); if (e.isDirectory()) walk(p); else if (p.endsWith(suffix)) { const s = statSync(p).size; if (!best || (oldest ? p < best.p : s > best.size)) best = { p, size: s } } } }
  walk(dir); return best
}
if (only.includes('corrupt')) {
  const CASES = [
    { name: '64 B garbage at 50%', at: 0.5, len: 64, fill: 'random' },
    { name: '4 KiB garbage at 30%', at: 0.3, len: 4096, fill: 'random', align: 4096 },
    { name: '4 KiB zeros at 70%', at: 0.7, len: 4096, fill: 'zero', align: 4096 },
    { name: '4 KiB garbage at offset 0', at: 0, len: 4096, fill: 'random' }
  ]
  // LevelDB keeps recent writes in its .log and older ones in .ldb tables: damage both kinds of file
  // (the oldest table: a newer one may be a table whose write was cut short by close, not yet live)
  const TARGETS = { lmdb: [['.mdb', CASES]], sqlite: [['.db', CASES]], level: [['.ldb', CASES, true], ['.log', [CASES[0], CASES[2]]]] }
  const rows = ['| store | damage | open | oldest/newest | count | read all + check content | sqlite quick_check | write | process |', '|---|---|---|---|---|---|---|---|---|']
  const cell = (s) => { if (!s) return 'not reached'; if (!s.ok) return `**error**: ${s.error.replace(/\|/g, '/').replace(/\s+/g, ' ').slice(0, 110)}`; const r = s.r; if (s.step === 'scan') return r.bad || r.read !== r.expected ? `**silent**: read ${r.read}/${r.expected}, ${r.bad} wrong` : 'ok (all correct)'; if (s.step === 'count') return r.total === r.expected ? 'ok' : `**silent**: ${r.total}/${r.expected}`; if (s.step === 'quick_check') return (Array.isArray(r) ? `reports: ${r.slice(0, 2).join(' ')}` : String(r)).replace(/\|/g, '/').replace(/\s+/g, ' ').slice(0, 100); return 'ok' }
  for (const store of ['lmdb', 'sqlite', 'level']) {
    log(`corrupt: ${store}`)
    const base = freshDir(`corrupt-base-${store}`)
    await one({ task: 'fill', store, variant: MAIN[store], dir: base, count: cfg.corruptCount, maxMs: 60_000 })
    for (const [suffix, cases, oldest] of TARGETS[store]) for (const c of cases) {
      const ci = CASES.indexOf(c)
      const dir = freshDir(`corrupt-${store}`)
      cpSync(base, dir, { recursive: true })
      const target = pickFile(dir, suffix, oldest)
      let off = Math.floor(target.size * c.at); if (c.align) off -= off % c.align
      const fd = openSync(target.p, 'r+'); writeSync(fd, c.fill === 'zero' ? Buffer.alloc(c.len) : xorshiftBytes(c.len, 1234 + ci), 0, c.len, off); closeSync(fd)
      const r = await runWorker({ task: 'corrupt-open', store, variant: MAIN[store], dir, count: cfg.corruptCount }, { timeoutMs: 60_000 })
      const steps = Object.fromEntries(r.results.filter((x) => x.kind === 'corrupt-step').map((x) => [x.step, x]))
      const errLine = r.stderr.split('\n').find((l) => /\S/.test(l) && !/^\s*at |^node:|^Node\.js|^\s*\^|Warning/.test(l))
      const proc = r.signal ? `**killed by ${r.signal}**${r.timedOut ? ' (timeout)' : ''}${errLine ? `: ${errLine.replace(/\|/g, '/').trim().slice(0, 100)}` : ''}` : `exit ${r.code}`
      out.corrupt.push({ store, case: c.name, file: target.p.slice(dir.length + 1), offset: off, steps, code: r.code, signal: r.signal, stderr: r.stderr.slice(0, 500) })
      rows.push(`| ${store} | ${c.name} of ${target.p.slice(dir.length + 1)} (${mb(target.size)}) | ${cell(steps.open)} | ${cell(steps.ends)} | ${cell(steps.count)} | ${cell(steps.scan)} | ${store === 'sqlite' ? cell(steps.quick_check) : 'n/a'} | ${steps.open?.ok ? cell(steps.write) : 'not reached'} | ${proc} |`)
    }
  }
  section(`Corruption: ${cfg.corruptCount.toLocaleString('en-US')}-message store closed cleanly, bytes overwritten, then opened and read in a new process`, rows)
}

// ---------------------------------------------------------------------------
if (only.includes('lock')) {
  const rows = ['| store | second process: open | its write | its read of the first process\'s data |', '|---|---|---|---|']
  for (const store of ['lmdb', 'sqlite', 'level']) {
    const dir = freshDir(`lock-${store}`)
    let holder
    const ready = new Promise((resolve) => { holder = runWorker({ task: 'lock-hold', store, variant: MAIN[store], dir, holdMs: 8000 }, { timeoutMs: 15_000, onLine: (l) => { if (l === 'ready') resolve() } }) })
    await ready
    const t = await runWorker({ task: 'lock-try', store, variant: MAIN[store], dir }, { timeoutMs: 15_000 })
    const r = t.results[0] ?? { error: `exit ${t.code} ${t.signal}` }
    out.lock.push({ store, ...r })
    await holder
    rows.push(`| ${store} | ${r.open ? 'opens' : `fails: ${String(r.error).slice(0, 120)}`} | ${r.open ? (r.write ? `succeeds (${f(r.writeMs)} ms)` : `fails: ${String(r.writeError).slice(0, 100)}`) : '–'} | ${r.open ? (r.readFirst ? 'sees it' : r.readError ?? 'does not see it') : '–'} |`)
  }
  section('Two processes on one store (first keeps it open and idle)', rows)
}

out.totalSeconds = (Date.now() - t0All) / 1000
mkdirSync(join(HERE, 'results'), { recursive: true })
writeFileSync(join(HERE, 'results', 'latest.json'), JSON.stringify(out, null, 1))
writeFileSync(join(HERE, 'results', 'latest.md'), md.join('\n'))
log(`done in ${out.totalSeconds.toFixed(0)} s; results/latest.md, results/latest.json`)
cleanup()
