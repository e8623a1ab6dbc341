/**
 * The durable store: SQLite in WAL mode through better-sqlite3, with a journal in front of it for the
 * mailboxes (journal.ts), two files in the state directory.
 *
 * Why SQLite: bench/store-eval/RESULTS.md. In short, it was as fast as lmdb for batched appends here,
 * reports a corrupt file instead of crashing (lmdb) or silently dropping records (LevelDB), and anyone can
 * open the file with the sqlite3 shell.
 *
 * Rules it keeps:
 * - Writes wait for commit(). The daemon commits before it writes any reply, so a reply never confirms what
 *   is not committed (group commit: the calls read in one go commit together). A commit that reaches
 *   MAX_BATCH_OPS writes early, so the event loop is never blocked for more than one bounded batch.
 * - Mailbox messages (insert, remove, delivery counts) go to the journal: a commit appends one batch to it.
 *   A message removed before the commit that inserted it (received at once) is not written at all. While
 *   the journal holds JOURNAL_KEEP_MESSAGES (or JOURNAL_KEEP_BYTES) still queued, new messages go straight
 *   into SQLite at their commit instead, as they would without a journal: a growing backlog costs each commit
 *   its share. So do messages past their mailbox's memory window (insert's readBack), which load() will read
 *   from SQLite. The journal's oldest segment is dropped once its messages were all received (or carried
 *   forward when the journal is long), so the messages received meanwhile never reach the database. Reading
 *   a mailbox back (load) first checkpoints when the journal may hold later messages of it or removals of
 *   SQLite's rows, and purge, stop and the start-up queries always do: the whole journal goes into SQLite,
 *   which then answers the query. Opening the store applies a journal left by a crash.
 * - Durable subscriptions, their queues and the id ceiling are written to SQLite directly. A commit commits
 *   SQLite's transaction before it appends the journal's batch.
 * - `durable`: synchronous=NORMAL and plain journal writes: a commit reaches the operating system (survives
 *   the daemon's crash). `fsync`: synchronous=FULL and an fdatasync of the journal after each batch: a
 *   commit is on the disk (survives power loss).
 * - A store that cannot be opened, or that fails its integrity check, stops the daemon with the path and the
 *   reason. It is never deleted or reset: that is the user's decision.
 * - A failed write or commit is fatal (onFailure): the daemon stops rather than confirm what it could not
 *   store, and the in-memory state is not trusted past that point.
 */
import { existsSync } from 'node:fs'
import Database from 'better-sqlite3'
import { BusError } from '../errors.js'
import type { Message, StoreInfo } from '../gen/thriftbus.js'
import {
  BatchEncoder, Journal, JOURNAL_KEEP_BYTES, JOURNAL_KEEP_MESSAGES, rowOf, SEGMENT_BYTES, type JournalEffects,
  type MessageRow,
} from './journal.js'
import { IdTable } from './id-table.js'
import type { StoredSubscription, StoredTopics, TopicStore } from './topics.js'

/** How the daemon keeps accepted messages. */
export type Durability = 'memory' | 'durable' | 'fsync'
export const DURABILITY_LEVELS: readonly Durability[] = ['memory', 'durable', 'fsync']

/** Entries kept for reuse (SqliteStore.#free), at most. */
const FREE_ENTRIES = 4096
/** Writes in one transaction before it commits without waiting for the end of the turn. */
export const MAX_BATCH_OPS = 4096
/**
 * The schema this code writes; a store with a newer one is refused, an older one is converted at open.
 * 1: messages keyed by (mailbox, id). 2: messages keyed by id alone (see SCHEMA).
 */
const SCHEMA_VERSION = 2
/** Rows per multi-row INSERT (10 columns each) and ids per multi-id DELETE. */
const ROWS_PER_STATEMENT = 64
/** File name of the store in the state directory. */
export const STORE_FILE = 'thriftbus.db'
/** The journal's base path, next to the store: `thriftbus.db` -> `thriftbus.journal` (segments: `thriftbus.journal.<n>`). */
export const journalPath = (storePath: string): string => storePath.replace(/(\.db)?$/, '.journal')

/** What the broker knows of a mailbox at startup, before it loads any message. */
export interface MailboxSummary {
  name: string
  depth: number
  bytes: number
  /** Messages with a ttlMs. */
  withTtl: number
}

