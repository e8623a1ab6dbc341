/**
 * Thrift structs to and from JSON without an IDL, for debugging (`thriftbus call`): Thrift carries a type
 * tag on every field, so a struct can be read without knowing its IDL, and written from JSON with the types
 * inferred or spelled out.
 *
 * JSON to Thrift (writeDynamicStruct):
 * - A struct is an array (fields 1, 2, 3, ... in order: a method's arguments) or an object keyed by field id
 *   ({"1": ..., "3": ...}). null leaves a field out.
 * - A string is a string, a boolean a bool, a whole number an i32 (an i64 beyond i32), another number a
 *   double, an array a list (element type from the first element), an object keyed by field ids a struct.
 * - Other types are spelled out with a one-key object: {"i8": 1}, {"i16": 1}, {"i32": 1}, {"i64": 1} (or a
 *   string of digits), {"double": 1}, {"string": "s"}, {"binary": "<base64>"}, {"bool": true},
 *   {"list": [...]}, {"set": [...]}, {"map": [[key, value], ...]}, {"struct": {...}}.
 *
 * Thrift to JSON (readDynamicStruct): an object keyed by field id; strings as strings (binary fields are
 * indistinguishable from strings on the wire), i64 beyond 2^53 as a string, sets and lists as arrays, maps as
 * an object when their keys are strings or numbers, else as [key, value] pairs.
 */
import {
  T_BOOL, T_BYTE, T_DOUBLE, T_I16, T_I32, T_I64, T_LIST, T_MAP, T_SET, T_STOP, T_STRING, T_STRUCT,
  type ProtocolWriter,
} from '../gen/thriftbus.js'
import type { WireReader } from './reader.js'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

interface Typed {
  type: number
  write(w: ProtocolWriter): void
}

const NAMED: Record<string, number> = {
  i8: T_BYTE, byte: T_BYTE, i16: T_I16, i32: T_I32, i64: T_I64, double: T_DOUBLE, string: T_STRING, binary: T_STRING,
  bool: T_BOOL, list: T_LIST, set: T_SET, map: T_MAP, struct: T_STRUCT,
}

/** Writes a JSON array (fields 1..n) or an object keyed by field id as a struct. Throws TypeError on bad input. */
export function writeDynamicStruct(w: ProtocolWriter, value: Json): void {
  structOf(value, '$').write(w)
}

/** Reads one struct into an object keyed by field id. */
export function readDynamicStruct(r: WireReader): Record<string, Json> {
  return readValue(r, T_STRUCT) as Record<string, Json>
}

function structOf(value: Json, path: string): Typed {
  const fields: [number, Typed][] = []
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      if (v !== null) fields.push([i + 1, typedOf(v, `${path}[${i}]`)])
    })
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (!/^-?\d+$/.test(k) || Number(k) < -32768 || Number(k) > 32767) {
        throw new TypeError(`${path}: "${k}" is not a field id; struct keys are field ids such as "1"`)
      }
      if (v !== null) fields.push([Number(k), typedOf(v, `${path}.${k}`)])
    }
  } else {
    throw new TypeError(`${path}: a struct must be a JSON array (fields 1, 2, ...) or an object keyed by field id`)
  }
  return {
    type: T_STRUCT,
    write(w) {
      w.writeStructBegin()
      for (const [id, t] of fields) {
        w.writeFieldBegin(t.type, id)
        t.write(w)
      }
      w.writeFieldStop()
      w.writeStructEnd()
    },
  }
}

function typedOf(value: Json, path: string): Typed {
  switch (typeof value) {
    case 'string':
      return { type: T_STRING, write: (w) => w.writeString(value) }
    case 'boolean':
      return { type: T_BOOL, write: (w) => w.writeBool(value) }
    case 'number':
      if (Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31) return { type: T_I32, write: (w) => w.writeI32(value) }
      if (Number.isSafeInteger(value)) return { type: T_I64, write: (w) => w.writeI64(value) }
      return { type: T_DOUBLE, write: (w) => w.writeDouble(value) }
  }
  if (Array.isArray(value)) return listOf(T_LIST, value, path)
  if (value === null) throw new TypeError(`${path}: null is only allowed for a field (it leaves the field out)`)
  const keys = Object.keys(value)
  if (keys.length === 1 && keys[0]! in NAMED) return named(keys[0]!, value[keys[0]!]!, `${path}.${keys[0]}`)
  return structOf(value, path)
}

