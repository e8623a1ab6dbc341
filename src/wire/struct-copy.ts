/**
 * Copies one Thrift struct from a reader to a writer without knowing its IDL: the daemon relays the arguments
 * and results of calls to hosted services (src/broker/router.ts) and never decodes the user's structs.
 *
 * Thrift describes itself: every field carries its id and wire type, every container its element types and
 * count. So a struct can be walked generically, value by value, and written again in another protocol
 * (binary to compact and back). The walk keeps these rules:
 *   - Values keep their exact bits. Strings are copied as bytes (never decoded and re-encoded, so invalid UTF-8
 *     survives), i64 as two 32-bit halves (the protocol readers return a number, exact only up to 2^53), doubles
 *     as their 8 bytes (NaN payloads survive). Bytes are appended with writeByte, which both protocols define as
 *     one raw byte.
 *   - Bounds come from the reader: nesting deeper than MAX_NESTING_DEPTH, lengths over the reader's maxBytes and
 *     unknown type ids throw a ProtocolError; a declared count larger than the bytes left is an underrun, so a
 *     small input cannot make the walk loop or allocate much. The output is bounded too: compact to binary can
 *     grow a struct up to 8 times (a one-byte i64 becomes eight), so the walk stops with a ProtocolError (tooLarge)
 *     once it has written more than its limit, by default the writer's message limit.
 *   - Input that ends inside the struct is a ProtocolError ("truncated"), never a wait: copyStruct is meant for
 *     whole messages (a complete frame, or bytes captured by captureStruct).
 *
 * When the two sides speak the same protocol, no walk is needed: captureStruct keeps the struct's bytes as they
 * came, and writeStructBytes appends them unchanged when the writer can append raw bytes (see RawAppendWriter).
 * Otherwise writeStructBytes walks the captured bytes with copyStruct.
 */
import {
  T_BOOL, T_BYTE, T_DOUBLE, T_I16, T_I32, T_I64, T_LIST, T_MAP, T_SET, T_STOP, T_STRING, T_STRUCT,
} from '../gen/thriftbus.js'
import { BinaryReader } from './binary-reader.js'
import { BinaryWriter } from './binary-writer.js'
import { CompactReader } from './compact-reader.js'
import { CompactWriter } from './compact-writer.js'
import type { ProtocolName } from './frame-reader.js'
import { ProtocolError } from './protocol-error.js'
import type { WireReader } from './reader.js'
import type { WireWriter } from './writer.js'

/** A struct's encoded bytes, as captured from a message, and the protocol they are in. */
export interface StructBytes {
  readonly protocol: ProtocolName
  /** A private copy: it does not alias the connection's read buffer. */
  readonly bytes: Buffer
}

/**
 * A writer that can append bytes already encoded in its own protocol, unchanged (WireWriter.writeRaw). A writer
 * without it gets the generic copy from writeStructBytes.
 */
export interface RawAppendWriter {
  writeRaw(bytes: Uint8Array): void
}

const EMPTY = Buffer.alloc(0)

/** The protocol a reader or writer speaks; undefined for one that is neither of ours. */
export function protocolOf(x: WireReader | WireWriter): ProtocolName | undefined {
  if (x instanceof BinaryReader || x instanceof BinaryWriter) return 'binary'
  if (x instanceof CompactReader || x instanceof CompactWriter) return 'compact'
  return undefined
}

/**
 * Reads one struct from r and writes it to w, in w's protocol. r must be positioned at the struct's start (just
 * after the message header, for a call's arguments or a reply's result); on return it is just past the struct.
 *
 * Throws a ProtocolError for malformed, truncated, too deeply nested or (written) oversized input. w then holds
 * part of the struct: call w.abortMessage() to drop the message being written.
 */
export function copyStruct(r: WireReader, w: WireWriter, maxOutBytes: number = w.maxBytes): void {
  new StructCopier(r, w, maxOutBytes).copy()
}

/**
 * Skips the struct at r's position and returns a copy of its bytes. On underrun (more bytes needed) it returns
 * empty bytes and leaves r.underrun set, as every read does: the caller retries when more bytes have come.
 * Malformed input throws a ProtocolError, as skip does.
 */
