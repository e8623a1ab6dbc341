/**
 * Helpers of the routing tests: generate `thrift --gen js:node,es6` code for a test IDL into a temp folder (loadable
 * from there: CommonJS, with the runtime linked in), and run providers (a Node fixture with the built SDK, or a
 * stock Python script) as long-lived processes that report on stdout, one JSON object a line.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { ROOT } from '../helpers/daemon.js'
import { CHILD_TIMEOUT_MS, FIXTURES, PYTHON, THRIFT, run } from './interop-helpers.js'

export const USER_IDL = join(FIXTURES, 'user-service.thrift')
export const EXAMPLE_IDL = join(FIXTURES, 'example-service.thrift')
/** The Node provider of UserService (built SDK). */
export const USER_PROVIDER = join(ROOT, 'test', 'integration', 'fixtures', 'user-provider.mjs')

interface Teardown {
  teardown(fn: () => unknown): void
}

/**
 * Generates `thrift --gen js:node,es6` code for idlPath into dir, and makes it loadable from there: a package.json
 * that says CommonJS, and node_modules links to the runtime it requires (thrift, node-int64) in this checkout.
 */
export async function generateJs(t: Teardown, idlPath: string, dir: string): Promise<string> {
  const r = await run(t, THRIFT, ['--gen', 'js:node,es6', '-out', dir, idlPath])
  if (r.code !== 0) throw new Error(`thrift --gen js:node,es6 ${idlPath} failed (${r.code ?? r.signal}): ${r.stderr}`)
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n')
  mkdirSync(join(dir, 'node_modules'), { recursive: true })
  for (const dep of ['thrift', 'node-int64']) {
    symlinkSync(join(ROOT, 'node_modules', dep), join(dir, 'node_modules', dep), 'dir')
  }
  return dir
}

/** require() for the generated code in dir. */
export function requireFrom(dir: string): NodeJS.Require {
  return createRequire(join(dir, 'index.js'))
}

export interface ProviderProcess {
  readonly process: ChildProcess
  /** Every JSON line printed so far. */
  readonly events: any[]
  /** Resolves with the first event (past or future) that matches; rejects if the process exits or CHILD_TIMEOUT_MS passes. */
  waitFor(match: (event: any) => boolean, what: string): Promise<any>
  stderr(): string
  /** Resolves with the exit code (or signal) once the process has exited and its output has been read. */
  readonly exited: Promise<number | NodeJS.Signals | null>
  kill(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals | null>
}

/** Starts a provider process and waits until it prints {"registered": true}. Killed at teardown. */
export async function startProvider(t: Teardown, file: string, args: string[]): Promise<ProviderProcess> {
  const [command, argv] = file.endsWith('.py') ? [PYTHON, ['-I', '-B', file, ...args]] : [process.execPath, [file, ...args]]
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
  const events: any[] = []
  const waiters = new Set<() => void>()
  let err = ''
  let partial = ''
  child.stderr!.on('data', (d) => (err += d))
  child.stdout!.on('data', (d) => {
    const lines = (partial + d).split('\n')
    partial = lines.pop()!
    for (const line of lines) {
      if (line.trim() === '') continue
      try {
        events.push(JSON.parse(line))
      } catch {
        events.push({ text: line })
      }
    }
    for (const w of waiters) w()
  })
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once('close', (code, signal) => {
    resolve(code ?? signal)
    for (const w of waiters) w()
  }))
  const p: ProviderProcess = {
    process: child,
    events,
    stderr: () => err,
    exited,
    waitFor(match, what) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(match)
          if (found !== undefined) done(() => resolve(found))
          else if (child.exitCode !== null || child.signalCode !== null) {
            done(() => reject(new Error(`${file} exited (${child.exitCode ?? child.signalCode}) before ${what}; stderr:\n${err}`)))
          }
        }
        const timer = setTimeout(() => done(() => reject(new Error(`${file}: no ${what} within ${CHILD_TIMEOUT_MS} ms; stderr:\n${err}`))), CHILD_TIMEOUT_MS)
        const done = (settle: () => void) => {
          clearTimeout(timer)
          waiters.delete(check)
          settle()
        }
        waiters.add(check)
        check()
      })
    },
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
  t.teardown(() => p.kill())
  await p.waitFor((e) => e.registered === true, 'registration')
  return p
}