function named(name: string, v: Json, path: string): Typed {
  const num = (lo: number, hi: number): number => {
    const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v
    if (typeof n !== 'number' || !Number.isInteger(n) || n < lo || n > hi) throw new TypeError(`${path}: expected a whole number from ${lo} to ${hi}`)
    return n
  }
  switch (name) {
    case 'i8':
    case 'byte': {
      const n = num(-128, 127)
      return { type: T_BYTE, write: (w) => w.writeByte(n) }
    }
    case 'i16': {
      const n = num(-32768, 32767)
      return { type: T_I16, write: (w) => w.writeI16(n) }
    }
    case 'i32': {
      const n = num(-(2 ** 31), 2 ** 31 - 1)
      return { type: T_I32, write: (w) => w.writeI32(n) }
    }
    case 'i64': {
      const n = num(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)
      return { type: T_I64, write: (w) => w.writeI64(n) }
    }
    case 'double':
      if (typeof v !== 'number') throw new TypeError(`${path}: expected a number`)
      return { type: T_DOUBLE, write: (w) => w.writeDouble(v) }
    case 'string':
      if (typeof v !== 'string') throw new TypeError(`${path}: expected a string`)
      return { type: T_STRING, write: (w) => w.writeString(v) }
    case 'binary': {
      if (typeof v !== 'string') throw new TypeError(`${path}: expected base64 text`)
      const bytes = Buffer.from(v, 'base64')
      return { type: T_STRING, write: (w) => w.writeBinary(bytes) }
    }
    case 'bool':
      if (typeof v !== 'boolean') throw new TypeError(`${path}: expected true or false`)
      return { type: T_BOOL, write: (w) => w.writeBool(v) }
    case 'list':
    case 'set':
      if (!Array.isArray(v)) throw new TypeError(`${path}: expected an array`)
      return listOf(name === 'list' ? T_LIST : T_SET, v, path)
    case 'map':
      return mapOf(v, path)
    default:
      return structOf(v, path)
  }
}

function listOf(type: number, items: Json[], path: string): Typed {
  const typed = items.map((v, i) => typedOf(v, `${path}[${i}]`))
  const elem = typed[0]?.type ?? T_I32
  typed.forEach((t, i) => {
    if (t.type !== elem) throw new TypeError(`${path}[${i}]: every element must have the type of the first`)
  })
  return {
    type,
    write(w) {
      if (type === T_LIST) w.writeListBegin(elem, typed.length)
      else w.writeSetBegin(elem, typed.length)
      for (const t of typed) t.write(w)
      if (type === T_LIST) w.writeListEnd()
      else w.writeSetEnd()
    },
  }
}

function mapOf(v: Json, path: string): Typed {
  if (!Array.isArray(v) || !v.every((e) => Array.isArray(e) && e.length === 2)) {
    throw new TypeError(`${path}: a map is a list of [key, value] pairs`)
  }
  const pairs = (v as [Json, Json][]).map(([k, val], i) => [typedOf(k, `${path}[${i}][0]`), typedOf(val, `${path}[${i}][1]`)] as const)
  const kt = pairs[0]?.[0].type ?? T_STRING
  const vt = pairs[0]?.[1].type ?? T_STRING
  pairs.forEach(([k, val], i) => {
    if (k.type !== kt || val.type !== vt) throw new TypeError(`${path}[${i}]: every key and value must have the types of the first`)
  })
  return {
    type: T_MAP,
    write(w) {
      w.writeMapBegin(kt, vt, pairs.length)
      for (const [k, val] of pairs) {
        k.write(w)
        val.write(w)
      }
      w.writeMapEnd()
    },
  }
}

function readValue(r: WireReader, type: number): Json {
  switch (type) {
    case T_BOOL: return r.readBool()
    case T_BYTE: return r.readByte()
    case T_I16: return r.readI16()
    case T_I32: return r.readI32()
    case T_I64: {
      const n = r.readI64()
      return Number.isSafeInteger(n) ? n : String(n)
    }
    case T_DOUBLE: return r.readDouble()
    case T_STRING: return r.readString()
    case T_STRUCT: {
      const out: Record<string, Json> = {}
      r.readStructBegin()
      for (;;) {
        const t = r.readFieldBegin()
        if (t === T_STOP || r.underrun) break
        const id = r.fieldId
        out[String(id)] = readValue(r, t)
      }
      r.readStructEnd()
      return out
    }
    case T_LIST:
    case T_SET: {
      const n = type === T_LIST ? r.readListBegin(-1) : r.readSetBegin(-1)
      const elem = r.elemType
      const out: Json[] = []
      for (let i = 0; i < n && !r.underrun; i++) out.push(readValue(r, elem))
      if (type === T_LIST) r.readListEnd()
      else r.readSetEnd()
      return out
    }
    case T_MAP: {
      const n = r.readMapBegin(-1, -1)
      const kt = r.keyType
      const vt = r.valueType
      const pairs: [Json, Json][] = []
      for (let i = 0; i < n && !r.underrun; i++) pairs.push([readValue(r, kt), readValue(r, vt)])
      r.readMapEnd()
      if (pairs.every(([k]) => typeof k === 'string' || typeof k === 'number')) return Object.fromEntries(pairs as [string, Json][])
      return pairs
    }
    default:
      r.skip(type)
      return null
  }
}
