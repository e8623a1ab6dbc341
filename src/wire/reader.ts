/**
 * The part of a protocol reader that does not depend on the encoding: the byte window, bounds, limits, and skip.
 *
 * "Need more bytes" is not an exception here. A read that runs past `end` sets `underrun`, returns a neutral
 * value (0, '', T_STOP, an empty list) and the decode runs to its end quickly; the caller then checks the flag
 * and waits for more bytes. The stock npm runtime throws (and builds a stack trace) in this case, which costs it
 * about a third of its CPU. Real errors (negative lengths, unknown types, nesting too deep, over the size limit)
 * do throw a ProtocolError: they end the connection, so they are rare by construction.
 */
import {
  T_BOOL, T_BYTE, T_DOUBLE, T_I16, T_I32, T_I64, T_LIST, T_MAP, T_SET, T_STOP, T_STRING, T_STRUCT,
  type ProtocolReader,
} from '../gen/thriftbus.js'
import { MAX_NESTING_DEPTH } from './limits.js'
import { ProtocolError } from './protocol-error.js'
import { methodNameSlice, utf8Slice } from './utf8.js'

export interface MessageHeader {
  name: string
  type: number
  seqid: number
}

export abstract class WireReader implements ProtocolReader {
  buf: Buffer = Buffer.alloc(0)
  pos = 0
  end = 0
  /** Set when a read ran past `end`: the values read since are meaningless, wait for more bytes. */
  underrun = false
  fieldId = 0
  /** Message headers' method names are skipped, read as '' (see FrameReader's `names` option). */
  skipNames = false
  /** Strings, binaries and containers longer than this are a ProtocolError. */
  maxBytes: number
  protected depth = 0

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes
  }

  /** Points the reader at buf[pos, end) and clears the underrun flag. */
  reset(buf: Buffer, pos: number, end: number): void {
    this.buf = buf
    this.pos = pos
    this.end = end
    this.underrun = false
    this.depth = 0
  }

  abstract readMessageBegin(): MessageHeader
  abstract readFieldBegin(): number
  abstract readListBegin(elemType: number): number
  abstract readSetBegin(elemType: number): number
  abstract readMapBegin(keyType: number, valueType: number): number
  abstract readBool(): boolean
  abstract readI16(): number
  abstract readI32(): number
  abstract readI64(): number
  abstract readDouble(): number
  /** Reads a length prefix and checks it against the limits; returns -1 on underrun. */
  protected abstract readLength(): number

  readStructBegin(): void {
    this.enter()
  }

  readStructEnd(): void {
    this.depth--
  }

  readListEnd(): void {
    this.depth--
  }

  readSetEnd(): void {
    this.depth--
  }

  readMapEnd(): void {
    this.depth--
  }

  readByte(): number {
    if (this.pos + 1 > this.end) return this.short()
    const v = this.buf[this.pos++]!
    return v > 127 ? v - 256 : v
  }

  readString(): string {
    const start = this.#lengthPrefixed()
    return start < 0 ? '' : utf8Slice(this.buf, start, this.pos)
  }

  /** Reads a message header's method name (a string, decoded through the method-name table). */
  protected readName(): string {
    const start = this.#lengthPrefixed()
    return start < 0 || this.skipNames ? '' : methodNameSlice(this.buf, start, this.pos)
  }

  /** Returns a copy: the buffer it came from is reused for the next bytes. */
  readBinary(): Uint8Array {
    const start = this.#lengthPrefixed()
    return start < 0 ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(start, this.pos))
  }

  /** Reads a length prefix and steps over that many bytes; returns where they start, or -1 on an underrun. */
  #lengthPrefixed(): number {
    const n = this.readLength()
    if (n < 0 || this.pos + n > this.end) {
      this.short()
      return -1
    }
    const start = this.pos
    this.pos += n
    return start
  }

  skip(type: number): void {
    switch (type) {
      case T_BOOL: this.readBool(); return
      case T_BYTE: this.readByte(); return
      case T_I16: this.readI16(); return
      case T_I32: this.readI32(); return
      case T_I64: this.readI64(); return
      case T_DOUBLE: this.readDouble(); return
      case T_STRING: this.#lengthPrefixed(); return
      case T_STRUCT: {
        this.readStructBegin()
        for (;;) {
          const t = this.readFieldBegin()
          if (t === T_STOP) break
          this.skip(t)
        }
        this.readStructEnd()
        return
      }
      case T_LIST:
      case T_SET: {
        const n = type === T_LIST ? this.readListBegin(-1) : this.readSetBegin(-1)
        const elem = this.elemType
        for (let i = 0; i < n && !this.underrun; i++) this.skip(elem)
        this.depth--
        return
      }
      case T_MAP: {
        const n = this.readMapBegin(-1, -1)
        const k = this.keyType
        const v = this.valueType
        for (let i = 0; i < n && !this.underrun; i++) {
          this.skip(k)
          this.skip(v)
        }
        this.depth--
        return
      }
      default:
        throw new ProtocolError(`unknown Thrift type id ${type}`)
    }
  }

  /** Element and key/value types of the container last begun (expected -1 means "any": skip uses it). */
  elemType = 0
  keyType = 0
  valueType = 0

  /** Skips a whole struct (an unknown method's arguments) and reports whether it was all there. */
  skipStruct(): void {
    this.skip(T_STRUCT)
  }

  protected enter(): void {
    if (++this.depth > MAX_NESTING_DEPTH) {
      throw new ProtocolError(`structs and containers nested deeper than ${MAX_NESTING_DEPTH}`)
    }
  }

  /**
   * Validates a container's element count and element type. Every element takes at least one byte, so a
   * count larger than the bytes left means the rest has not arrived (or, in a complete frame, never will):
   * that is an underrun, and a 38-byte message cannot make the decoder loop a million times.
   */
  protected containerSize(n: number, actual: number, expected: number): number {
    this.enter()
    if (this.underrun) return 0
    if (n < 0 || n > this.maxBytes) badContainerSize(n, this.maxBytes)
    if (expected !== -1 && n > 0 && actual !== expected) {
      throw new ProtocolError(`container holds type ${actual} where type ${expected} was expected`)
    }
    if (n > this.end - this.pos) return this.short()
    return n
  }

  protected checkLength(n: number): number {
    if (n < 0 || n > this.maxBytes) badLength(n, this.maxBytes)
    return n
  }

  /** Marks an underrun and returns the neutral value 0. */
  protected short(): number {
    this.underrun = true
    this.pos = this.end
    return 0
  }
}

/*
 * The errors for bad lengths and sizes are thrown by functions of their own: with a number used in two
 * messages' template strings inline, V8 converted it to a string once, ahead of the checks, on every read.
 */
function badLength(n: number, maxBytes: number): never {
  if (n < 0) throw new ProtocolError(`negative length ${n}`)
  throw new ProtocolError(`length ${n} is over the ${maxBytes}-byte message limit`, true)
}

function badContainerSize(n: number, maxBytes: number): never {
  if (n < 0) throw new ProtocolError(`negative container size ${n}`)
  throw new ProtocolError(`container of ${n} elements is over the ${maxBytes}-byte message limit`, true)
}
