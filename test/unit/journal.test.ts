/**
 * The journal in front of the SQLite store (src/broker/journal.ts): what a crash leaves behind is applied at
 * the next open, a checkpoint moves only the messages still queued into SQLite, and a damaged journal is
 * refused without being touched.
 *
 * A "crash image" is a copy of the store's files taken while the store is open and has committed: what the
 * disk holds if the daemon is killed at that moment (kill -9 of a real daemon: test/integration/crash.test.ts).
 */
import { appendFileSync, copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import t from 'tap'
import { Broker } from '../../src/broker/broker.js'
import { Journal, JOURNAL_COMPACT_BYTES, JOURNAL_KEEP_MESSAGES } from '../../src/broker/journal.js'
import { journalPath, SqliteStore, StoreError, STORE_FILE } from '../../src/broker/store.js'
import type { Message } from '../../src/gen/thriftbus.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { tempDir } from '../helpers/daemon.js'

const msg = (recipient: string, content: string, extra: Partial<Message> = {}): Message => ({ sender: 's', recipient, content, ...extra })
const contents = (ms: Message[]): string[] => ms.map((m) => m.content)
const FILES = [STORE_FILE, `${STORE_FILE}-wal`, 'thriftbus.journal']

/** A store and a broker on it in dir, closed at the end of the test. */
function open(t: Tap, dir: string) {
  const store = new SqliteStore(join(dir, STORE_FILE), 'durable', (err) => t.fail(`store failure: ${err.message}`))
  const broker = new Broker({ clock: new FakeClock(), store, maxDeliveries: 5 })
  let closed = false
  const close = () => {
    if (closed) return
    closed = true
    broker.close()
    store.close()
  }
  t.teardown(close)
  return { store, broker, close }
}

/** Copies the store's files, as they are on disk now, into a new folder. */
function crashImage(t: Tap, dir: string): string {
  const image = tempDir(t)
  for (const f of FILES) if (existsSync(join(dir, f))) copyFileSync(join(dir, f), join(image, f))
  return image
}

type Tap = Pick<typeof t, 'teardown' | 'fail'>

t.test('what was committed to the journal, and not checkpointed, survives a crash: order, ids, bodies, delivery counts', async (t) => {
  const dir = tempDir(t)
  const { store, broker } = open(t, dir)
  for (let i = 0; i < 50; i++) broker.send(msg('q', `m${i}`, i === 3 ? { body: Buffer.from('bytes'), headers: { k: 'v' }, ttlMs: 60_000 } : {}))
  broker.send(msg('other', 'x'))
  t.equal(store.commit(), true)
  broker.take('q', 10) // received and removed
  const leased = broker.take('q', 2, Infinity, { leaseMs: 60_000, owner: 1 }) // m10, m11: delivery count 1, kept
  broker.ack([leased[1]!.id!])
  t.equal(store.commit(), true)
  t.ok(store.journalBytes > 16, 'the writes are in the journal')

  const image = crashImage(t, dir)
  const raw = new Database(join(image, STORE_FILE), { readonly: true })
  t.equal(raw.prepare('SELECT count(*) FROM messages').pluck().get(), 0, 'nothing reached SQLite yet')
  raw.close()

  const after = open(t, image)
  t.match(after.broker.stats('q'), { depth: 39 })
  const got = after.broker.take('q', 100)
  t.same(contents(got), ['m10', ...Array.from({ length: 38 }, (_, i) => `m${i + 12}`)])
  t.equal(got[0]!.deliveryCount, 1, 'the lease\'s delivery is counted')
  t.same(got.map((m) => m.id), [11, ...Array.from({ length: 38 }, (_, i) => i + 13)])
  t.same(contents(after.broker.take('other', 10)), ['x'])
  t.ok(after.broker.send(msg('q', 'new')).id! > 51, 'new ids stay above every id in the journal')
  t.equal(after.store.journalBytes, 16, 'opening applied the journal and emptied it')
})

t.test('a message sent and received in the same commit is not written at all', async (t) => {
  const dir = tempDir(t)
  const { store, broker } = open(t, dir)
  t.equal(store.commit(), true)
  const empty = store.journalBytes
  broker.send(msg('q', 'gone at once'))
  broker.take('q', 1)
  t.equal(store.commit(), true)
  t.equal(store.journalBytes, empty)
})

t.test('a long journal whose messages were mostly received is compacted: a new journal holds the queued ones, SQLite is not touched', async (t) => {
  const dir = tempDir(t)
  const { store, broker } = open(t, dir)
  const big = 'x'.repeat(64 * 1024)
  let sent = 0
  let longest = 0
  // Each commit sends a message and receives an older one: three stay queued.
  for (;;) {
    broker.send(msg('q', `${sent++}:${big}`))
    if (sent > 3) broker.take('q', 1)
    if (!store.commit()) throw new Error('commit failed')
    if (store.journalBytes < longest) break
    longest = store.journalBytes
  }
  t.ok(longest >= JOURNAL_COMPACT_BYTES - 80 * 1024, `the journal was compacted when it reached the limit (${longest} bytes, ${sent} messages)`)
  t.ok(store.journalBytes < 4 * 66 * 1024, `it holds the three queued messages (${store.journalBytes} bytes)`)
  t.notOk(existsSync(join(dir, 'thriftbus.journal.tmp')), 'the new file replaced the old one')
  const image = crashImage(t, dir)
  const raw = new Database(join(image, STORE_FILE), { readonly: true })
  t.equal(raw.prepare('SELECT count(*) FROM messages').pluck().get(), 0, 'SQLite holds no message')
  raw.close()
  broker.take('q', 1)
  broker.send(msg('q', `${sent++}:after`))
  t.equal(store.commit(), true)
  const after = open(t, crashImage(t, dir))
  t.same(after.broker.take('q', 10).map((m) => m.content.split(':')[0]), [sent - 3, sent - 2, sent - 1].map(String),
    'after a crash: the compacted messages, less the one received since, and the one sent since')
})

t.test('past JOURNAL_KEEP_MESSAGES queued in the journal, new messages go straight into SQLite at their commit', async (t) => {
  const dir = tempDir(t)
  const { store, broker } = open(t, dir)
  const total = JOURNAL_KEEP_MESSAGES + 1000
  let sent = 0
  while (sent < total) {
    for (let i = 0; i < 50; i++) broker.send(msg('q', String(sent++)))
    if (!store.commit()) throw new Error('commit failed')
  }
  const ids = (image: string) => {
    const raw = new Database(join(image, STORE_FILE), { readonly: true })
    const all = raw.prepare('SELECT id FROM messages ORDER BY id').pluck().all() as number[]
    raw.close()
    return all
  }
  const inSql = sent - JOURNAL_KEEP_MESSAGES
  const first = ids(crashImage(t, dir))
  t.equal(first.length, inSql, 'SQLite holds the messages past the journal\'s share')
  t.equal(first[0], JOURNAL_KEEP_MESSAGES + 1, 'the newest ones')
  // Receiving the journal's messages, and one of SQLite's, frees the journal: the next messages go there again.
  const taken = broker.take('q', JOURNAL_KEEP_MESSAGES + 1)
  t.equal(taken.at(-1)!.id, JOURNAL_KEEP_MESSAGES + 1)
  for (let i = 0; i < 50; i++) broker.send(msg('q', String(sent++)))
  t.equal(store.commit(), true)
  t.equal(ids(crashImage(t, dir)).length, inSql - 1, 'the row of the message taken from SQLite is deleted; the new ones are in the journal')
  const all = (b: Broker) => contents(b.take('q', 100_000))
  t.same(all(open(t, crashImage(t, dir)).broker), Array.from({ length: sent - JOURNAL_KEEP_MESSAGES - 1 }, (_, i) => String(i + JOURNAL_KEEP_MESSAGES + 1)),
    'after a crash: every message once, in order, from both')
})

t.test('a crash during a compaction leaves the old journal, which gives the same messages', async (t) => {
  const dir = tempDir(t)
  const { store, broker } = open(t, dir)
  const big = 'x'.repeat(64 * 1024)
  let sent = 0
  let before: Buffer
  for (;;) {
    before = readFileSync(join(dir, 'thriftbus.journal'))
    broker.send(msg('q', `${sent++}:${big}`))
    if (sent > 3) broker.take('q', 1)
    const size = store.journalBytes
    if (!store.commit()) throw new Error('commit failed')
    if (store.journalBytes < size) break
  }
  const image = crashImage(t, dir)
  writeFileSync(join(image, 'thriftbus.journal'), before)
  t.same(open(t, image).broker.take('q', 10).map((m) => m.content.split(':')[0]), [sent - 4, sent - 3, sent - 2].map(String),
    'the journal as it was before the commit that compacted it')
})

t.test('close() applies the journal, so the database alone holds every queued message', async (t) => {
  const dir = tempDir(t)
  const { broker, store, close } = open(t, dir)
  broker.send(msg('q', 'a'))
  broker.send(msg('q', 'b'))
  store.commit()
  close()
  t.equal(statSync(join(dir, 'thriftbus.journal')).size, 16, 'the journal holds its header only')
  const raw = new Database(join(dir, STORE_FILE), { readonly: true })
  t.teardown(() => raw.close())
  t.same(raw.prepare('SELECT content FROM messages ORDER BY id').pluck().all(), ['a', 'b'])
})

t.test('reading a mailbox back from the store, and purging it, see what is only in the journal', async (t) => {
  const dir = tempDir(t)
  const { store, broker } = open(t, dir)
  for (let i = 0; i < 3; i++) broker.send(msg('p', `p${i}`))
  store.commit()
  t.same(store.load('p', 0, 10).map((m) => m.content), ['p0', 'p1', 'p2'])
  broker.send(msg('p', 'p3'))
  t.equal(broker.purge('p'), 4)
  broker.send(msg('p', 'after'))
  store.commit()
  const after = open(t, crashImage(t, dir))
  t.same(contents(after.broker.take('p', 10)), ['after'])
})

t.test('a crash between a checkpoint\'s commit and the journal\'s reset applies nothing twice', async (t) => {
  const dir = tempDir(t)
  const { store, broker, close } = open(t, dir)
  for (let i = 0; i < 5; i++) broker.send(msg('q', `m${i}`))
  store.commit()
  broker.take('q', 2)
  store.commit()
  const journalBefore = readFileSync(join(dir, 'thriftbus.journal'))
  close() // checkpoints: SQLite holds m2..m4 and the generation it applied
  writeFileSync(join(dir, 'thriftbus.journal'), journalBefore) // as if the reset never happened
  const after = open(t, dir)
  t.same(contents(after.broker.take('q', 10)), ['m2', 'm3', 'm4'])
  t.equal(after.store.journalBytes, 16)
})

t.test('a batch cut short at the end of the journal is dropped; the batches before it are applied', async (t) => {
  const dir = tempDir(t)
  const { store, broker } = open(t, dir)
  broker.send(msg('q', 'kept'))
  store.commit()
  const image = crashImage(t, dir)
  const whole = readFileSync(join(dir, 'thriftbus.journal')).length
  broker.send(msg('q', 'torn'))
  store.commit()
  const full = readFileSync(join(dir, 'thriftbus.journal'))
  // The second batch, cut in the middle as a crash inside the write would leave it.
  writeFileSync(join(image, 'thriftbus.journal'), full.subarray(0, whole + Math.floor((full.length - whole) / 2)))
  const journal = new Journal(join(image, 'thriftbus.journal'), false)
  t.ok(journal.droppedBytes > 0, 'the torn batch is cut off')
  t.equal(journal.size, whole)
  journal.close()
  const after = open(t, image)
  t.same(contents(after.broker.take('q', 10)), ['kept'])

  // A last batch of the right length whose bytes never reached the disk (zeros) is torn too.
  const zeros = crashImage(t, dir)
  const bytes = Buffer.from(full)
  bytes.fill(0, whole + 8)
  writeFileSync(join(zeros, 'thriftbus.journal'), bytes)
  appendFileSync(join(zeros, 'thriftbus.journal'), Buffer.alloc(4096))
  t.same(contents(open(t, zeros).broker.take('q', 10)), ['kept'])
})

t.test('a journal damaged before its end is refused with its path, and left as it was', async (t) => {
  const dir = tempDir(t)
  const { store, broker } = open(t, dir)
  broker.send(msg('q', 'first'))
  store.commit()
  broker.send(msg('q', 'second'))
  store.commit()
  const image = crashImage(t, dir)
  const path = journalPath(join(image, STORE_FILE))
  const bytes = readFileSync(path)
  bytes[16 + 8 + 20] ^= 0xff // inside the first batch's payload
  writeFileSync(path, bytes)
  const err = (() => {
    try {
      new SqliteStore(join(image, STORE_FILE), 'durable', () => {})
    } catch (e) {
      return e as Error
    }
    throw new Error('expected the store to be refused')
  })()
  t.type(err, StoreError)
  t.match(err.message, path)
  t.match(err.message, /checksum/)
  t.match(err.message, /move the file/)
  t.same(readFileSync(path), bytes, 'not deleted or reset')

  writeFileSync(path, 'somebody else\'s file, not a journal')
  t.throws(() => new SqliteStore(join(image, STORE_FILE), 'durable', () => {}), { message: /not a thriftbus journal/ })
})

t.test('the fsync level writes the journal the same way', async (t) => {
  const dir = tempDir(t)
  const store = new SqliteStore(join(dir, STORE_FILE), 'fsync', () => {})
  const broker = new Broker({ clock: new FakeClock(), store })
  t.teardown(() => {
    broker.close()
    store.close()
  })
  broker.send(msg('q', 'a'))
  t.equal(store.commit(), true)
  const image = crashImage(t, dir)
  const again = new SqliteStore(join(image, STORE_FILE), 'fsync', () => {})
  const b2 = new Broker({ clock: new FakeClock(), store: again })
  t.same(contents(b2.take('q', 1)), ['a'])
  b2.close()
  again.close()
})
