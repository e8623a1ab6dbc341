/**
 * The broker on the real SQLite store, in a temp folder: what survives a restart (a close and reopen of the
 * same file; kill -9 of a real daemon is in test/integration/crash.test.ts), the memory window, and stores
 * that must be refused without being touched.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { Broker, MEMORY_WINDOW_BYTES, MEMORY_WINDOW_MESSAGES, MEMORY_WINDOWS_TOTAL_BYTES } from '../../src/broker/broker.js'
import { SqliteStore, StoreError, STORE_FILE } from '../../src/broker/store.js'
import type { Message } from '../../src/gen/thriftbus.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { tempDir } from '../helpers/daemon.js'

const contents = (ms: Message[]): string[] => ms.map((m) => m.content)
const msg = (recipient: string, content: string, extra: Partial<Message> = {}): Message => ({ sender: 's', recipient, content, ...extra })

/** Opens a broker on the store in dir; reopen() closes it and opens a fresh one on the same file, as a restart does. */
function open(t: Checks, dir: string, clock = new FakeClock()) {
  const failures: Error[] = []
  let store = new SqliteStore(join(dir, STORE_FILE), 'durable', (err) => failures.push(err))
  let broker = new Broker({ clock, store, maxDeliveries: 2 })
  const h = {
    clock,
    failures,
    get broker() {
      return broker
    },
    get store() {
      return store
    },
    commit() {
      t.equal(store.commit(), true, 'commit')
    },
    reopen() {
      broker.close()
      store.close()
      store = new SqliteStore(join(dir, STORE_FILE), 'durable', (err) => failures.push(err))
      broker = new Broker({ clock, store, maxDeliveries: 2 })
    },
  }
  t.teardown(() => {
    broker.close()
    store.close()
  })
  return h
}

function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected an error')
}

/** A tap test, as open() uses it. */
type Checks = Pick<typeof t, 'equal' | 'teardown'>

t.test('committed messages survive a restart, in order, with their ids; new ids never repeat', async (t) => {
  const dir = tempDir(t)
  const h = open(t, dir)
  for (const c of ['a', 'b', 'c']) h.broker.send(msg('q', c, { headers: { k: c }, body: Buffer.from(c) }))
  h.broker.send(msg('other', 'x', { ttlMs: 60_000 }))
  h.broker.takeOne('q')
  h.commit()
  h.reopen()
  t.match(h.broker.stats('q'), { depth: 2 })
  t.equal(h.broker.messagesInMemory, 0, 'counts only at start: messages load when needed')
  const got = h.broker.take('q', 10)
  t.same(contents(got), ['b', 'c'])
  t.same(got.map((m) => m.id), [2, 3])
  t.same(got[0]!.headers, { k: 'b' })
  t.same(Buffer.from(got[0]!.body!).toString(), 'b')
  t.match(h.broker.take('other', 1)[0], { content: 'x', ttlMs: 60_000 })
  const next = h.broker.send(msg('q', 'd'))
  t.ok(next.id! > 4, `a new id after the restart (${next.id}) is above every id given before`)
  h.commit()
  h.reopen()
  const after = h.broker.send(msg('q', 'e'))
  t.ok(after.id! > next.id!, 'ids keep increasing across restarts, even when the mailbox was emptied')
})

t.test('a long mailbox keeps only a window in memory and hands out every message in order', async (t) => {
  const dir = tempDir(t)
  const h = open(t, dir)
  const n = MEMORY_WINDOW_MESSAGES * 3 + 17
  for (let i = 0; i < n; i++) h.broker.send(msg('long', String(i)))
  t.equal(h.broker.messagesInMemory, MEMORY_WINDOW_MESSAGES)
  t.match(h.broker.stats('long'), { depth: n })
  h.commit()
  const seen: string[] = []
  for (;;) {
    const batch = h.broker.take('long', 500)
    if (batch.length === 0) break
    seen.push(...contents(batch))
    t.ok(h.broker.messagesInMemory <= MEMORY_WINDOW_MESSAGES, 'the window holds')
  }
  t.equal(seen.length, n)
  t.ok(seen.every((c, i) => c === String(i)), 'in order')
  h.commit()
  h.reopen()
  t.same(h.broker.list(), [], 'all removed from the store')
})

