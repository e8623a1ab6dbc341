// bench/peers/thrift-plain.mjs — the mailbox as users build it from the Thrift
// tutorials: thrift.createServer with the generated MessageService Processor,
// TFramedTransport + TBinaryProtocol on a Unix socket, and `thrift` npm clients.
// It answers what thriftbus costs over a hand-built Thrift server. Only
// sendMessage, receiveMessage (long-polls like the daemon) and ping are served.
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { exitWithParent, isMain } from '../common.mjs'

const require = createRequire(import.meta.url)
const thrift = require('thrift')
const MessageService = require('../../src/gen/js/MessageService.js')
const { Message, BusException, ErrorCode } = require('../../src/gen/js/thriftbus_types.js')
const options = { transport: thrift.TFramedTransport, protocol: thrift.TBinaryProtocol }

export function serverCommand (dir) {
  const socket = `${dir}/thrift-plain.sock`
  return { socket, cmd: process.execPath, args: [fileURLToPath(import.meta.url), 'server', socket] }
}

export function startServer (path) {
  const boxes = new Map() // name -> { q: Message[], waiters: [{ result, timer }] }
  const box = (name) => {
    let b = boxes.get(name)
    if (!b) boxes.set(name, (b = { q: [], waiters: [] }))
    return b
  }
  const handler = {
    sendMessage (message, result) {
      const b = box(message.recipient)
      const w = b.waiters.shift()
      if (w) { clearTimeout(w.timer); w.result(null, message) } else b.q.push(message)
      result(null, true)
    },
    receiveMessage (recipient, timeoutMs, result) {
      const b = box(recipient)
      if (b.q.length) return result(null, b.q.shift())
      const t = Number(timeoutMs) // Int64 -> number
      const noMessage = () => result(new BusException({ code: ErrorCode.NO_MESSAGE, message: 'no message' }))
      if (t === 0) return noMessage()
      // Park the call until a message arrives (or the timeout runs out). Note: a
      // handler cannot see its connection, so a parked call of a client that
      // went away still takes (and loses) one message, as in a naive server.
      const w = { result, timer: null }
      if (t > 0) w.timer = setTimeout(() => { b.waiters.splice(b.waiters.indexOf(w), 1); noMessage() }, t)
      b.waiters.push(w)
    },
    ping (result) { result(null, 'thrift-plain') }
  }
  const server = thrift.createServer(MessageService, handler, options)
  server.on('error', () => {}) // thrift 0.24 emits socket errors on the server; unhandled they crash it
  server.listen(path)
}

export async function connect (path) {
  const conn = thrift.createUDSConnection(path, options)
  let failure = null
  conn.on('error', (e) => { failure = e })
  await new Promise((resolve, reject) => {
    conn.once('connect', resolve)
    conn.once('close', () => reject(failure || new Error('thrift: connection closed')))
  })
  const client = thrift.createClient(MessageService, conn)
  return {
    send: (recipient, content) => client.sendMessage(new Message({ sender: 'bench', recipient, content })),
    receive: (recipient) => client.receiveMessage(recipient, -1).then((m) => m.content),
    close: async () => { conn.end(); conn.destroy() }
  }
}

if (isMain(import.meta.url) && process.argv[2] === 'server') { exitWithParent(); startServer(process.argv[3]) }
