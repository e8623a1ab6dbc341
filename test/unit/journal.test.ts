/**
 * The journal in front of the SQLite store (src/broker/journal.ts): what a crash leaves behind is applied at
 * the next open, a checkpoint moves only the messages still queued into SQLite, and a damaged journal is
 * refused without being touched.
 *
 * A "crash image" is a copy of the store's files taken while the store is open and has committed: what the
 * disk holds if the daemon is killed at that moment (kill -9 of a real daemon: test/integration/crash.test.ts).
 */
import { appendFileSync, copyFileSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import fc from 'fast-check'
import t from 'tap'
import { Broker, MEMORY_WINDOW_MESSAGES } from '../../src/broker/broker.js'
import { Journal, JOURNAL_KEEP_MESSAGES, SEGMENT_BYTES } from '../../src/broker/journal.js'
import { journalPath, SqliteStore, StoreError, STORE_FILE } from '../../src/broker/store.js'
import type { Message } from '../../src/gen/thriftbus.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { tempDir } from '../helpers/daemon.js'

const msg = (recipient: string, content: string, extra: Partial<Message> = {}): Message => ({ sender: 's', recipient, content, ...extra })
const contents = (ms: Message[]): string[] => ms.map((m) => m.content)

/** The journal's segment files in dir, oldest first. */
function segments(dir: string): string[] {
  return readdirSync(dir).filter((f) => /^thriftbus\.journal\.\d+$/.test(f))
    .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()))
}

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
  for (const f of readdirSync(dir)) if (f.startsWith('thriftbus.')) copyFileSync(join(dir, f), join(image, f))
  return image
}

/** The rows of the messages table in a store's folder (a crash image), read without changing it. */
function rowsIn(dir: string): number {
  const raw = new Database(join(dir, STORE_FILE), { readonly: true })
  try {
    return raw.prepare('SELECT count(*) FROM messages').pluck().get() as number
  } finally {
    raw.close()
  }
}

type Tap = Pick<typeof t, 'teardown' | 'fail'>
type Asserts = Pick<typeof t, 'equal'>

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
  t.equal(rowsIn(image), 0, 'nothing reached SQLite yet')

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

t.test('any mix of sends, receives, puts back and leases across commits: a crash image holds exactly the queue, in order', async (t) => {
  // The store reuses the entries of messages that left the journal, and finds entries by id in a ring of
  // slots: a mix of everything that inserts and removes checks that no entry is shared or lost.
  type Op = { op: 'send' | 'take' | 'putBack' | 'leaseAck' | 'leaseNack', n: number } | { op: 'commit' }
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constantFrom('send' as const, 'take' as const, 'putBack' as const, 'leaseAck' as const, 'leaseNack' as const), n: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ op: fc.constant('commit' as const) }),
  )
  await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
    const dir = tempDir(t)
    const { store, broker, close } = open(t, dir)
    const model: string[] = []
    let n = 0
    for (const o of ops) {
      if (o.op === 'commit') {
        store.commit()
      } else if (o.op === 'send') {
        for (let i = 0; i < o.n; i++) {
          const content = `m${n++}`
          broker.send(msg('q', content))
          model.push(content)
        }
      } else if (o.op === 'take') {
        broker.take('q', o.n)
        model.splice(0, o.n)
      } else if (o.op === 'putBack') {
        // A client gives back what it received: a copy decoded from the wire, not the broker's object.
        broker.returnMessages(broker.take('q', o.n).map((m) => ({ ...m })))
      } else {
        const leased = broker.take('q', o.n, Infinity, { leaseMs: 60_000, owner: 1 })
        const ids = leased.map((m) => m.id!)
        if (o.op === 'leaseAck') {
          broker.ack(ids)
          model.splice(0, leased.length)
        } else {
          broker.nack(ids)
        }
      }
    }
    t.equal(store.commit(), true)
    const image = crashImage(t, dir)
    const live = contents(broker.take('q', 10_000))
    close()
    const after = open(t, image)
    const recovered = contents(after.broker.take('q', 10_000))
    after.close()
    return live.join() === model.join() && recovered.join() === model.join()
  }), { numRuns: 40 })
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

