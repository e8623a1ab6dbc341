/**
 * TCompactProtocol, reading side: zigzag varints, field ids as deltas from the previous field, bools folded
 * into the field header, little-endian doubles.
 */
import {
  T_BOOL, T_BYTE, T_DOUBLE, T_I16, T_I32, T_I64, T_LIST, T_MAP, T_SET, T_STOP, T_STRING, T_STRUCT,
} from '../gen/thriftbus.js'
import { MAX_NESTING_DEPTH } from './limits.js'
import { ProtocolError } from './protocol-error.js'
import { WireReader, type MessageHeader } from './reader.js'

export const COMPACT_PROTOCOL_ID = 0x82
const COMPACT_VERSION = 1

/** Compact type id -> the TType the generated code speaks (-1: not a valid compact type). */
const FROM_COMPACT = [T_STOP, T_BOOL, T_BOOL, T_BYTE, T_I16, T_I32, T_I64, T_DOUBLE, T_STRING, T_LIST, T_SET, T_MAP, T_STRUCT]

function toTType(compactType: number): number {
  const t = FROM_COMPACT[compactType]
  if (t === undefined) throw new ProtocolError(`unknown compact type id ${compactType}`)
  return t
}

export class CompactReader extends WireReader {
  #lastFieldId = 0
  readonly #fieldIdStack = new Int32Array(MAX_NESTING_DEPTH + 2)
  /** A bool field carries its value in the field header; readBool returns it. */
  #pendingBool: boolean | undefined

  override reset(buf: Buffer, pos: number, end: number): void {
    super.reset(buf, pos, end)
    this.#lastFieldId = 0
    this.#pendingBool = undefined
  }

  readMessageBegin(): MessageHeader {
    if (this.pos + 2 > this.end) {
      this.short()
      return { name: '', type: 0, seqid: 0 }
    }
    const id = this.buf[this.pos]!
    const vt = this.buf[this.pos + 1]!
    if (id !== COMPACT_PROTOCOL_ID || (vt & 0x1f) !== COMPACT_VERSION) {
      throw new ProtocolError(`bad compact protocol header 0x${id.toString(16)} 0x${vt.toString(16)}`)
    }
    this.pos += 2
    const seqid = this.readVarint32() | 0
    const name = this.readName()
    return { name, type: (vt >> 5) & 0x07, seqid }
  }

  override readStructBegin(): void {
    this.enter()
    this.#fieldIdStack[this.depth] = this.#lastFieldId
    this.#lastFieldId = 0
  }

  override readStructEnd(): void {
    this.#lastFieldId = this.#fieldIdStack[this.depth]!
    this.depth--
  }

  readFieldBegin(): number {
    if (this.pos + 1 > this.end) return this.short()
    const b = this.buf[this.pos++]!
    const ct = b & 0x0f
    if (ct === 0) return T_STOP
    const delta = b >> 4
    this.fieldId = delta !== 0 ? this.#lastFieldId + delta : this.readZigzag32()
    this.#lastFieldId = this.fieldId
    if (ct === 1 || ct === 2) this.#pendingBool = ct === 1
    return toTType(ct)
  }

  readListBegin(elemType: number): number {
    if (this.pos + 1 > this.end) {
      this.short()
      return this.containerSize(0, elemType, elemType)
    }
    const b = this.buf[this.pos++]!
    this.elemType = toTType(b & 0x0f)
    const n = b >> 4 === 15 ? this.readVarint32() : b >> 4
    return this.containerSize(n, this.elemType, elemType)
  }

  readSetBegin(elemType: number): number {
    return this.readListBegin(elemType)
  }

  readMapBegin(keyType: number, valueType: number): number {
    const n = this.readVarint32()
    if (n === 0 || this.underrun) return this.containerSize(0, keyType, keyType)
    if (this.pos + 1 > this.end) {
      this.short()
      return this.containerSize(0, keyType, keyType)
    }
    const kv = this.buf[this.pos++]!
    this.keyType = toTType(kv >> 4)
    this.valueType = toTType(kv & 0x0f)
    if (valueType !== -1 && this.valueType !== valueType) {
      throw new ProtocolError(`map holds values of type ${this.valueType} where type ${valueType} was expected`)
    }
    return this.containerSize(n, this.keyType, keyType)
  }

  readBool(): boolean {
    const pending = this.#pendingBool
    if (pending !== undefined) {
      this.#pendingBool = undefined
      return pending
    }
    return this.readByte() === 1
  }

  readI16(): number {
    return this.readZigzag32()
  }

  readI32(): number {
    return this.readZigzag32()
  }

  readI64(): number {
    // Up to 10 bytes of 7 bits. Short varints (|v| < 2^48) decode in floating point, exactly; longer ones
    // through BigInt, since the zigzag sign bit would be lost past 2^53.
    let z = 0
    let mul = 1
    const start = this.pos
    for (let i = 0; i < 10; i++) {
      if (this.pos + 1 > this.end) return this.short()
      const b = this.buf[this.pos++]!
      if (i === 7) return this.#readLongI64(start)
      z += (b & 0x7f) * mul
      if (b < 0x80) return z % 2 === 0 ? z / 2 : -(z + 1) / 2
      mul *= 128
    }
    throw new ProtocolError('varint longer than 10 bytes')
  }

  #readLongI64(start: number): number {
    let z = 0n
    let shift = 0n
    this.pos = start
    for (let i = 0; i < 10; i++) {
      if (this.pos + 1 > this.end) return this.short()
      const b = this.buf[this.pos++]!
      z |= BigInt(b & 0x7f) << shift
      if (b < 0x80) return Number(BigInt.asIntN(64, (z >> 1n) ^ -(z & 1n)))
      shift += 7n
    }
    throw new ProtocolError('varint longer than 10 bytes')
  }

  readDouble(): number {
    if (this.pos + 8 > this.end) return this.short()
    const v = this.buf.readDoubleLE(this.pos)
    this.pos += 8
    return v
  }

  protected readLength(): number {
    const n = this.readVarint32()
    if (this.underrun) return -1
    return this.checkLength(n)
  }

  /** An unsigned varint of at most 5 bytes, returned as a non-negative number (or 0 on underrun). */
  readVarint32(): number {
    let result = 0
    let shift = 0
    for (let i = 0; i < 5; i++) {
      if (this.pos + 1 > this.end) return this.short()
      const b = this.buf[this.pos++]!
      result |= (b & 0x7f) << shift
      if (b < 0x80) return result >>> 0
      shift += 7
    }
    throw new ProtocolError('varint longer than 5 bytes')
  }

  private readZigzag32(): number {
    const z = this.readVarint32()
    return (z >>> 1) ^ -(z & 1)
  }
}
