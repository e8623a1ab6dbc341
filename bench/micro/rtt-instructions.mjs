// bench/micro/rtt-instructions.mjs — instructions per round trip, counted by callgrind: the ping-pong of the
// `rtt` scenario (this process pings, a child echoes, through the ceiling's server or a thriftbus daemon), with
// one of the two other processes run under `valgrind --tool=callgrind`. Counting starts after a warm-up (V8 has
// optimised the hot path by then) and covers N round trips. Unlike a timing, the count barely moves with
// what else the machine is doing, so a change of a few percent in one process's work shows up run after run
// (runs close together agree within about 1.5%). Over an hour one build's count can drift by a few percent
// (how replies share reads depends on the processes' timing): compare builds in alternation. It counts user
// space only, not the kernel, and instructions, not cache misses.
//   node bench/micro/rtt-instructions.mjs [ceiling|memory|durable] [server|echo] [N=3000] [--by-function] [--callers=NAME]
// --by-function lists the instructions per round trip of the 40 (env TOP) costliest functions, V8's JIT code
// named through the process's --perf-basic-prof map; --callers=NAME adds the callers of the functions whose
// names contain NAME. Needs valgrind (Debian: apt-get install valgrind).
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitForSocket } from '../common.mjs'
import { count, report, startNode, totalOf } from './callgrind.mjs'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const byFunction = process.argv.includes('--by-function')
/** --callers=NAME: also list, for each function whose name contains NAME, what calls it (inclusive cost). */
const callersOf = process.argv.find((a) => a.startsWith('--callers='))?.slice('--callers='.length)
const [kind = 'memory', who = 'server', nArg = '3000', role, socket] = args
const N = Number(nArg)
const WARM = 5000

async function connect (sock) {
  if (kind === 'ceiling') return (await import('../peers/ceiling.mjs')).connect(sock)
  const { connect } = await import(join(ROOT, 'dist/sdk/index.js'))
  const c = await connect({ socket: sock, spawn: false })
  return { send: (to, content) => c.send(to, content), receive: (box) => c.receive(box).then((m) => m.content), close: () => c.close() }
}

if (role === 'echo') {
  const c = await connect(socket)
  let next = c.receive('b')
  for (;;) {
    const m = await next
    next = c.receive('b')
    c.send('a', m)
  }
} else {
  await main()
}

async function main () {
  const dir = mkdtempSync(join(tmpdir(), 'tb-rtt-instr-'))
  const sock = join(dir, 's.sock')
  const out = join(dir, 'callgrind.out')
  mkdirSync(join(dir, 'state'))
  const children = []
  const start = (counted, argv) => {
    const child = startNode(counted, argv, out)
    children.push(child)
    return child
  }
  try {
    const server = kind === 'ceiling'
      ? start(who === 'server', [join(ROOT, 'bench/peers/ceiling.mjs'), 'server', sock])
      : start(who === 'server', [join(ROOT, 'dist/src/cli/main.js'), 'daemon', '--socket', sock, '--state-dir', join(dir, 'state'), '--durability', kind])
    await waitForSocket(sock, { timeoutMs: 60000 })
    const echo = start(who === 'echo', [fileURLToPath(import.meta.url), kind, who, String(N), 'echo', sock])
    const counted = who === 'echo' ? echo : server
    const c = await connect(sock)
    const payload = 'x'.repeat(100)
    const pings = async (n) => {
      for (let i = 0; i < n; i++) {
        const reply = c.receive('a')
        await c.send('b', payload)
        await reply
      }
    }
    await pings(WARM)
    const text = await count(counted, out, () => pings(N))
    await c.close()
    const total = totalOf(text)
    console.log(`${kind} ${who}: ${Math.round(total / N)} instructions a round trip (${N} round trips)`)
    if (byFunction) report(text, readFileSync(`/tmp/perf-${counted.pid}.map`, 'utf8'), N, { top: Number(process.env.TOP ?? 40), callersOf })
  } finally {
    for (const child of children) child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
}
