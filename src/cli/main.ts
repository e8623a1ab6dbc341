#!/usr/bin/env node
/** The `thriftbus` command. The only place that calls process.exit. */
import { readFileSync } from 'node:fs'
import { DURABILITY_LEVELS, StoreError, type Durability } from '../broker/store.js'
import { Daemon } from '../daemon/daemon.js'
import { ServiceConfigError } from '../daemon/service-config.js'
import type { MethodCodec } from '../gen/thriftbus.js'
import { readDynamicStruct, writeDynamicStruct } from '../wire/dynamic.js'
import { EndpointError, processIsAlive as alive } from '../daemon/listen.js'
import { fileLogger, stderrLogger } from '../daemon/log.js'
import { connect, isBusError, type Client, type ConnectOptions, type Message } from '../../sdk/index.js'
import { VERSION } from '../version.js'
import { defaultSocketPath } from '../wire/endpoint.js'
import { EXIT, USAGE, UsageError, formatDuration, parse, parseCount, parseDuration, parseSize } from './args.js'

type Command = (args: string[]) => Promise<number>

const commands: Record<string, Command> = { daemon, status, send, recv, call, stop }

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(USAGE.main + '\n')
    return name === undefined ? EXIT.USAGE : EXIT.OK
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(VERSION + '\n')
    return EXIT.OK
  }
  const command = commands[name]
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}`)
  return command(rest)
}

async function daemon(args: string[]): Promise<number> {
  const { values } = parse(args, {
    'state-dir': { type: 'string' },
    'max-message-bytes': { type: 'string' },
    'max-connections': { type: 'string' },
    'max-calls-per-connection': { type: 'string' },
    'max-mailbox-depth': { type: 'string' },
    'max-mailbox-bytes': { type: 'string' },
    'max-deliveries': { type: 'string' },
    durability: { type: 'string' },
    config: { type: 'string' },
    'call-timeout': { type: 'string' },
    'log-file': { type: 'string' },
  }, 0)
  if (values.help) return help('daemon')
  const socket = values.socket ?? defaultSocketPath()
  const log = values['log-file'] ? fileLogger(values['log-file']) : stderrLogger()
  process.on('uncaughtException', (err) => {
    log('error', `crashed: ${err.stack ?? err}`)
    process.exit(EXIT.ERROR)
  })
  let d: Daemon | undefined
  try {
    d = await Daemon.start({
      socket,
      log,
      stateDir: values['state-dir'],
      maxMessageBytes: parseSize('max-message-bytes', values['max-message-bytes']),
      maxConnections: parseCount('max-connections', values['max-connections']),
      maxOutstandingCalls: parseCount('max-calls-per-connection', values['max-calls-per-connection']),
      maxMailboxDepth: parseCount('max-mailbox-depth', values['max-mailbox-depth']),
      maxMailboxBytes: parseSize('max-mailbox-bytes', values['max-mailbox-bytes']),
      maxDeliveries: parseCount('max-deliveries', values['max-deliveries']),
      durability: parseDurability(values.durability),
      config: values.config,
      callTimeoutMs: values['call-timeout'] === undefined ? undefined : parseDuration(values['call-timeout'], 'call-timeout'),
    })
  } catch (err) {
    if (err instanceof EndpointError || err instanceof StoreError || err instanceof ServiceConfigError) {
      log('error', err.message)
      if (values['log-file']) process.stderr.write(`thriftbus: ${err.message}\n`)
      return EXIT.ERROR
    }
    throw err
  }
  if (!d) {
    process.stdout.write(`thriftbus: a daemon is already running on ${socket}${await runningPid(socket)}\n`)
    return EXIT.OK
  }
  const running = d
  let signals = 0
  const onSignal = (signal: string) => {
    if (++signals > 1) process.exit(EXIT.ERROR) // A second signal: the user wants out now.
    running.log('info', `received ${signal}; shutting down`)
    void running.close()
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  process.stdout.write(`thriftbus daemon listening on ${running.endpoint} (pid ${process.pid})\n`)
  await running.closed
  if (running.failure) {
    if (values['log-file']) process.stderr.write(`thriftbus: ${running.failure.message}\n`)
    return EXIT.ERROR
  }
  return EXIT.OK
}

function parseDurability(text: string | undefined): Durability | undefined {
  if (text === undefined) return undefined
  if (!(DURABILITY_LEVELS as readonly string[]).includes(text)) {
    throw new UsageError(`--durability ${JSON.stringify(text)} is not a level; use one of ${DURABILITY_LEVELS.join(', ')}`)
  }
  return text as Durability
}

async function runningPid(socket: string): Promise<string> {
  try {
    const client = await connect({ socket, spawn: false, reconnect: false, connectTimeoutMs: 2000 })
    try {
      return ` (pid ${(await client.status()).pid})`
    } finally {
      await client.close()
    }
  } catch {
    return ''
  }
}

async function status(args: string[]): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean' } }, 0)
  if (values.help) return help('status')
  return withClient({ socket: values.socket, spawn: false }, async (client) => {
    const s = await client.status()
    if (values.json) {
      process.stdout.write(JSON.stringify(s) + '\n')
      return EXIT.OK
    }
    const lines = [
      `up       pid ${s.pid}, version ${s.version}, uptime ${formatDuration(s.uptimeMs)}`,
      `socket   ${s.endpoint}`,
      `state    ${s.stateDir} (durability ${s.durability})`,
      `clients  ${s.connections}`,
    ]
    if (s.store) {
      const st = s.store
      lines.push(`store    ${st.path}: ${st.journalMessages} queued in the journal (${st.journalBytes} bytes); since start ` +
        `${st.journalWrites} written to the journal, ${st.databaseWrites} to SQLite, ${st.checkpoints} checkpoints`)
    }
    lines.push(...table('mailboxes', ['MAILBOX', 'DEPTH', 'BYTES', 'WAITING', 'LEASED', 'EXPIRED', 'DEAD'],
      s.mailboxes.map((m) => [m.name, m.depth, m.bytes, m.waiters, m.leased, m.expired, m.deadLettered])))
    lines.push(...table('subscriptions', ['ID', 'PATTERN', 'DURABLE NAME', 'QUEUED', 'DROPPED', 'DELIVERED', 'ATTACHED'],
      s.subscriptions.map((x) => [x.id, x.pattern, x.durableName || '-', x.queued, x.dropped, x.delivered, x.attached ? 'yes' : 'no'])))
    lines.push(...table('services', ['SERVICE', 'PROVIDERS', 'CALLS', 'IN FLIGHT', 'FAILURES'],
      s.services.map((x) => [x.name, x.providers, x.calls, x.inFlight, x.failures])))
    lines.push(...table('helpers', ['SERVICE', 'STATE', 'PID', 'RESTARTS', 'COMMAND', 'LAST ERROR'],
      s.helpers.map((h) => [h.serviceName, h.state, h.pid || '-', h.restarts, h.command.join(' '), h.lastError.split('\n')[0] || '-'])))
    process.stdout.write(lines.join('\n') + '\n')
    return EXIT.OK
  })
}

/** A titled table with left-aligned text and right-aligned numbers; "<title>: none" when empty. */
function table(title: string, header: string[], rows: (string | number)[][]): string[] {
  if (rows.length === 0) return [`${title}: none`]
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)))
  const line = (cells: (string | number)[]) =>
    '  ' + cells.map((c, i) => (typeof rows[0]![i] === 'number' ? String(c).padStart(widths[i]!) : String(c).padEnd(widths[i]!))).join('  ').trimEnd()
  return [`${title}:`, line(header), ...rows.map(line)]
}

/**
 * Calls a method of a hosted service with arguments given as JSON (see src/wire/dynamic.ts for the mapping),
 * and prints the result as JSON. For debugging: it needs no IDL.
 */
async function call(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    timeout: { type: 'string' },
    'no-spawn': { type: 'boolean' },
    'state-dir': { type: 'string' },
  }, 2, 3)
  if (values.help) return help('call')
  const [service, method, json = '[]'] = positionals as [string, string, string?]
  let callArgs: unknown
  try {
    callArgs = JSON.parse(json)
  } catch (err) {
    throw new UsageError(`the arguments ${JSON.stringify(json)} are not JSON (${(err as Error).message}); give a JSON array, e.g. '[42, "text"]'`)
  }
  if (typeof callArgs !== 'object' || callArgs === null) throw new UsageError('the arguments must be a JSON array (fields 1, 2, ...) or an object keyed by field id')
  const codec: MethodCodec<unknown, { success: unknown }> = {
    name: `${service}:${method}`,
    oneway: false,
    exceptions: {},
    readArgs: () => undefined,
    writeArgs: (w, a) => writeDynamicStruct(w, a as Parameters<typeof writeDynamicStruct>[1]),
    // The whole result struct: field 0 is the return value, others the declared exceptions.
    readResult: (r) => ({ success: readDynamicStruct(r as never) }),
    writeResult: () => {},
  }
  const timeoutMs = values.timeout === undefined ? undefined : parseDuration(values.timeout, 'timeout')
  const options = { socket: values.socket, stateDir: values['state-dir'], spawn: !values['no-spawn'], name: `thriftbus-cli:${process.pid}` }
  return withClient(options, async (client) => {
    const result = await client.rpc<Record<string, unknown>>(codec, callArgs as object, client.plain({ timeoutMs }))
    if ('0' in result) {
      process.stdout.write(JSON.stringify(result['0']) + '\n')
      return EXIT.OK
    }
    const [id] = Object.keys(result)
    if (id === undefined) return EXIT.OK // a void method
    process.stdout.write(JSON.stringify({ exception: Number(id), value: result[id] }) + '\n')
    return EXIT.ERROR
  })
}

async function send(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    sender: { type: 'string' },
    header: { type: 'string', multiple: true },
    'no-spawn': { type: 'boolean' },
    'state-dir': { type: 'string' },
  }, 2)
  if (values.help) return help('send')
  const [recipient, text] = positionals as [string, string]
  const headers: Record<string, string> = {}
  for (const h of values.header ?? []) {
    const eq = h.indexOf('=')
    if (eq <= 0) throw new UsageError(`--header ${JSON.stringify(h)} must be KEY=VALUE`)
    headers[h.slice(0, eq)] = h.slice(eq + 1)
  }
  const content = text === '-' ? readFileSync(0, 'utf8') : text
  const options = { socket: values.socket, stateDir: values['state-dir'], spawn: !values['no-spawn'], name: `thriftbus-cli:${process.pid}` }
  return withClient(options, async (client) => {
    await client.send(recipient, { content, sender: values.sender, headers: values.header ? headers : undefined })
    return EXIT.OK
  })
}

async function recv(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    wait: { type: 'string' },
    json: { type: 'boolean' },
    'no-spawn': { type: 'boolean' },
    'state-dir': { type: 'string' },
  }, 1)
  if (values.help) return help('recv')
  const timeoutMs = values.wait === undefined ? 0 : parseDuration(values.wait)
  const options = { socket: values.socket, stateDir: values['state-dir'], spawn: !values['no-spawn'] }
  return withClient(options, async (client) => {
    const m = await client.receive(positionals[0]!, { timeoutMs })
    process.stdout.write(values.json ? JSON.stringify(toJson(m)) + '\n' : m.content || !m.body ? m.content + '\n' : Buffer.from(m.body))
    return EXIT.OK
  })
}

async function stop(args: string[]): Promise<number> {
  const { values } = parse(args, {}, 0)
  if (values.help) return help('stop')
  return withClient({ socket: values.socket, spawn: false, reconnect: false }, async (client) => {
    const { pid } = await client.status()
    await client.shutdownDaemon()
    // Gone once the pid no longer exists (the socket file is removed just before).
    const until = Date.now() + 10_000
    while (Date.now() < until && alive(pid)) await new Promise((r) => setTimeout(r, 20))
    if (alive(pid)) {
      process.stderr.write(`thriftbus: the daemon (pid ${pid}) acknowledged but is still running after 10 s\n`)
      return EXIT.ERROR
    }
    process.stdout.write(`thriftbus: stopped the daemon (pid ${pid})\n`)
    return EXIT.OK
  })
}

function toJson(m: Message): object {
  return { ...m, body: m.body === undefined ? undefined : Buffer.from(m.body).toString('base64') }
}

/** Connects, runs fn, closes; maps the SDK's errors to messages and exit codes. */
async function withClient(options: ConnectOptions, fn: (client: Client) => Promise<number>): Promise<number> {
  let client: Client | undefined
  try {
    client = await connect({ reconnect: false, ...options })
    return await fn(client)
  } catch (err) {
    if (!isBusError(err)) throw err
    process.stderr.write(`thriftbus: ${err.message}\n`)
    switch (err.code) {
      case 'NO_DAEMON': return EXIT.NO_DAEMON
      case 'NO_MESSAGE': return EXIT.NO_MESSAGE
      case 'INVALID_ARGUMENT': return EXIT.USAGE
      default: return EXIT.ERROR
    }
  } finally {
    await client?.close()
  }
}

function help(command: string): number {
  process.stdout.write(USAGE[command] + '\n')
  return EXIT.OK
}

main(process.argv.slice(2)).then(
  // Exit once stdout is flushed: a script reading our output must get all of it.
  (code) => process.stdout.write('', () => process.exit(code)),
  (err) => {
    if (err instanceof UsageError) {
      process.stderr.write(`thriftbus: ${err.message}\nRun \`thriftbus --help\` for usage.\n`)
      process.exit(EXIT.USAGE)
    }
    process.stderr.write(`thriftbus: ${(err as Error)?.stack ?? String(err)}\n`)
    process.exit(EXIT.ERROR)
  },
)
