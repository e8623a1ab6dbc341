/**
 * The service config: which helper program the daemon starts on demand for which service (activation, see
 * helper-manager.ts). Loaded once, at daemon start; any problem is an error then, never at the first call.
 *
 * Where: `--config FILE`, else $THRIFTBUS_CONFIG, else the default path (defaultConfigPath):
 *   Linux and other Unix: $XDG_CONFIG_HOME/thriftbus/services.json, else ~/.config/thriftbus/services.json
 *   macOS:                ~/Library/Application Support/thriftbus/services.json
 *   Windows:              %APPDATA%\thriftbus\services.json
 * A missing default file means no helpers. A missing file named by --config or $THRIFTBUS_CONFIG is an error.
 *
 * Format (JSON; every key below is the complete list, and any other key is an error):
 *
 *   {
 *     "services": {
 *       "UserService": {
 *         "command": ["node", "/opt/users/helper.js", "--verbose"],
 *         "cwd": "/opt/users",
 *         "env": { "LOG_LEVEL": "debug" },
 *         "startTimeoutMs": 10000
 *       }
 *     }
 *   }
 *
 *   services        required; an object with one entry per service, keyed by the service name as clients
 *                   multiplex it. Names follow registerService's rule (checkServiceName in
 *                   src/broker/router.ts): letters, digits and `. _ - /`, first a letter, digit or `_`, at
 *                   most 200 bytes; never `:`, which separates service and method in the multiplexed protocol.
 *   command         required; the program and its arguments as an array of strings. No shell: no quoting,
 *                   globbing, pipes or $VARIABLES. The program is looked up in PATH unless it holds a slash;
 *                   relative paths, in the program and in its arguments, start from cwd.
 *   cwd             optional; the helper's working folder. Relative to the config file's folder, which is
 *                   also the default.
 *   env             optional; variables added to the daemon's environment for the helper (strings only). The
 *                   daemon also sets THRIFTBUS_SOCKET (its endpoint) and THRIFTBUS_SERVICE (the service name),
 *                   which env may not set.
 *   startTimeoutMs  optional; how long the helper may take from its start to registerService, in ms
 *                   (1..600000, default 10000).
 */
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, posix, resolve, win32 } from 'node:path'
import { checkServiceName } from '../broker/router.js'
import { SOCKET_ENV } from '../wire/endpoint.js'

export const CONFIG_ENV = 'THRIFTBUS_CONFIG'
/** Set in every helper's environment: the name of the service it was started for. */
export const SERVICE_ENV = 'THRIFTBUS_SERVICE'
export const CONFIG_FILE_NAME = 'services.json'
export const DEFAULT_START_TIMEOUT_MS = 10_000
export const MAX_START_TIMEOUT_MS = 600_000
const TOP_KEYS = ['services']
const ENTRY_KEYS = ['command', 'cwd', 'env', 'startTimeoutMs']
/** Variables the daemon sets for each helper; a config that set them would point the helper elsewhere. */
const RESERVED_ENV = [SOCKET_ENV, SERVICE_ENV]

/** How to start the helper of one service, validated and with every default filled in. */
export interface HelperSpec {
  readonly service: string
  /** The program and its arguments; never empty. */
  readonly command: readonly string[]
  /** Absolute. */
  readonly cwd: string
  /** Added to the daemon's environment. */
  readonly env: Readonly<Record<string, string>>
  readonly startTimeoutMs: number
}

export interface ServiceConfig {
  /** The file it was read from (which may not exist: then there are no services). */
  readonly path: string
  /** By service name, in the file's order. */
  readonly services: ReadonlyMap<string, HelperSpec>
}

/** A config file that cannot be used. The message names the file, each bad entry and what to fix. */
export class ServiceConfigError extends Error {
  readonly path: string
  readonly problems: readonly string[]

  constructor(path: string, problems: string[], options?: { cause?: unknown }) {
    super(`service config ${path} is invalid: ${problems.join('; ')}`, options)
    this.name = 'ServiceConfigError'
    this.path = path
    this.problems = problems
  }
}

/** The config file used when neither --config nor $THRIFTBUS_CONFIG names one. */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') {
    const appData = env.APPDATA || win32.join(env.USERPROFILE || homedir(), 'AppData', 'Roaming')
    return win32.join(appData, 'thriftbus', CONFIG_FILE_NAME)
  }
  const home = env.HOME || homedir()
  if (platform === 'darwin') return posix.join(home, 'Library', 'Application Support', 'thriftbus', CONFIG_FILE_NAME)
  // The XDG spec says a relative $XDG_CONFIG_HOME is invalid and must be ignored.
  const base = env.XDG_CONFIG_HOME && posix.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : posix.join(home, '.config')
  return posix.join(base, 'thriftbus', CONFIG_FILE_NAME)
}

export interface ConfigLocation {
  readonly path: string
  /** True when the user named the file (--config, $THRIFTBUS_CONFIG): then it must exist. */
  readonly explicit: boolean
}

/** Which config file to read: the --config option, else $THRIFTBUS_CONFIG, else the default. */
export function configLocation(option?: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): ConfigLocation {
  if (option) return { path: resolve(option), explicit: true }
  if (env[CONFIG_ENV]) return { path: resolve(env[CONFIG_ENV]), explicit: true }
  return { path: defaultConfigPath(env, platform), explicit: false }
}

/** Reads and validates a config file. Throws ServiceConfigError, listing every problem it found. */
export function loadServiceConfig(path: string, options: { explicit: boolean }): ServiceConfig {
  path = resolve(path)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' && !options.explicit) return { path, services: new Map() }
    const why =
      code === 'ENOENT'
        ? `the file does not exist; create it, or name another with --config or $${CONFIG_ENV}`
        : `cannot read it (${(err as Error).message})`
    throw new ServiceConfigError(path, [why], { cause: err })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new ServiceConfigError(path, [`it is not valid JSON: ${jsonErrorText(err as Error, text)}; fix the syntax (JSON allows no comments and no trailing commas)`], { cause: err })
  }
  return parseServiceConfig(json, path)
}