t.test('a sealed segment whose messages were all received is dropped: no reading, no copying, SQLite is not touched', async (t) => {
  const dir = tempDir(t)
  const { store, broker } = open(t, dir)
  const big = 'x'.repeat(64 * 1024)
  let sent = 0
  let most = 0
  // Each commit sends a message and receives an older one: three stay queued.
  while (sent < 3 * SEGMENT_BYTES / big.length) {
    broker.send(msg('q', `${sent++}:${big}`))
    if (sent > 3) broker.take('q', 1)
    if (!store.commit()) throw new Error('commit failed')
    most = Math.max(most, segments(dir).length)
  }
  t.equal(most, 2, 'at most the active segment and the one just sealed, which holds queued messages')
  t.ok(Number(segments(dir).at(-1)!.split('.').pop()) >= 4, 'three segments were sealed, and dropped')
  t.ok(store.journalBytes <= 2 * SEGMENT_BYTES, `the journal holds at most two segments (${store.journalBytes} bytes)`)
  const image = crashImage(t, dir)
  t.equal(rowsIn(image), 0, 'SQLite holds no message')
  t.same(open(t, image).broker.take('q', 10).map((m) => m.content.split(':')[0]), [sent - 3, sent - 2, sent - 1].map(String),
    'after a crash: the three queued')
})

/** Sends big messages to q, each received in the next commit, until the active segment is sealed; then receives the last. */
function sealActive(store: SqliteStore, broker: Broker): void {
  const dir = store.path.replace(/[^/]*$/, '')
  const active = segments(dir).at(-1)
  const big = 'x'.repeat(64 * 1024)
  while (segments(dir).at(-1) === active) {
    broker.take('q', 1)
    broker.send(msg('q', big))
    if (!store.commit()) throw new Error('commit failed')
  }
  broker.take('q', 1)
  if (!store.commit()) throw new Error('commit failed')
}

/** Fills the journal with big messages to q, each received in the next commit, until the oldest segment (pinned by a queued message) is carried. */
function churnUntilCarried(store: SqliteStore, broker: Broker, before?: (first: string) => void): number {
  const big = 'x'.repeat(64 * 1024)
  let sent = 0
  for (;;) {
    const first = segments(store.path.replace(/[^/]*$/, ''))[0]!
    before?.(first)
    broker.take('q', 1)
    broker.send(msg('q', `${sent++}:${big}`))
    if (!store.commit()) throw new Error('commit failed')
    if (segments(store.path.replace(/[^/]*$/, ''))[0] !== first) return sent
    if (sent > 1000) throw new Error('the pinned segment was never carried')
  }
}

t.test('a segment pinned by a queued message is carried forward once the journal is twice what it holds queued', async (t) => {
  const dir = tempDir(t)
  const { store, broker } = open(t, dir)
  broker.send(msg('stuck', 'old', { body: Buffer.from('kept bytes') }))
  broker.send(msg('stuck', 'older still queued'))
  t.equal(store.commit(), true)
  const first = segments(dir)[0]!
  sealActive(store, broker)
  // A lease, given back: the message stays queued with delivery count 1, written in a later segment than its insert.
  const [leased] = broker.take('stuck', 1, Infinity, { leaseMs: 60_000, owner: 1 })
  broker.nack([leased!.id!])
  t.equal(store.commit(), true)
  let most = 0
  let longest = 0
  churnUntilCarried(store, broker, () => {
    most = Math.max(most, segments(dir).length)
    longest = Math.max(longest, store.journalBytes)
  })
  t.ok(longest >= 2 * SEGMENT_BYTES, `carried only once the journal had grown to two segments (${longest} bytes)`)
  t.ok(most <= 4, `the journal never held more than four segments (${most})`)
  t.notOk(segments(dir).includes(first), 'the pinned segment is gone')
  const image = crashImage(t, dir)
  t.equal(rowsIn(image), 0, 'SQLite holds no message: they were carried in the journal')
  const got = open(t, image).broker.take('stuck', 10)
  t.same(contents(got), ['old', 'older still queued'])
  t.equal(got[0]!.deliveryCount, 1, 'with its latest delivery count')
  t.same(got[0]!.body, Buffer.from('kept bytes'))
  t.same(got.map((m) => m.id), [1, 2])
})

