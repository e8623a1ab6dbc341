/**
 * Starts a daemon in the background for connect(): detached, with no pipe to the program that started it (so
 * each can exit without the other), logging to <state dir>/daemon.log. Several programs may do this at once; the daemons
 * settle among themselves which one serves (src/daemon/listen.ts) and the others exit 0.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { BusError } from '../src/errors.js'

/** The CLI's compiled entry point: next to this file in dist/, or in dist/ when running from the sources. */
export function daemonEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url))
  const candidates = [join(here, '..', 'src', 'cli', 'main.js'), join(here, '..', 'dist', 'src', 'cli', 'main.js')]
  const found = candidates.find((p) => existsSync(p))
  if (!found) throw new Error(`cannot find the thriftbus CLI (looked for ${candidates.join(', ')}); run \`npm run build\``)
  return found
}

export interface SpawnedDaemon {
  readonly logFile: string
  /** Set once the process has exited, with its exit code. */
  exitCode: number | undefined
}

export async function spawnDaemon(socket: string, stateDir: string): Promise<SpawnedDaemon> {
  // Loaded on first use: most programs attach to a running daemon and never need it.
  const { execa } = await import('execa')
  mkdirSync(stateDir, { recursive: true, mode: 0o700 })
  const logFile = join(stateDir, 'daemon.log')
  const spawned: SpawnedDaemon = { logFile, exitCode: undefined }
  const args = [daemonEntry(), 'daemon', '--socket', socket, '--state-dir', stateDir, '--log-file', logFile]
  const child = execa(process.execPath, args, { detached: true, cleanup: false, reject: false, stdio: 'ignore', windowsHide: true })
  child.unref()
  void child.then((result) => {
    spawned.exitCode = result.exitCode ?? 1
  })
  return spawned
}

/** The last lines of a daemon log, for error messages. */
export function logTail(logFile: string, lines = 5): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return ''
  }
}

/**
 * What connect() and serve() do after a connect attempt failed: when nobody listens (ENOENT, ECONNREFUSED) and
 * spawning is on, start a daemon (once per starter) and wait a moment for it to listen; otherwise, or when that
 * daemon exited with an error or the deadline passed, give up with NO_DAEMON and the reason.
 */
export class DaemonStarter {
  readonly #socket: string
  readonly #stateDir: string
  readonly #spawn: boolean
  #spawned: SpawnedDaemon | undefined

  constructor(socket: string, stateDir: string, spawn: boolean) {
    this.#socket = socket
    this.#stateDir = stateDir
    this.#spawn = spawn
  }

  /** Resolves when it is worth connecting again; throws NO_DAEMON when it is not. */
  async afterFailedConnect(err: unknown, deadline: number, signal: AbortSignal | undefined): Promise<void> {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'ENOENT' && code !== 'ECONNREFUSED') {
      throw new BusError('NO_DAEMON', `cannot connect to the daemon at ${this.#socket}: ${(err as Error).message}`, { cause: err })
    }
    if (!this.#spawn) {
      throw new BusError('NO_DAEMON', `no daemon at ${this.#socket} (connect ${code}); start one with \`thriftbus daemon\``, { cause: err })
    }
    const spawned = (this.#spawned ??= await spawnDaemon(this.#socket, this.#stateDir))
    if ((spawned.exitCode !== undefined && spawned.exitCode !== 0) || Date.now() > deadline) {
      const why = spawned.exitCode !== undefined ? `it exited with code ${spawned.exitCode}` : 'it did not answer in time'
      throw new BusError('NO_DAEMON', `started a daemon for ${this.#socket}, but ${why}; its log ${spawned.logFile} ends with:\n${logTail(spawned.logFile)}`, { cause: err })
    }
    await sleep(25, undefined, { signal }).catch(() => {})
  }
}
