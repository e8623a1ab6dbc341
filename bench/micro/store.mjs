// bench/micro/store.mjs — CPU µs per message of the durable store alone (no sockets): each step inserts 256
// messages and commits, then removes the oldest 256 past a steady backlog and commits, as a busy mailbox does.
// Prints the median of 5 runs of 1000 steps and the longest step (a commit that stalls).
// Usage: node bench/micro/store.mjs [backlog, default 0] [dist folder, default ./dist]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
const backlog = Number(process.argv[2] ?? 0)
const root = process.argv[3]
  ? pathToFileURL(resolve(process.argv[3])).href
  : new URL('../../dist', import.meta.url).href.replace(/\/$/, '')
const { SqliteStore } = await import(`${root}/src/broker/store.js`)
const dir = mkdtempSync(join(tmpdir(), 'tb-store-'))
const store = new SqliteStore(join(dir, 'thriftbus.db'), 'durable', (err) => { throw err })
const content = 'x'.repeat(100)
let id = 0
let head = 1
function step () {
  for (let i = 0; i < 256; i++) store.insert({ sender: 'a', recipient: 'bench', content, id: ++id, sentAtMs: Date.now() }, 120)
  store.commit()
  const excess = id - head + 1 - backlog
  if (excess > 0) {
    for (let i = 0; i < Math.min(256, excess); i++) store.remove('bench', head++)
    store.commit()
  }
}
for (let i = 0; i < 600; i++) step()
const runs = []
for (let r = 0; r < 5; r++) {
  const c0 = process.cpuUsage()
  let longest = 0
  for (let i = 0; i < 1000; i++) {
    const t = performance.now()
    step()
    longest = Math.max(longest, performance.now() - t)
  }
  const c = process.cpuUsage(c0)
  runs.push({ cpu: (c.user + c.system) / 256_000, longest })
}
runs.sort((a, b) => a.cpu - b.cpu)
console.log(`backlog ${backlog}: store CPU µs/msg median ${runs[2].cpu.toFixed(2)}, longest step ${Math.max(...runs.map((r) => r.longest)).toFixed(1)} ms`)
store.close()
rmSync(dir, { recursive: true, force: true })
