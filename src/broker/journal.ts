/**
 * The journal: append-only files in front of the SQLite store that take the mailboxes' writes.
 *
 * Why: in the steady state of a busy mailbox almost every message is received within milliseconds. Inserting
 * it into SQLite's B-tree and deleting it again costs about 4 µs a message; appending its bytes, and later 9
 * bytes for its removal, to a file costs well under 1 µs. So every commit appends one batch to the journal
 * (the store sends messages past the journal's share, JOURNAL_KEEP_MESSAGES, straight to SQLite).
 *
 * The journal is a row of *segments*, `thriftbus.journal.<seq>`. Batches go into the newest; one that reaches
 * SEGMENT_BYTES is sealed and the next batch starts a new segment. Mailboxes are queues, so the messages of the
 * oldest segment are usually all received by the time it is sealed, and the store *drops* it: one unlink, no
 * reading and no copying. When an old segment still holds queued messages and the journal has grown to twice
 * what it holds queued, the store *carries* them forward: it reads that one segment, appends its queued
 * messages to the active segment, and drops it. Dropping a segment whose batches touched rows in SQLite (only
 * messages put back do that) first applies that segment's effect on those rows. When SQLite must answer a
 * query, a *checkpoint* applies the whole journal to SQLite and empties it. Either way the messages removed
 * meanwhile never reach the database.
 *
 * A segment: a 16-byte header (magic, format, sequence number), then batches. A batch is what one commit wrote:
 * `u32 payload length | u32 CRC-32 of the payload | payload`, the payload a sequence of operations:
 *   INSERT      u8 1, u8 flags, u32 length of the rest, f64 id, f64 sentAtMs, u32 deliveries, u32 size,
 *               str mailbox, str sender, str content, [bytes body], [str headers as JSON], [f64 ttlMs]
 *   REMOVE      u8 2, f64 id
 *   DELIVERIES  u8 3, f64 id, u32 deliveries
 * with str and bytes as `u32 byte length | bytes`, little-endian throughout. (The thriftbus before segments
 * wrote one file, `thriftbus.journal`, in the same format; its header's number counts as its sequence number.)
 *
 * Applying a journal is idempotent (inserts replace, removes and updates name one id), and a checkpoint
 * records the highest sequence number it applied in the same SQLite transaction. So a crash between the
 * checkpoint's commit and the deletion of the segments is harmless: the next start skips the segments applied.
 * A segment is dropped only after what it needs is committed (its effect on SQLite's rows, the messages
 * carried forward): a crash in between replays it at the next start, which changes nothing.
 *
 * A batch cut short at the end of a segment (the daemon died inside the write, or the machine lost power
 * before `durable` data reached the disk) was never confirmed to anyone, and is dropped. Damage anywhere
 * else is reported, and the file is left as it is.
 */
import {
  closeSync, existsSync, fdatasyncSync, fsyncSync, openSync, readdirSync, readFileSync, rmSync, writeSync,
} from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { crc32 } from 'node:zlib'
import type { Message } from '../gen/thriftbus.js'
import { utf8Slice, utf8Write } from '../wire/utf8.js'

/**
 * A segment this long is sealed at the end of the batch that took it there; the next batch starts a new one.
 * Dropping a segment whose messages were all received is one unlink; carrying a segment's few queued messages
 * forward reads at most this much.
 */
export const SEGMENT_BYTES = 4 * 1024 * 1024
/**
 * At most this many queued messages (and JOURNAL_KEEP_BYTES) are kept in the journal; the store sends new
 * messages past them straight to SQLite. A backlog that swings below this many (as a receiver that keeps up
 * on a busy machine makes) never reaches SQLite. A checkpoint writes up to this many into SQLite at once.
 */
export const JOURNAL_KEEP_MESSAGES = 32_768
export const JOURNAL_KEEP_BYTES = 4 * 1024 * 1024

const MAGIC = 0x4a425454 // "TTBJ" read little-endian
const FORMAT = 1
const HEADER_BYTES = 16
const BATCH_HEADER_BYTES = 8

