/**
 * Shared bits of the interop tests: detect the stock Thrift implementations installed on this machine (and say
 * how to install a missing one), generate code for an IDL into a temp folder with the stock compiler, and run a
 * stock client script with a hard timeout so a hang fails the test instead of hanging CI.
 */
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ROOT } from '../helpers/daemon.js'

export const THRIFT = '/usr/bin/thrift'
/** Debian's python3: the pyenv one first on PATH does not see Debian's thrift module. */
export const PYTHON = '/usr/bin/python3'
export const RUBY = '/usr/bin/ruby'
/** The project's IDL (namespace py thriftbus, rb Thriftbus). */
export const FULL_IDL = join(ROOT, 'idl', 'thriftbus.thrift')
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url))
/** How long any child process (compiler, client script) may run. */
export const CHILD_TIMEOUT_MS = 20_000

/** The original two-method contract, verbatim: a client generated from it must keep working. */
export const LEGACY_IDL = `struct Message { 1: string sender  2: string recipient  3: string content }
service MessageService {
  bool sendMessage(1: Message message)
  Message receiveMessage(1: string recipient)
}
`

type Need = 'thrift-compiler' | 'python3-thrift' | 'python3-thriftpy' | 'ruby-thrift'

function runs(file: string, args: string[]): boolean {
  if (!existsSync(file)) return false
  try {
    execFileSync(file, args, { stdio: 'ignore', timeout: 10_000 })
    return true
  } catch {
    return false
  }
}

const probes: Record<Need, () => string | false> = {
  'thrift-compiler': () =>
    existsSync(THRIFT) ? false : `thrift-compiler is not installed (${THRIFT}): apt-get install thrift-compiler`,
  'python3-thrift': () =>
    runs(PYTHON, ['-c', 'import thrift']) ? false : `${PYTHON} cannot import thrift: apt-get install python3-thrift`,
  'python3-thriftpy': () =>
    runs(PYTHON, ['-c', 'import thriftpy']) ? false : `${PYTHON} cannot import thriftpy: apt-get install python3-thriftpy`,
  'ruby-thrift': () =>
    runs(RUBY, ['-e', "require 'thrift'"]) ? false : `${RUBY} cannot require 'thrift': apt-get install ruby-thrift`,
}
const probed = new Map<Need, string | false>()

/** Why a test cannot run here (for tap's `{ skip }` option), or false when everything it needs is installed. */
export function missing(...needs: Need[]): string | false {
  for (const need of needs) {
    if (!probed.has(need)) probed.set(need, probes[need]())
    const why = probed.get(need)!
    if (why) return why
  }
  return false
}

export interface Finished {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

interface Teardown {
  teardown(fn: () => unknown): void
}

/**
 * Runs a program to completion, killed after CHILD_TIMEOUT_MS (and at teardown, if still running). Never rejects:
 * the caller asserts on the exit code and output.
 */
export function run(t: Teardown, file: string, args: string[], cwd?: string): Promise<Finished> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { cwd, timeout: CHILD_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0
        resolve({ code, signal: child.signalCode, stdout: String(stdout), stderr: String(stderr) })
      },
    )
    t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    })
  })
}

/** Writes idl (text) to dir/<name>.thrift, or uses the file idl when name is omitted; returns the IDL path. */
export function writeIdl(dir: string, idl: string, name?: string): string {
  if (name === undefined) return idl
  const path = join(dir, `${name}.thrift`)
  writeFileSync(path, idl)
  return path
}

/** Generates `thrift --gen <lang>` code for idlPath into dir; throws with the compiler's output on failure. */
export async function generate(t: Teardown, lang: 'py' | 'rb', idlPath: string, dir: string): Promise<string> {
  const r = await run(t, THRIFT, ['--gen', lang, '-out', dir, idlPath])
  if (r.code !== 0) throw new Error(`thrift --gen ${lang} ${idlPath} failed (${r.code ?? r.signal}): ${r.stderr}`)
  return dir
}

/** Runs a fixture script with Debian's python3 (isolated: no PYTHON* env, no user site, no bytecode written). */
export function python(t: Teardown, script: string, args: string[]): Promise<Finished> {
  return run(t, PYTHON, ['-I', '-B', join(FIXTURES, script), ...args])
}

/** Runs a fixture script with Debian's ruby. */
export function ruby(t: Teardown, script: string, args: string[]): Promise<Finished> {
  return run(t, RUBY, [join(FIXTURES, script), ...args])
}

/** The JSON object a fixture script printed as its last stdout line; throws with its stderr when it failed. */
export function result(r: Finished): any {
  if (r.code !== 0) {
    throw new Error(`client exited ${r.code ?? `by ${r.signal} (timed out?)`}\nstderr:\n${r.stderr}\nstdout:\n${r.stdout}`)
  }
  const last = r.stdout.trim().split('\n').pop() ?? ''
  return JSON.parse(last)
}
