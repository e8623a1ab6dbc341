// bench/store-eval/store-lmdb.mjs — the `lmdb` package (lmdb-js 3, LMDB) behind the common store interface.
// Key: [mailbox, id] (ordered-binary), value: encodeValue(m) as raw bytes. One file + a -lock file.
// Writes use db.batch(): the puts/removes run in one LMDB write transaction on lmdb-js's write
// thread; the promise resolves when that transaction has committed.
import { open } from 'lmdb'
import { join } from 'node:path'
import { decodeValue, encodeValue, nowMs } from './common.mjs'

// durable:        default open (overlappingSync on Linux/macOS): resolve at commit, flush to disk afterwards.
// durable-nosync: noSync: never fsync; commits are written to the OS page cache only.
// durable-txsync: like durable but the batch is committed with transactionSync() on the main thread.
// fsync:          default open, and the reply waits for db.flushed (the commit's fsync has finished).
// fsync-classic:  overlappingSync: false (plain LMDB: fsync inside the commit, under the write lock).
export const VARIANTS = {
  durable: { level: 'durable', opts: {} },
  'durable-nosync': { level: 'durable', opts: { noSync: true } },
  'durable-txsync': { level: 'durable', opts: {}, sync: true },
  fsync: { level: 'fsync', opts: {}, waitFlush: true },
  'fsync-classic': { level: 'fsync', opts: { overlappingSync: false } }
}

export async function openStore(dir, variant, { readOnly = false } = {}) {
  const v = VARIANTS[variant]
  if (!v) throw new Error(`lmdb: unknown variant ${variant}`)
  const db = open({ path: join(dir, 'mailboxes.mdb'), encoding: 'binary', ...v.opts, ...(readOnly ? { readOnly: true } : {}) })
  const write = async (fn) => {
    const t0 = nowMs()
    let block
    if (v.sync) { db.transactionSync(fn); block = nowMs() - t0 } else {
      let cb = 0
      const p = db.batch(() => { const c0 = nowMs(); fn(); cb = nowMs() - c0 })
      block = nowMs() - t0
      await p
      block += cb
    }
    if (v.waitFlush) await db.flushed
    return block
  }
  return {
    db,
    appendBatch: (msgs) => write(() => { for (const m of msgs) db.put([m.mailbox, m.id], encodeValue(m)) }),
    // receive = read the head message, then delete it; sends and receives commit together
    steadyBatch(appends, deletes) {
      for (const d of deletes) { const b = db.getBinary([d.mailbox, d.id]); if (!b || decodeValue(b).id !== d.id) throw new Error(`lmdb: head ${d.mailbox}/${d.id} missing`) }
      return write(() => {
        for (const m of appends) db.put([m.mailbox, m.id], encodeValue(m))
        for (const d of deletes) db.remove([d.mailbox, d.id])
      })
    },
    read(mailbox, id) { const b = db.getBinary([mailbox, id]); return b && decodeValue(b) },
    mailboxes() { // seek from one mailbox to the next: O(mailboxes x log n), no scan
      const out = []
      let k = [...db.getKeys({ limit: 1 })][0]
      while (k) { out.push(k[0]); k = [...db.getKeys({ start: [k[0], Infinity], limit: 1 })][0] }
      return out
    },
    oldestNewest(mb) {
      const o = [...db.getKeys({ start: [mb, -Infinity], end: [mb, Infinity], limit: 1 })][0]
      const n = [...db.getKeys({ start: [mb, Infinity], end: [mb, -Infinity], reverse: true, limit: 1 })][0]
      return { oldest: o ? o[1] : null, newest: n ? n[1] : null }
    },
    count: (mb) => db.getKeysCount({ start: [mb, -Infinity], end: [mb, Infinity] }),
    *scan(mb) { for (const { key, value } of db.getRange({ start: [mb, -Infinity], end: [mb, Infinity] })) yield { id: key[1], m: decodeValue(value) } },
    async close() { await db.close() }
  }
}
