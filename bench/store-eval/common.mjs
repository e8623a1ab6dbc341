// bench/store-eval/common.mjs — shared helpers for the store evaluation.
// A message: { mailbox, id, sender, recipient, sentAtMs, body } with a 100-byte body and
// ~40 bytes of metadata (id 8, sentAtMs 8, sender/recipient ~12 each). The body is derived
// from the id, so a reader can tell a correct value from a damaged one.
import { readdirSync, statSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export const BODY_BYTES = 100

export function bodyFor(id) {
  const b = Buffer.allocUnsafe(BODY_BYTES)
  let x = (id * 2654435761) >>> 0
  for (let i = 0; i < BODY_BYTES; i += 4) {
    x = (x ^ (x << 13)) >>> 0; x = (x ^ (x >>> 17)) >>> 0; x = (x ^ (x << 5)) >>> 0
    b.writeUInt32LE(x, i)
  }
  return b
}

export function makeMessage(id, mailbox) {
  return { mailbox, id, sender: `client-${id % 1000}`.padEnd(12, '.'), recipient: mailbox.padEnd(12, '.'), sentAtMs: 1_750_000_000_000 + id, body: bodyFor(id) }
}

export const mailboxName = (i) => `mbox-${String(i).padStart(2, '0')}`

// Value layout shared by the key/value stores (lmdb, LevelDB):
// [id u64 BE][sentAtMs f64][len u8][sender][len u8][recipient][body]
export function encodeValue(m) {
  const s = Buffer.from(m.sender), r = Buffer.from(m.recipient)
  const b = Buffer.allocUnsafe(16 + 2 + s.length + r.length + m.body.length)
  b.writeBigUInt64BE(BigInt(m.id), 0); b.writeDoubleBE(m.sentAtMs, 8)
  let o = 16
  b[o++] = s.length; s.copy(b, o); o += s.length
  b[o++] = r.length; r.copy(b, o); o += r.length
  m.body.copy(b, o)
  return b
}

export function decodeValue(b) {
  const id = Number(b.readBigUInt64BE(0)); const sentAtMs = b.readDoubleBE(8)
  let o = 16
  const sl = b[o++]; const sender = b.toString('utf8', o, o + sl); o += sl
  const rl = b[o++]; const recipient = b.toString('utf8', o, o + rl); o += rl
  return { id, sentAtMs, sender, recipient, body: b.subarray(o) }
}

// true when a decoded/read message is exactly what makeMessage(id, mailbox) wrote
export function checkMessage(m, id, mailbox) {
  try {
    const want = makeMessage(id, mailbox)
    return m.id === id && m.sentAtMs === want.sentAtMs && m.sender === want.sender &&
      m.recipient === want.recipient && Buffer.compare(Buffer.from(m.body), want.body) === 0
  } catch { return false }
}

export const nowMs = () => Number(process.hrtime.bigint()) / 1e6

export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[i]
}
export function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
export function summarize(xs) {
  const s = Float64Array.from(xs).sort()
  return { n: s.length, p50: quantile(s, 0.5), p99: quantile(s, 0.99), max: s.length ? s[s.length - 1] : NaN }
}

// Apparent size and allocated size (st_blocks) of every file under dir, plus the file count.
export function dirUsage(dir) {
  let apparent = 0, allocated = 0, files = 0
  const names = []
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else { const st = statSync(p); apparent += st.size; allocated += st.blocks * 512; files++; names.push(p.slice(dir.length + 1)) }
    }
  }
  walk(dir)
  return { apparent, allocated, files, names: names.sort() }
}

// VmRSS split into anonymous and file-backed (lmdb's map counts as file-backed), KiB.
export function memKiB() {
  const st = readFileSync('/proc/self/status', 'utf8')
  const get = (k) => Number((st.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')) || [])[1] || NaN)
  return { rss: get('VmRSS'), anon: get('RssAnon'), file: get('RssFile'), vsz: get('VmSize') }
}