/** The store as the broker uses it. Every write joins the open transaction. */
export interface MessageStore {
  /**
   * Stores a message under (recipient, id). ignoreExisting: a message put back by a client may exist already.
   * readBack: the message is past its mailbox's memory window, so it will be read back with load().
   */
  insert(m: Message, size: number, ignoreExisting?: boolean, readBack?: boolean): void
  remove(mailbox: string, id: number): void
  /** Records how many times a leased message was delivered. */
  setDeliveries(mailbox: string, id: number, deliveries: number): void
  /** Removes every message of a mailbox; returns how many. */
  purge(mailbox: string): number
  /**
   * Up to limit messages of a mailbox with ids above afterId, oldest first, stopping before their sizes
   * (as stored) pass maxBytes; the first is always returned.
   */
  load(mailbox: string, afterId: number, limit: number, maxBytes?: number): Message[]
  summaries(): MailboxSummary[]
  /** The highest id ever handed out (stored messages and reserved blocks). */
  lastId(): number
  /** Records that ids up to ceiling may be in use, so that a restarted daemon never reuses them. */
  reserveIds(ceiling: number): void
}

export class StoreError extends Error {
  constructor(readonly path: string, reason: string, options?: { cause?: unknown }) {
    super(
      `the thriftbus store ${path} cannot be used: ${reason}. The daemon does not delete or reset a store: ` +
        'move the file (with its -wal file and the .journal files next to it) aside to start with an empty one, or ' +
        'restore it from a backup',
      options,
    )
    this.name = 'StoreError'
  }
}

/** Mailboxes' messages (through the journal) and durable subscriptions with their queues (in SQLite directly). */
export class SqliteStore implements MessageStore, TopicStore {
  readonly path: string
  readonly durability: Durability
  readonly #db: Database.Database
  readonly #onFailure: (err: Error) => void
  #inTransaction = false
  #ops = 0
  #failed: Error | undefined
  #commitQueued = false
  readonly #s: ReturnType<typeof prepare>
  readonly #journal: Journal
  /** The journal batch of the next commit: removes and delivery counts (inserts are added at the commit). */
  readonly #batch = new BatchEncoder()
  /**
   * Every entry by id (ids are unique across mailboxes): messages waiting for the commit (their entry holds
   * the message) and queued messages whose insert is in the journal.
   */
  readonly #entries = new IdTable<Entry>()
  /**
   * The entries waiting for the commit, in the order of their inserts: the first #pendingCount (the array is
   * reused from commit to commit). Those removed meanwhile hold no message.
   */
  readonly #pending: Entry[] = []
  #pendingCount = 0
  /** How many of #pending still wait for the commit. */
  #pendingLive = 0
  /**
   * Entries of messages that left the journal, for new ones. A new entry would outlive the young generation's
   * collections while its message is queued, and be copied by each of them.
   */
  readonly #free: Entry[] = []
  /** Queued messages whose insert is in the journal, and their sizes. */
  #inJournalCount = 0
  #inJournalBytes = 0
  /** The journal's segments that hold batches, oldest first, with how many queued messages each holds. */
  #segments: SegmentState[] = []
  /** The batch being built removes a message that may have a row in SQLite. */
  #batchTouchesRows = false
  /** The highest segment sequence number a checkpoint applied to SQLite. */
  #applied = 0
  /** Ids of rows to delete from SQLite at the commit: messages that went there directly. */
  #sqlDeletes: number[] = []
  /** The highest id of each mailbox inserted into the journal since the last checkpoint. */
  readonly #journalMaxIds = new Map<string, number>()
  /** True when the journal holds a removal of a message that SQLite may hold (one that was put back). */
  #journalRemovesRows = false
  /** Since the store was opened: messages written to the journal, straight to SQLite, and checkpoints. */
  #journalWrites = 0
  #databaseWrites = 0
  #checkpoints = 0