export function captureStruct(r: WireReader): StructBytes {
  const protocol = protocolOf(r)
  if (!protocol) throw new TypeError('captureStruct needs a BinaryReader or a CompactReader')
  const start = r.pos
  r.skipStruct()
  if (r.underrun) return { protocol, bytes: EMPTY }
  // A copy: the reader's buffer is the connection's, and is reused for the bytes that come next.
  return { protocol, bytes: Buffer.from(r.buf.subarray(start, r.pos)) }
}

// Scratch readers for writeStructBytes. The copy is synchronous, so one of each is enough.
const scratch = { binary: new BinaryReader(0), compact: new CompactReader(0) }

/**
 * Writes a captured struct to w: its bytes as they are when w speaks the same protocol and can append raw
 * bytes, otherwise a generic copy. Throws like copyStruct (w then holds part of the struct: abort the message).
 */
export function writeStructBytes(w: WireWriter, s: StructBytes, maxOutBytes: number = w.maxBytes): void {
  const raw = (w as WireWriter & Partial<RawAppendWriter>).writeRaw
  if (typeof raw === 'function' && protocolOf(w) === s.protocol) {
    if (s.bytes.length > maxOutBytes) {
      throw new ProtocolError(`struct of ${s.bytes.length} bytes is over the ${maxOutBytes}-byte limit`, true)
    }
    raw.call(w, s.bytes)
    return
  }
  const r = scratch[s.protocol]
  // The bytes were complete when captured, so no length in them can be longer than they are.
  r.maxBytes = s.bytes.length
  r.reset(s.bytes, 0, s.bytes.length)
  try {
    copyStruct(r, w, maxOutBytes)
    if (r.pos !== s.bytes.length) throw new ProtocolError(`${s.bytes.length - r.pos} bytes after the end of a captured struct`)
  } finally {
    r.reset(EMPTY, 0, 0) // drop the reference to the bytes
  }
}

function isValueType(t: number): boolean {
  switch (t) {
    case T_BOOL: case T_BYTE: case T_I16: case T_I32: case T_I64: case T_DOUBLE:
    case T_STRING: case T_STRUCT: case T_LIST: case T_SET: case T_MAP:
      return true
    default:
      return false
  }
}

/** One copy: the reader, the writer, and the bound on what it writes. */
class StructCopier {
  readonly #r: WireReader
  readonly #w: WireWriter
  readonly #from: ProtocolName
  readonly #to: ProtocolName
  readonly #base: number
  readonly #maxOutBytes: number

  constructor(r: WireReader, w: WireWriter, maxOutBytes: number) {
    const from = protocolOf(r)
    const to = protocolOf(w)
    if (!from || !to) throw new TypeError('copyStruct needs our binary or compact readers and writers')
    this.#r = r
    this.#w = w
    this.#from = from
    this.#to = to
    this.#base = w.pending
    this.#maxOutBytes = maxOutBytes
  }

  copy(): void {
    this.#value(T_STRUCT)
    if (this.#r.underrun) throw new ProtocolError('truncated struct: the message ends inside it')
  }

  /** Copies one value of wire type t. Returns early on underrun: copy() reports it. */
  #value(t: number): void {
    const r = this.#r
    const w = this.#w
    switch (t) {
      case T_BOOL: w.writeBool(r.readBool()); return
      case T_BYTE: w.writeByte(r.readByte()); return
      case T_I16: {
        const v = r.readI16()
        if (v < -32768 || v > 32767) throw new ProtocolError(`i16 value ${v} is out of range`)
        w.writeI16(v)
        return
      }
      case T_I32: w.writeI32(r.readI32()); return
      case T_I64: this.#i64(); return
      case T_DOUBLE: this.#double(); return
      // A string is its bytes: copied as binary, not decoded.
      case T_STRING: w.writeBinary(r.readBinary()); return
      case T_STRUCT: this.#struct(); return
      case T_LIST:
      case T_SET: this.#list(t); return
      case T_MAP: this.#map(); return
      default:
        throw new ProtocolError(`unknown Thrift type id ${t}`)
    }
  }

