// bench/peers/ceiling.mjs — the yardstick: the smallest honest mailbox server we
// can write in Node on a Unix socket. Own length-prefixed framing, no Thrift, no
// validation, no metadata; replies to a connection are coalesced per tick into
// one socket.write. The client pipelines with request ids and coalesces its
// requests the same way. Every other row is reported as a ratio to this one.
//
// Request: u32le len | u8 op (1 send, 2 receive) | u32le id | u8 boxLen | box | payload
// Reply:   u32le len | u8 status (0 ok)           | u32le id | payload (receive only)
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { exitWithParent, isMain } from '../common.mjs'

const SEND = 1
const RECV = 2

export function serverCommand (dir) {
  const socket = `${dir}/ceiling.sock`
  return { socket, cmd: process.execPath, args: [fileURLToPath(import.meta.url), 'server', socket] }
}

/** A connection end that coalesces outgoing frames per tick into one write. */
function batcher (sock) {
  let out = []
  let bytes = 0
  const flush = () => {
    const b = out.length === 1 ? out[0] : Buffer.concat(out, bytes)
    out = []; bytes = 0
    if (!sock.destroyed) sock.write(b)
  }
  return (buf) => {
    if (out.length === 0) process.nextTick(flush)
    out.push(buf); bytes += buf.length
  }
}

/** Calls onFrame(buf, start, end) for every complete frame; keeps the remainder. */
function framer (onFrame) {
  let pending = null
  return (chunk) => {
    let buf = pending ? Buffer.concat([pending, chunk]) : chunk
    let off = 0
    while (buf.length - off >= 4) {
      const len = buf.readUInt32LE(off)
      if (buf.length - off - 4 < len) break
      onFrame(buf, off + 4, off + 4 + len)
      off += 4 + len
    }
    pending = off < buf.length ? buf.subarray(off) : null
  }
}

function header (status, id, payloadLen) {
  const h = Buffer.allocUnsafe(9)
  h.writeUInt32LE(5 + payloadLen, 0); h[4] = status; h.writeUInt32LE(id, 5)
  return h
}

export function startServer (path) {
  const boxes = new Map() // name -> { q: Buffer[], head, waiters: [{ conn, id }] }
  const box = (name) => {
    let b = boxes.get(name)
    if (!b) boxes.set(name, (b = { q: [], head: 0, waiters: [] }))
    return b
  }
  const deliver = (conn, id, payload) => { conn.write(header(0, id, payload.length)); conn.write(payload) }

  const server = net.createServer((sock) => {
    const conn = { write: batcher(sock), closed: false }
    sock.on('close', () => { conn.closed = true })
    sock.on('error', () => {})
    sock.on('data', framer((buf, start, end) => {
      const op = buf[start]
      const id = buf.readUInt32LE(start + 1)
      const nameLen = buf[start + 5]
      const b = box(buf.latin1Slice(start + 6, start + 6 + nameLen))
      if (op === SEND) {
        const payload = buf.subarray(start + 6 + nameLen, end)
        let w
        while ((w = b.waiters.shift()) && w.conn.closed);
        if (w) deliver(w.conn, w.id, payload)
        else b.q.push(payload)
        conn.write(header(0, id, 0))
      } else if (op === RECV) {
        if (b.head < b.q.length) {
          const payload = b.q[b.head]; b.q[b.head++] = undefined
          if (b.head > 4096 && b.head * 2 > b.q.length) { b.q = b.q.slice(b.head); b.head = 0 }
          deliver(conn, id, payload)
        } else b.waiters.push({ conn, id })
      } else sock.destroy()
    }))
  })
  server.on('error', (e) => { console.error(e); process.exit(1) })
  server.listen(path)
}

export async function connect (path) {
  const sock = net.connect(path)
  await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject) })
  sock.setNoDelay(true)
  const write = batcher(sock)
  const calls = new Map() // id -> { resolve, reject }
  const names = new Map() // box name -> Buffer
  let lastContent = null; let lastBuf = null
  let nextId = 1
  sock.on('data', framer((buf, start, end) => {
    const id = buf.readUInt32LE(start + 1)
    const c = calls.get(id); calls.delete(id)
    if (c) buf[start] === 0 ? c.resolve(buf.subarray(start + 5, end)) : c.reject(new Error('ceiling: error reply'))
  }))
  sock.on('close', () => { for (const c of calls.values()) c.reject(new Error('ceiling: closed')); calls.clear() })
  sock.on('error', () => {})

  const call = (op, boxName, payload) => new Promise((resolve, reject) => {
    const id = nextId++ >>> 0
    let name = names.get(boxName)
    if (!name) names.set(boxName, (name = Buffer.from(boxName, 'latin1')))
    const plen = payload ? payload.length : 0
    const h = Buffer.allocUnsafe(10 + name.length)
    h.writeUInt32LE(6 + name.length + plen, 0); h[4] = op; h.writeUInt32LE(id, 5); h[9] = name.length
    name.copy(h, 10)
    calls.set(id, { resolve, reject })
    write(h); if (plen) write(payload)
  })
  return {
    send (boxName, content) {
      if (typeof content !== 'string') return call(SEND, boxName, content) // a Buffer (an echo)
      if (content !== lastContent) { lastContent = content; lastBuf = Buffer.from(content) }
      return call(SEND, boxName, lastBuf)
    },
    receive: (boxName) => call(RECV, boxName, null), // resolves with the payload Buffer
    close: async () => { sock.end(); sock.destroy() }
  }
}

if (isMain(import.meta.url) && process.argv[2] === 'server') { exitWithParent(); startServer(process.argv[3]) }