  /**
   * Opens (or creates) the store at path and its journal next to it, and applies what the journal holds.
   * Throws StoreError when the file is not a database, is corrupt, was written by a newer thriftbus, or
   * cannot be read or locked, or when the journal is not one or is damaged before its last batch.
   */
  constructor(path: string, durability: Exclude<Durability, 'memory'>, onFailure: (err: Error) => void) {
    this.path = path
    this.durability = durability
    this.#onFailure = onFailure
    const existed = existsSync(path)
    let db: Database.Database | undefined
    try {
      db = new Database(path, { fileMustExist: existed })
      // One process owns the store: the lock also keeps WAL's index in this process's memory.
      db.pragma('locking_mode = EXCLUSIVE')
      if (db.pragma('journal_mode = WAL', { simple: true }) !== 'wal') throw new Error('it cannot be switched to WAL mode')
      db.pragma(`synchronous = ${durability === 'fsync' ? 'FULL' : 'NORMAL'}`)
      const version = db.pragma('user_version', { simple: true }) as number
      if (version > SCHEMA_VERSION) {
        throw new Error(`it was written by a newer thriftbus (schema ${version}; this one knows ${SCHEMA_VERSION}); run that version`)
      }
      if (existed) {
        const check = db.pragma('quick_check', { simple: true })
        if (check !== 'ok') throw new Error(`its integrity check failed (${String(check)})`)
      }
      if (existed && version === 1) db.exec(MIGRATE_1_TO_2)
      db.exec(SCHEMA)
      db.pragma(`user_version = ${SCHEMA_VERSION}`)
    } catch (err) {
      db?.close()
      throw new StoreError(path, (err as Error).message, { cause: err })
    }
    this.#db = db
    this.#s = prepare(db)
    try {
      // Segments already applied were checkpointed just before a crash: they are neither read nor applied again.
      this.#applied = Number((this.#s.getMeta.get('journalGeneration') as unknown[] | undefined)?.[0] ?? 0)
      this.#journal = new Journal(journalPath(path), durability === 'fsync', this.#applied)
    } catch (err) {
      db.close()
      throw new StoreError(journalPath(path), `its journal cannot be read: ${(err as Error).message}`, { cause: err })
    }
    try {
      if (this.#journal.hasBatchesAfter(this.#applied)) this.#checkpoint()
      else this.#journal.reset(Math.max(this.#applied, this.#journal.lastSeq) + 1)
    } catch (err) {
      if (this.#inTransaction) this.#s.rollback.run()
      db.close()
      this.#journal.close()
      throw new StoreError(path, `its journal cannot be applied: ${(err as Error).message}`, { cause: err })
    }
  }

  /** True while writes wait for commit(). */
  get pending(): boolean {
    return this.#inTransaction || this.#pendingLive > 0 || !this.#batch.empty || this.#sqlDeletes.length > 0
  }

  /** The journal's size in bytes, over all its segments. */
  get journalBytes(): number {
    return this.#journal.size
  }

  /** What status() shows of the store. */
  info(): StoreInfo {
    return {
      path: this.path,
      journalMessages: this.#inJournalCount,
      journalBytes: this.#journal.size,
      journalWrites: this.#journalWrites,
      databaseWrites: this.#databaseWrites,
      checkpoints: this.#checkpoints,
    }
  }

  insert(m: Message, size: number, ignoreExisting = false, readBack = false): void {
    this.#check()
    const id = m.id!
    let e = this.#entries.get(id)
    if (e === undefined || e.m === undefined) { // else inserted again before the commit: the last wins
      if (e !== undefined) {
        // Put back while its insert is in the journal: that copy stops counting, and a removal must reach it.
        e.prior = e.overRow ? JOURNAL_OVER_ROW : JOURNAL
        this.#forget(e)
      } else {
        e = this.#free.pop() ?? { m, size, deliveries: 0, fresh: true, readBack: false, prior: NOWHERE, seg: undefined, overRow: false }
        e.prior = NOWHERE
        e.seg = undefined
        e.overRow = false
        this.#entries.set(id, e)
      }
      this.#pending[this.#pendingCount++] = e
      this.#pendingLive++
    }
    e.m = m
    e.size = size
    // A message put back by a client (ignoreExisting) may also be stored: its removal must be written. So must
    // that of any message whose insert is in the journal.
    e.fresh = !ignoreExisting && e.prior === NOWHERE
    e.deliveries = m.deliveryCount ?? 0
    e.readBack = readBack
    this.#buffered()
  }

  remove(_mailbox: string, id: number): void {
    this.#check()
    const e = this.#entries.get(id)
    if (e === undefined) {
      this.#sqlDeletes.push(id)
    } else if (e.m !== undefined) { // waiting for the commit
      this.#entries.delete(id)
      e.m = undefined
      if (--this.#pendingLive === 0) this.#pendingCount = 0
      if (e.fresh) return // never written: nothing to remove
      this.#batch.remove(id)
      if (e.prior === JOURNAL_OVER_ROW) {
        this.#batchTouchesRows = true
      } else if (e.prior === NOWHERE) {
        // The journal's removal of a message put back reaches an older copy in SQLite.
        this.#journalRemovesRows = true
        this.#batchTouchesRows = true
      }
    } else {
      this.#entries.delete(id)
      this.#forget(e)
      this.#batch.remove(id)
      if (e.overRow) this.#batchTouchesRows = true // it was put back over a row
      this.#recycle(e)
    }
    this.#buffered()
  }

  setDeliveries(_mailbox: string, id: number, deliveries: number): void {
    this.#check()
    const e = this.#entries.get(id)
    if (e !== undefined && e.m !== undefined) { // waiting for the commit
      e.deliveries = deliveries
    } else if (e !== undefined) {
      this.#batch.deliveries(id, deliveries)
      e.deliveries = deliveries
      this.#buffered()
    } else {
      this.#write(() => this.#s.setDeliveries.run(deliveries, id))
    }
  }

  purge(mailbox: string): number {
    this.#settle()
    let n = 0
    this.#write(() => {
      n = this.#s.purge.run(mailbox).changes
    })
    return n
  }

  load(mailbox: string, afterId: number, limit: number, maxBytes = Infinity): Message[] {
    // SQLite must hold what the journal knows of this mailbox past afterId, and every removal the journal holds
    // of a row in SQLite; messages past the journal's share went to SQLite directly and need no checkpoint.
    this.#read(() => this.#flushPending())
    if (this.#journalRemovesRows || (this.#journalMaxIds.get(mailbox) ?? 0) > afterId) this.#settle()
    const out: Message[] = []
    this.#read(() => {
      let bytes = 0
      for (const row of this.#s.load.iterate(mailbox, afterId, limit) as IterableIterator<unknown[]>) {
        const [id, sender, content, body, headers, sentAt, ttl, deliveries, size] = row as [
          number, string, string, Buffer | null, string | null, number, number | null, number, number,
        ]
        bytes += size
        if (out.length > 0 && bytes > maxBytes) break
        const m: Message = { sender, recipient: mailbox, content, id, sentAtMs: sentAt }
        if (body !== null) m.body = body
        if (headers !== null) m.headers = JSON.parse(headers) as Record<string, string>
        if (ttl !== null) m.ttlMs = ttl
        if (deliveries > 0) m.deliveryCount = deliveries
        out.push(m)
      }
    })
    return out
  }

