/** Argument parsing for the CLI: usage texts, durations, sizes. No I/O here besides what parseArgs does. */
import { parseArgs, type ParseArgsConfig } from 'node:util'

/** Exit codes, distinct so that scripts can branch on them. */
export const EXIT = {
  OK: 0,
  /** The daemon refused (mailbox full, ...) or something else failed. */
  ERROR: 1,
  /** Bad usage: unknown command or option, missing argument, invalid mailbox name. */
  USAGE: 2,
  /** No daemon answers (and none was started). */
  NO_DAEMON: 3,
  /** recv: no message arrived within --wait. */
  NO_MESSAGE: 4,
} as const

export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

const COMMON = `
Options for every command:
  --socket PATH       the daemon's socket (default: $THRIFTBUS_SOCKET, else
                      $XDG_RUNTIME_DIR/thriftbus/bus.sock, else <tmpdir>/thriftbus-<uid>/bus.sock)
  -h, --help          show this help`

export const USAGE: Record<string, string> = {
  main: `Usage: thriftbus <command> [options]

A message bus for the processes of one machine.

Commands:
  daemon              run the daemon in the foreground
  status              show whether a daemon runs, its pid, uptime, version and mailboxes
  send <to> <text|->  send a message to a mailbox (- reads it from stdin)
  recv <mailbox>      take the oldest message of a mailbox and print it
  call <service> <method> [json-args]
                      call a method of a hosted service and print its result as JSON
  stop                ask the daemon to shut down

Run \`thriftbus <command> --help\` for a command's options.
Exit codes: 0 ok, 1 error, 2 bad usage, 3 no daemon, 4 no message.
  --version           print the version`,

  daemon: `Usage: thriftbus daemon [options]

Runs the daemon in the foreground until SIGTERM, SIGINT or \`thriftbus stop\`. Prints its socket when ready
and logs one line per start, stop and error to stderr. If a daemon already serves the socket, says so and
exits 0.

Options:
  --state-dir DIR               where state and logs go (default: $THRIFTBUS_STATE_DIR, else
                                $XDG_STATE_HOME/thriftbus, else ~/.local/state/thriftbus)
  --max-message-bytes N         largest message accepted (default 16MiB; K, M, G suffixes allowed)
  --max-connections N           connections served at once (default 4096)
  --max-calls-per-connection N  calls one connection may have waiting (default 1024)
  --max-mailbox-depth N         messages one mailbox holds (default 1048576)
  --max-mailbox-bytes N         bytes one mailbox holds (default 256MiB)
  --durability LEVEL            memory: messages are lost when the daemon stops; durable (default):
                                they survive a crash of the daemon; fsync: they survive power loss
                                (the store is <state-dir>/thriftbus.db and thriftbus.journal.*)
  --max-deliveries N            deliveries of a leased message before it moves to <mailbox>.dead-letter
                                (default 5)
  --config FILE                 services config for helper activation (default: $THRIFTBUS_CONFIG, else
                                $XDG_CONFIG_HOME/thriftbus/services.json, else ~/.config/thriftbus/services.json;
                                a missing default file means no helpers)
  --call-timeout DURATION       deadline of a call routed to a hosted service (default 30s)
  --log-file PATH               append the log to PATH instead of writing it to stderr${COMMON}`,

  call: `Usage: thriftbus call <service> <method> [json-args] [options]

Calls <method> of the service that a provider hosts through the daemon (or that a helper is started for),
and prints the result as JSON. No IDL is needed: the arguments are a JSON array (fields 1, 2, ...) or an
object keyed by field id; strings, booleans, whole numbers (i32, or i64 when larger), other numbers (double),
arrays (lists) and objects (structs) map by themselves; spell other types out: {"i64": 5}, {"i16": 1},
{"binary": "<base64>"}, {"set": [..]}, {"map": [[k, v], ..]}. A declared exception is printed as
{"exception": <field id>, "value": {...}} and exits 1.

  thriftbus call UserService getUser '[42]'
  thriftbus call ExampleService processRequest '["hello"]'

Options:
  --timeout DURATION  the call's deadline (default 30s)
  --no-spawn          do not start a daemon when none runs
  --state-dir DIR     state folder for a daemon started by this command${COMMON}`,

  status: `Usage: thriftbus status [--json] [options]

Shows whether a daemon runs: pid, uptime, version, durability, connections, each mailbox (depth, bytes,
waiting receivers, leased, expired and dead-lettered messages), subscriptions, hosted services and helpers.
Exits 3 when no daemon answers.

Options:
  --json              print the status as JSON${COMMON}`,

  send: `Usage: thriftbus send <recipient> <content | -> [options]

Sends a message to the mailbox <recipient>; with -, the content is read from stdin, as is.
Starts a daemon when none runs, unless --no-spawn.

Options:
  --sender NAME       the message's sender (default: thriftbus-cli:<pid>)
  --header KEY=VALUE  a header to carry with the message; repeatable
  --no-spawn          do not start a daemon; exit 3 when none answers
  --state-dir DIR     state folder for a daemon started by this command${COMMON}`,

  recv: `Usage: thriftbus recv <mailbox> [--wait DURATION] [--json] [options]

Takes the oldest message of <mailbox> and prints its content followed by a newline (a message that only
has a binary body is written as is). Exits 4 when the mailbox is empty (after waiting, with --wait).
Starts a daemon when none runs, unless --no-spawn.

Options:
  --wait DURATION     wait this long for a message: 500ms, 5s, 2m, 1h, a number of seconds, or
                      forever (default 0: do not wait)
  --json              print the whole message as one line of JSON (body in base64)
  --no-spawn          do not start a daemon; exit 3 when none answers
  --state-dir DIR     state folder for a daemon started by this command${COMMON}`,

  stop: `Usage: thriftbus stop [options]

Asks the daemon to shut down gracefully and waits until it is gone. Exits 3 when no daemon answers.${COMMON}`,
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>

export interface ParsedArgs {
  values: { help?: boolean; socket?: string } & Record<string, any>
  positionals: string[]
}

/** Parses a command's arguments; unknown options and missing values are UsageErrors. */
/** Parses args; exactly `positionals` positional arguments, or between `positionals` and `most`. */
export function parse(args: string[], options: OptionSpec, positionals: number, most = positionals): ParsedArgs {
  let parsed: ParsedArgs
  try {
    const config: ParseArgsConfig = {
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' }, socket: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    }
    parsed = parseArgs(config) as ParsedArgs
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const n = parsed.positionals.length
  if (!parsed.values.help && (n < positionals || n > most)) {
    const expected = most === positionals ? String(positionals) : `${positionals} to ${most}`
    throw new UsageError(`expected ${expected} argument${most === 1 ? '' : 's'}, got ${n}`)
  }
  return parsed
}

/** Parses 500ms, 5s, 2m, 1h, a bare number of seconds, or forever (-1). Returns milliseconds. */
export function parseDuration(text: string, option = 'wait'): number {
  if (text === 'forever' || text === 'inf') return -1
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text)
  if (!m) throw new UsageError(`--${option} ${JSON.stringify(text)} is not a duration; use 500ms, 5s, 2m, 1h or forever`)
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h']
  return Math.round(Number(m[1]) * unit)
}

/** Parses a size: a whole number with an optional K, M or G suffix (KiB, MiB, GiB; B and iB optional). */
export function parseSize(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const m = /^(\d+)\s*(?:([KMG])i?)?B?$/i.exec(text)
  if (!m) throw new UsageError(`--${name} ${JSON.stringify(text)} is not a size; use a number like 1048576, 64K, 16MiB or 1G`)
  const mul = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[(m[2] ?? '').toUpperCase() as '' | 'K' | 'M' | 'G']
  return Number(m[1]) * mul
}

/** Parses a positive whole number. */
export function parseCount(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`--${name} ${JSON.stringify(text)} must be a whole number of at least 1`)
  return Number(text)
}

export function formatDuration(ms: number): string {
  let s = Math.floor(ms / 1000)
  const d = Math.floor(s / 86400)
  s -= d * 86400
  const h = Math.floor(s / 3600)
  s -= h * 3600
  const m = Math.floor(s / 60)
  s -= m * 60
  return [d && `${d}d`, (d || h) && `${h}h`, (d || h || m) && `${m}m`, `${s}s`].filter(Boolean).join(' ')
}
