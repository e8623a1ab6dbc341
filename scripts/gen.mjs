#!/usr/bin/env node
// Regenerates src/gen/ from idl/thriftbus.thrift. Run it after every IDL change: `npm run gen`.
// `node scripts/gen.mjs --check` only compares, and fails when src/gen is out of date (a test runs it).
//
// It needs the Apache Thrift compiler (Debian: `apt-get install thrift-compiler`, 0.17 here) and writes:
//   src/gen/thriftbus.ts  our codec: TypeScript types plus read/write functions per struct, built from the
//                         compiler's JSON description of the IDL. The daemon and the SDK use it on the hot path:
//                         it decodes i64 to number, allocates nothing per field, and speaks to any protocol that
//                         implements ProtocolReader/ProtocolWriter (src/wire has binary and compact).
//   src/gen/js/           the stock Apache generator's output (`js:node,ts,es6`), CommonJS, for code that uses the
//                         `thrift` npm runtime: the interop tests and the benchmark's thrift-plain peer.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync, mkdirSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const idl = join(root, 'idl', 'thriftbus.thrift')
const outDir = join(root, 'src', 'gen')
/** Wire type ids, numbered as TBinaryProtocol numbers them (compact maps them on the way). */
const TTYPE = {
  bool: 'T_BOOL', byte: 'T_BYTE', i8: 'T_BYTE', i16: 'T_I16', i32: 'T_I32', i64: 'T_I64', double: 'T_DOUBLE',
  string: 'T_STRING', binary: 'T_STRING', struct: 'T_STRUCT', exception: 'T_STRUCT', union: 'T_STRUCT',
  map: 'T_MAP', set: 'T_SET', list: 'T_LIST',
}

function generate(doc) {
  const out = []
  const emit = (s = '') => out.push(s)
  emit('// Generated from idl/thriftbus.thrift by scripts/gen.mjs. Do not edit: change the IDL and run `npm run gen`.')
  emit('/* eslint-disable */')
  emit()
  emit(PRELUDE)
  for (const e of doc.enums) {
    emitDoc(emit, e.doc)
    emit(`export enum ${e.name} {`)
    for (const m of e.members) emit(`${docComment(m.doc, '  ')}  ${m.name} = ${m.value},`)
    emit('}')
    emit()
  }
  for (const s of doc.structs) emitStruct(emit, s.name, s.fields, s.doc)
  for (const svc of doc.services) {
    for (const fn of svc.functions) {
      const base = `${svc.name}_${fn.name}`
      emitStruct(emit, `${base}_args`, fn.arguments, undefined, true)
      const resultFields = []
      if (fn.returnTypeId !== 'void') {
        resultFields.push({ key: 0, name: 'success', typeId: fn.returnTypeId, type: fn.returnType, required: 'optional' })
      }
      for (const ex of fn.exceptions) resultFields.push({ ...ex, required: 'optional' })
      emitStruct(emit, `${base}_result`, resultFields)
    }
    emitDoc(emit, svc.doc)
    emit(`export const ${svc.name} = {`)
    emit(`  name: '${svc.name}',`)
    emit('  methods: {')
    for (const fn of svc.functions) {
      const base = `${svc.name}_${fn.name}`
      const exceptions = fn.exceptions.map((e) => `${e.name}: '${e.type.class}'`).join(', ')
      emit(`    ${fn.name}: {`)
      emit(`      name: '${fn.name}',`)
      emit(`      oneway: ${fn.oneway},`)
      emit(`      exceptions: { ${exceptions} } as Record<string, string>,`)
      emit(`      readArgs: read${base}_args,`)
      emit(`      writeArgs: write${base}_args,`)
      emit(`      readResult: read${base}_result,`)
      emit(`      writeResult: write${base}_result,`)
      emit(`    } as MethodCodec<${base}_args, ${base}_result>,`)
    }
    emit('  },')
    emit('} as const')
    emit()
  }
  return out.join('\n')
}