  summaries(): MailboxSummary[] {
    this.#settle()
    const rows = this.#read(() => this.#s.summaries.all() as unknown[][]) ?? []
    return rows.map(([name, depth, bytes, withTtl]) => ({
      name: name as string, depth: depth as number, bytes: bytes as number, withTtl: withTtl as number,
    }))
  }

  lastId(): number {
    this.#settle()
    const maxId = (this.#read(() => this.#s.maxId.get() as unknown[]) ?? [0]).reduce<number>((a, b) => Math.max(a, (b as number | null) ?? 0), 0)
    const reserved = (this.#read(() => this.#s.getMeta.get('idCeiling') as unknown[] | undefined) ?? [0])[0] as number | undefined
    return Math.max(maxId ?? 0, Number(reserved ?? 0))
  }

  saveSubscription(sub: StoredSubscription): void {
    this.#write(() => this.#s.saveSubscription.run(sub.id, sub.pattern, sub.durableName, sub.maxQueued))
  }

  deleteSubscription(id: number): void {
    this.#write(() => {
      this.#s.deleteSubscription.run(id)
      this.#s.deleteSubscriptionQueue.run(id)
    })
  }

  enqueue(subscriptionId: number, m: Message): void {
    this.#write(() => this.#s.enqueue.run(
      subscriptionId, m.id, m.topic ?? '', m.sender, m.recipient, m.content, m.body ?? null,
      m.headers ? JSON.stringify(m.headers) : null, m.sentAtMs,
    ))
  }

  dequeue(subscriptionId: number, messageIds: number[]): void {
    this.#write(() => {
      for (const id of messageIds) this.#s.dequeue.run(subscriptionId, id)
    })
  }

  loadAll(): StoredTopics {
    const subs = this.#read(() => this.#s.loadSubscriptions.all() as unknown[][]) ?? []
    const rows = this.#read(() => this.#s.loadTopicMessages.all() as unknown[][]) ?? []
    return {
      subscriptions: subs.map(([id, pattern, durableName, maxQueued]) => ({
        id: id as number, pattern: pattern as string, durableName: durableName as string, maxQueued: maxQueued as number,
      })),
      messages: rows.map((row) => {
        const [subscriptionId, id, topic, sender, recipient, content, body, headers, sentAt] = row as [
          number, number, string, string, string, string, Buffer | null, string | null, number,
        ]
        const message: Message = { sender, recipient, content, id, sentAtMs: sentAt, topic }
        if (body !== null) message.body = body
        if (headers !== null) message.headers = JSON.parse(headers) as Record<string, string>
        return { subscriptionId, message }
      }),
    }
  }

  reserveIds(ceiling: number): void {
    this.#write(() => this.#s.setMeta.run('idCeiling', ceiling))
  }

  /**
   * Commits SQLite's open transaction, then appends the journal's batch; checkpoints a long journal.
   * Returns false when the store has failed (the daemon is stopping).
   */
  commit(): boolean {
    if (this.#failed) return false
    if (!this.pending) return true
    try {
      this.#flushPending()
      if (this.#journal.oldestSealed !== undefined) this.#tidy()
    } catch (err) {
      this.#fail(err as Error)
      return false
    }
    return true
  }

  /** Commits what is pending, applies the journal to SQLite (so the database alone is complete) and closes both files. */
  close(): void {
    if (!this.#db.open) return
    if (!this.#failed && this.commit()) {
      try {
        this.#checkpoint()
      } catch (err) {
        this.#fail(err as Error)
      }
    }
    if (this.#failed && this.#inTransaction) {
      try {
        this.#s.rollback.run()
      } catch {
        // The transaction may already be gone with the error that failed it.
      }
    }
    this.#db.close()
    this.#journal.close()
  }

  #check(): void {
    if (this.#failed) throw new BusError('INTERNAL', 'the daemon\'s store has failed; the daemon is stopping (see its log)')
  }

  /** Counts a buffered write: a commit is due at the end of the turn, or now when the batch is full. */
  #buffered(): void {
    this.#queueCommit()
    if (++this.#ops >= MAX_BATCH_OPS) this.commit()
  }

  #commitSql(): void {
    if (!this.#inTransaction) return
    this.#s.commit.run()
    this.#inTransaction = false
    this.#ops = 0
  }

  #begin(): void {
    if (this.#inTransaction) return
    this.#s.begin.run()
    this.#inTransaction = true
    this.#queueCommit()
  }

  /**
   * Writes what is pending. New messages go to the journal while it holds fewer than JOURNAL_KEEP_MESSAGES
   * (and JOURNAL_KEEP_BYTES) still queued, and straight into SQLite past that, so that a growing backlog
   * costs every commit its share of SQLite inserts instead of stalling one checkpoint. SQLite's part
   * commits first; then the journal's batch is appended: removes and delivery counts, then inserts (an
   * insert after a remove of the same message wins).
   */
  #flushPending(): void {
    let rows: MessageRow[] | undefined
    // The highest journal id of the mailbox met last (a turn's inserts are mostly into one mailbox).
    let box = ''
    let boxMaxId = 0
    let seg: SegmentState | undefined
    const pending = this.#pending
    for (let i = 0; i < this.#pendingCount; i++) {
      const e = pending[i]!
      const m = e.m
      if (m === undefined) continue // removed before the commit
      e.m = undefined // written: the broker holds the message as long as it is queued
      const id = m.id!
      if (e.fresh && (e.readBack || this.#inJournalCount >= JOURNAL_KEEP_MESSAGES || this.#inJournalBytes >= JOURNAL_KEEP_BYTES)) {
        this.#entries.delete(id) // SQLite has it: a removal goes there
        ;(rows ??= []).push([
          m.recipient, id, m.sender, m.content, m.body ?? null, m.headers ? JSON.stringify(m.headers) : null,
          m.sentAtMs ?? 0, m.ttlMs ?? null, e.deliveries, e.size,
        ])
        this.#recycle(e)
      } else {
        this.#batch.insert(m, e.size, e.fresh, e.deliveries)
        if (m.recipient !== box) {
          if (box !== '') this.#journalMaxIds.set(box, boxMaxId)
          box = m.recipient
          boxMaxId = this.#journalMaxIds.get(box) ?? 0
        }
        if (id > boxMaxId) boxMaxId = id
        seg ??= this.#activeSegment() // the batch is appended after the loop: one segment for all
        if (!e.fresh) {
          e.overRow = true
          seg.rows = true // it replaces its row, if SQLite has one
        }
        e.seg = seg
        seg.live++
        this.#inJournalCount++
        this.#inJournalBytes += e.size
        this.#journalWrites++
      }
    }
    if (box !== '') this.#journalMaxIds.set(box, boxMaxId)
    this.#pendingCount = 0
    this.#pendingLive = 0
    if (rows || this.#sqlDeletes.length > 0) {
      this.#begin()
      this.#deleteRows(this.#sqlDeletes)
      this.#sqlDeletes = []
      if (rows) {
        this.#insertRows(rows)
        this.#databaseWrites += rows.length
      }
    }
    this.#commitSql()
    this.#appendBatch()
    this.#ops = 0
  }

  /** Appends the batch built so far to the journal's active segment. */
  #appendBatch(): void {
    if (this.#batch.empty) return
    const seg = this.#activeSegment()
    if (this.#batchTouchesRows) {
      seg.rows = true
      this.#batchTouchesRows = false
    }
    this.#journal.append(this.#batch.finish())
  }

  /** The state of the journal's active segment, the one the next batch goes into. */
  #activeSegment(): SegmentState {
    const seq = this.#journal.lastSeq
    let seg = this.#segments.at(-1)
    if (seg === undefined || seg.seq !== seq) {
      seg = { seq, live: 0, rows: false }
      this.#segments.push(seg)
    }
    return seg
  }

  /** Keeps an entry that no list or table holds any more for a new message. */
  #recycle(e: Entry): void {
    if (this.#free.length < FREE_ENTRIES) this.#free.push(e)
  }

  /** Stops counting a queued journal message in its segment and in the journal's share. */
  #forget(e: Entry): void {
    e.seg!.live--
    e.seg = undefined
    this.#inJournalCount--
    this.#inJournalBytes -= e.size
  }

  /**
   * Drops sealed segments from the oldest while none of their messages is queued. When the oldest still holds
   * some and the journal has grown to twice what it holds queued (plus two segments), carries them forward
   * into the active segment and drops it: one segment a commit, so a commit reads at most SEGMENT_BYTES.
   */
  #tidy(): void {
    for (let sealed = this.#journal.oldestSealed; sealed !== undefined; sealed = this.#journal.oldestSealed) {
      const seg = this.#segments[0]
      if (seg?.seq !== sealed) {
        // Never expected: the counts do not match the files. A checkpoint leaves nothing to count.
        this.#checkpoint()
        return
      }
      const carry = seg.live > 0
      if (carry && this.#journal.size < 2 * this.#inJournalBytes + 2 * SEGMENT_BYTES) return
      if (carry || seg.rows) this.#settleOldest(seg)
      this.#journal.dropOldest()
      this.#segments.shift()
      if (carry) return
    }
  }

  /**
   * Commits what dropping the oldest segment would lose: its effect on rows in SQLite, and its queued messages,
   * appended again (with their latest delivery counts) to the active segment.
   */
  #settleOldest(seg: SegmentState): void {
    const fx = this.#journal.oldestEffects()
    if (fx.deletes.length > 0 || fx.updates.size > 0) {
      this.#begin()
      this.#deleteRows(fx.deletes)
      for (const [id, deliveries] of fx.updates) this.#s.setDeliveries.run(deliveries, id)
    }
    if (seg.live > 0) {
      const active = this.#activeSegment()
      if (seg.rows) active.rows = true // a message put back and carried still replaces its row
      for (const live of fx.inserts) {
        const e = this.#entries.get(live.op.readDoubleLE(6))
        if (e?.seg !== seg) continue // received, put back, or written again later
        this.#batch.carry([{ op: live.op, deliveries: e.deliveries }])
        e.seg = active
        seg.live--
        active.live++
      }
    }
    this.#commitSql()
    this.#appendBatch()
  }

  /**
   * Applies the whole journal to SQLite in one transaction, with the last segment it applied, and empties it.
   * Pending writes are appended first, and SQLite's open transaction commits with it.
   */
  #checkpoint(): void {
    this.#flushPending()
    const last = this.#journal.lastSeq
    if (this.#journal.hasBatchesAfter(this.#applied)) {
      this.#apply(this.#journal.effects(this.#applied))
      this.#s.setMeta.run('journalGeneration', last)
      this.#applied = last
      this.#checkpoints++
    }
    this.#commitSql()
    this.#journal.reset(Math.max(this.#applied, last) + 1)
    this.#entries.clear() // now applied to SQLite (pending entries were flushed first)
    this.#inJournalCount = 0
    this.#inJournalBytes = 0
    this.#segments = []
    this.#journalMaxIds.clear()
    this.#journalRemovesRows = false
  }

  /** Applies a journal's effect to the messages table, in the open transaction. */
  #apply(fx: JournalEffects): void {
    this.#begin()
    this.#deleteRows(fx.deletes)
    for (const [id, deliveries] of fx.updates) this.#s.setDeliveries.run(deliveries, id)
    this.#insertRows(fx.inserts.map(rowOf))
  }

  /** Checkpoints when the journal holds anything, so that SQLite alone answers a query. */
  #settle(): void {
    if (this.pending || this.#journal.hasBatches) this.#read(() => this.#checkpoint())
  }

  #deleteRows(ids: number[]): void {
    let i = 0
    for (; i + ROWS_PER_STATEMENT <= ids.length; i += ROWS_PER_STATEMENT) this.#s.removeMany.run(ids.slice(i, i + ROWS_PER_STATEMENT))
    for (; i < ids.length; i++) this.#s.remove.run(ids[i])
  }

  #insertRows(rows: MessageRow[]): void {
    let i = 0
    for (; i + ROWS_PER_STATEMENT <= rows.length; i += ROWS_PER_STATEMENT) {
      const params: unknown[] = []
      for (let k = i; k < i + ROWS_PER_STATEMENT; k++) for (const v of rows[k]!) params.push(v)
      this.#s.insertMany.run(params)
    }
    for (; i < rows.length; i++) this.#s.insert.run(rows[i])
  }

  #write(op: () => void): void {
    this.#check()
    try {
      this.#begin()
      op()
    } catch (err) {
      this.#fail(err as Error)
      throw new BusError('INTERNAL', `the daemon's store failed: ${(err as Error).message}; the daemon is stopping`, { cause: err })
    }
    if (++this.#ops >= MAX_BATCH_OPS) this.commit()
  }

  #read<T>(op: () => T): T | undefined {
    if (this.#failed) return undefined
    try {
      return op()
    } catch (err) {
      this.#fail(err as Error)
      throw new BusError('INTERNAL', `the daemon's store failed: ${(err as Error).message}; the daemon is stopping`, { cause: err })
    }
  }

  /**
   * Writes made outside any reply (a lease running out, a TTL sweep) still commit promptly: a commit is
   * queued for the end of the turn whenever a transaction begins. Replies usually commit it sooner.
   */
  #queueCommit(): void {
    if (this.#commitQueued) return
    this.#commitQueued = true
    setImmediate(this.#commitLater)
  }

  /**
   * Bound once: a closure created inside #queueCommit would make V8 allocate its context on every call, early
   * returns included (two calls a message).
   */
  readonly #commitLater = (): void => {
    this.#commitQueued = false
    this.commit()
  }

  #fail(err: Error): void {
    if (this.#failed) return
    this.#failed = err
    this.#onFailure(new StoreError(this.path, `a write failed (${err.message})`, { cause: err }))
  }
}

