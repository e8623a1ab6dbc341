/**
 * Starts a daemon in the background for connect(): detached, with no pipe to the program that started it (so
 * each can exit without the other), logging to <state dir>/daemon.log. Several programs may do this at once; the daemons
 * settle among themselves which one serves (src/daemon/listen.ts) and the others exit 0.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

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