function emitStruct(emit, name, fields, doc, isArgs = false) {
  emitDoc(emit, doc)
  emit(`export interface ${name} {`)
  for (const f of fields) {
    const optional = f.required === 'optional' || (isArgs && f.default !== undefined)
    emit(`${docComment(f.doc, '  ')}  ${f.name}${optional ? '?' : ''}: ${tsType(f)}`)
  }
  emit('}')
  emit()
  // Decoded structs are made with `new`, not as object literals: V8 may pretenure a literal's allocation site
  // (allocate its objects in the old generation from then on) after a few young-generation collections find
  // them all alive, as they are while a reply of 256 messages is being read. The young strings those old
  // objects point to then survive every young collection until a full one (see README, Performance).
  emit(`class Decoded${name} implements ${name} {`)
  for (const f of fields) {
    const optional = f.required === 'optional' || (isArgs && f.default !== undefined)
    emit(`  ${f.name}: ${tsType(f)}${optional ? ' | undefined' : ''} = ${f.required === 'optional' ? 'undefined' : initValue(f)}`)
  }
  emit('}')
  emit()
  emit(`export function read${name}(r: ProtocolReader): ${name} {`)
  emit(`  const v = new Decoded${name}()`)
  emit('  r.readStructBegin()')
  emit('  for (;;) {')
  emit('    const t = r.readFieldBegin()')
  emit('    if (t === T_STOP) break')
  if (fields.length > 0) {
    emit('    switch (r.fieldId) {')
    for (const f of fields) {
      emit(`      case ${f.key}:`)
      emit(`        if (t === ${TTYPE[f.typeId]}) {`)
      emitRead(emit, f, `v.${f.name}`, '          ', 0)
      emit('          continue')
      emit('        }')
      emit('        break')
    }
    emit('    }')
  }
  emit('    r.skip(t)')
  emit('  }')
  emit('  r.readStructEnd()')
  emit('  return v')
  emit('}')
  emit()
  emit(`export function write${name}(w: ProtocolWriter, v: ${name}): void {`)
  emit('  w.writeStructBegin()')
  for (const f of fields) {
    emit(`  if (v.${f.name} !== undefined && v.${f.name} !== null) {`)
    emit(`    w.writeFieldBegin(${TTYPE[f.typeId]}, ${f.key})`)
    emitWrite(emit, f, `v.${f.name}`, '    ', 0)
    emit('  }')
  }
  emit('  w.writeFieldStop()')
  emit('  w.writeStructEnd()')
  emit('}')
  emit()
}

function typeOf(f) {
  return f.type ?? { typeId: f.typeId }
}

function tsType(f) {
  const t = typeOf(f)
  switch (t.typeId) {
    case 'bool': return 'boolean'
    case 'byte': case 'i8': case 'i16': case 'i32': case 'i64': case 'double': return 'number'
    case 'string': return 'string'
    case 'binary': return 'Uint8Array'
    case 'struct': case 'exception': case 'union': return t.class
    case 'list': return `${tsType({ typeId: t.elemTypeId, type: t.elemType })}[]`
    case 'set': return `Set<${tsType({ typeId: t.elemTypeId, type: t.elemType })}>`
    case 'map': return `Record<string, ${tsType({ typeId: t.valueTypeId, type: t.valueType })}>`
    default: throw new Error(`gen: unsupported type ${t.typeId}`)
  }
}

function initValue(f) {
  if (f.default !== undefined) return JSON.stringify(f.default)
  const t = typeOf(f)
  switch (t.typeId) {
    case 'bool': return 'false'
    case 'byte': case 'i8': case 'i16': case 'i32': case 'i64': case 'double': return '0'
    case 'string': return "''"
    case 'binary': return 'EMPTY'
    case 'list': return '[]'
    case 'set': return 'new Set()'
    case 'map': return '{}'
    default: return `undefined as unknown as ${tsType(f)}`
  }
}

const READ = {
  bool: 'r.readBool()', byte: 'r.readByte()', i8: 'r.readByte()', i16: 'r.readI16()', i32: 'r.readI32()',
  i64: 'r.readI64()', double: 'r.readDouble()', string: 'r.readString()', binary: 'r.readBinary()',
}
const WRITE = {
  bool: 'writeBool', byte: 'writeByte', i8: 'writeByte', i16: 'writeI16', i32: 'writeI32', i64: 'writeI64',
  double: 'writeDouble', string: 'writeString', binary: 'writeBinary',
}

