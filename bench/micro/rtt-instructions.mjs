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
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sleep, waitForSocket } from '../common.mjs'

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
    const [cmd, ...rest] = counted
      ? ['valgrind', '--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', `--callgrind-out-file=${out}`,
          process.execPath, '--perf-basic-prof', ...argv]
      : [process.execPath, ...argv]
    const child = spawn(cmd, rest, { stdio: ['pipe', 'ignore', 'ignore'] }) // stdin open: the ceiling exits when it closes
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
    const control = async (...a) => {
      execFileSync('callgrind_control', [...a, String(counted.pid)], { stdio: 'ignore' })
      await sleep(1000) // callgrind picks the command up between blocks of the program's code
    }
    await control('-i', 'on')
    await pings(N)
    await control('-d')
    await control('-i', 'off')
    await c.close()
    const dump = `${out}.1`
    if (!existsSync(dump)) throw new Error('callgrind wrote no dump; is valgrind installed (apt-get install valgrind)?')
    const text = readFileSync(dump, 'utf8')
    const total = Number(/^totals: (\d+)/m.exec(text)[1])
    console.log(`${kind} ${who}: ${Math.round(total / N)} instructions a round trip (${N} round trips)`)
    if (byFunction) report(text, readFileSync(`/tmp/perf-${counted.pid}.map`, 'utf8'))
  } finally {
    for (const child of children) child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Self cost by function from a callgrind dump; JIT code (unnamed to valgrind) named through the perf map. */
function report (text, map) {
  const ranges = map.split('\n').filter(Boolean).map((l) => {
    const [a, size, ...name] = l.split(' ')
    return { start: parseInt(a, 16), end: parseInt(a, 16) + parseInt(size, 16), name: name.join(' ') }
  }).sort((x, y) => x.start - y.start)
  const nameOf = (fn) => {
    const m = /^0x([0-9a-f]+)$/.exec(fn)
    if (!m) return fn
    const at = parseInt(m[1], 16)
    let lo = 0; let hi = ranges.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (ranges[mid].start <= at) lo = mid + 1
      else hi = mid - 1
    }
    return hi >= 0 && at < ranges[hi].end ? ranges[hi].name : fn
  }
  const names = new Map()
  const cost = new Map()
  const callers = new Map() // `callee <- caller` -> inclusive instructions of those calls
  let current
  let callee
  let skipNext = false
  for (const line of text.split('\n')) {
    const m = /^(c?fn)=\((\d+)\)(?: (.*))?/.exec(line)
    if (m) {
      if (m[3]) names.set(m[2], m[3])
      if (m[1] === 'fn') current = nameOf(names.get(m[2]))
      else callee = nameOf(names.get(m[2]))
      continue
    }
    if (line.startsWith('calls=')) { skipNext = true; continue } // the next line is the call's inclusive cost
    if (/^[0-9+*-]/.test(line)) {
      const n = Number(line.split(' ')[1])
      if (skipNext) {
        skipNext = false
        if (callersOf && callee?.includes(callersOf) && n) {
          const key = `${callee.slice(0, 60)} <- ${current}`
          callers.set(key, (callers.get(key) ?? 0) + n)
        }
        continue
      }
      if (current && n) cost.set(current, (cost.get(current) ?? 0) + n)
    }
  }
  const print = (map, count) => {
    for (const [name, n] of [...map].sort((a, b) => b[1] - a[1]).slice(0, count)) {
      console.log(`${String(Math.round(n / N)).padStart(7)}  ${name.slice(0, 160)}`)
    }
  }
  print(cost, Number(process.env.TOP ?? 40))
  if (callersOf) {
    console.log(`\ncallers of ${callersOf} (instructions of the calls, callee included):`)
    print(callers, 30)
  }
}
