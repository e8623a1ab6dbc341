/**
 * Where the daemon listens and keeps its state, per user. Shared by the daemon, the SDK and the CLI, so that
 * all three agree without configuration:
 *   socket:    $THRIFTBUS_SOCKET, else $XDG_RUNTIME_DIR/thriftbus/bus.sock, else <tmpdir>/thriftbus-<uid>/bus.sock;
 *              on Windows the named pipe \\.\pipe\thriftbus-<user>.
 *   state dir: $THRIFTBUS_STATE_DIR, else $XDG_STATE_HOME/thriftbus, else ~/.local/state/thriftbus
 *              (macOS: ~/Library/Application Support/thriftbus; Windows: %LOCALAPPDATA%\thriftbus).
 */
import { homedir, platform, tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'

export const SOCKET_ENV = 'THRIFTBUS_SOCKET'
export const STATE_DIR_ENV = 'THRIFTBUS_STATE_DIR'

/** sun_path holds 108 bytes on Linux and 104 on macOS and the BSDs, including the closing NUL. */
export const MAX_SOCKET_PATH_BYTES = platform() === 'linux' ? 107 : 103

export function isWindowsPipe(path: string): boolean {
  return path.startsWith('\\\\.\\pipe\\') || path.startsWith('\\\\?\\pipe\\')
}

function uidOrUser(): string {
  return typeof process.getuid === 'function' ? String(process.getuid()) : userInfo().username
}

export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env[SOCKET_ENV]) return env[SOCKET_ENV]
  if (platform() === 'win32') return `\\\\.\\pipe\\thriftbus-${userInfo().username}`
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'thriftbus', 'bus.sock')
  return join(tmpdir(), `thriftbus-${uidOrUser()}`, 'bus.sock')
}

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env[STATE_DIR_ENV]) return env[STATE_DIR_ENV]
  if (platform() === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'thriftbus')
  if (platform() === 'darwin') return join(homedir(), 'Library', 'Application Support', 'thriftbus')
  return join(env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'thriftbus')
}

/** Returns why a socket path cannot be used, or undefined when it can. */
export function socketPathProblem(path: string): string | undefined {
  if (isWindowsPipe(path)) return undefined
  const bytes = Buffer.byteLength(path)
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    return `socket path ${path} is ${bytes} bytes long, over the ${MAX_SOCKET_PATH_BYTES}-byte limit of Unix sockets on ${platform()}; choose a shorter one with --socket or ${SOCKET_ENV}`
  }
  return undefined
}
