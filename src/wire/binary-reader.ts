/** TBinaryProtocol, reading side: big-endian fixed-width integers, i32 length prefixes. */
import { T_STOP } from '../gen/thriftbus.js'
import { ProtocolError } from './protocol-error.js'
import { WireReader, type MessageHeader } from './reader.js'
import { methodNameSlice } from './utf8.js'

const VERSION_MASK = 0xffff0000 | 0
const VERSION_1 = 0x80010000 | 0

export class BinaryReader extends WireReader {
  readMessageBegin(): MessageHeader {
    const v = this.readI32()
    if (v < 0) {
      if ((v & VERSION_MASK) !== VERSION_1) {
        throw new ProtocolError(`bad binary protocol version 0x${(v >>> 0).toString(16)}`)
      }
      const name = this.readName()
      return { name, type: v & 0xff, seqid: this.readI32() }
    }
    // Old non-strict binary (strictWrite = false): the header starts with the name's length.
    const n = this.checkLength(v)
    if (this.pos + n > this.end) {
      this.underrun = true
      return { name: '', type: 0, seqid: 0 }
    }
    const name = this.skipNames ? '' : methodNameSlice(this.buf, this.pos, this.pos + n)
    this.pos += n
    const type = this.readByte()
    return { name, type, seqid: this.readI32() }
  }

  readFieldBegin(): number {
    if (this.pos + 1 > this.end) return this.short()
    const t = this.buf[this.pos]!
    if (t === T_STOP) {
      this.pos++
      return T_STOP
    }
    if (this.pos + 3 > this.end) return this.short()
    const b = this.buf
    const p = this.pos
    this.fieldId = ((b[p + 1]! << 24) | (b[p + 2]! << 16)) >> 16
    this.pos = p + 3
    return t
  }

  readListBegin(elemType: number): number {
    if (this.pos + 5 > this.end) {
      this.short()
      return this.containerSize(0, elemType, elemType)
    }
    this.elemType = this.buf[this.pos++]!
    return this.containerSize(this.readI32(), this.elemType, elemType)
  }

  readSetBegin(elemType: number): number {
    return this.readListBegin(elemType)
  }

  readMapBegin(keyType: number, valueType: number): number {
    if (this.pos + 6 > this.end) {
      this.short()
      return this.containerSize(0, keyType, keyType)
    }
    this.keyType = this.buf[this.pos++]!
    this.valueType = this.buf[this.pos++]!
    const n = this.readI32()
    if (valueType !== -1 && n > 0 && this.valueType !== valueType) {
      throw new ProtocolError(`map holds values of type ${this.valueType} where type ${valueType} was expected`)
    }
    return this.containerSize(n, this.keyType, keyType)
  }

  readBool(): boolean {
    return this.readByte() !== 0
  }

  readI16(): number {
    if (this.pos + 2 > this.end) return this.short()
    const b = this.buf
    const p = this.pos
    this.pos = p + 2
    return ((b[p]! << 24) | (b[p + 1]! << 16)) >> 16
  }

  readI32(): number {
    if (this.pos + 4 > this.end) return this.short()
    const b = this.buf
    const p = this.pos
    this.pos = p + 4
    return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!
  }

  readI64(): number {
    if (this.pos + 8 > this.end) return this.short()
    const hi = this.readI32()
    const lo = this.readI32() >>> 0
    return hi * 4294967296 + lo
  }

  readDouble(): number {
    if (this.pos + 8 > this.end) return this.short()
    const v = this.buf.readDoubleBE(this.pos)
    this.pos += 8
    return v
  }

  protected readLength(): number {
    if (this.pos + 4 > this.end) {
      this.short()
      return -1
    }
    return this.checkLength(this.readI32())
  }
}

