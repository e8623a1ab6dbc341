/**
 * The journal: an append-only file in front of the SQLite store that takes the mailboxes' writes.
 *
 * Why: in the steady state of a busy mailbox almost every message is received within milliseconds. Inserting
 * it into SQLite's B-tree and deleting it again costs about 4 µs a message; appending its bytes, and later 9
 * bytes for its removal, to one file costs well under 1 µs. So every commit appends one batch to the journal
 * (the store sends messages past the journal's share, JOURNAL_KEEP_MESSAGES, straight to SQLite), and when
 * the journal is long the store reduces it to its effect (JournalEffects): the messages still queued, and
 * what happened to rows already in SQLite. A *compaction* applies to SQLite what happened to its rows (and
 * any queued messages past the share, which only messages put back can make), then writes the queued ones
 * into a new journal file (rewrite(), an atomic rename). When SQLite must answer a query, a *checkpoint*
 * applies the whole journal to SQLite and empties it. Either way the messages removed meanwhile never reach
 * the database.
 *
 * The file: a 16-byte header (magic, format, generation), then batches. A batch is what one commit wrote:
 * `u32 payload length | u32 CRC-32 of the payload | payload`, the payload a sequence of operations:
 *   INSERT      u8 1, u8 flags, u32 length of the rest, f64 id, f64 sentAtMs, u32 deliveries, u32 size,
 *               str mailbox, str sender, str content, [bytes body], [str headers as JSON], [f64 ttlMs]
 *   REMOVE      u8 2, f64 id
 *   DELIVERIES  u8 3, f64 id, u32 deliveries
 * with str and bytes as `u32 byte length | bytes`, little-endian throughout.
 *
 * Applying a journal is idempotent (inserts replace, removes and updates name one id), and a checkpoint
 * records the generation it applied in the same SQLite transaction. So a crash between the checkpoint's commit
 * and the journal's reset is harmless: the next start sees that generation applied and skips it. A compaction
 * commits part of a journal's effect to SQLite before it replaces the file with one of the next generation,
 * and records no generation: a crash between the two applies the old journal whole at the next start, the
 * part already in SQLite again.
 *
 * A batch cut short at the end of the file (the daemon died inside the write, or the machine lost power
 * before `durable` data reached the disk) was never confirmed to anyone, and is dropped. Damage anywhere
 * else is reported, and the file is left as it is.
 */
import {
  closeSync, existsSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, renameSync, rmSync, writeSync,
} from 'node:fs'
import { dirname } from 'node:path'
import { crc32 } from 'node:zlib'
import type { Message } from '../gen/thriftbus.js'
import { utf8Slice, utf8Write } from '../wire/utf8.js'

/**
 * A journal this long, and at least twice as long as after the last compaction, is compacted at the next
 * commit. Reading and reducing it takes a few ms (the messages removed meanwhile are only skipped), and a
 * restart replays at most about this much.
 */
export const JOURNAL_COMPACT_BYTES = 4 * 1024 * 1024
/**
 * At most this many queued messages (and JOURNAL_KEEP_BYTES) are kept in the journal; the store sends new
 * messages past them straight to SQLite. A backlog that swings below this many (as a receiver that keeps up
 * on a busy machine makes) never reaches SQLite. More would make compactions longer: at 65,536 one stalled
 * the daemon for over 100 ms, against 12-20 ms at 16,384.
 */
export const JOURNAL_KEEP_MESSAGES = 16_384
export const JOURNAL_KEEP_BYTES = 2 * 1024 * 1024

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

/**
 * How many of an effects' inserts, from the first, a compaction keeps in the journal: at most
 * JOURNAL_KEEP_MESSAGES and JOURNAL_KEEP_BYTES.
 */
export function insertsToKeep(fx: JournalEffects): number {
  let bytes = 0
  const max = Math.min(fx.inserts.length, JOURNAL_KEEP_MESSAGES)
  for (let i = 0; i < max; i++) {
    bytes += fx.inserts[i]!.op.length
    if (bytes > JOURNAL_KEEP_BYTES) return i
  }
  return max
}

export class JournalError extends Error {}

/** The journal file. Writes are synchronous: a batch has reached the operating system when append() returns. */
export class Journal {
  readonly path: string
  #fd: number
  readonly #fsync: boolean
  #generation = 0
  #size = 0
  /** Bytes of a torn last batch that open() dropped (0 normally). */
  readonly droppedBytes: number

