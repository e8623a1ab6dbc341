// bench/micro/codec.mjs — CPU time per round of encode + decode of a sendMessage call and a receiveMessage
// reply (framed binary) with the project's codec: no sockets, one process, so it is steadier than the full
// bench on a noisy machine. Usage: node bench/micro/codec.mjs [dist folder, default ./dist]
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
const root = process.argv[2]
  ? pathToFileURL(resolve(process.argv[2])).href
  : new URL('../../dist', import.meta.url).href.replace(/\/$/, '')
const { MessageService, MESSAGE_CALL, MESSAGE_REPLY } = await import(`${root}/src/gen/thriftbus.js`)
const { createWriter, FrameReader } = await import(`${root}/src/wire/frame-reader.js`)
const fmt = { protocol: 'binary', transport: 'framed' }
const w = createWriter(fmt, 1 << 24)
const m = MessageService.methods
const msg = { sender: 'load.mjs:12345', recipient: 'bench', content: 'x'.repeat(100), id: 123456, sentAtMs: Date.now() }
function round() {
  w.beginMessage('sendMessage', MESSAGE_CALL, 7); m.sendMessage.writeArgs(w, { message: msg }); w.endMessage()
  w.beginMessage('receiveMessage', MESSAGE_REPLY, 8); m.receiveMessage.writeResult(w, { success: msg }); w.endMessage()
  const buf = w.take()
  const r = new FrameReader(1 << 24, fmt)
  r.push(buf)
  const a = r.next((h, rd) => m.sendMessage.readArgs(rd))
  const b = r.next((h, rd) => m.receiveMessage.readResult(rd))
  if (a.body.message.content.length !== 100 || b.body.success.sender !== msg.sender) throw new Error('bad')
}
for (let i = 0; i < 200_000; i++) round()
const res = []
for (let k = 0; k < 7; k++) {
  const c0 = process.cpuUsage(); const N = 300_000
  for (let i = 0; i < N; i++) round()
  const c = process.cpuUsage(c0); res.push((c.user + c.system) * 1000 / N)
}
res.sort((a, b) => a - b)
console.log(`${root}: ${res[3].toFixed(0)} ns per round (min ${res[0].toFixed(0)})`)