/** What the store counts of one journal segment. */
interface SegmentState {
  seq: number
  /** Its queued messages. */
  live: number
  /** Its batches may change rows in SQLite (messages put back): dropping it applies its effect to them first. */
  rows: boolean
}

/** Where the stored copy of a message put back (a pending insert that is not fresh) was when it came back. */
type Prior = 0 | 1 | 2
/** Not in the journal: in SQLite, if anywhere. */
const NOWHERE = 0
const JOURNAL = 1
/** In the journal, itself put back over a row SQLite may hold. */
const JOURNAL_OVER_ROW = 2

/** A message the store is about to write, or whose insert is in the journal while it is queued. */
interface Entry {
  /** Set while it waits for the commit: the message to write. */
  m: Message | undefined
  size: number
  /** Its latest delivery count: written with the insert, and with a carry. */
  deliveries: number
  /** Pending: a new message; if it is removed before the commit, nothing needs writing. */
  fresh: boolean
  /** Pending: past its mailbox's memory window, so it goes straight into SQLite, which load() reads. */
  readBack: boolean
  /** Pending and put back: where its stored copy was. */
  prior: Prior
  /** In the journal: the segment that holds its insert. */
  seg: SegmentState | undefined
  /** In the journal, put back: SQLite may hold a row of it, which its insert replaces and its removal deletes. */
  overRow: boolean
}