t.test('a crash after a segment was carried forward but before it was deleted gives each message once', async (t) => {
  const dir = tempDir(t)
  const { store, broker } = open(t, dir)
  broker.send(msg('stuck', 'old'))
  t.equal(store.commit(), true)
  let oldest = { name: '', bytes: Buffer.alloc(0) }
  churnUntilCarried(store, broker, (first) => { oldest = { name: first, bytes: readFileSync(join(dir, first)) } })
  const image = crashImage(t, dir)
  writeFileSync(join(image, oldest.name), oldest.bytes) // as if the unlink never happened
  const after = open(t, image)
  t.same(contents(after.broker.take('stuck', 10)), ['old'])
  t.equal(after.broker.take('q', 10).length, 1, 'the received ones stay received: only the last one sent is queued')
})

/**
 * Sends a message to p and checkpoints it into SQLite, then takes it (its row is deleted at the commit) and puts
 * it back, as a failed write to a client does: a new insert, not fresh, in the journal.
 */
function putBackFromSqlite(t: Asserts, store: SqliteStore, broker: Broker): void {
  broker.send(msg('p', 'in sqlite'))
  t.equal(store.commit(), true)
  store.load('p', 0, 1) // a checkpoint: the message is now a row
  const [m] = broker.take('p', 1)
  t.equal(store.commit(), true)
  broker.returnMessages([m!])
  t.equal(store.commit(), true)
}

t.test('a message read back from SQLite, put back and received again stays received once its segments are dropped', async (t) => {
  const dir = tempDir(t)
  const { store, broker } = open(t, dir)
  putBackFromSqlite(t, store, broker)
  broker.take('p', 1) // received for good: its removal is in the journal
  t.equal(store.commit(), true)
  const first = segments(dir)[0]!
  sealActive(store, broker)
  sealActive(store, broker)
  t.notOk(segments(dir).includes(first), 'the segment was dropped (nothing in it was queued)')
  const image = crashImage(t, dir)
  t.equal(rowsIn(image), 0, 'SQLite holds no row of it')
  t.same(open(t, image).broker.take('p', 10), [])
})

t.test('a message read back from SQLite, put back in one segment and received in a later one stays received once both are dropped', async (t) => {
  const dir = tempDir(t)
  const { store, broker } = open(t, dir)
  putBackFromSqlite(t, store, broker)
  const putBack = segments(dir).at(-1)!
  sealActive(store, broker)
  t.equal(broker.take('p', 1).length, 1) // received for good: its removal goes into a later segment
  t.equal(store.commit(), true)
  const removal = segments(dir).at(-1)!
  t.not(removal, putBack)
  sealActive(store, broker)
  sealActive(store, broker)
  t.notOk(segments(dir).includes(putBack) || segments(dir).includes(removal), 'both segments were dropped')
  const image = crashImage(t, dir)
  t.equal(rowsIn(image), 0, 'SQLite holds no row of it')
  t.same(open(t, image).broker.take('p', 10), [])
})