const INSERT = 1
const REMOVE = 2
const DELIVERIES = 3

const FRESH = 1
const HAS_BODY = 2
const HAS_HEADERS = 4
const HAS_TTL = 8

/** One row of the messages table, in SqliteStore's column order. */
export type MessageRow = [
  mailbox: string, id: number, sender: string, content: string, body: Uint8Array | null, headers: string | null,
  sentAt: number, ttl: number | null, deliveries: number, size: number,
]

/** What a journal does to the messages table, reduced to its final effect: apply deletes, then updates, then inserts. */
export interface JournalEffects {
  /** Ids whose rows must go (they may or may not exist). */
  deletes: number[]
  /** New delivery counts of rows that are not also in inserts. */
  updates: Map<number, number>
  /** Messages to insert or replace, in the order of their first write (rowOf() decodes one). */
  inserts: LiveInsert[]
}

/** A message a journal inserts and does not remove: its INSERT operation's bytes and its latest delivery count. */
export interface LiveInsert {
  op: Buffer
  deliveries: number
}

export class JournalError extends Error {}

/** One file of the journal: its sequence number, path, and the bytes of its intact batches. */
interface Segment {
  seq: number
  path: string
  size: number
}

/**
 * The journal's files. Writes are synchronous: a batch has reached the operating system when append() returns.
 * Batches go into the newest segment (the active one); one that reaches SEGMENT_BYTES is sealed and a new one
 * starts. The owner drops sealed segments from the oldest (dropOldest()) once nothing in them is needed.
 */
export class Journal {
  /** `<state-dir>/thriftbus.journal`: segments are `<basePath>.<seq>`. */
  readonly basePath: string
  readonly #fsync: boolean
  /** Oldest first. After reset(), the last one is the active segment. */
  readonly #segments: Segment[] = []
  /**
   * Files that hold nothing needed, which reset() deletes: files cut short before their header was written,
   * and segments a checkpoint already applied (a crash came between its commit and their deletion).
   */
  readonly #stale: string[] = []
  /** The active segment's descriptor (-1 until reset()). */
  #fd = -1
  #size = 0
  /** Bytes of torn last batches that opening dropped (0 normally). */
  readonly droppedBytes: number