function emitRead(emit, f, target, ind, depth) {
  const t = typeOf(f)
  if (READ[t.typeId]) return emit(`${ind}${target} = ${READ[t.typeId]}`)
  if (t.class) return emit(`${ind}${target} = read${t.class}(r)`)
  const n = `n${depth}`, i = `i${depth}`, x = `x${depth}`
  const elem = { typeId: t.elemTypeId, type: t.elemType }
  if (t.typeId === 'list') {
    emit(`${ind}const ${n} = r.readListBegin(${TTYPE[t.elemTypeId]})`)
    emit(`${ind}const ${x}: ${tsType(elem)}[] = []`)
    emit(`${ind}for (let ${i} = 0; ${i} < ${n}; ${i}++) {`)
    emitRead(emit, elem, `const e${depth}`, ind + '  ', depth + 1)
    emit(`${ind}  ${x}.push(e${depth})`)
    emit(`${ind}}`)
    emit(`${ind}r.readListEnd()`)
  } else if (t.typeId === 'set') {
    emit(`${ind}const ${n} = r.readSetBegin(${TTYPE[t.elemTypeId]})`)
    emit(`${ind}const ${x} = new Set<${tsType(elem)}>()`)
    emit(`${ind}for (let ${i} = 0; ${i} < ${n}; ${i}++) {`)
    emitRead(emit, elem, `const e${depth}`, ind + '  ', depth + 1)
    emit(`${ind}  ${x}.add(e${depth})`)
    emit(`${ind}}`)
    emit(`${ind}r.readSetEnd()`)
  } else if (t.typeId === 'map') {
    if (t.keyTypeId !== 'string') throw new Error('gen: map keys must be strings')
    const val = { typeId: t.valueTypeId, type: t.valueType }
    emit(`${ind}const ${n} = r.readMapBegin(${TTYPE[t.keyTypeId]}, ${TTYPE[t.valueTypeId]})`)
    emit(`${ind}const ${x}: Record<string, ${tsType(val)}> = {}`)
    emit(`${ind}for (let ${i} = 0; ${i} < ${n}; ${i}++) {`)
    emit(`${ind}  const k${depth} = r.readString()`)
    emit(`${ind}  let v${depth}: ${tsType(val)}`)
    emitRead(emit, val, `v${depth}`, ind + '  ', depth + 1)
    emit(`${ind}  setEntry(${x}, k${depth}, v${depth})`)
    emit(`${ind}}`)
    emit(`${ind}r.readMapEnd()`)
  } else {
    throw new Error(`gen: unsupported type ${t.typeId}`)
  }
  emit(`${ind}${target} = ${x}`)
}

function emitWrite(emit, f, value, ind, depth) {
  const t = typeOf(f)
  if (WRITE[t.typeId]) return emit(`${ind}w.${WRITE[t.typeId]}(${value})`)
  if (t.class) return emit(`${ind}write${t.class}(w, ${value})`)
  const e = `e${depth}`
  const elem = { typeId: t.elemTypeId, type: t.elemType }
  if (t.typeId === 'list' || t.typeId === 'set') {
    const begin = t.typeId === 'list' ? 'writeListBegin' : 'writeSetBegin'
    const size = t.typeId === 'list' ? `${value}.length` : `${value}.size`
    emit(`${ind}w.${begin}(${TTYPE[t.elemTypeId]}, ${size})`)
    emit(`${ind}for (const ${e} of ${value}) {`)
    emitWrite(emit, elem, e, ind + '  ', depth + 1)
    emit(`${ind}}`)
    emit(`${ind}w.${t.typeId === 'list' ? 'writeListEnd' : 'writeSetEnd'}()`)
  } else if (t.typeId === 'map') {
    const val = { typeId: t.valueTypeId, type: t.valueType }
    const keys = `k${depth}`
    emit(`${ind}const ${keys} = Object.keys(${value})`)
    emit(`${ind}w.writeMapBegin(${TTYPE[t.keyTypeId]}, ${TTYPE[t.valueTypeId]}, ${keys}.length)`)
    emit(`${ind}for (const ${e} of ${keys}) {`)
    emit(`${ind}  w.writeString(${e})`)
    emitWrite(emit, val, `${value}[${e}]`, ind + '  ', depth + 1)
    emit(`${ind}}`)
    emit(`${ind}w.writeMapEnd()`)
  } else {
    throw new Error(`gen: unsupported type ${t.typeId}`)
  }
}

function emitDoc(emit, doc) {
  if (doc) emit(docComment(doc, '').trimEnd())
}

function docComment(doc, ind) {
  if (!doc) return ''
  const lines = doc.trim().split('\n')
  return `${ind}/**\n${lines.map((l) => `${ind} * ${l}`.trimEnd()).join('\n')}\n${ind} */\n`
}

