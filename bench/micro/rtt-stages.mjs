// bench/micro/rtt-stages.mjs — where a round trip's time goes: the ping-pong of the `rtt` scenario (A parks a
// receive and sends 100 B to B's mailbox, B echoes into A's), with the write and read system calls of the server
// and both clients traced for 1 s by `perf record` (kernel tracepoints: a few µs each, no sampling). Each round
// trip is cut into its eight stages, and the median of each is printed in µs:
//   ping   A's time from reading the echo to writing its next send
//   wake1  A's write until the server's read returns     proc1  the server's read until its write to B
//   wake2  that write until B's read returns              pong   B's read until its write (the echo)
//   wake3  B's write until the server's read returns      proc2  the server's read until its write to A
//   wake4  that write until A's read returns
// A wake is the kernel handing the bytes over and scheduling the reader; a proc is user space (and the system
// calls it makes). A last line splits the wakes by where the reader ran: on the writer's CPU (it waits for the
// writer to block) or on the other one (on a VM, waking an idle virtual CPU is most of a wake). Needs `perf` with tracepoint access (root, or kernel.perf_event_paranoid <= -1).
// Usage: node bench/micro/rtt-stages.mjs [ceiling|memory|durable, default memory] [dist folder, default ./dist]
import { execFileSync, fork, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { sleep, waitForSocket } from '../common.mjs'

const [kind = 'memory', distArg, role, socket] = process.argv.slice(2)
const dist = distArg ? resolve(distArg) : fileURLToPath(new URL('../../dist', import.meta.url))

async function connect () {
  if (kind === 'ceiling') return (await import('../peers/ceiling.mjs')).connect(socket)
  const { connect } = await import(pathToFileURL(join(dist, 'sdk/index.js')).href)
  const c = await connect({ socket, spawn: false })
  return { send: (to, content) => c.send(to, content), receive: (box) => c.receive(box).then((m) => m.content) }
}

if (role === 'pong') {
  const c = await connect()
  process.send('ready')
  let next = c.receive('b')
  for (;;) {
    const m = await next
    next = c.receive('b')
    c.send('a', m)
  }
} else if (role === 'ping') {
  const c = await connect()
  const payload = 'x'.repeat(100)
  process.send('ready')
  let stop = false
  process.on('message', () => { stop = true })
  while (!stop) {
    const reply = c.receive('a')
    await c.send('b', payload)
    await reply
  }
  process.exit(0)
} else {
  await main()
}

async function main () {
  const dir = mkdtempSync(join(tmpdir(), 'tb-rtt-stages-'))
  const sock = join(dir, 's.sock')
  const children = []
  mkdirSync(join(dir, 'state'))
  try {
    const server = kind === 'ceiling'
      ? spawn(process.execPath, [fileURLToPath(new URL('../peers/ceiling.mjs', import.meta.url)), 'server', sock], { stdio: ['pipe', 'ignore', 'inherit'] })
      : spawn(process.execPath, [join(dist, 'src/cli/main.js'), 'daemon', '--socket', sock, '--state-dir', join(dir, 'state'), '--durability', kind], { stdio: ['ignore', 'ignore', 'ignore'] })
    children.push(server)
    await waitForSocket(sock, { timeoutMs: 8000 })
    const start = (r) => {
      const child = fork(fileURLToPath(import.meta.url), [kind, dist, r, sock], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
      children.push(child)
      return new Promise((res) => child.once('message', () => res(child)))
    }
    const pong = await start('pong')
    const ping = await start('ping')
    await sleep(3000) // the bench's rtt warm-up: V8 has optimised both ends by then
    const data = join(dir, 'perf.data')
    perf(['record', '-q', '-e', 'syscalls:sys_exit_read', '-e', 'syscalls:sys_enter_write',
      '-p', [server.pid, ping.pid, pong.pid].join(','), '-o', data, '--', 'sleep', '1'], { stdio: 'ignore' })
    ping.send('stop')
    const text = perf(['script', '-i', data], { maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] }).toString()
    report(text, String(server.pid), String(ping.pid), String(pong.pid))
  } finally {
    for (const c of children) c.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Runs perf; a missing perf or a refused tracepoint becomes an error that says what to do. */
function perf (args, options) {
  try {
    return execFileSync('perf', args, options)
  } catch (err) {
    const why = err.code === 'ENOENT' ? 'perf is not installed (Debian: apt-get install linux-perf)' : `perf ${args[0]} failed (${err.message.split('\n')[0]})`
    throw new Error(`${why}; rtt-stages needs perf with access to syscall tracepoints (root, or kernel.perf_event_paranoid set to -1)`)
  }
}

/** Walks the trace as one state machine per round trip; acknowledgements (small writes and reads) are passed over. */
function report (text, S, A, B) {
  const events = []
  for (const line of text.split('\n')) {
    const m = /\s(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+syscalls:(sys_exit_read|sys_enter_write):\s+(.*)/.exec(line)
    if (!m) continue
    const [, pid, cpu, time, call, rest] = m
    const bytes = call === 'sys_exit_read' ? parseInt(rest, 16) : parseInt(/count: (0x[0-9a-f]+)/.exec(rest)?.[1] ?? '0', 16)
    if (bytes > 64) events.push({ pid, cpu, t: Number(time) * 1e6, write: call === 'sys_enter_write' })
  }
  // Each stage ends at an event of (pid, write?); its length is the time since the previous stage's end.
  const stages = [['wake1', S, false], ['proc1', S, true], ['wake2', B, false], ['pong', B, true],
    ['wake3', S, false], ['proc2', S, true], ['wake4', A, false], ['ping', A, true]]
  const got = Object.fromEntries(stages.map(([name]) => [name, []]))
  const rt = []
  let i = -1
  let last = 0
  let lastPing = 0
  let lastCpu = null
  const byPlacement = { same: [], other: [] } // wakes onto the writer's CPU, and onto the other one
  for (const e of events) {
    if (i === -1) {
      if (e.pid === A && e.write) { i = 0; last = lastPing = e.t }
      continue
    }
    const [name, pid, write] = stages[i]
    if (e.pid !== pid || e.write !== write) continue
    got[name].push(e.t - last)
    if (name.startsWith('wake')) byPlacement[e.cpu === lastCpu ? 'same' : 'other'].push(e.t - last)
    last = e.t
    lastCpu = e.cpu
    i = (i + 1) % stages.length
    if (i === 0) { rt.push(e.t - lastPing); lastPing = e.t }
  }
  const med = (a) => a.length ? Math.round([...a].sort((x, y) => x - y)[a.length >> 1]) : NaN
  console.log(`${kind}: ${rt.length} round trips traced, median ${med(rt)} µs (the tracing adds a few µs per stage)`)
  console.log(stages.map(([name]) => `${name} ${med(got[name])}`).join(' | '))
  const share = (a) => Math.round(100 * a.length / (byPlacement.same.length + byPlacement.other.length))
  console.log(`wakes onto the writer's CPU: ${share(byPlacement.same)}%, median ${med(byPlacement.same)} µs; onto the other CPU: ${share(byPlacement.other)}%, median ${med(byPlacement.other)} µs`)
}
