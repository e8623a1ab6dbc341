// bench/micro/inproc.mjs — CPU µs per message (send + receive) with the daemon and two SDK clients in one
// process over a real socket: the total cost of the hot path, less sensitive to scheduling than the full bench.
// Usage: node bench/micro/inproc.mjs [dist folder, default ./dist]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
const root = process.argv[2]
  ? pathToFileURL(resolve(process.argv[2])).href
  : new URL('../../dist', import.meta.url).href.replace(/\/$/, '')
const { Daemon } = await import(`${root}/src/daemon/daemon.js`)
const { connect } = await import(`${root}/sdk/index.js`)
const dir = mkdtempSync(join(tmpdir(), 'tb-'))
const d = await Daemon.start({ socket: join(dir, 's'), stateDir: join(dir, 'st'), log: () => {} })
const sender = await connect({ socket: d.endpoint, spawn: false })
const receiver = await connect({ socket: d.endpoint, spawn: false })
const payload = 'x'.repeat(100)
async function run(n) {
  let received = 0
  const done = new Promise((resolve) => {
    const loop = () => receiver.receive('b').then(() => { if (++received === n) resolve(); else if (received + 255 < n) loop() })
    for (let i = 0; i < 256; i++) loop()
  })
  let sent = 0, inflight = 0
  await new Promise((resolve) => {
    const pump = () => { while (inflight < 256 && sent < n) { inflight++; sent++; sender.send('b', payload).then(() => { inflight--; if (sent < n) pump(); else if (inflight === 0) resolve() }) } }
    pump()
  })
  await done
}
await run(50_000)
const results = []
for (let r = 0; r < 5; r++) {
  const c0 = process.cpuUsage(); const t0 = performance.now()
  await run(100_000)
  const c = process.cpuUsage(c0); const t = performance.now() - t0
  results.push({ cpu: (c.user + c.system) / 100_000, rate: 100_000 / t * 1000 })
}
results.sort((a, b) => a.cpu - b.cpu)
console.log(`CPU µs/msg (daemon + both clients) median ${results[2].cpu.toFixed(2)}, msgs/s ${Math.round(results[2].rate)}`)
await sender.close(); await receiver.close(); await d.close()
rmSync(dir, { recursive: true, force: true })
