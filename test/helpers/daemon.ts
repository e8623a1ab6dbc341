/**
 * Test helpers: a private temp folder per test, and a real daemon process (the built CLI) serving a socket
 * in it. Everything is torn down with the test.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { processIsAlive } from '../../src/daemon/listen.js'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** The built CLI (npm test builds it first). */
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js')

interface Teardown {
  teardown(fn: () => unknown): void
}

/** A fresh folder (mode 0700) removed at teardown. Short, so socket paths stay under the sun_path limit. */
export function tempDir(t: Teardown): string {
  const dir = mkdtempSync(join(tmpdir(), 'tb-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }))
  return dir
}

export interface RunningDaemon {
  readonly socket: string
  readonly stateDir: string
  readonly dir: string
  readonly process: ChildProcess
  /** Everything the daemon wrote to stderr so far. */
  stderr(): string
  /** Resolves with the exit code once the daemon has exited and its output has been read. */
  readonly exited: Promise<number | null>
  /** SIGTERM, then waits for the exit; resolves with the exit code. */
  stop(): Promise<number | null>
}

/** Starts `thriftbus daemon` in its own process and waits until it says it listens. */
export async function startDaemon(t: Teardown, options: { dir?: string; args?: string[] } = {}): Promise<RunningDaemon> {
  const dir = options.dir ?? tempDir(t)
  const socket = join(dir, 'bus.sock')
  const stateDir = join(dir, 'state')
  // An empty services config of the test's own: never the developer's (~/.config/thriftbus/services.json).
  // A --config in options.args comes later and wins.
  const config = join(dir, 'no-services.json')
  writeFileSync(config, '{ "services": {} }\n')
  const child = spawn(process.execPath, [CLI, 'daemon', '--socket', socket, '--state-dir', stateDir, '--config', config, ...(options.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr!.on('data', (d) => (err += d))
  // 'close', not 'exit': it comes after stderr has been read to the end, so tests can assert on the log.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  await new Promise<void>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d) => {
      out += d
      if (out.includes('listening on')) resolve()
    })
    void exited.then((code) => reject(new Error(`daemon exited (${code}) before listening: ${err}`)))
  })
  const daemon: RunningDaemon = {
    socket,
    stateDir,
    dir,
    process: child,
    exited,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return exited
    },
  }
  t.teardown(() => daemon.stop())
  return daemon
}

/** Asks the daemon behind client to shut down and waits until its process has gone (for spawned daemons). */
export async function shutdownAndWait(client: { status(): Promise<{ pid: number }>; shutdownDaemon(): Promise<void>; close(): Promise<void> }): Promise<void> {
  const pid = await client.status().then((s) => s.pid, () => undefined)
  await client.shutdownDaemon().catch(() => {})
  await client.close()
  for (let i = 0; pid !== undefined && i < 250 && processIsAlive(pid); i++) await new Promise((r) => setTimeout(r, 20))
}

/** Runs the CLI to completion; resolves with its exit code and output. */
export function runCli(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(input ?? '')
  })
}

/** Runs test/integration/fixtures/sdk-client.mjs with a command in its own process; resolves with its JSON reply. */
export function runSdkClient(command: object): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'test', 'integration', 'fixtures', 'sdk-client.mjs'), JSON.stringify(command)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(stdout.trim().split('\n').pop()!))
      else reject(new Error(`sdk client exited ${code}: ${stderr}`))
    })
  })
}