/** Validates a parsed config. Relative folders are resolved against the folder of path. */
export function parseServiceConfig(json: unknown, path: string): ServiceConfig {
  path = resolve(path)
  const problems: string[] = []
  const services = new Map<string, HelperSpec>()
  if (!isObject(json)) {
    throw new ServiceConfigError(path, [`the top level must be an object like {"services": {"Name": {"command": ["program", "arg"]}}}; found ${describe(json)}`])
  }
  problems.push(...unknownKeys(json, TOP_KEYS, 'the top level'))
  if (!('services' in json)) {
    problems.push('the "services" key is missing; add "services": {"Name": {"command": ["program", "arg"]}}, or {} for none')
  } else if (!isObject(json.services)) {
    problems.push(`"services" must be an object keyed by service name; found ${describe(json.services)}`)
  } else {
    for (const [name, entry] of Object.entries(json.services)) {
      const spec = parseEntry(name, entry, dirname(path), problems)
      if (spec) services.set(name, spec)
    }
  }
  if (problems.length > 0) throw new ServiceConfigError(path, problems)
  return { path, services }
}

function parseEntry(name: string, entry: unknown, configDir: string, problems: string[]): HelperSpec | undefined {
  const where = `services[${JSON.stringify(name)}]`
  const before = problems.length
  try {
    checkServiceName(name)
  } catch (err) {
    // The rule registerService applies: a helper could not register a name that it refuses.
    problems.push(`${where}: ${(err as Error).message}; rename it`)
  }
  if (!isObject(entry)) {
    problems.push(`${where} must be an object like {"command": ["program", "arg"]}; found ${describe(entry)}`)
    return undefined
  }
  problems.push(...unknownKeys(entry, ENTRY_KEYS, where))

  const command = entry.command
  if (command === undefined) {
    problems.push(`${where}.command is missing; add the program and its arguments, e.g. "command": ["node", "/path/helper.js"]`)
  } else if (!Array.isArray(command) || command.length === 0 || !command.every((a) => typeof a === 'string')) {
    const hint = typeof command === 'string' ? ` (it is run without a shell, so split it: ${JSON.stringify(command.split(/\s+/).filter(Boolean))})` : ''
    problems.push(`${where}.command must be a non-empty array of strings, the program and its arguments; found ${describe(command)}${hint}`)
  } else if (command[0] === '') {
    problems.push(`${where}.command[0] is empty; it must name the program to run`)
  } else if (command.some((a: string) => a.includes('\0'))) {
    problems.push(`${where}.command contains a NUL character; remove it`)
  }

  let cwd = configDir
  if (entry.cwd !== undefined) {
    if (typeof entry.cwd !== 'string' || entry.cwd === '') {
      problems.push(`${where}.cwd must be a non-empty string, a folder; found ${describe(entry.cwd)}`)
    } else {
      cwd = resolve(configDir, entry.cwd)
    }
  }

  const env: Record<string, string> = {}
  if (entry.env !== undefined) {
    if (!isObject(entry.env)) {
      problems.push(`${where}.env must be an object of variable names to string values; found ${describe(entry.env)}`)
    } else {
      for (const [key, value] of Object.entries(entry.env)) {
        if (key === '' || key.includes('=') || key.includes('\0')) {
          problems.push(`${where}.env has the invalid variable name ${JSON.stringify(key)}; names are non-empty, without = or NUL`)
        } else if (RESERVED_ENV.includes(key)) {
          problems.push(`${where}.env sets ${key}, which the daemon sets for each helper; remove it`)
        } else if (typeof value !== 'string') {
          problems.push(`${where}.env.${key} must be a string; found ${describe(value)} (quote it: ${JSON.stringify(String(value))})`)
        } else {
          env[key] = value
        }
      }
    }
  }

  let startTimeoutMs = DEFAULT_START_TIMEOUT_MS
  if (entry.startTimeoutMs !== undefined) {
    const v = entry.startTimeoutMs
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_START_TIMEOUT_MS) {
      problems.push(`${where}.startTimeoutMs must be a whole number of milliseconds from 1 to ${MAX_START_TIMEOUT_MS}; found ${describe(v)}`)
    } else {
      startTimeoutMs = v
    }
  }

  if (problems.length > before) return undefined
  return { service: name, command: [...(command as string[])], cwd, env, startTimeoutMs }
}

function unknownKeys(obj: Record<string, unknown>, known: string[], where: string): string[] {
  const extra = Object.keys(obj).filter((k) => !known.includes(k))
  if (extra.length === 0) return []
  const list = extra.map((k) => JSON.stringify(k)).join(', ')
  return [`${where} has unknown key${extra.length > 1 ? 's' : ''} ${list}; the allowed keys are ${known.join(', ')} (check the spelling)`]
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A short description of a JSON value for messages: its type, and the value when it is short. */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing'
  const kind = v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`
  const text = JSON.stringify(v)
  return text.length <= 60 && v !== null ? `${kind} ${text}` : kind
}

/** V8's JSON errors give a character offset; people want a line and column. */
function jsonErrorText(err: Error, text: string): string {
  const m = /at position (\d+)/.exec(err.message)
  if (!m || /line \d+/.test(err.message)) return err.message
  const offset = Number(m[1])
  const before = text.slice(0, offset).split('\n')
  return `${err.message} (line ${before.length}, column ${before[before.length - 1]!.length + 1})`
}