  #struct(): void {
    const r = this.#r
    const w = this.#w
    r.readStructBegin()
    w.writeStructBegin()
    for (;;) {
      const t = r.readFieldBegin() // T_STOP on underrun too
      if (t === T_STOP) break
      if (!isValueType(t)) throw new ProtocolError(`unknown Thrift type id ${t} in field ${r.fieldId}`)
      this.#checkOut()
      w.writeFieldBegin(t, r.fieldId)
      this.#value(t)
    }
    w.writeFieldStop()
    r.readStructEnd()
    w.writeStructEnd()
  }

  #list(t: number): void {
    const r = this.#r
    const w = this.#w
    const n = t === T_LIST ? r.readListBegin(-1) : r.readSetBegin(-1)
    if (r.underrun) return
    const elem = r.elemType
    if (n > 0 && !isValueType(elem)) throw new ProtocolError(`unknown Thrift type id ${elem} in a container`)
    if (t === T_LIST) w.writeListBegin(elem, n)
    else w.writeSetBegin(elem, n)
    for (let i = 0; i < n && !r.underrun; i++) {
      this.#checkOut()
      this.#value(elem)
    }
    if (t === T_LIST) {
      r.readListEnd()
      w.writeListEnd()
    } else {
      r.readSetEnd()
      w.writeSetEnd()
    }
  }

  #map(): void {
    const r = this.#r
    const w = this.#w
    const n = r.readMapBegin(-1, -1)
    if (r.underrun) return
    let k = r.keyType
    let v = r.valueType
    // An empty compact map carries no types (the reader's are left from an earlier map): write "none", as the
    // Apache compact readers report it.
    if (n === 0 && this.#from === 'compact') k = v = T_STOP
    if (n > 0 && (!isValueType(k) || !isValueType(v))) throw new ProtocolError(`unknown Thrift type ids ${k}, ${v} in a map`)
    w.writeMapBegin(k, v, n)
    for (let i = 0; i < n && !r.underrun; i++) {
      this.#checkOut()
      this.#value(k)
      this.#value(v)
    }
    r.readMapEnd()
    w.writeMapEnd()
  }

  /** An i64 as two signed 32-bit halves, so that every 64-bit value survives. */
  #i64(): void {
    const r = this.#r
    let hi: number
    let lo: number
    if (this.#from === 'binary') {
      hi = r.readI32()
      lo = r.readI32()
    } else {
      // A zigzag varint of up to 10 bytes, 7 bits each: bits 0..27 go to zlo, bits 28..31 straddle, the rest zhi.
      let zlo = 0
      let zhi = 0
      for (let i = 0; ; i++) {
        if (i === 10) throw new ProtocolError('varint longer than 10 bytes')
        if (r.pos >= r.end) return underrun(r)
        const b = r.buf[r.pos++]!
        const bits = b & 0x7f
        if (i < 4) zlo |= bits << (7 * i)
        else if (i === 4) {
          zlo |= bits << 28
          zhi |= bits >>> 4
        } else zhi |= bits << (7 * i - 32)
        if (b < 0x80) break
      }
      const neg = -(zlo & 1)
      lo = ((zlo >>> 1) | (zhi << 31)) ^ neg
      hi = (zhi >>> 1) ^ neg
    }
    const w = this.#w
    if (this.#to === 'binary') {
      w.writeI32(hi)
      w.writeI32(lo)
      return
    }
    const sign = hi >> 31
    let zlo = ((lo << 1) ^ sign) >>> 0
    let zhi = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0
    while (zhi !== 0 || zlo > 0x7f) {
      w.writeByte((zlo & 0x7f) | 0x80)
      zlo = ((zlo >>> 7) | (zhi << 25)) >>> 0
      zhi >>>= 7
    }
    w.writeByte(zlo)
  }

  /** A double as its 8 bytes: big-endian in binary, little-endian in compact. */
  #double(): void {
    const r = this.#r
    const w = this.#w
    if (r.pos + 8 > r.end) return underrun(r)
    const p = r.pos
    r.pos = p + 8
    const b = r.buf
    if (this.#from === this.#to) {
      for (let i = 0; i < 8; i++) w.writeByte(b[p + i]!)
    } else {
      for (let i = 7; i >= 0; i--) w.writeByte(b[p + i]!)
    }
  }

  #checkOut(): void {
    const written = this.#w.pending - this.#base
    if (written > this.#maxOutBytes) {
      throw new ProtocolError(`the copied struct is over the ${this.#maxOutBytes}-byte limit (${written} bytes so far)`, true)
    }
  }
}

/** Marks an underrun as the readers do: the values read from here on are meaningless. */
function underrun(r: WireReader): void {
  r.underrun = true
  r.pos = r.end
}
