// bench/store-eval/store-sqlite.mjs — better-sqlite3 12 (SQLite) in WAL mode behind the common store interface.
// One table, primary key (mailbox, id), WITHOUT ROWID, so a mailbox's FIFO is a range of the table's b-tree.
// Files: mailboxes.db, plus -wal and -shm while open. better-sqlite3 is synchronous: a commit runs on the
// main thread and blocks the event loop for its whole duration.
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { nowMs } from './common.mjs'

// durable: WAL + synchronous=NORMAL (WAL appended with write(), fsync only at checkpoints)
// fsync:   WAL + synchronous=FULL (fsync of the WAL at every commit)
export const VARIANTS = {
  durable: { level: 'durable', sync: 'NORMAL' },
  fsync: { level: 'fsync', sync: 'FULL' }
}

export async function openStore(dir, variant, { readOnly = false, createIfMissing = true } = {}) {
  const v = VARIANTS[variant]
  if (!v) throw new Error(`sqlite: unknown variant ${variant}`)
  const db = new Database(join(dir, 'mailboxes.db'), { readonly: readOnly, fileMustExist: !createIfMissing })
  if (!readOnly) {
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${v.sync}`)
    db.exec(`CREATE TABLE IF NOT EXISTS msg (
      mailbox TEXT NOT NULL, id INTEGER NOT NULL, sender TEXT NOT NULL, recipient TEXT NOT NULL,
      sent_at INTEGER NOT NULL, body BLOB NOT NULL, PRIMARY KEY (mailbox, id)) WITHOUT ROWID`)
  }
  const ins = readOnly ? null : db.prepare('INSERT INTO msg (mailbox, id, sender, recipient, sent_at, body) VALUES (?, ?, ?, ?, ?, ?)')
  const del = readOnly ? null : db.prepare('DELETE FROM msg WHERE mailbox = ? AND id = ?')
  const get = db.prepare('SELECT id, sender, recipient, sent_at AS sentAtMs, body FROM msg WHERE mailbox = ? AND id = ?')
  const nextMb = db.prepare('SELECT mailbox FROM msg WHERE mailbox > ? ORDER BY mailbox LIMIT 1').pluck()
  const oldest = db.prepare('SELECT id FROM msg WHERE mailbox = ? ORDER BY id ASC LIMIT 1').pluck()
  const newest = db.prepare('SELECT id FROM msg WHERE mailbox = ? ORDER BY id DESC LIMIT 1').pluck()
  const count = db.prepare('SELECT count(*) FROM msg WHERE mailbox = ?').pluck()
  const scan = db.prepare('SELECT id, sender, recipient, sent_at AS sentAtMs, body FROM msg WHERE mailbox = ? ORDER BY id')
  const appendTx = readOnly ? null : db.transaction((msgs) => { for (const m of msgs) ins.run(m.mailbox, m.id, m.sender, m.recipient, m.sentAtMs, m.body) })
  const steadyTx = readOnly ? null : db.transaction((appends, deletes) => {
    for (const m of appends) ins.run(m.mailbox, m.id, m.sender, m.recipient, m.sentAtMs, m.body)
    for (const d of deletes) { const r = get.get(d.mailbox, d.id); if (!r || r.id !== d.id) throw new Error(`sqlite: head ${d.mailbox}/${d.id} missing`); del.run(d.mailbox, d.id) }
  })
  return {
    db,
    async appendBatch(msgs) { const t0 = nowMs(); appendTx(msgs); return nowMs() - t0 },
    async steadyBatch(appends, deletes) { const t0 = nowMs(); steadyTx(appends, deletes); return nowMs() - t0 },
    read: (mb, id) => get.get(mb, id),
    mailboxes() { const out = []; let mb = nextMb.get(''); while (mb !== undefined) { out.push(mb); mb = nextMb.get(mb) } return out },
    oldestNewest: (mb) => ({ oldest: oldest.get(mb) ?? null, newest: newest.get(mb) ?? null }),
    count: (mb) => count.get(mb),
    *scan(mb) { for (const r of scan.iterate(mb)) yield { id: r.id, m: r } },
    quickCheck: () => db.pragma('quick_check', { simple: true }),
    async close() { db.close() }
  }
}