  /**
   * Opens (or creates) the journal and cuts off a torn last batch. The owner then applies effects() unless
   * it has applied this generation already, and reset()s the file.
   * Throws JournalError when the file is not a journal or is damaged before its end.
   */
  constructor(path: string, fsync: boolean) {
    this.path = path
    this.#fsync = fsync
    const created = !existsSync(path)
    this.#fd = openSync(path, 'a+')
    this.droppedBytes = 0
    try {
      // In fsync mode a new file's directory entry must reach the disk too, or power loss could lose the file.
      if (created && fsync && process.platform !== 'win32') syncDirectory(dirname(path))
      const bytes = this.#readAll()
      if (bytes.length < HEADER_BYTES) {
        // New, or cut short while it was being reset: nothing in it was ever confirmed.
        this.#size = bytes.length
        return
      }
      if (bytes.readUInt32LE(0) !== MAGIC) throw new JournalError('it is not a thriftbus journal')
      const format = bytes.readUInt32LE(4)
      if (format !== FORMAT) throw new JournalError(`it has format ${format}; this thriftbus reads format ${FORMAT}`)
      this.#generation = bytes.readDoubleLE(8)
      const end = validEnd(bytes)
      this.#size = bytes.length
      if (end < bytes.length) {
        this.droppedBytes = bytes.length - end
        ftruncateSync(this.#fd, end)
        this.#size = end
      }
    } catch (err) {
      closeSync(this.#fd)
      throw err
    }
  }

  /** The generation of the batches in the file (0 when the file has no header yet). */
  get generation(): number {
    return this.#generation
  }

  /** Bytes in the file. */
  get size(): number {
    return this.#size
  }

  /** True when the file holds batches. */
  get hasBatches(): boolean {
    return this.#size > HEADER_BYTES
  }

  /** The effects of every batch in the file. */
  effects(): JournalEffects {
    return reduce(this.#readAll())
  }

  /** Appends one encoded batch (BatchEncoder.finish()). In fsync mode it is on the disk when this returns. */
  append(batch: Uint8Array): void {
    writeAll(this.#fd, batch)
    this.#size += batch.length
    if (this.#fsync) fdatasyncSync(this.#fd)
  }

  /**
   * Replaces the file with a new one of the next generation that holds only batch (what a compaction carries
   * forward), atomically: a crash leaves either the old file or the new one.
   */
  rewrite(batch: Uint8Array | undefined): void {
    const generation = this.#generation + 1
    const tmp = `${this.path}.tmp`
    rmSync(tmp, { force: true }) // left by a crash during an earlier rewrite
    const fd = openSync(tmp, 'a+')
    try {
      const header = headerOf(generation)
      writeSync(fd, header)
      if (batch) writeAll(fd, batch)
      if (this.#fsync) fdatasyncSync(fd)
    } catch (err) {
      closeSync(fd)
      throw err
    }
    renameSync(tmp, this.path)
    if (this.#fsync && process.platform !== 'win32') syncDirectory(dirname(this.path))
    closeSync(this.#fd)
    this.#fd = fd
    this.#generation = generation
    this.#size = HEADER_BYTES + (batch?.length ?? 0)
  }

  /** Empties the file and starts the given generation. */
  reset(generation: number): void {
    ftruncateSync(this.#fd, 0)
    writeSync(this.#fd, headerOf(generation))
    if (this.#fsync) fdatasyncSync(this.#fd)
    this.#generation = generation
    this.#size = HEADER_BYTES
  }

  close(): void {
    closeSync(this.#fd)
  }

  #readAll(): Buffer {
    const size = fstatSync(this.#fd).size
    const bytes = Buffer.allocUnsafe(size)
    let done = 0
    while (done < size) {
      const n = readSync(this.#fd, bytes, done, size - done, done)
      if (n === 0) break
      done += n
    }
    return bytes.subarray(0, done)
  }
}

function headerOf(generation: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES)
  header.writeUInt32LE(MAGIC, 0)
  header.writeUInt32LE(FORMAT, 4)
  header.writeDoubleLE(generation, 8)
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

/** Reduces a journal file's batches to their final effect on the messages table. */
function reduce(bytes: Buffer): JournalEffects {
  /** Live inserts: id -> offset of the INSERT op. */
  const inserts = new Map<number, number>()
  /** Delivery counts of live inserts, set after their INSERT. */
  const counted = new Map<number, number>()
  const deletes = new Set<number>()
  const updates = new Map<number, number>()
  let at = HEADER_BYTES
  while (at + BATCH_HEADER_BYTES <= bytes.length) {
    const end = at + BATCH_HEADER_BYTES + bytes.readUInt32LE(at)
    if (end > bytes.length) break
    at += BATCH_HEADER_BYTES
    while (at < end) {
      const op = bytes[at]
      const id = bytes.readDoubleLE(op === INSERT ? at + 6 : at + 1)
      if (op === INSERT) {
        inserts.set(id, at)
        if (updates.size > 0) updates.delete(id)
        if (counted.size > 0) counted.delete(id)
        at += 6 + bytes.readUInt32LE(at + 2)
      } else if (op === REMOVE) {
        const live = inserts.get(id)
        // A fresh insert removed before a checkpoint never reached the database; anything else may have.
        if (live === undefined || (bytes[live + 1]! & FRESH) === 0) deletes.add(id)
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
  const live: LiveInsert[] = []
  for (const [id, at] of inserts) {
    live.push({ op: bytes.subarray(at, at + 6 + bytes.readUInt32LE(at + 2)), deliveries: counted.get(id) ?? bytes.readUInt32LE(at + 22) })
  }
  return { deletes: [...deletes], updates, inserts: live }
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