const PRELUDE = `/** Wire type ids, numbered as TBinaryProtocol numbers them. TCompactProtocol maps them on the wire. */
export const T_STOP = 0
export const T_BOOL = 2
export const T_BYTE = 3
export const T_DOUBLE = 4
export const T_I16 = 6
export const T_I32 = 8
export const T_I64 = 10
export const T_STRING = 11
export const T_STRUCT = 12
export const T_MAP = 13
export const T_SET = 14
export const T_LIST = 15

/** Thrift message types. */
export const MESSAGE_CALL = 1
export const MESSAGE_REPLY = 2
export const MESSAGE_EXCEPTION = 3
export const MESSAGE_ONEWAY = 4

const EMPTY = new Uint8Array(0)

/** Sets a decoded map entry. A "__proto__" key becomes an own property too: plain assignment would set the prototype and lose it. */
function setEntry<V>(o: Record<string, V>, k: string, v: V): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
  else o[k] = v
}

/**
 * What the generated readers need from a protocol. src/wire implements it for binary and compact.
 * Readers never throw for "need more bytes": they set a flag the caller checks (see src/wire).
 */
export interface ProtocolReader {
  /** The id of the field that the last readFieldBegin() returned. */
  readonly fieldId: number
  readStructBegin(): void
  readStructEnd(): void
  /** Returns the next field's wire type, T_STOP at the end of the struct. */
  readFieldBegin(): number
  /** Returns the element count; the element type must be the expected one. */
  readListBegin(elemType: number): number
  readListEnd(): void
  readSetBegin(elemType: number): number
  readSetEnd(): void
  readMapBegin(keyType: number, valueType: number): number
  readMapEnd(): void
  readBool(): boolean
  readByte(): number
  readI16(): number
  readI32(): number
  /** i64 as a number: exact up to 2^53. */
  readI64(): number
  readDouble(): number
  readString(): string
  readBinary(): Uint8Array
  skip(type: number): void
}

/** What the generated writers need from a protocol. */
export interface ProtocolWriter {
  writeStructBegin(): void
  writeStructEnd(): void
  writeFieldBegin(type: number, id: number): void
  writeFieldStop(): void
  writeListBegin(elemType: number, size: number): void
  writeListEnd(): void
  writeSetBegin(elemType: number, size: number): void
  writeSetEnd(): void
  writeMapBegin(keyType: number, valueType: number, size: number): void
  writeMapEnd(): void
  writeBool(v: boolean): void
  writeByte(v: number): void
  writeI16(v: number): void
  writeI32(v: number): void
  writeI64(v: number): void
  writeDouble(v: number): void
  writeString(v: string): void
  writeBinary(v: Uint8Array): void
}

/** One method of a service: how to read and write its arguments and its result. */
export interface MethodCodec<A, R> {
  readonly name: string
  readonly oneway: boolean
  /** Result field name -> exception struct name, for the exceptions the method declares. */
  readonly exceptions: Record<string, string>
  readArgs(r: ProtocolReader): A
  writeArgs(w: ProtocolWriter, args: A): void
  readResult(r: ProtocolReader): R
  writeResult(w: ProtocolWriter, result: R): void
}
`

main()

function main() {
  const check = process.argv.includes('--check')
  const work = mkdtempSync(join(tmpdir(), 'thriftbus-gen-'))
  try {
    const files = build(work)
    if (!check) {
      rmSync(join(outDir, 'js'), { recursive: true, force: true })
      mkdirSync(join(outDir, 'js'), { recursive: true })
      for (const [path, text] of files) writeFileSync(join(outDir, path), text)
      return
    }
    const stale = [...files].filter(([path, text]) => !existsSync(join(outDir, path)) || readFileSync(join(outDir, path), 'utf8') !== text)
    if (stale.length > 0) {
      console.error(`gen: src/gen is out of date with idl/thriftbus.thrift (${stale.map(([p]) => p).join(', ')}); run \`npm run gen\``)
      process.exit(1)
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

/** Generates everything into memory: path under src/gen -> text. */
function build(work) {
  const files = new Map()
  execFileSync('thrift', ['--gen', 'json', '-out', work, idl], { stdio: 'inherit' })
  const doc = JSON.parse(readFileSync(join(work, 'thriftbus.json'), 'utf8'))
  files.set('thriftbus.ts', generate(doc))
  const jsWork = join(work, 'js')
  mkdirSync(jsWork)
  execFileSync('thrift', ['--gen', 'js:node,ts,es6', '-out', jsWork, idl], { stdio: 'inherit' })
  for (const f of readdirSync(jsWork)) files.set(join('js', f), readFileSync(join(jsWork, f), 'utf8'))
  files.set(join('js', 'package.json'), JSON.stringify({ type: 'commonjs' }, null, 2) + '\n')
  return files
}
