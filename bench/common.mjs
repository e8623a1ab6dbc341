// bench/common.mjs — small helpers shared by the harness (run.mjs), the client
// worker (worker.mjs) and the peers (peers/*.mjs): clocks, statistics, /proc
// readers, socket polling. Kept dependency-free so every process loads it fast.
import net from 'node:net'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const CLK_TCK = 100 // Linux USER_HZ; /proc/<pid>/stat times are in these ticks

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Monotonic clock in microseconds (float). */
export const nowUs = () => performance.now() * 1000

/** True when the module at `url` is the process entry point. */
export const isMain = (url) => process.argv[1] === fileURLToPath(url)

export function median (xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return null
  const m = v.length >> 1
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2
}

/** Nearest-rank percentile of an ascending-sorted array. */
export function percentile (sorted, p) {
  if (sorted.length === 0) return null
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]
}

/** utime+stime of a process (all threads) in microseconds, or null if it is gone. */
export function cpuUs (pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ') // fields from #3 (state) on
    return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK // #14 utime, #15 stime
  } catch { return null }
}

/** VmRSS of a process in KiB, or null. */
export function rssKiB (pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : null
  } catch { return null }
}

/** Machine-wide CPU counters from /proc/stat: { total, steal } in ticks (steal = time a VM host took). */
export function cpuTotals () {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number)
    return { total: f.reduce((a, b) => a + b, 0), steal: f[7] }
  } catch { return null }
}

/** Resolves once a Unix socket accepts a connection; rejects on timeout or when gone() is true. */
export async function waitForSocket (path, { timeoutMs = 10000, gone = () => false } = {}) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(path)
      s.once('connect', () => { s.destroy(); resolve(true) })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    const why = gone()
    if (why) throw new Error(why)
    if (Date.now() > deadline) throw new Error(`socket ${path} not answering after ${timeoutMs} ms`)
    await sleep(20)
  }
}

/** For bench servers written in Node: exit when the harness goes away (our stdin closes). */
export function exitWithParent () {
  process.stdin.on('end', () => process.exit(0))
  process.stdin.on('error', () => process.exit(0))
  process.stdin.resume()
  process.on('SIGTERM', () => process.exit(0))
}
