// bench/peers/example-service.mjs — the request/response scenario (`reqresp`): a tutorial-style Thrift
// service, `string processRequest(1: string request)`, served with the stock `thrift` npm library (0.24)
// and code generated at run time by the Apache Thrift compiler (`thrift --gen js:node,es6`) into the
// bench's temp dir. The same stock client calls it two ways:
//   - direct: client -> provider = thrift.createServer(ExampleService, handler) on its own Unix socket
//     (TFramedTransport + TBinaryProtocol), as the Thrift tutorials build it;
//   - routed: client -> thriftbus daemon -> provider. The provider connects to the daemon, registers
//     "ExampleService" (MessageService.registerService, written with the daemon's own wire code from dist/),
//     then hands the same socket to the stock server's connection handler, so the stock Processor answers
//     the calls that the daemon forwards ("ExampleService:processRequest" arrives as plain
//     "processRequest"). The client is the stock client over TMultiplexedProtocol("ExampleService")
//     on a connection to the daemon's socket (thrift.createUDSConnection + thrift.Multiplexer).
// The handler echoes the request string.
//
//   node example-service.mjs provider <genDir> listen <socket>   # direct: serve on <socket>
//   node example-service.mjs provider <genDir> daemon <socket>   # routed: register with the daemon at <socket>
// Either prints "ready" on stdout once it can take calls.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import net from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { exitWithParent, isMain } from '../common.mjs'

const require = createRequire(import.meta.url)
const thrift = require('thrift')
const options = { transport: thrift.TFramedTransport, protocol: thrift.TBinaryProtocol }
export const SERVICE = 'ExampleService'
export const THRIFT_COMPILER = '/usr/bin/thrift'
const IDL = `// bench: the Thrift tutorial's shape of service
service ExampleService {
  string processRequest(1: string request)
}
`
const NODE_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url))
const DIST = new URL('../../dist/', import.meta.url)

/**
 * Generates the stock Node code for ExampleService into <dir>/gen and returns that folder. The generated files
 * `require('thrift')`: a node_modules symlink next to them resolves it to this project's thrift (the same
 * module instance the bench loads, since Node follows the link to its real path).
 */
export function generate (dir) {
  const compiler = existsSync(THRIFT_COMPILER) ? THRIFT_COMPILER : 'thrift'
  const gen = join(dir, 'gen')
  mkdirSync(gen, { recursive: true })
  writeFileSync(join(gen, 'example.thrift'), IDL)
  try {
    execFileSync(compiler, ['--gen', 'js:node,es6', '-out', gen, join(gen, 'example.thrift')], { stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (e) {
    throw new Error(`thrift compiler (${compiler}) failed: ${String(e.stderr || e.message).trim().split('\n').pop()}`)
  }
  writeFileSync(join(gen, 'package.json'), '{ "type": "commonjs" }\n')
  symlinkSync(NODE_MODULES, join(gen, 'node_modules'), 'dir')
  if (!existsSync(join(gen, 'ExampleService.js'))) throw new Error('thrift compiler wrote no ExampleService.js')
  return gen
}

const loadService = (genDir) => createRequire(join(genDir, 'x.js'))('./ExampleService.js')

export function providerCommand (genDir, mode, socket) {
  return { cmd: process.execPath, args: [fileURLToPath(import.meta.url), 'provider', genDir, mode, socket] }
}

// The service's implementation: echo. Callback form, answered synchronously (the generated processor's
// other form goes through a Promise per call).
const handler = { processRequest (request, result) { result(null, request) } }

/** Direct: the tutorial's server on its own socket. */
function serveDirect (genDir, socket) {
  const server = thrift.createServer(loadService(genDir), handler, options)
  server.on('error', () => {}) // thrift 0.24 emits socket errors on the server; unhandled they crash it
  server.listen(socket, () => process.stdout.write('ready\n'))
}

/** Routed: register with the daemon, then let the stock server's connection handler run the socket. */
async function serveThroughDaemon (genDir, socket) {
  const { MESSAGE_CALL, MESSAGE_REPLY, MessageService } = await import(new URL('src/gen/thriftbus.js', DIST).href)
  const { FrameReader, createWriter } = await import(new URL('src/wire/frame-reader.js', DIST).href)
  const format = { protocol: 'binary', transport: 'framed' }
  const register = MessageService.methods.registerService
  const fail = (why) => { process.stderr.write(`example-service provider: ${why}\n`); process.exit(1) }

  const sock = net.connect(socket)
  sock.on('error', (e) => fail(e.message))
  sock.on('close', () => process.exit(0)) // the daemon went away
  await new Promise((resolve) => sock.once('connect', resolve))
  const writer = createWriter(format, 1 << 20)
  writer.beginMessage(`MessageService:${register.name}`, MESSAGE_CALL, 1)
  register.writeArgs(writer, { name: SERVICE })
  writer.endMessage()
  sock.write(writer.take())

  // The registration's reply is the first frame the daemon sends; whatever follows it is already a call.
  let buf = Buffer.alloc(0)
  const rest = await new Promise((resolve) => {
    const onData = (chunk) => {
      buf = Buffer.concat([buf, chunk])
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return
      sock.pause()
      sock.removeListener('data', onData)
      const end = 4 + buf.readInt32BE(0)
      const reader = new FrameReader(1 << 20, format)
      reader.push(buf.subarray(0, end))
      const msg = reader.next((h, r) => (h.type === MESSAGE_REPLY ? register.readResult(r) : (r.skipStruct(), undefined)))
      if (!msg || msg.type !== MESSAGE_REPLY) fail(`registerService failed (message type ${msg?.type})`)
      if (msg.body?.error) fail(`registerService failed: ${msg.body.error.message}`)
      resolve(buf.subarray(end))
    }
    sock.on('data', onData)
  })
  // The stock server's per-connection handler (what thrift.createServer runs for an accepted socket):
  // framed transport, binary protocol, the generated Processor. The server itself never listens.
  const server = thrift.createServer(loadService(genDir), handler, options)
  server.on('error', () => {})
  if (rest.length) sock.unshift(rest)
  server.emit('connection', sock)
  sock.resume()
  process.stdout.write('ready\n')
}

/** A client of ExampleService: direct, or multiplexed through the daemon. */
export async function connect (socket, { genDir, multiplexed }) {
  const ExampleService = loadService(genDir)
  const conn = thrift.createUDSConnection(socket, options)
  let failure = null
  conn.on('error', (e) => { failure = e })
  await new Promise((resolve, reject) => {
    conn.once('connect', resolve)
    conn.once('close', () => reject(failure || new Error('thrift: connection closed')))
  })
  const client = multiplexed
    ? new thrift.Multiplexer().createClient(SERVICE, ExampleService, conn)
    : thrift.createClient(ExampleService, conn)
  return {
    call: (request) => client.processRequest(request),
    close: async () => { conn.end(); conn.destroy() }
  }
}

if (isMain(import.meta.url) && process.argv[2] === 'provider') {
  exitWithParent()
  const [genDir, mode, socket] = process.argv.slice(3)
  if (mode === 'listen') serveDirect(genDir, socket)
  else await serveThroughDaemon(genDir, socket)
}
