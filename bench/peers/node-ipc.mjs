// bench/peers/node-ipc.mjs — the same mailbox built on node-ipc 14.0.0 (its Unix
// socket server, default 'fast' profile: JSON envelopes, '\f'-delimited).
// node-ipc has no request/response, so requests carry an id (`rid`) and the
// server answers with a 'r' event carrying the same id. It answers what a
// popular "Node IPC" package costs for the mailbox job.
// Pub/sub (the `fanout` scenario) uses node-ipc's own fan-out, server.broadcast:
// it encodes the event once and writes it to EVERY connected client; it has no
// topics, so the topic travels in the event and subscribers filter on it, and the
// publisher's own connection gets (and parses) every message too.
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { IPCModule } from 'node-ipc'
import { exitWithParent, isMain } from '../common.mjs'

export function serverCommand (dir) {
  const socket = `${dir}/node-ipc.sock`
  return { socket, cmd: process.execPath, args: [fileURLToPath(import.meta.url), 'server', socket] }
}

function quietIpc (path) {
  const ipc = new IPCModule()
  ipc.config.silent = true
  ipc.config.socketRoot = dirname(path) + '/' // node-ipc wants an owner-only root holding the socket
  ipc.config.maxConnections = 256
  ipc.config.stopRetrying = true // a client must not reconnect forever after the server is gone
  return ipc
}

export function startServer (path) {
  const ipc = quietIpc(path)
  const boxes = new Map() // name -> { q: string[], waiters: [{ socket, rid }] }
  const box = (name) => {
    let b = boxes.get(name)
    if (!b) boxes.set(name, (b = { q: [], waiters: [] }))
    return b
  }
  ipc.serve(path, () => {
    const server = ipc.server
    server.on('error', () => {})
    server.on('send', (d, socket) => {
      const b = box(d.box)
      let w
      while ((w = b.waiters.shift()) && w.socket.destroyed);
      if (w) server.emit(w.socket, 'r', { rid: w.rid, content: d.content })
      else b.q.push(d.content)
      server.emit(socket, 'r', { rid: d.rid })
    })
    // Nothing to record (broadcast reaches every connection): the round trip only makes sure the
    // server has accepted and registered this connection before publishing starts.
    server.on('sub', (d, socket) => server.emit(socket, 'r', { rid: d.rid }))
    server.on('pub', (d, socket) => {
      server.broadcast('m', { topic: d.box, content: d.content })
      server.emit(socket, 'r', { rid: d.rid })
    })
    server.on('recv', (d, socket) => {
      const b = box(d.box)
      if (b.q.length) server.emit(socket, 'r', { rid: d.rid, content: b.q.shift() })
      else b.waiters.push({ socket, rid: d.rid })
    })
  })
  ipc.server.start()
}

export async function connect (path) {
  const ipc = quietIpc(path)
  const calls = new Map()
  let nextRid = 1
  ipc.connectTo('bus', path)
  const c = ipc.of.bus
  await new Promise((resolve, reject) => {
    c.on('connect', resolve)
    c.on('error', reject)
  })
  c.on('r', (d) => { const k = calls.get(d.rid); calls.delete(d.rid); k?.resolve(d.content) })
  let closing = false
  let onLost = null
  c.on('disconnect', () => {
    for (const k of calls.values()) k.reject(new Error('node-ipc: disconnected'))
    calls.clear()
    if (!closing) onLost?.(new Error('node-ipc: disconnected'))
  })
  const call = (event, box, content) => new Promise((resolve, reject) => {
    const rid = nextRid++
    calls.set(rid, { resolve, reject })
    c.emit(event, content === undefined ? { rid, box } : { rid, box, content })
  })
  return {
    send: (box, content) => call('send', box, content),
    receive: (box) => call('recv', box),
    publish: (topic, content) => call('pub', topic, content),
    // Keeps this topic's messages from the broadcasts; resolves once the server has seen the connection.
    async subscribe (topic, onMessage, onError) {
      onLost = onError
      c.on('m', (d) => { if (d.topic === topic) onMessage(d.content) })
      await call('sub', topic)
    },
    close: async () => { closing = true; ipc.disconnect('bus') }
  }
}

if (isMain(import.meta.url) && process.argv[2] === 'server') { exitWithParent(); startServer(process.argv[3]) }