/**
 * Messages are keyed by id alone, in a rowid table: ids only grow, so inserts append to the end of one
 * B-tree and a FIFO's deletes come off its start, whatever the number of mailboxes. Schema 1 keyed them by
 * (mailbox, id), which spread every commit over one page per busy mailbox: with 100 mailboxes, an insert
 * and its delete cost 16.6 µs instead of 4.6 (bench notes in the README). A mailbox's messages are read back
 * by scanning ids upwards, which is cheap while few mailboxes hold a backlog beyond their memory window.
 */
const MESSAGES_TABLE = `(
  id INTEGER PRIMARY KEY,
  mailbox TEXT NOT NULL,
  sender TEXT NOT NULL,
  content TEXT NOT NULL,
  body BLOB,
  headers TEXT,
  sent_at INTEGER NOT NULL,
  ttl_ms INTEGER,
  deliveries INTEGER NOT NULL DEFAULT 0,
  size INTEGER NOT NULL
)`

const MESSAGE_COLUMNS = 'id, mailbox, sender, content, body, headers, sent_at, ttl_ms, deliveries, size'

/** Schema 1 to 2, in one transaction: the same rows, keyed by id. */
const MIGRATE_1_TO_2 = `
BEGIN;
CREATE TABLE messages_v2 ${MESSAGES_TABLE};
INSERT INTO messages_v2 (${MESSAGE_COLUMNS}) SELECT ${MESSAGE_COLUMNS} FROM messages ORDER BY id;
DROP TABLE messages;
ALTER TABLE messages_v2 RENAME TO messages;
PRAGMA user_version = 2;
COMMIT;
`

