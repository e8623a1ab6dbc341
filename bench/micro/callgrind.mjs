// bench/micro/callgrind.mjs — what the *-instructions.mjs scripts share: starting a process under callgrind with
// counting off, switching counting on and off, and reading a dump as instructions per unit of work, in all and
// by function (V8's JIT code named through the process's --perf-basic-prof map).
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { sleep } from '../common.mjs'

/**
 * Starts program (node unless told otherwise, e.g. redis-server) with argv; under callgrind (counting off until
 * count() says so) when counted is true. Node also writes the map that names its JIT code in a report.
 */
export function startNode (counted, argv, out, program = process.execPath) {
  const node = program === process.execPath
  const [cmd, ...rest] = counted
    ? ['valgrind', '--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', `--callgrind-out-file=${out}`,
        program, ...(node ? ['--perf-basic-prof'] : []), ...argv]
    : [program, ...argv]
  return spawn(cmd, rest, { stdio: ['pipe', 'ignore', 'ignore'] }) // stdin open: the ceiling exits when it closes
}

/** Counts the instructions child runs while work() runs; returns the dump's text. */
export async function count (child, out, work) {
  const control = async (...a) => {
    execFileSync('callgrind_control', [...a, String(child.pid)], { stdio: 'ignore' })
    await sleep(1000) // callgrind picks the command up between blocks of the program's code
  }
  await control('-i', 'on')
  await work()
  await control('-d')
  await control('-i', 'off')
  const dump = `${out}.1`
  if (!existsSync(dump)) throw new Error('callgrind wrote no dump; is valgrind installed (apt-get install valgrind)?')
  return readFileSync(dump, 'utf8')
}

/** The dump's total instructions. */
export function totalOf (text) {
  return Number(/^totals: (\d+)/m.exec(text)[1])
}

/**
 * Prints self cost by function, per unit (the dump's instructions divided by units), the `top` costliest;
 * with callersOf, also the callers of the functions whose names contain it (inclusive cost of those calls).
 */
export function report (text, map, units, { top = 40, callersOf } = {}) {
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
      console.log(`${String(Math.round(n / units)).padStart(7)}  ${name.slice(0, 160)}`)
    }
  }
  print(cost, top)
  if (callersOf) {
    console.log(`\ncallers of ${callersOf} (instructions of the calls, callee included):`)
    print(callers, 30)
  }
}
