/** TCompactProtocol, writing side. */
import {
  T_BOOL, T_BYTE, T_DOUBLE, T_I16, T_I32, T_I64, T_LIST, T_MAP, T_SET, T_STRING, T_STRUCT,
} from '../gen/thriftbus.js'
import { COMPACT_PROTOCOL_ID } from './compact-reader.js'
import { MAX_NESTING_DEPTH } from './limits.js'
import { ProtocolError } from './protocol-error.js'
import { setBytes, WireWriter } from './writer.js'
import { utf8Write } from './utf8.js'

const TO_COMPACT: number[] = []
TO_COMPACT[T_BOOL] = 1
TO_COMPACT[T_BYTE] = 3
TO_COMPACT[T_I16] = 4
TO_COMPACT[T_I32] = 5
TO_COMPACT[T_I64] = 6
TO_COMPACT[T_DOUBLE] = 7
TO_COMPACT[T_STRING] = 8
TO_COMPACT[T_LIST] = 9
TO_COMPACT[T_SET] = 10
TO_COMPACT[T_MAP] = 11
TO_COMPACT[T_STRUCT] = 12

function toCompact(type: number): number {
  const c = TO_COMPACT[type]
  if (c === undefined) throw new ProtocolError(`cannot write Thrift type id ${type}`)
  return c
}

/** Magnitudes from here on take the exact (BigInt) zigzag path. */
const LONG_I64 = 2 ** 52

export class CompactWriter extends WireWriter {
  #lastFieldId = 0
  readonly #stack = new Int32Array(MAX_NESTING_DEPTH + 2)
  #depth = 0
  /** A bool field's header is written together with its value, in writeBool (field ids may be negative). */
  #boolPending = false
  #boolFieldId = 0

  protected writeMessageHeader(name: string, type: number, seqid: number): void {
    this.ensure(2)
    this.buf[this.pos++] = COMPACT_PROTOCOL_ID
    this.buf[this.pos++] = 1 | (type << 5)
    this.writeVarint32(seqid >>> 0)
    this.writeString(name)
  }

  protected override resetMessageState(): void {
    this.#depth = 0
    this.#lastFieldId = 0
    this.#boolPending = false
  }

  writeStructBegin(): void {
    if (this.#depth > MAX_NESTING_DEPTH) throw new ProtocolError(`structs nested deeper than ${MAX_NESTING_DEPTH}`)
    this.#stack[this.#depth++] = this.#lastFieldId
    this.#lastFieldId = 0
  }

  writeStructEnd(): void {
    this.#lastFieldId = this.#stack[--this.#depth]!
  }

  writeFieldBegin(type: number, id: number): void {
    if (type === T_BOOL) {
      this.#boolPending = true
      this.#boolFieldId = id
      return
    }
    this.writeFieldHeader(toCompact(type), id)
  }

  writeFieldStop(): void {
    this.ensure(1)
    this.buf[this.pos++] = 0
  }

  writeListBegin(elemType: number, size: number): void {
    const ct = toCompact(elemType)
    this.ensure(6)
    if (size < 15) {
      this.buf[this.pos++] = (size << 4) | ct
    } else {
      this.buf[this.pos++] = 0xf0 | ct
      this.writeVarint32(size)
    }
  }

  writeMapBegin(keyType: number, valueType: number, size: number): void {
    if (size === 0) {
      this.writeByte(0)
      return
    }
    this.writeVarint32(size)
    this.writeByte((toCompact(keyType) << 4) | toCompact(valueType))
  }

  writeBool(v: boolean): void {
    if (this.#boolPending) {
      this.#boolPending = false
      this.writeFieldHeader(v ? 1 : 2, this.#boolFieldId)
      return
    }
    this.writeByte(v ? 1 : 2)
  }

  writeI16(v: number): void {
    this.writeVarint32(((v << 1) ^ (v >> 31)) >>> 0)
  }

  writeI32(v: number): void {
    this.writeVarint32(((v << 1) ^ (v >> 31)) >>> 0)
  }

  writeI64(v: number): void {
    this.ensure(10)
    if (v > -LONG_I64 && v < LONG_I64) {
      // 2|v| < 2^53: the zigzag value is exact in floating point.
      let z = v >= 0 ? v * 2 : -v * 2 - 1
      while (z >= 128) {
        this.buf[this.pos++] = (z % 128) | 0x80
        z = Math.floor(z / 128)
      }
      this.buf[this.pos++] = z
      return
    }
    const n = BigInt.asIntN(64, BigInt(Math.trunc(v)))
    let z = BigInt.asUintN(64, (n << 1n) ^ (n >> 63n))
    while (z >= 128n) {
      this.buf[this.pos++] = Number(z & 0x7fn) | 0x80
      z >>= 7n
    }
    this.buf[this.pos++] = Number(z)
  }

  writeDouble(v: number): void {
    this.ensure(8)
    this.pos = this.buf.writeDoubleLE(v, this.pos)
  }

  writeString(v: string): void {
    // Short strings (under 43 UTF-16 units, so under 128 bytes) have a one-byte length: write it after.
    if (v.length < 43) {
      this.ensure(1 + v.length * 3)
      const n = utf8Write(this.buf, v, this.pos + 1)
      this.buf[this.pos] = n
      this.pos += 1 + n
      return
    }
    const n = Buffer.byteLength(v, 'utf8')
    this.ensure(5 + n)
    this.writeVarint32(n)
    this.pos += utf8Write(this.buf, v, this.pos)
  }

  writeBinary(v: Uint8Array): void {
    this.ensure(5 + v.length)
    this.writeVarint32(v.length)
    setBytes.call(this.buf, v, this.pos)
    this.pos += v.length
  }

  private writeFieldHeader(ct: number, id: number): void {
    this.ensure(4)
    const delta = id - this.#lastFieldId
    if (delta > 0 && delta <= 15) {
      this.buf[this.pos++] = (delta << 4) | ct
    } else {
      this.buf[this.pos++] = ct
      this.writeI16(id)
    }
    this.#lastFieldId = id
  }

  private writeVarint32(n: number): void {
    this.ensure(5)
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80
      n >>>= 7
    }
    this.buf[this.pos++] = n
  }
}