const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages ${MESSAGES_TABLE};
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subscriptions (
  id INTEGER PRIMARY KEY,
  pattern TEXT NOT NULL,
  durable_name TEXT NOT NULL UNIQUE,
  max_queued INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS topic_messages (
  subscription INTEGER NOT NULL,
  id INTEGER NOT NULL,
  topic TEXT NOT NULL,
  sender TEXT NOT NULL,
  recipient TEXT NOT NULL,
  content TEXT NOT NULL,
  body BLOB,
  headers TEXT,
  sent_at INTEGER NOT NULL,
  PRIMARY KEY (subscription, id)
) WITHOUT ROWID;
`

function prepare(db: Database.Database) {
  const columns = '(mailbox, id, sender, content, body, headers, sent_at, ttl_ms, deliveries, size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'
  return {
    begin: db.prepare('BEGIN'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    // OR REPLACE: a message put back by a client may still have its row (its removal was buffered away).
    insert: db.prepare(`INSERT OR REPLACE INTO messages ${columns}`),
    insertMany: db.prepare(`INSERT OR REPLACE INTO messages ${columns}${', (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'.repeat(ROWS_PER_STATEMENT - 1)}`),
    remove: db.prepare('DELETE FROM messages WHERE id = ?'),
    removeMany: db.prepare(`DELETE FROM messages WHERE id IN (${Array(ROWS_PER_STATEMENT).fill('?').join(', ')})`),
    setDeliveries: db.prepare('UPDATE messages SET deliveries = ? WHERE id = ?'),
    purge: db.prepare('DELETE FROM messages WHERE mailbox = ?'),
    load: db.prepare(
      'SELECT id, sender, content, body, headers, sent_at, ttl_ms, deliveries, size FROM messages WHERE mailbox = ? AND id > ? ORDER BY id LIMIT ?',
    ).raw(true),
    summaries: db.prepare('SELECT mailbox, count(*), sum(size), count(ttl_ms) FROM messages GROUP BY mailbox').raw(true),
    maxId: db.prepare(
      'SELECT (SELECT max(id) FROM messages), (SELECT max(id) FROM subscriptions), (SELECT max(id) FROM topic_messages)',
    ).raw(true),
    saveSubscription: db.prepare('INSERT OR REPLACE INTO subscriptions (id, pattern, durable_name, max_queued) VALUES (?, ?, ?, ?)'),
    deleteSubscription: db.prepare('DELETE FROM subscriptions WHERE id = ?'),
    deleteSubscriptionQueue: db.prepare('DELETE FROM topic_messages WHERE subscription = ?'),
    enqueue: db.prepare(
      'INSERT OR REPLACE INTO topic_messages (subscription, id, topic, sender, recipient, content, body, headers, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    dequeue: db.prepare('DELETE FROM topic_messages WHERE subscription = ? AND id = ?'),
    loadSubscriptions: db.prepare('SELECT id, pattern, durable_name, max_queued FROM subscriptions ORDER BY id').raw(true),
    loadTopicMessages: db.prepare(
      'SELECT subscription, id, topic, sender, recipient, content, body, headers, sent_at FROM topic_messages ORDER BY subscription, id',
    ).raw(true),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?').raw(true),
    setMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
  }
}
