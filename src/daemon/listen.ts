/**
 * Claims the endpoint for exactly one daemon.
 *
 * Binding a Unix socket path is atomic, so of many daemons started at once only one can listen. The others
 * find the path taken, probe it, and leave quietly when a daemon answers. A socket file left by a crashed
 * daemon refuses connections; it is removed and the path claimed again. To keep two starters from both
 * removing "stale" files (and one removing the other's fresh socket), that check-remove-listen step runs under
 * a lock file next to the socket, held for milliseconds and broken when its owner process is dead.
 */
import { lstatSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync, closeSync, chmodSync, statSync } from 'node:fs'
import { connect, type Server } from 'node:net'
import { dirname } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { isWindowsPipe, socketPathProblem } from '../wire/endpoint.js'

export class EndpointError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'EndpointError'
  }
}

/** How long a starter waits for another starter's lock before giving up. */
const LOCK_WAIT_MS = 10_000
const PROBE_TIMEOUT_MS = 2_000

/**
 * Makes sure dir exists, belongs to this user, and nobody else can write it (created with mode 0700).
 * A socket in a directory that others can write could be swapped for theirs.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  if (process.platform === 'win32') return
  const st = lstatSync(dir)
  if (!st.isDirectory()) throw new EndpointError(`${dir} is not a directory (a symlink or a file); remove it or choose another --socket`)
  const uid = process.getuid!()
  if (st.uid !== uid) {
    throw new EndpointError(`${dir} belongs to user ${st.uid}, not to you (${uid}); thriftbus will not put its socket there. Remove it or choose another --socket`)
  }
  if ((st.mode & 0o022) !== 0) {
    throw new EndpointError(
      `${dir} can be written by other users (mode ${(st.mode & 0o777).toString(8)}); thriftbus will not put its socket there. Run \`chmod 700 ${dir}\` or choose another --socket`,
    )
  }
}

/** Connects to path: true when something answers, false when nothing listens there. */
export function probe(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = connect(path)
    const timer = setTimeout(() => {
      s.destroy()
      resolve(true) // A socket that accepts nothing for this long is held by a live (busy) process.
    }, PROBE_TIMEOUT_MS)
    s.once('connect', () => {
      clearTimeout(timer)
      s.destroy()
      resolve(true)
    })
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false)
      else reject(new EndpointError(`cannot probe ${path}: ${err.message}`))
    })
  })
}

function listenOnce(server: Server, path: string): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening)
      resolve(err)
    }
    const onListening = () => {
      server.off('error', onError)
      resolve(undefined)
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen({ path, backlog: LISTEN_BACKLOG })
  })
}

/**
 * Connections the kernel queues before the daemon accepts them (capped by net.core.somaxconn, 4096 on Linux
 * since 5.4). Node's default, 511, made a burst of 1000 clients connecting at once on a busy machine fail
 * with EAGAIN.
 */
export const LISTEN_BACKLOG = 4096

export type ClaimResult = { claimed: true; inode: number } | { claimed: false }

/**
 * Listens on path unless another daemon already serves it. Returns { claimed: false } in that case.
 * Throws EndpointError when the path cannot be used.
 */
export async function claimEndpoint(server: Server, path: string): Promise<ClaimResult> {
  const problem = socketPathProblem(path)
  if (problem) throw new EndpointError(problem)
  if (isWindowsPipe(path)) {
    const err = await listenOnce(server, path)
    if (!err) return { claimed: true, inode: 0 }
    if (err.code === 'EADDRINUSE') return { claimed: false }
    throw new EndpointError(`cannot listen on ${path}: ${err.message}`)
  }
  ensurePrivateDir(dirname(path))
  const release = await lock(`${path}.lock`)
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      const err = await listenOnce(server, path)
      if (!err) {
        chmodSync(path, 0o600)
        return { claimed: true, inode: statSync(path).ino }
      }
      if (err.code !== 'EADDRINUSE') throw new EndpointError(`cannot listen on ${path}: ${err.message}`)
      if (await probe(path)) return { claimed: false }
      unlinkSync(path) // Stale: left by a daemon that died without cleaning up.
    }
    throw new EndpointError(`cannot listen on ${path}: it stays in use although nothing answers there`)
  } finally {
    release()
  }
}

/** Takes the lock file (O_EXCL create, our pid inside); breaks it when its owner is dead. */
async function lock(path: string): Promise<() => void> {
  const deadline = Date.now() + LOCK_WAIT_MS
  for (;;) {
    try {
      const fd = openSync(path, 'wx', 0o600)
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return () => {
        try {
          if (readFileSync(path, 'utf8') === String(process.pid)) unlinkSync(path)
        } catch {
          // Already gone: nothing to release.
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new EndpointError(`cannot create lock file ${path}: ${(err as Error).message}`)
      }
    }
    if (lockOwnerIsDead(path)) {
      try {
        unlinkSync(path)
      } catch {
        // Another starter broke it first.
      }
      continue
    }
    if (Date.now() > deadline) {
      throw new EndpointError(`another thriftbus daemon has been starting for ${LOCK_WAIT_MS / 1000} s (lock ${path}); if none runs, remove that file`)
    }
    await sleep(10 + Math.random() * 20)
  }
}

function lockOwnerIsDead(path: string): boolean {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return false // Gone already: the next attempt will take it.
  }
  const pid = Number(text)
  if (!Number.isInteger(pid) || pid <= 0) {
    // Written by a starter that has not written its pid yet, or garbage: dead only once old.
    try {
      return Date.now() - statSync(path).mtimeMs > 2_000
    } catch {
      return false
    }
  }
  return !processIsAlive(pid)
}

/** True while a process with this pid exists (one we may not signal counts as alive). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}
