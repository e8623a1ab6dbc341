/**
 * The part of a protocol writer that does not depend on the encoding: one growable output buffer, framing,
 * and hand-off to the socket.
 *
 * Every message written in one tick lands in the same buffer, and `take()` hands the whole run to one
 * `socket.write`. A region that was taken is never written again (the socket may still be sending it), so
 * the buffer is only ever appended to; when it is full, the unsent tail moves to a fresh one.
 */
import type { ProtocolWriter } from '../gen/thriftbus.js'
import { INITIAL_BUFFER_BYTES } from './limits.js'
import { ProtocolError } from './protocol-error.js'

/**
 * Uint8Array#set and Buffer#copy, called with .call. Looked up on a Buffer, in V8's optimized code, either is a
 * LoadIC call on every use instead of a constant: in fan-out that cost about 120 instructions a copied message
 * (bench/micro/fanout-instructions.mjs).
 */
export const setBytes = Uint8Array.prototype.set
export const copyBytes = Buffer.prototype.copy

export abstract class WireWriter implements ProtocolWriter {
  protected buf: Buffer = Buffer.allocUnsafe(INITIAL_BUFFER_BYTES)
  protected pos = 0
  /** Start of the bytes not yet taken. */
  #start = 0
  /** Start of the message being written, for framing and rollback. */
  #messageStart = -1
  readonly framed: boolean
  readonly maxBytes: number

  constructor(framed: boolean, maxBytes: number) {
    this.framed = framed
    this.maxBytes = maxBytes
  }

  /** Bytes written and not yet taken. */
  get pending(): number {
    return this.pos - this.#start
  }

  /** Starts a message: reserves the frame length when framed, then writes the protocol's message header. */
  beginMessage(name: string, type: number, seqid: number): void {
    this.#messageStart = this.pos
    if (this.framed) {
      this.ensure(4)
      this.pos += 4
    }
    this.writeMessageHeader(name, type, seqid)
  }

  /** Ends a message: patches the frame length. A message over the size limit is dropped and reported. */
  endMessage(): void {
    const start = this.#messageStart
    this.#messageStart = -1
    const size = this.pos - start - (this.framed ? 4 : 0)
    if (size > this.maxBytes) {
      this.pos = start
      throw new ProtocolError(`message of ${size} bytes is over the ${this.maxBytes}-byte limit`, true)
    }
    if (this.framed) putI32(this.buf, start, size)
  }

  /** Appends bytes already encoded in this writer's protocol (a relayed struct), unchanged. */
  writeRaw(bytes: Uint8Array): void {
    this.ensure(bytes.length)
    setBytes.call(this.buf, bytes, this.pos)
    this.pos += bytes.length
  }

  /** Appends block[start, end), bytes already encoded in this writer's protocol, unchanged. */
  writeRange(block: Buffer, start: number, end: number): void {
    this.ensure(end - start)
    copyBytes.call(block, this.buf, this.pos, start, end)
    this.pos += end - start
  }

  /**
   * Drops the messages written since pending was mark (a value of `pending` between messages, with no take
   * since): a call written but not yet sent is taken back.
   */
  rewind(mark: number): void {
    this.pos = this.#start + mark
    this.#messageStart = -1
  }

  /** Bytes written so far into the message being written (a place to come back to with rollback or patchI32). */
  get messageOffset(): number {
    return this.pos - this.#messageStart
  }

  /** A copy of what was written into the open message since offset (a value of messageOffset). */
  copySince(offset: number): Buffer {
    const start = this.#messageStart + offset
    const copy = Buffer.allocUnsafe(this.pos - start)
    copyBytes.call(this.buf, copy, 0, start, this.pos)
    return copy
  }

  /**
   * Drops what was written into the open message past offset (a part whose encoding threw). Binary protocol
   * only: the compact writer's field-id state is not rolled back.
   */
  rollback(offset: number): void {
    this.pos = this.#messageStart + offset
  }

  /** Overwrites 4 bytes of the open message, big-endian, at offset (e.g. a list's count, once it is known). */
  patchI32(offset: number, v: number): void {
    putI32(this.buf, this.#messageStart + offset, v)
  }

  /** Drops a message begun but not ended (its encoding threw). */
  abortMessage(): void {
    if (this.#messageStart >= 0) this.pos = this.#messageStart
    this.#messageStart = -1
    this.resetMessageState()
  }

  /** Returns everything written since the last take, or undefined when nothing is. */
  take(): Buffer | undefined {
    if (this.pos === this.#start) return undefined
    const out = this.buf.subarray(this.#start, this.pos)
    this.#start = this.pos
    if (this.buf.length - this.pos < 1024) {
      this.buf = Buffer.allocUnsafe(INITIAL_BUFFER_BYTES)
      this.pos = 0
      this.#start = 0
    }
    return out
  }

  protected abstract writeMessageHeader(name: string, type: number, seqid: number): void
  protected resetMessageState(): void {}

  abstract writeStructBegin(): void
  abstract writeStructEnd(): void
  abstract writeFieldBegin(type: number, id: number): void
  abstract writeFieldStop(): void
  abstract writeListBegin(elemType: number, size: number): void
  abstract writeMapBegin(keyType: number, valueType: number, size: number): void
  abstract writeBool(v: boolean): void
  abstract writeI16(v: number): void
  abstract writeI32(v: number): void
  abstract writeI64(v: number): void
  abstract writeDouble(v: number): void
  abstract writeString(v: string): void
  abstract writeBinary(v: Uint8Array): void

  writeListEnd(): void {}
  writeSetEnd(): void {}
  writeMapEnd(): void {}

  writeSetBegin(elemType: number, size: number): void {
    this.writeListBegin(elemType, size)
  }

  writeByte(v: number): void {
    this.ensure(1)
    this.buf[this.pos++] = v & 0xff
  }

  /** Makes room for n more bytes. The untaken bytes (which include any open message) move along. */
  protected ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const keepFrom = this.#start
    const used = this.pos - keepFrom
    let size = INITIAL_BUFFER_BYTES
    while (size < used + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    copyBytes.call(this.buf, next, 0, keepFrom, this.pos)
    this.buf = next
    this.#start -= keepFrom
    if (this.#messageStart >= 0) this.#messageStart -= keepFrom
    this.pos = used
  }
}

/** Writes v big-endian at buf[at, at + 4): inline byte stores, where Buffer#writeInt32BE is a call with checks. */
export function putI32(buf: Buffer, at: number, v: number): void {
  buf[at] = (v >>> 24) & 0xff
  buf[at + 1] = (v >>> 16) & 0xff
  buf[at + 2] = (v >>> 8) & 0xff
  buf[at + 3] = v & 0xff
}