t.test('a journal of the thriftbus before segments (one file, thriftbus.journal) is applied at open, then removed', async (t) => {
  const dir = tempDir(t)
  const { store, broker } = open(t, dir)
  broker.send(msg('q', 'from the old file'))
  t.equal(store.commit(), true)
  const image = crashImage(t, dir)
  const [segment] = segments(image)
  renameSync(join(image, segment!), join(image, 'thriftbus.journal'))
  const after = open(t, image)
  t.same(contents(after.broker.take('q', 10)), ['from the old file'])
  t.notOk(readdirSync(image).includes('thriftbus.journal'), 'the old file is gone')
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

t.test('messages past their mailbox\'s memory window go straight into SQLite, which reads them back without a checkpoint', async (t) => {
  const dir = tempDir(t)
  const { store, broker } = open(t, dir)
  const rows = () => {
    const raw = new Database(join(crashImage(t, dir), STORE_FILE), { readonly: true })
    const n = raw.prepare('SELECT count(*) FROM messages').pluck().get() as number
    raw.close()
    return n
  }
  let sent = 0
  const send = (n: number) => {
    for (let i = 0; i < n; i++) {
      broker.send(msg('w', String(sent++)))
      if (sent % 1000 === 0) store.commit()
    }
    t.equal(store.commit(), true)
  }
  send(MEMORY_WINDOW_MESSAGES + 10)
  t.equal(broker.take('w', JOURNAL_KEEP_MESSAGES).length, JOURNAL_KEEP_MESSAGES, 'the journal\'s messages are received: it has room again')
  t.equal(store.commit(), true)
  const before = rows()
  send(10)
  t.equal(rows(), before + 10, 'the new messages, past the window, are rows at once')
  const active = segments(dir).at(-1)
  const rest = contents(broker.take('w', 100_000))
  t.equal(store.commit(), true)
  t.equal(rest.length, sent - JOURNAL_KEEP_MESSAGES)
  t.same(rest.slice(-12), Array.from({ length: 12 }, (_, i) => String(sent - 12 + i)), 'every message, in order')
  t.equal(segments(dir).at(-1), active, 'no checkpoint started a new journal')
})

t.test('close() applies the journal, so the database alone holds every queued message', async (t) => {
  const dir = tempDir(t)
  const { broker, store, close } = open(t, dir)
  broker.send(msg('q', 'a'))
  broker.send(msg('q', 'b'))
  store.commit()
  close()
  t.same(segments(dir).map((f) => statSync(join(dir, f)).size), [16], 'the journal is one segment that holds its header only')
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
  const [name] = segments(dir)
  const journalBefore = readFileSync(join(dir, name!))
  close() // checkpoints: SQLite holds m2..m4 and the segment it applied
  writeFileSync(join(dir, name!), journalBefore) // as if the segment had not been deleted
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
  const [name] = segments(dir)
  const whole = readFileSync(join(dir, name!)).length
  broker.send(msg('q', 'torn'))
  store.commit()
  const full = readFileSync(join(dir, name!))
  // The second batch, cut in the middle as a crash inside the write would leave it.
  writeFileSync(join(image, name!), full.subarray(0, whole + Math.floor((full.length - whole) / 2)))
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
  writeFileSync(join(zeros, name!), bytes)
  appendFileSync(join(zeros, name!), Buffer.alloc(4096))
  t.same(contents(open(t, zeros).broker.take('q', 10)), ['kept'])
})

t.test('a segment cut short before its header was written holds nothing: it is ignored, then deleted', async (t) => {
  const dir = tempDir(t)
  const { store, broker, close } = open(t, dir)
  broker.send(msg('q', 'kept'))
  store.commit()
  const image = crashImage(t, dir)
  close()
  const next = Number(segments(image).at(-1)!.split('.').pop()) + 5
  writeFileSync(join(image, `thriftbus.journal.${next}`), Buffer.from([0x54, 0x54]))
  const after = open(t, image)
  t.same(contents(after.broker.take('q', 10)), ['kept'])
  t.equal(segments(image).length, 1, 'only the new active segment is left')
  t.ok(statSync(join(image, segments(image)[0]!)).size === 16)
})

t.test('a segment a checkpoint already applied is not read at the next start: damaged, it stops nothing, and it is deleted', async (t) => {
  const dir = tempDir(t)
  const { store, broker, close } = open(t, dir)
  broker.send(msg('q', 'applied once'))
  t.equal(store.commit(), true)
  broker.send(msg('q', 'and its neighbour'))
  t.equal(store.commit(), true)
  const [name] = segments(dir)
  const left = readFileSync(join(dir, name!))
  close() // a checkpoint: both messages are rows, and the segment is deleted
  // A crash between the checkpoint's commit and the deletion leaves the segment behind; this one is damaged
  // too, in its first batch, which is followed by more data (a damaged segment that is still needed is refused).
  left[16 + 8 + 2]! ^= 0xff
  writeFileSync(join(dir, name!), left)
  const after = open(t, dir)
  t.same(contents(after.broker.take('q', 10)), ['applied once', 'and its neighbour'], 'each message once')
  t.notOk(segments(dir).includes(name!), 'the applied segment was deleted')
})

t.test('a journal damaged before its end is refused with its path, and left as it was', async (t) => {
  const dir = tempDir(t)
  const { store, broker } = open(t, dir)
  broker.send(msg('q', 'first'))
  store.commit()
  broker.send(msg('q', 'second'))
  store.commit()
  const image = crashImage(t, dir)
  const path = join(image, segments(image)[0]!)
  t.match(path, journalPath(join(image, STORE_FILE)))
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