  /**
   * Reads the segments a daemon left (and the single file of thriftbus before segments, whose generation is its
   * sequence number), without changing them; torn last batches are left out. Segments numbered appliedThrough
   * or lower were applied by a checkpoint already: they are not read at all, so a damaged one does not stop a
   * start. The owner then applies effects() of the segments it has not applied yet, and reset()s the journal,
   * which starts an active segment and deletes the rest.
   * Throws JournalError when a file is not a journal or is damaged before its end.
   */
  constructor(basePath: string, fsync: boolean, appliedThrough = 0) {
    this.basePath = basePath
    this.#fsync = fsync
    rmSync(`${basePath}.tmp`, { force: true }) // left by an older thriftbus that crashed during a compaction
    const dir = dirname(basePath)
    const prefix = `${basename(basePath)}.`
    const paths: string[] = []
    for (const f of readdirSync(dir)) {
      if (!f.startsWith(prefix) || !/^\d+$/.test(f.slice(prefix.length))) continue
      // A segment's file is named after the sequence number in its header.
      ;(Number(f.slice(prefix.length)) <= appliedThrough ? this.#stale : paths).push(join(dir, f))
    }
    if (existsSync(basePath)) paths.push(basePath)
    let dropped = 0
    for (const path of paths) {
      const bytes = readFileSync(path)
      if (bytes.length < HEADER_BYTES) {
        this.#stale.push(path) // cut short while it was being created: it holds nothing confirmed
        continue
      }
      try {
        if (bytes.readUInt32LE(0) !== MAGIC) throw new JournalError('it is not a thriftbus journal')
        const format = bytes.readUInt32LE(4)
        if (format !== FORMAT) throw new JournalError(`it has format ${format}; this thriftbus reads format ${FORMAT}`)
        const end = validEnd(bytes)
        dropped += bytes.length - end
        this.#segments.push({ seq: bytes.readDoubleLE(8), path, size: end })
      } catch (err) {
        throw new JournalError(`${path}: ${(err as Error).message}`)
      }
    }
    this.#segments.sort((a, b) => a.seq - b.seq)
    for (const s of this.#segments) this.#size += s.size
    this.droppedBytes = dropped
  }

  /** The newest segment's sequence number (0 when there is none): after reset(), the one append() writes to. */
  get lastSeq(): number {
    return this.#segments.at(-1)?.seq ?? 0
  }

  /** The oldest segment's sequence number, when it is sealed (undefined when only the active one is left). */
  get oldestSealed(): number | undefined {
    return this.#segments.length > 1 ? this.#segments[0]!.seq : undefined
  }

  /** Bytes in all the segments. */
  get size(): number {
    return this.#size
  }

  /** True when some segment holds batches. */
  get hasBatches(): boolean {
    return this.#size > HEADER_BYTES * this.#segments.length
  }

  /** True when a segment after the given sequence number holds batches. */
  hasBatchesAfter(seq: number): boolean {
    return this.#segments.some((s) => s.seq > seq && s.size > HEADER_BYTES)
  }

  /** The effects of every batch in the segments after afterSeq, in order. */
  effects(afterSeq = 0): JournalEffects {
    const r = new Reducer()
    for (const s of this.#segments) if (s.seq > afterSeq) r.add(this.#bytes(s))
    return r.finish()
  }

  /** The effects of the oldest segment's batches alone. */
  oldestEffects(): JournalEffects {
    const r = new Reducer()
    r.add(this.#bytes(this.#segments[0]!))
    return r.finish()
  }

  /**
   * Appends one encoded batch (BatchEncoder.finish()) to the active segment, and seals it when it has reached
   * SEGMENT_BYTES. In fsync mode the batch is on the disk when this returns.
   */
  append(batch: Uint8Array): void {
    const active = this.#segments.at(-1)!
    writeAll(this.#fd, batch)
    active.size += batch.length
    this.#size += batch.length
    if (this.#fsync) fdatasyncSync(this.#fd)
    if (active.size >= SEGMENT_BYTES) this.#start(active.seq + 1)
  }

  /** Deletes the oldest segment, which must be sealed. */
  dropOldest(): void {
    if (this.#segments.length < 2) throw new Error('the active journal segment cannot be dropped')
    const s = this.#segments.shift()!
    rmSync(s.path, { force: true })
    this.#size -= s.size
  }

  /** Deletes every segment and starts an empty active one with the given sequence number. */
  reset(seq: number): void {
    for (const s of this.#segments) rmSync(s.path, { force: true })
    for (const path of this.#stale.splice(0)) rmSync(path, { force: true })
    rmSync(this.basePath, { force: true })
    this.#segments.length = 0
    this.#size = 0
    this.#start(seq)
  }

  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd)
    this.#fd = -1
  }

  /** Creates segment seq with its header and makes it the active one. */
  #start(seq: number): void {
    const path = `${this.basePath}.${seq}`
    const fd = openSync(path, 'w')
    try {
      writeSync(fd, headerOf(seq))
      if (this.#fsync) {
        fdatasyncSync(fd)
        // The new file's directory entry must reach the disk too, or power loss could lose the file.
        if (process.platform !== 'win32') syncDirectory(dirname(path))
      }
    } catch (err) {
      closeSync(fd)
      throw err
    }
    if (this.#fd >= 0) closeSync(this.#fd)
    this.#fd = fd
    this.#segments.push({ seq, path, size: HEADER_BYTES })
    this.#size += HEADER_BYTES
  }

  #bytes(s: Segment): Buffer {
    return readFileSync(s.path).subarray(0, s.size)
  }
}

function headerOf(seq: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES)
  header.writeUInt32LE(MAGIC, 0)
  header.writeUInt32LE(FORMAT, 4)
  header.writeDoubleLE(seq, 8)
  return header
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done)
}

function syncDirectory(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/**
 * Where the intact batches end. A batch that runs past the end of the file, or fails its check and is followed
 * only by zeros, is a torn write; a failed check with data after it is damage, and throws.
 */
function validEnd(bytes: Buffer): number {
  let at = HEADER_BYTES
  while (at < bytes.length) {
    if (bytes.length - at < BATCH_HEADER_BYTES) return at
    const length = bytes.readUInt32LE(at)
    const end = at + BATCH_HEADER_BYTES + length
    if (end > bytes.length) return at
    if (crc32(bytes.subarray(at + BATCH_HEADER_BYTES, end)) !== bytes.readUInt32LE(at + 4)) {
      if (end === bytes.length || isZero(bytes, end)) return at
      throw new JournalError(`the batch at byte ${at} fails its checksum and is followed by more data`)
    }
    at = end
  }
  return at
}

function isZero(bytes: Buffer, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false
  return true
}

/** Reduces the batches of one or more segments, given oldest first, to their final effect on the messages table. */
class Reducer {
  /** Live inserts: id -> the bytes of its INSERT op. */
  readonly #inserts = new Map<number, Buffer>()
  /** Delivery counts of live inserts, set after their INSERT. */
  readonly #counted = new Map<number, number>()
  readonly #deletes = new Set<number>()
  readonly #updates = new Map<number, number>()

  /** Adds a segment's intact bytes (its header, then batches). */
  add(bytes: Buffer): void {
    const inserts = this.#inserts
    const counted = this.#counted
    const deletes = this.#deletes
    const updates = this.#updates
    let at = HEADER_BYTES
    while (at + BATCH_HEADER_BYTES <= bytes.length) {
      const end = at + BATCH_HEADER_BYTES + bytes.readUInt32LE(at)
      if (end > bytes.length) break
      at += BATCH_HEADER_BYTES
      while (at < end) {
        const op = bytes[at]
        const id = bytes.readDoubleLE(op === INSERT ? at + 6 : at + 1)
        if (op === INSERT) {
          const next = at + 6 + bytes.readUInt32LE(at + 2)
          inserts.set(id, bytes.subarray(at, next))
          if (updates.size > 0) updates.delete(id)
          if (counted.size > 0) counted.delete(id)
          at = next
        } else if (op === REMOVE) {
          const live = inserts.get(id)
          // A fresh insert removed before a checkpoint never reached the database; anything else may have.
          if (live === undefined || (live[1]! & FRESH) === 0) deletes.add(id)
          inserts.delete(id)
          if (updates.size > 0) updates.delete(id)
          if (counted.size > 0) counted.delete(id)
          at += 9
        } else if (op === DELIVERIES) {
          const deliveries = bytes.readUInt32LE(at + 9)
          if (inserts.has(id)) counted.set(id, deliveries)
          else updates.set(id, deliveries)
          at += 13
        } else {
          throw new JournalError(`unknown operation ${String(op)} at byte ${at}`)
        }
      }
      at = end
    }
  }

  finish(): JournalEffects {
    const live: LiveInsert[] = []
    for (const [id, op] of this.#inserts) live.push({ op, deliveries: this.#counted.get(id) ?? op.readUInt32LE(22) })
    return { deletes: [...this.#deletes], updates: this.#updates, inserts: live }
  }
}

/** The messages-table row of a live insert. */
export function rowOf(live: LiveInsert): MessageRow {
  const bytes = live.op
  const flags = bytes[1]!
  let p = 30
  const str = (): string => {
    const n = bytes.readUInt32LE(p)
    p += 4 + n
    return utf8Slice(bytes, p - n, p)
  }
  const mailbox = str()
  const sender = str()
  const content = str()
  let body: Uint8Array | null = null
  if (flags & HAS_BODY) {
    const n = bytes.readUInt32LE(p)
    body = bytes.subarray(p + 4, p + 4 + n)
    p += 4 + n
  }
  const headers = flags & HAS_HEADERS ? str() : null
  const ttl = flags & HAS_TTL ? bytes.readDoubleLE(p) : null
  return [mailbox, bytes.readDoubleLE(6), sender, content, body, headers, bytes.readDoubleLE(14), ttl, live.deliveries, bytes.readUInt32LE(26)]
}

/** Builds one batch in a buffer that is reused from commit to commit. */
export class BatchEncoder {
  #buf = Buffer.allocUnsafe(64 * 1024)
  #at = BATCH_HEADER_BYTES

  get empty(): boolean {
    return this.#at === BATCH_HEADER_BYTES
  }

  insert(m: Message, size: number, fresh: boolean, deliveries: number): void {
    const headers = m.headers ? JSON.stringify(m.headers) : undefined
    const body = m.body
    this.#ensure(64 + 3 * (m.recipient.length + m.sender.length + m.content.length + (headers?.length ?? 0)) + (body?.length ?? 0))
    const buf = this.#buf
    const start = this.#at
    buf[start] = INSERT
    buf[start + 1] = (fresh ? FRESH : 0) | (body ? HAS_BODY : 0) | (headers !== undefined ? HAS_HEADERS : 0) |
      (m.ttlMs !== undefined && m.ttlMs !== null ? HAS_TTL : 0)
    buf.writeDoubleLE(m.id!, start + 6)
    buf.writeDoubleLE(m.sentAtMs ?? 0, start + 14)
    buf.writeUInt32LE(deliveries >= 0 ? Math.min(deliveries, 0xffffffff) : 0, start + 22) // the broker checks; a bad count must not fail a write
    buf.writeUInt32LE(size, start + 26)
    this.#at = start + 30
    this.#str(m.recipient)
    this.#str(m.sender)
    this.#str(m.content)
    if (body) {
      buf.writeUInt32LE(body.length, this.#at)
      buf.set(body, this.#at + 4)
      this.#at += 4 + body.length
    }
    if (headers !== undefined) this.#str(headers)
    if (m.ttlMs !== undefined && m.ttlMs !== null) {
      buf.writeDoubleLE(m.ttlMs, this.#at)
      this.#at += 8
    }
    buf.writeUInt32LE(this.#at - start - 6, start + 2)
  }

  remove(id: number): void {
    this.#ensure(9)
    this.#buf[this.#at] = REMOVE
    this.#buf.writeDoubleLE(id, this.#at + 1)
    this.#at += 9
  }

  deliveries(id: number, deliveries: number): void {
    this.#ensure(13)
    this.#buf[this.#at] = DELIVERIES
    this.#buf.writeDoubleLE(id, this.#at + 1)
    this.#buf.writeUInt32LE(deliveries >= 0 ? Math.min(deliveries, 0xffffffff) : 0, this.#at + 9)
    this.#at += 13
  }

  /** Writes live inserts again, as they were, with their latest delivery counts (a compaction). */
  carry(inserts: LiveInsert[]): void {
    for (const live of inserts) {
      this.#ensure(live.op.length)
      this.#buf.set(live.op, this.#at)
      this.#buf.writeUInt32LE(live.deliveries, this.#at + 22)
      this.#at += live.op.length
    }
  }

  /** The finished batch, valid until the next write to this encoder; the encoder starts a new one. */
  finish(): Buffer {
    const buf = this.#buf
    buf.writeUInt32LE(this.#at - BATCH_HEADER_BYTES, 0)
    buf.writeUInt32LE(crc32(buf.subarray(BATCH_HEADER_BYTES, this.#at)), 4)
    const batch = buf.subarray(0, this.#at)
    this.#at = BATCH_HEADER_BYTES
    return batch
  }

  #str(s: string): void {
    const n = utf8Write(this.#buf, s, this.#at + 4)
    this.#buf.writeUInt32LE(n, this.#at)
    this.#at += 4 + n
  }

  #ensure(bytes: number): void {
    if (this.#at + bytes <= this.#buf.length) return
    const bigger = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#at + bytes))
    this.#buf.copy(bigger, 0, 0, this.#at)
    this.#buf = bigger
  }
}
