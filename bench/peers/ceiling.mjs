// bench/peers/ceiling.mjs — the yardstick: the smallest honest mailbox server we
// can write in Node on a Unix socket. Own length-prefixed framing, no Thrift, no
// validation, no metadata; replies to a connection are coalesced per tick into
// one socket.write. The client pipelines with request ids and coalesces its
// requests the same way. Every other row is reported as a ratio to this one.
// Topics (the `fanout` scenario): subscribe registers the connection for one exact topic name; a publish
// writes one push frame per subscriber (coalesced per tick like every reply) and is acked at once. No
// patterns, no routing, no queue: the only bound is that a push to a subscriber whose socket already holds
// more than SUB_MAX_PENDING bytes unwritten is dropped (newest first) and counted, so the server's memory
// stays bounded when subscribers fall behind.
//
// Request: u32le len | u8 op (1 send, 2 receive, 3 subscribe, 4 publish, 5 sub stats) | u32le id | u8 boxLen | box | payload
// Reply:   u32le len | u8 status (0 ok, 2 push)    | u32le id | payload (receive; push; stats: u32le dropped)
// A push carries the id of the subscribe request it belongs to.
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { exitWithParent, isMain } from '../common.mjs'

const SEND = 1
const RECV = 2
const SUB = 3
const PUB = 4
const STATS = 5
const PUSH = 2 // reply status of a published message
/** Unwritten bytes a subscriber's socket may hold before further pushes to it are dropped. */
const SUB_MAX_PENDING = 8 * 1024 * 1024

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
  const topics = new Map() // topic -> Set of { conn, id, dropped }
  const subs = new Map() // `${conn.n}:${id}` -> subscription, for STATS
  let conns = 0

  const server = net.createServer((sock) => {
    const conn = { write: batcher(sock), closed: false, sock, n: ++conns }
    sock.on('close', () => { conn.closed = true })
    sock.on('error', () => {})
    sock.on('data', framer((buf, start, end) => {
      const op = buf[start]
      const id = buf.readUInt32LE(start + 1)
      const nameLen = buf[start + 5]
      if (op >= SUB) return topicOp(conn, op, id, buf.latin1Slice(start + 6, start + 6 + nameLen), buf.subarray(start + 6 + nameLen, end))
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
  const topicOp = (conn, op, id, topic, payload) => {
    if (op === SUB) {
      let set = topics.get(topic)
      if (!set) topics.set(topic, (set = new Set()))
      const sub = { conn, id, dropped: 0 }
      set.add(sub); subs.set(`${conn.n}:${id}`, sub)
      conn.write(header(0, id, 0))
    } else if (op === PUB) {
      const set = topics.get(topic)
      if (set) {
        for (const sub of set) {
          if (sub.conn.closed) { set.delete(sub); subs.delete(`${sub.conn.n}:${sub.id}`); continue }
          if (sub.conn.sock.writableLength > SUB_MAX_PENDING) { sub.dropped++; continue }
          sub.conn.write(header(PUSH, sub.id, payload.length)); sub.conn.write(payload)
        }
      }
      conn.write(header(0, id, 0))
    } else if (op === STATS) {
      const sub = subs.get(`${conn.n}:${Number(topic)}`) // the "box" is the subscribe request's id
      const out = Buffer.alloc(4); out.writeUInt32LE(sub?.dropped ?? 0, 0)
      conn.write(header(0, id, 4)); conn.write(out)
    } else conn.sock.destroy()
  }
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
  const pushed = new Map() // subscribe request id -> onMessage(payload)
  sock.on('data', framer((buf, start, end) => {
    const id = buf.readUInt32LE(start + 1)
    if (buf[start] === PUSH) return pushed.get(id)?.(buf.subarray(start + 5, end))
    const c = calls.get(id); calls.delete(id)
    if (c) buf[start] === 0 ? c.resolve(buf.subarray(start + 5, end)) : c.reject(new Error('ceiling: error reply'))
  }))
  let closing = false
  let onLost = null // a subscriber's onError, once it has subscribed
  sock.on('close', () => {
    for (const c of calls.values()) c.reject(new Error('ceiling: closed'))
    calls.clear()
    if (!closing) onLost?.(new Error('ceiling: connection closed'))
  })
  sock.on('error', () => {})

  const call = (op, boxName, payload, id = nextId++ >>> 0) => new Promise((resolve, reject) => {
    let name = names.get(boxName)
    if (!name) names.set(boxName, (name = Buffer.from(boxName, 'latin1')))
    const plen = payload ? payload.length : 0
    const h = Buffer.allocUnsafe(10 + name.length)
    h.writeUInt32LE(6 + name.length + plen, 0); h[4] = op; h.writeUInt32LE(id, 5); h[9] = name.length
    name.copy(h, 10)
    calls.set(id, { resolve, reject })
    write(h); if (plen) write(payload)
  })
  const bytes = (content) => {
    if (typeof content !== 'string') return content // a Buffer (an echo)
    if (content !== lastContent) { lastContent = content; lastBuf = Buffer.from(content) }
    return lastBuf
  }
  const subIds = []
  return {
    send: (boxName, content) => call(SEND, boxName, bytes(content)),
    receive: (boxName) => call(RECV, boxName, null), // resolves with the payload Buffer
    publish: (topic, content) => call(PUB, topic, bytes(content)),
    /** Resolves once the server has the subscription; onMessage(payload Buffer) for every push. */
    async subscribe (topic, onMessage, onError) {
      const id = nextId++ >>> 0
      pushed.set(id, onMessage); subIds.push(id); onLost = onError
      await call(SUB, topic, null, id)
    },
    /** What the server dropped for this connection's subscriptions (its per-subscriber bound). */
    async subStats () {
      let dropped = 0
      for (const id of subIds) dropped += (await call(STATS, String(id), null)).readUInt32LE(0)
      return { dropped }
    },
    close: async () => { closing = true; sock.end(); sock.destroy() }
  }
}

if (isMain(import.meta.url) && process.argv[2] === 'server') { exitWithParent(); startServer(process.argv[3]) }