t.test('all mailboxes together keep at most MEMORY_WINDOWS_TOTAL_BYTES in memory; the rest comes from the store', async (t) => {
  const dir = tempDir(t)
  const h = open(t, dir)
  const big = 'y'.repeat(1024 * 1024)
  const boxes = 8
  const perBox = 12 // 96 MiB in all: more than the total window, less than any mailbox's own
  for (let i = 0; i < perBox; i++) for (let b = 0; b < boxes; b++) h.broker.send(msg(`big${b}`, `${i}:${big}`))
  t.ok(h.broker.bytesInMemory <= MEMORY_WINDOWS_TOTAL_BYTES, `${h.broker.bytesInMemory} bytes in memory`)
  t.ok(h.broker.bytesInMemory > MEMORY_WINDOWS_TOTAL_BYTES - 2 * big.length, 'the total window is used')
  h.commit()
  for (let b = 0; b < boxes; b++) {
    const got: string[] = []
    for (let batch = h.broker.take(`big${b}`, 5); batch.length > 0; batch = h.broker.take(`big${b}`, 5)) {
      got.push(...batch.map((m) => m.content.slice(0, m.content.indexOf(':'))))
      t.ok(h.broker.bytesInMemory <= MEMORY_WINDOWS_TOTAL_BYTES + MEMORY_WINDOW_BYTES, 'reading back stays near the window')
    }
    t.same(got, Array.from({ length: perBox }, (_, i) => String(i)), `big${b}: every message, in order`)
  }
  t.equal(h.broker.bytesInMemory, 0)
})

t.test('the store reads back a mailbox in batches bounded by bytes as well as by count', async (t) => {
  const dir = tempDir(t)
  const h = open(t, dir)
  const big = 'z'.repeat(1024 * 1024)
  for (let i = 0; i < 40; i++) h.store.insert(msg('q', `${i}:${big}`, { id: i + 1, sentAtMs: 1 }), big.length + 8)
  h.commit()
  const first = h.store.load('q', 0, 1000, 10 * 1024 * 1024)
  t.equal(first.length, 9, 'nine 1 MiB messages fit in 10 MiB')
  t.equal(h.store.load('q', first.at(-1)!.id!, 1000, 1).length, 1, 'the first message is always returned')
  t.equal(h.store.load('q', 0, 5).length, 5, 'the count still limits')
})

t.test('a message given back while later ones are only in the store keeps its place', async (t) => {
  const dir = tempDir(t)
  const h = open(t, dir)
  const n = MEMORY_WINDOW_MESSAGES + 10
  for (let i = 0; i < n; i++) h.broker.send(msg('q', String(i)))
  const [first] = h.broker.take('q', 1, Infinity, { leaseMs: 1000, owner: 1 })
  h.broker.nack([first!.id!])
  const all: string[] = []
  for (let b = h.broker.take('q', 100); b.length > 0; b = h.broker.take('q', 100)) all.push(...contents(b))
  t.equal(all.length, n)
  t.ok(all.every((c, i) => c === String(i)))
})

t.test('leased messages survive a restart as deliverable, with their delivery counts; acked ones do not', async (t) => {
  const dir = tempDir(t)
  const h = open(t, dir)
  for (const c of ['a', 'b', 'c']) h.broker.send(msg('q', c))
  const leased = h.broker.take('q', 2, Infinity, { leaseMs: 60_000, owner: 1 })
  h.broker.ack([leased[1]!.id!])
  h.commit()
  h.reopen()
  const got = h.broker.take('q', 10, Infinity, { leaseMs: 60_000, owner: 1 })
  t.same(contents(got), ['a', 'c'])
  t.same(got.map((m) => m.deliveryCount), [2, 1])
  h.broker.nack([got[0]!.id!])
  t.match(h.broker.stats('q'), { deadLettered: 1 }, 'a third failure dead-letters it (maxDeliveries 2)')
  h.commit()
  h.reopen()
  t.same(contents(h.broker.take('q.dead-letter', 10)), ['a'], 'the dead letter is durable')
  t.same(contents(h.broker.take('q', 10)), ['c'], 'the lease on c ended with the restart')
})

t.test('purge and TTL expiry reach the store', async (t) => {
  const dir = tempDir(t)
  const h = open(t, dir)
  h.broker.send(msg('p', '1'))
  h.broker.send(msg('p', '2'))
  h.broker.purge('p')
  h.broker.send(msg('t', 'dies', { ttlMs: 10 }))
  h.broker.send(msg('t', 'lives'))
  h.clock.advance(2000)
  h.commit()
  h.reopen()
  t.same(h.broker.take('p', 10), [])
  t.same(contents(h.broker.take('t', 10)), ['lives'])
})

t.test('an expired message still only in the store is dropped when it is loaded', async (t) => {
  const dir = tempDir(t)
  const h = open(t, dir)
  h.broker.send(msg('t', 'dies', { ttlMs: 10 }))
  h.broker.send(msg('t', 'lives'))
  h.commit()
  h.reopen()
  h.clock.advance(20)
  t.same(contents(h.broker.take('t', 10)), ['lives'])
  t.match(h.broker.stats('t'), { expired: 1, depth: 0 })
})

t.test('a file that is not a database is refused, named, and left untouched', async (t) => {
  const dir = tempDir(t)
  const path = join(dir, STORE_FILE)
  writeFileSync(path, 'this is not a database, but it is somebody\'s file\n'.repeat(200))
  const before = readFileSync(path)
  const err = thrown(() => new SqliteStore(path, 'durable', () => {}))
  t.type(err, StoreError)
  t.match(err.message, path)
  t.match(err.message, /not a database/)
  t.match(err.message, /move the file/)
  t.same(readFileSync(path), before, 'not deleted or reset')
})

