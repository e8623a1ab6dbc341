/** TBinaryProtocol, writing side (strict: every message header carries the version). */
import { T_STOP } from '../gen/thriftbus.js'
import { setBytes, WireWriter } from './writer.js'
import { utf8Write } from './utf8.js'


/**
 * Method names as a header carries them (i32 length, then UTF-8), by name: a header is then one copy of
 * bytes. Names are few (the IDL's, and the services routed through the daemon); the map is emptied if it ever
 * holds MAX_ENCODED_NAMES, so that a stream of made-up names cannot grow it.
 */
const encodedNames = new Map<string, Uint8Array>()
const MAX_ENCODED_NAMES = 1024

function encodedName(name: string): Uint8Array {
  let bytes = encodedNames.get(name)
  if (bytes === undefined) {
    const utf8 = Buffer.from(name)
    bytes = new Uint8Array(4 + utf8.length)
    new DataView(bytes.buffer).setInt32(0, utf8.length)
    bytes.set(utf8, 4)
    if (encodedNames.size >= MAX_ENCODED_NAMES) encodedNames.clear()
    encodedNames.set(name, bytes)
  }
  return bytes
}

export class BinaryWriter extends WireWriter {
  protected writeMessageHeader(name: string, type: number, seqid: number): void {
    const encoded = encodedName(name)
    const n = encoded.length
    this.ensure(8 + n)
    const b = this.buf
    let p = this.pos
    b[p] = 0x80
    b[p + 1] = 0x01
    b[p + 2] = 0
    b[p + 3] = type & 0xff
    p += 4
    b.set(encoded, p)
    p += n
    b[p] = (seqid >>> 24) & 0xff
    b[p + 1] = (seqid >>> 16) & 0xff
    b[p + 2] = (seqid >>> 8) & 0xff
    b[p + 3] = seqid & 0xff
    this.pos = p + 4
  }

  writeStructBegin(): void {}
  writeStructEnd(): void {}

  writeFieldBegin(type: number, id: number): void {
    this.ensure(3)
    const b = this.buf
    const p = this.pos
    b[p] = type
    b[p + 1] = (id >> 8) & 0xff
    b[p + 2] = id & 0xff
    this.pos = p + 3
  }

  writeFieldStop(): void {
    this.ensure(1)
    this.buf[this.pos++] = T_STOP
  }

  writeListBegin(elemType: number, size: number): void {
    this.ensure(5)
    this.buf[this.pos++] = elemType
    this.writeI32(size)
  }

  writeMapBegin(keyType: number, valueType: number, size: number): void {
    this.ensure(6)
    this.buf[this.pos++] = keyType
    this.buf[this.pos++] = valueType
    this.writeI32(size)
  }

  writeBool(v: boolean): void {
    this.writeByte(v ? 1 : 0)
  }

  writeI16(v: number): void {
    this.ensure(2)
    this.buf[this.pos++] = (v >> 8) & 0xff
    this.buf[this.pos++] = v & 0xff
  }

  writeI32(v: number): void {
    this.ensure(4)
    const b = this.buf
    const p = this.pos
    b[p] = (v >>> 24) & 0xff
    b[p + 1] = (v >>> 16) & 0xff
    b[p + 2] = (v >>> 8) & 0xff
    b[p + 3] = v & 0xff
    this.pos = p + 4
  }

  writeI64(v: number): void {
    const hi = Math.floor(v / 4294967296)
    this.writeI32(hi | 0)
    this.writeI32((v - hi * 4294967296) >>> 0)
  }

  writeDouble(v: number): void {
    this.ensure(8)
    this.pos = this.buf.writeDoubleBE(v, this.pos)
  }

  writeString(v: string): void {
    // At most 3 bytes per UTF-16 unit; write the bytes first, then the length in front of them.
    this.ensure(4 + v.length * 3)
    const n = utf8Write(this.buf, v, this.pos + 4)
    this.writeI32(n)
    this.pos += n
  }

  writeBinary(v: Uint8Array): void {
    this.ensure(4 + v.length)
    this.writeI32(v.length)
    setBytes.call(this.buf, v, this.pos)
    this.pos += v.length
  }
}
