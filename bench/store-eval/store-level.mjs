// bench/store-eval/store-level.mjs — classic-level 3 (LevelDB) behind the common store interface.
// Key: utf8(mailbox) 0x00 u64BE(id), value: encodeValue(m). Writes are db.batch() (one atomic
// write-batch = one append to LevelDB's log), run on the libuv thread pool.
import { ClassicLevel } from 'classic-level'
import { join } from 'node:path'
import { decodeValue, encodeValue, nowMs } from './common.mjs'

// durable: batch({ sync: false }): the log record is written to the OS with write() before the callback.
// fsync:   batch({ sync: true }): fsync of the log before the callback.
export const VARIANTS = {
  durable: { level: 'durable', sync: false },
  fsync: { level: 'fsync', sync: true }
}

const key = (mb, id) => { const s = Buffer.from(mb); const k = Buffer.alloc(s.length + 9); s.copy(k); k[s.length] = 0; k.writeBigUInt64BE(BigInt(id), s.length + 1); return k }
const lo = (mb) => Buffer.concat([Buffer.from(mb), Buffer.from([0])])
const hi = (mb) => Buffer.concat([Buffer.from(mb), Buffer.from([1])])
const idOf = (k) => Number(k.readBigUInt64BE(k.length - 8))
const mbOf = (k) => k.toString('utf8', 0, k.length - 9)

export async function openStore(dir, variant, { createIfMissing = true } = {}) {
  const v = VARIANTS[variant]
  if (!v) throw new Error(`level: unknown variant ${variant}`)
  const db = new ClassicLevel(join(dir, 'mailboxes.leveldb'), { keyEncoding: 'buffer', valueEncoding: 'buffer', createIfMissing })
  await db.open()
  const first = async (opts) => { for await (const k of db.keys({ ...opts, limit: 1 })) return k; return undefined }
  const write = async (ops) => { const t0 = nowMs(); const p = db.batch(ops, { sync: v.sync }); const block = nowMs() - t0; await p; return block }
  return {
    db,
    appendBatch: (msgs) => write(msgs.map((m) => ({ type: 'put', key: key(m.mailbox, m.id), value: encodeValue(m) }))),
    async steadyBatch(appends, deletes) {
      const got = await db.getMany(deletes.map((d) => key(d.mailbox, d.id)))
      got.forEach((b, i) => { if (!b || decodeValue(b).id !== deletes[i].id) throw new Error(`level: head ${deletes[i].mailbox}/${deletes[i].id} missing`) })
      return write([
        ...appends.map((m) => ({ type: 'put', key: key(m.mailbox, m.id), value: encodeValue(m) })),
        ...deletes.map((d) => ({ type: 'del', key: key(d.mailbox, d.id) }))
      ])
    },
    async read(mb, id) { const b = await db.get(key(mb, id)); return b && decodeValue(b) },
    async mailboxes() { const out = []; let k = await first({}); while (k) { const mb = mbOf(k); out.push(mb); k = await first({ gte: hi(mb) }) } return out },
    async oldestNewest(mb) {
      const o = await first({ gte: lo(mb), lt: hi(mb) }); const n = await first({ gte: lo(mb), lt: hi(mb), reverse: true })
      return { oldest: o ? idOf(o) : null, newest: n ? idOf(n) : null }
    },
    async count(mb) { // key-only scan, 1000 keys per call into the native iterator
      const it = db.keys({ gte: lo(mb), lt: hi(mb) }); let n = 0
      try { for (let ks = await it.nextv(1000); ks.length; ks = await it.nextv(1000)) n += ks.length } finally { await it.close() }
      return n
    },
    async *scan(mb) {
      const it = db.iterator({ gte: lo(mb), lt: hi(mb) })
      try { for (let es = await it.nextv(1000); es.length; es = await it.nextv(1000)) for (const [k, b] of es) yield { id: idOf(k), m: decodeValue(b) } } finally { await it.close() }
    },
    async close() { await db.close() }
  }
}