t.test('a corrupt database is refused at start with the path and the reason', async (t) => {
  const dir = tempDir(t)
  const path = join(dir, STORE_FILE)
  const h = open(t, dir)
  for (let i = 0; i < 2000; i++) h.broker.send(msg('q', 'x'.repeat(100) + i))
  h.commit()
  h.broker.close()
  h.store.close()
  // Overwrite a page in the middle of the table's b-tree.
  const bytes = readFileSync(path)
  bytes.fill(0x5a, 4096 * 5, 4096 * 5 + 4096)
  writeFileSync(path, bytes)
  const err = thrown(() => new SqliteStore(path, 'durable', () => {}))
  t.type(err, StoreError)
  t.match(err.message, path)
  t.match(err.message, /integrity|malformed|corrupt/)
  t.same(readFileSync(path), bytes, 'left as it was')
})

t.test('a store written by a newer schema is refused', async (t) => {
  const dir = tempDir(t)
  const path = join(dir, STORE_FILE)
  new SqliteStore(path, 'durable', () => {}).close()
  const Database = (await import('better-sqlite3')).default
  const db = new Database(path)
  db.pragma('user_version = 99')
  db.close()
  t.throws(() => new SqliteStore(path, 'durable', () => {}), { message: /newer thriftbus/ })
})

t.test('a store of schema 1 (messages keyed by mailbox and id) is converted at open, with every message', async (t) => {
  const dir = tempDir(t)
  const path = join(dir, STORE_FILE)
  const Database = (await import('better-sqlite3')).default
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  // The schema 1 layout, as the previous release wrote it.
  db.exec(`CREATE TABLE messages (
    mailbox TEXT NOT NULL, id INTEGER NOT NULL, sender TEXT NOT NULL, content TEXT NOT NULL, body BLOB, headers TEXT,
    sent_at INTEGER NOT NULL, ttl_ms INTEGER, deliveries INTEGER NOT NULL DEFAULT 0, size INTEGER NOT NULL,
    PRIMARY KEY (mailbox, id)
  ) WITHOUT ROWID;
  CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;`)
  const insert = db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
  for (let id = 1; id <= 300; id++) {
    const box = id % 3 === 0 ? 'b' : 'a'
    insert.run(box, id, 's', `m${id}`, id === 4 ? Buffer.from('body') : null, id === 5 ? '{"k":"v"}' : null, 1000 + id, null, id === 7 ? 2 : 0, 10)
  }
  db.prepare("INSERT INTO meta VALUES ('idCeiling', 500)").run()
  db.pragma('user_version = 1')
  db.close()

  const h = open(t, dir)
  t.match(h.broker.stats('a'), { depth: 200 })
  t.match(h.broker.stats('b'), { depth: 100 })
  const a = h.broker.take('a', 1000)
  t.same(contents(a), Array.from({ length: 300 }, (_, i) => i + 1).filter((id) => id % 3 !== 0).map((id) => `m${id}`), 'mailbox a, in order')
  t.same(Buffer.from(a.find((m) => m.id === 4)!.body!).toString(), 'body')
  t.same(a.find((m) => m.id === 5)!.headers, { k: 'v' })
  t.equal(a.find((m) => m.id === 7)!.deliveryCount, 2)
  t.ok(h.broker.send(msg('a', 'new')).id! > 500, 'ids continue above the reserved ceiling')
  h.commit()
  h.reopen()
  t.same(contents(h.broker.take('b', 1000)), Array.from({ length: 100 }, (_, i) => `m${3 * (i + 1)}`), 'mailbox b, in order, after a restart')
  t.same(contents(h.broker.take('a', 1000)), ['new'])
  h.commit()
  h.broker.close()
  h.store.close()
  const check = new Database(path, { readonly: true })
  t.teardown(() => check.close())
  t.equal(check.pragma('user_version', { simple: true }), 2)
  t.match(check.prepare("SELECT sql FROM sqlite_master WHERE name = 'messages'").pluck().get(), /id INTEGER PRIMARY KEY/)
})

t.test('an unreadable store is refused', { skip: process.getuid?.() === 0 ? 'root reads any file' : false }, async (t) => {
  const dir = tempDir(t)
  const path = join(dir, STORE_FILE)
  new SqliteStore(path, 'durable', () => {}).close()
  chmodSync(path, 0)
  t.throws(() => new SqliteStore(path, 'durable', () => {}), StoreError)
})

t.test('the fsync level opens with synchronous=FULL and works the same', async (t) => {
  const dir = tempDir(t)
  const store = new SqliteStore(join(dir, STORE_FILE), 'fsync', () => {})
  const broker = new Broker({ clock: new FakeClock(), store })
  broker.send(msg('q', 'a'))
  t.equal(store.commit(), true)
  broker.close()
  store.close()
  const again = new SqliteStore(join(dir, STORE_FILE), 'fsync', () => {})
  const b2 = new Broker({ clock: new FakeClock(), store: again })
  t.same(contents(b2.take('q', 1)), ['a'])
  b2.close()
  again.close()
})
