/**
 * Generic struct copy (src/wire/struct-copy.ts): every protocol pair, against the generated codec byte for byte,
 * exact 64-bit and double values, the raw fast path, and bad input that must fail with a ProtocolError.
 */
import t from 'tap'
import {
  MESSAGE_CALL, T_BOOL, T_BYTE, T_DOUBLE, T_I16, T_I32, T_I64, T_LIST, T_MAP, T_SET, T_STOP, T_STRING, T_STRUCT,
  readDaemonStatus, readMessage, writeDaemonStatus, writeMessage,
  type DaemonStatus, type Message, type ProtocolReader, type ProtocolWriter,
} from '../../src/gen/thriftbus.js'
import { BinaryReader } from '../../src/wire/binary-reader.js'
import { BinaryWriter } from '../../src/wire/binary-writer.js'
import { CompactReader } from '../../src/wire/compact-reader.js'
import { CompactWriter } from '../../src/wire/compact-writer.js'
import { createWriter, FrameReader, type ProtocolName } from '../../src/wire/frame-reader.js'
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../src/wire/limits.js'
import { ProtocolError } from '../../src/wire/protocol-error.js'
import type { WireReader } from '../../src/wire/reader.js'
import type { WireWriter } from '../../src/wire/writer.js'
import { captureStruct, copyStruct, protocolOf, writeStructBytes, type StructBytes } from '../../src/wire/struct-copy.js'
import { FORMATS, fmtName, normMessage } from './fixtures/wire.js'

const PROTOS: ProtocolName[] = ['binary', 'compact']
const PAIRS = PROTOS.flatMap((from) => PROTOS.map((to) => [from, to] as const))

function writerFor(p: ProtocolName, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): WireWriter {
  return p === 'binary' ? new BinaryWriter(false, maxBytes) : new CompactWriter(false, maxBytes)
}

function readerFor(p: ProtocolName, bytes: Buffer, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): WireReader {
  const r = p === 'binary' ? new BinaryReader(maxBytes) : new CompactReader(maxBytes)
  r.reset(bytes, 0, bytes.length)
  return r
}

function encode(p: ProtocolName, fn: (w: ProtocolWriter) => void): Buffer {
  const w = writerFor(p)
  fn(w)
  return Buffer.from(w.take() ?? Buffer.alloc(0))
}

/** Copies the struct in bytes (protocol from) into a fresh writer of protocol to. */
function transcode(from: ProtocolName, to: ProtocolName, bytes: Buffer, maxOutBytes?: number): { out: Buffer; pos: number } {
  const r = readerFor(from, bytes)
  const w = writerFor(to)
  copyStruct(r, w, maxOutBytes)
  return { out: Buffer.from(w.take() ?? Buffer.alloc(0)), pos: r.pos }
}

function decode<T>(p: ProtocolName, bytes: Buffer, read: (r: ProtocolReader) => T): T {
  const r = readerFor(p, bytes)
  const v = read(r)
  if (r.underrun) throw new Error('decode ran out of bytes')
  if (r.pos !== bytes.length) throw new Error(`decode stopped at ${r.pos} of ${bytes.length}`)
  return v
}

/** Decodes any struct into a tree of [fieldId, type, value], so that two encodings can be compared. */
function readAny(r: ProtocolReader): unknown {
  const value = (t: number): unknown => {
    switch (t) {
      case T_BOOL: return r.readBool()
      case T_BYTE: return r.readByte()
      case T_I16: return r.readI16()
      case T_I32: return r.readI32()
      case T_I64: return r.readI64()
      case T_DOUBLE: return r.readDouble()
      case T_STRING: return Buffer.from(r.readBinary()).toString('hex')
      case T_STRUCT: return readAny(r)
      case T_LIST:
      case T_SET: {
        const n = t === T_LIST ? r.readListBegin(-1) : r.readSetBegin(-1)
        const elem = (r as WireReader).elemType
        const out = Array.from({ length: n }, () => value(elem))
        if (t === T_LIST) r.readListEnd()
        else r.readSetEnd()
        return { elem: n > 0 ? elem : undefined, out }
      }
      case T_MAP: {
        const n = r.readMapBegin(-1, -1)
        const k = (r as WireReader).keyType
        const v = (r as WireReader).valueType
        const out = Array.from({ length: n }, () => [value(k), value(v)])
        r.readMapEnd()
        return { types: n > 0 ? [k, v] : undefined, out }
      }
      default: throw new Error(`type ${t}`)
    }
  }
  const fields: unknown[] = []
  r.readStructBegin()
  for (let t = r.readFieldBegin(); t !== T_STOP; t = r.readFieldBegin()) {
    const id = r.fieldId
    fields.push([id, t, value(t)])
  }
  r.readStructEnd()
  return fields
}

const MESSAGES: Record<string, Message> = {
  'every field set, headers and body': {
    sender: 'alice', recipient: 'jobs.worker-1', content: 'héllo 🎉 wörld', id: 2 ** 40 + 3, sentAtMs: 1_700_000_000_123,
    body: Uint8Array.from([0, 1, 0x7f, 0x80, 0xff]), headers: { 'content-type': 'text/plain', emoji: '👍🏽', empty: '' },
    ttlMs: -1, deliveryCount: 2_147_483_647, topic: 'a.b.c',
  },
  'no optional fields, long content': { sender: 'a', recipient: 'b', content: 'x'.repeat(300) },
  'many headers (long compact map header)': {
    sender: 's', recipient: 'r', content: '', headers: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, `v${i}`])),
  },
  'negative i64 values': { sender: 's', recipient: 'r', content: 'c', id: -1, sentAtMs: -(2 ** 53 - 1) },
}

const STATUS: DaemonStatus = {
  pid: 4242, version: '0.1.0-β', endpoint: '/run/user/1000/thriftbus/bus.sock', startedAtMs: 1_700_000_000_000,
  uptimeMs: 2 ** 33 + 7, connections: 3,
  mailboxes: Array.from({ length: 17 }, (_, i) => ({
    name: `m${i}`, depth: i, bytes: i * 1000, waiters: i % 3, leased: i * 2, expired: 0, deadLettered: -i,
  })),
  stateDir: '/home/u/.local/state/thriftbus', durability: 'durable',
  services: [{ name: 'UserService', providers: 2, calls: 2 ** 40, inFlight: 5, failures: 1 }],
  helpers: [
    { serviceName: 'UserService', command: ['node', 'user-svc.js', '--port', ''], pid: 0, state: 'idle', restarts: 0, lastError: '' },
    { serviceName: 'Empty', command: [], pid: 17, state: 'running', restarts: 3, lastError: 'exited 1' },
  ],
  subscriptions: [
    { id: 1, pattern: 'a.*', durableName: '', queued: 0, dropped: 0, delivered: 9, maxQueued: 100, attached: true },
    { id: 2, pattern: 'b.>', durableName: 'd', queued: 5, dropped: 1, delivered: 0, maxQueued: 0, attached: false },
  ],
}

/** A struct that uses every wire type, nested containers of each, and field ids in every header form. */
function writeEverything(w: ProtocolWriter): void {
  const field = (type: number, id: number, fn: () => void): void => {
    w.writeFieldBegin(type, id)
    fn()
  }
  const strings = ['', 'a', 'ü'.repeat(50), '🎉']
  w.writeStructBegin()
  field(T_BOOL, 1, () => w.writeBool(true))
  field(T_BOOL, 2, () => w.writeBool(false))
  field(T_BYTE, 3, () => w.writeByte(-128))
  field(T_BYTE, 4, () => w.writeByte(127))
  field(T_I16, 5, () => w.writeI16(-32768))
  field(T_I16, 6, () => w.writeI16(32767))
  field(T_I32, 7, () => w.writeI32(-2147483648))
  field(T_I32, 8, () => w.writeI32(2147483647))
  field(T_I64, 9, () => w.writeI64(-(2 ** 53) + 1))
  field(T_I64, 10, () => w.writeI64(2 ** 53 - 1))
  field(T_DOUBLE, 11, () => w.writeDouble(-1.5e300))
  field(T_STRING, 12, () => w.writeString('héllo 🎉'))
  field(T_STRING, 40, () => w.writeBinary(Uint8Array.from([0, 0xff, 0xfe, 0x80]))) // delta 28: long form
  field(T_STRUCT, 30, () => { // a smaller id after a larger one: long form
    w.writeStructBegin()
    field(T_I32, 1, () => w.writeI32(7))
    field(T_STRUCT, 2, () => {
      w.writeStructBegin()
      field(T_BOOL, 100, () => w.writeBool(true))
      w.writeFieldStop()
      w.writeStructEnd()
    })
    field(T_BOOL, 3, () => w.writeBool(false)) // after the nested struct: field ids resume from the outer ones
    w.writeFieldStop()
    w.writeStructEnd()
  })
  field(T_LIST, 31, () => {
    const bools = [true, false, false, true]
    w.writeListBegin(T_BOOL, bools.length)
    for (const b of bools) w.writeBool(b)
    w.writeListEnd()
  })
  field(T_LIST, 32, () => {
    w.writeListBegin(T_BYTE, 3)
    for (const b of [-1, 0, 1]) w.writeByte(b)
    w.writeListEnd()
  })
  field(T_LIST, 33, () => {
    w.writeListBegin(T_I16, 2)
    w.writeI16(-2)
    w.writeI16(300)
    w.writeListEnd()
  })
  field(T_SET, 34, () => {
    w.writeSetBegin(T_I32, 20) // 20 elements: the long compact list header
    for (let i = 0; i < 20; i++) w.writeI32(i * 1000 - 5000)
    w.writeSetEnd()
  })
  field(T_LIST, 35, () => {
    w.writeListBegin(T_I64, 3)
    for (const v of [0, -1, 2 ** 50]) w.writeI64(v)
    w.writeListEnd()
  })
  field(T_LIST, 36, () => {
    w.writeListBegin(T_DOUBLE, 3)
    for (const v of [0.1, -0, Infinity]) w.writeDouble(v)
    w.writeListEnd()
  })
  field(T_SET, 37, () => {
    w.writeSetBegin(T_STRING, strings.length)
    for (const s of strings) w.writeString(s)
    w.writeSetEnd()
  })
  field(T_LIST, 38, () => {
    w.writeListBegin(T_STRUCT, 2)
    for (let i = 0; i < 2; i++) {
      w.writeStructBegin()
      field(T_STRING, 1, () => w.writeString(`s${i}`))
      field(T_BOOL, 2, () => w.writeBool(i === 0))
      w.writeFieldStop()
      w.writeStructEnd()
    }
    w.writeListEnd()
  })
  field(T_LIST, 39, () => {
    w.writeListBegin(T_LIST, 2)
    w.writeListBegin(T_I32, 2)
    w.writeI32(1)
    w.writeI32(2)
    w.writeListEnd()
    w.writeListBegin(T_I32, 0)
    w.writeListEnd()
    w.writeListEnd()
  })
  field(T_MAP, 41, () => {
    w.writeMapBegin(T_STRING, T_I32, 2)
    w.writeString('one')
    w.writeI32(1)
    w.writeString('two')
    w.writeI32(2)
    w.writeMapEnd()
  })
  field(T_MAP, 42, () => {
    w.writeMapBegin(T_I32, T_LIST, 1)
    w.writeI32(-9)
    w.writeListBegin(T_STRING, 2)
    w.writeString('x')
    w.writeString('y')
    w.writeListEnd()
    w.writeMapEnd()
  })
  field(T_MAP, 43, () => {
    w.writeMapBegin(T_STRING, T_MAP, 1)
    w.writeString('outer')
    w.writeMapBegin(T_BOOL, T_DOUBLE, 2)
    w.writeBool(true)
    w.writeDouble(2.5)
    w.writeBool(false)
    w.writeDouble(-2.5)
    w.writeMapEnd()
    w.writeMapEnd()
  })
  field(T_MAP, 44, () => {
    w.writeMapBegin(T_I64, T_STRUCT, 1)
    w.writeI64(2 ** 33)
    w.writeStructBegin()
    w.writeFieldStop()
    w.writeStructEnd()
    w.writeMapEnd()
  })
  field(T_SET, 45, () => {
    w.writeSetBegin(T_MAP, 1)
    w.writeMapBegin(T_BYTE, T_I16, 1)
    w.writeByte(5)
    w.writeI16(-5)
    w.writeMapEnd()
    w.writeSetEnd()
  })
  field(T_I32, -1, () => w.writeI32(-1)) // negative ids (implicit ids in old IDLs)
  field(T_I32, 32767, () => w.writeI32(32767))
  w.writeFieldStop()
  w.writeStructEnd()
}

for (const [from, to] of PAIRS) {
  t.test(`${from} -> ${to}: Messages copy to the bytes the generated codec writes, and decode the same`, async (t) => {
    for (const [label, m] of Object.entries(MESSAGES)) {
      const input = encode(from, (w) => writeMessage(w, m))
      const { out, pos } = transcode(from, to, input)
      t.equal(pos, input.length, `${label}: the whole struct was read`)
      t.equal(out.toString('hex'), encode(to, (w) => writeMessage(w, m)).toString('hex'), `${label}: same bytes`)
      t.same(normMessage(decode(to, out, readMessage)), normMessage(m), `${label}: decodes to the same Message`)
    }
  })

  t.test(`${from} -> ${to}: a DaemonStatus with nested lists of structs, strings and bools copies exactly`, async (t) => {
    const input = encode(from, (w) => writeDaemonStatus(w, STATUS))
    const { out } = transcode(from, to, input)
    t.equal(out.toString('hex'), encode(to, (w) => writeDaemonStatus(w, STATUS)).toString('hex'))
    t.same(decode(to, out, readDaemonStatus), STATUS)
  })

  t.test(`${from} -> ${to}: a struct with every type, nested maps, sets and lists, and every field-id form copies exactly`, async (t) => {
    const input = encode(from, writeEverything)
    const { out, pos } = transcode(from, to, input)
    t.equal(pos, input.length)
    t.equal(out.toString('hex'), encode(to, writeEverything).toString('hex'), 'same bytes as writing it directly')
    t.same(decode(to, out, readAny), decode(from, input, readAny), 'same tree of ids, types and values')
  })
}

t.test('an empty map keeps its types binary -> compact -> binary only as far as compact can carry them', async (t) => {
  const m: Message = { sender: '', recipient: '', content: '', headers: {} }
  const bin = encode('binary', (w) => writeMessage(w, m))
  const compact = transcode('binary', 'compact', bin).out
  t.equal(compact.toString('hex'), encode('compact', (w) => writeMessage(w, m)).toString('hex'))
  const back = transcode('compact', 'binary', compact).out
  // Compact writes an empty map as one 0 byte, without types: binary gets "none" (0, 0), as Apache's readers report.
  t.equal(back.toString('hex'), bin.toString('hex').replace('0d00070b0b00000000', '0d0007000000000000'))
  t.same(normMessage(decode('binary', back, readMessage)), normMessage(m), 'and the generated reader accepts it')

  // After a non-empty map, too: the compact reader's key and value types are left from that one, and not used.
  const twoMaps = encode('compact', (w) => {
    w.writeStructBegin()
    w.writeFieldBegin(T_MAP, 1)
    w.writeMapBegin(T_STRING, T_I32, 1)
    w.writeString('k')
    w.writeI32(1)
    w.writeMapEnd()
    w.writeFieldBegin(T_MAP, 2)
    w.writeMapBegin(T_STRING, T_I32, 0)
    w.writeMapEnd()
    w.writeFieldStop()
    w.writeStructEnd()
  })
  t.equal(transcode('compact', 'binary', twoMaps).out.toString('hex'), '0d0001' + '0b0800000001' + '000000016b' + '00000001' + '0d0002' + '000000000000' + '00')
})

// Exact 64-bit values and double bits, built by hand: the generated writers only take numbers.
const I64S = [0n, 1n, -1n, 2n ** 53n + 1n, -(2n ** 53n) - 3n, 2n ** 63n - 1n, -(2n ** 63n), 0x123456789abcdef0n, -0x0fedcba987654321n, 2n ** 31n, -(2n ** 32n)]
const DOUBLE_BITS = ['7ff8000000000001', '8000000000000000', '7ff0000000000000', '0000000000000001', 'fff0000000000000', '3fb999999999999a']

function compactVarint(z: bigint): number[] {
  const out: number[] = []
  while (z >= 128n) {
    out.push(Number(z & 0x7fn) | 0x80)
    z >>= 7n
  }
  out.push(Number(z))
  return out
}

function exactStruct(p: ProtocolName): Buffer {
  const bytes: number[] = []
  I64S.forEach((v, i) => {
    if (p === 'binary') {
      const b = Buffer.alloc(8)
      b.writeBigInt64BE(v)
      bytes.push(T_I64, 0, i + 1, ...b)
    } else {
      bytes.push((1 << 4) | 6, ...compactVarint(BigInt.asUintN(64, (v << 1n) ^ (v >> 63n))))
    }
  })
  DOUBLE_BITS.forEach((hex, i) => {
    const be = Buffer.from(hex, 'hex')
    if (p === 'binary') bytes.push(T_DOUBLE, 0, 100 + i, ...be)
    else bytes.push(i === 0 ? 7 : (1 << 4) | 7, ...(i === 0 ? [0xc8, 0x01] : []), ...Buffer.from(be).reverse())
  })
  bytes.push(0)
  return Buffer.from(bytes)
}

t.test('every 64-bit integer and every double bit pattern survives each protocol pair exactly', async (t) => {
  for (const [from, to] of PAIRS) {
    t.equal(transcode(from, to, exactStruct(from)).out.toString('hex'), exactStruct(to).toString('hex'), `${from} -> ${to}`)
  }
})

t.test('a string that is not valid UTF-8 is copied byte for byte', async (t) => {
  const bad = Uint8Array.from([0xc3, 0x28, 0xff, 0xed, 0xa0, 0x80])
  for (const [from, to] of PAIRS) {
    const input = encode(from, (w) => {
      w.writeStructBegin()
      w.writeFieldBegin(T_STRING, 1)
      w.writeBinary(bad)
      w.writeFieldStop()
      w.writeStructEnd()
    })
    const out = transcode(from, to, input).out
    const r = readerFor(to, out)
    r.readStructBegin()
    t.equal(r.readFieldBegin(), T_STRING)
    t.equal(Buffer.from(r.readBinary()).toString('hex'), Buffer.from(bad).toString('hex'), `${from} -> ${to}`)
  }
})

t.test('copyStruct appends to what the writer holds, inside a message', async (t) => {
  const m = MESSAGES['every field set, headers and body']!
  for (const [from, to] of PAIRS) {
    const w = createWriter({ protocol: to, transport: 'framed' }, DEFAULT_MAX_MESSAGE_BYTES)
    w.beginMessage('sendMessage', MESSAGE_CALL, 77)
    copyStruct(readerFor(from, encode(from, (x) => writeMessage(x, { ...m }))), w)
    w.endMessage()
    const got = new FrameReader(DEFAULT_MAX_MESSAGE_BYTES)
    got.push(Buffer.from(w.take()!))
    const msg = got.next((_h, r) => readMessage(r))
    t.same({ name: msg?.name, type: msg?.type, seqid: msg?.seqid }, { name: 'sendMessage', type: MESSAGE_CALL, seqid: 77 }, `${from} -> ${to}`)
    t.same(normMessage(msg!.body), normMessage(m))
  }
})

t.test('captureStruct keeps a private copy of exactly the struct, from a stream split at every byte', async (t) => {
  const m = MESSAGES['every field set, headers and body']!
  for (const format of FORMATS) {
    const w = createWriter(format, DEFAULT_MAX_MESSAGE_BYTES)
    w.beginMessage('UserService:getUser', MESSAGE_CALL, 5)
    writeMessage(w, m)
    w.endMessage()
    const bytes = Buffer.from(w.take()!)
    const want = encode(format.protocol, (x) => writeMessage(x, m)).toString('hex')
    const problems: string[] = []
    for (let cut = 1; cut < bytes.length; cut++) {
      const reader = new FrameReader(DEFAULT_MAX_MESSAGE_BYTES)
      reader.push(Buffer.from(bytes.subarray(0, cut)))
      const first = reader.next((_h, r) => captureStruct(r))
      if (first) problems.push(`cut ${cut}: a message before its last byte`)
      const chunk = Buffer.from(bytes.subarray(cut))
      reader.push(chunk)
      const msg = reader.next((_h, r) => captureStruct(r))
      chunk.fill(0) // the capture must not alias the connection's buffers
      if (!msg) problems.push(`cut ${cut}: no message`)
      else if (msg.body.protocol !== format.protocol || msg.body.bytes.toString('hex') !== want) problems.push(`cut ${cut}: wrong bytes`)
    }
    // One whole chunk is read in place, without a copy: the capture must still be its own.
    const reader = new FrameReader(DEFAULT_MAX_MESSAGE_BYTES)
    const chunk = Buffer.from(bytes)
    reader.push(chunk)
    const msg = reader.next((_h, r) => captureStruct(r))
    chunk.fill(0)
    if (msg?.body.bytes.toString('hex') !== want) problems.push('read in place: the capture aliases the chunk')
    t.same(problems, [], fmtName(format))
  }
})

t.test('captureStruct leaves the reader just past the struct, and flags an incomplete one as an underrun', async (t) => {
  const s = encode('compact', writeEverything)
  const r = readerFor('compact', Buffer.concat([s, Buffer.from([0xaa, 0xbb])]))
  const got = captureStruct(r)
  t.equal(r.pos, s.length)
  t.equal(got.bytes.toString('hex'), s.toString('hex'))
  const short = readerFor('compact', s.subarray(0, s.length - 1))
  t.equal(captureStruct(short).bytes.length, 0)
  t.equal(short.underrun, true)
  t.equal(protocolOf(short), 'compact')
})

t.test('writeStructBytes relays same-protocol bytes as they are when the writer can append raw bytes, else copies', async (t) => {
  // Field 1 in the compact long form (type byte, then zigzag id) where the short form would do: valid, not canonical.
  const odd: StructBytes = { protocol: 'compact', bytes: Buffer.from([0x05, 0x02, 0x54, 0x00]) }
  const canonical = Buffer.from([0x15, 0x54, 0x00])
  const take = (w: WireWriter): string => Buffer.from(w.take()!).toString('hex')

  const raw = new CompactWriter(false, DEFAULT_MAX_MESSAGE_BYTES)
  writeStructBytes(raw, odd)
  t.equal(take(raw), odd.bytes.toString('hex'), 'compact to a compact writer: the bytes as they came')

  const plain = writerFor('compact')
  Object.defineProperty(plain, 'writeRaw', { value: undefined })
  writeStructBytes(plain, odd)
  t.equal(take(plain), canonical.toString('hex'), 'compact to a compact writer without writeRaw: a generic copy')

  const bin = new BinaryWriter(false, DEFAULT_MAX_MESSAGE_BYTES)
  writeStructBytes(bin, odd)
  t.equal(take(bin), '080001' + '0000002a' + '00', 'compact to binary: transcoded, raw or not')

  const everything = encode('binary', writeEverything)
  const rawBin = new BinaryWriter(false, DEFAULT_MAX_MESSAGE_BYTES)
  writeStructBytes(rawBin, { protocol: 'binary', bytes: everything })
  t.equal(take(rawBin), everything.toString('hex'))
  t.throws(() => writeStructBytes(new BinaryWriter(false, 100), { protocol: 'binary', bytes: everything }),
    { name: 'ProtocolError', tooLarge: true }, 'the raw path keeps the size limit')
})

// Bad input: each case must end with a ProtocolError, at once.

function nestedStructs(p: ProtocolName, levels: number): Buffer {
  // levels structs in all: the outer one, then levels - 1 nested as field 1 of the one before
  const head = p === 'binary' ? [T_STRUCT, 0, 1] : [(1 << 4) | 12]
  const bytes: number[] = []
  for (let i = 1; i < levels; i++) bytes.push(...head)
  for (let i = 0; i < levels; i++) bytes.push(0)
  return Buffer.from(bytes)
}

function nestedLists(p: ProtocolName, levels: number): Buffer {
  // a struct with field 1 a list holding one list holding one list ... the innermost empty
  const bytes: number[] = p === 'binary' ? [T_LIST, 0, 1] : [(1 << 4) | 9]
  for (let i = 1; i < levels; i++) bytes.push(...(p === 'binary' ? [T_LIST, 0, 0, 0, 1] : [(1 << 4) | 9]))
  bytes.push(...(p === 'binary' ? [T_I32, 0, 0, 0, 0] : [0x05]))
  bytes.push(0)
  return Buffer.from(bytes)
}

t.test('nesting deeper than 64 is a ProtocolError; 64 levels copy', async (t) => {
  for (const [from, to] of PAIRS) {
    t.equal(transcode(from, to, nestedStructs(from, 64)).out.toString('hex'), nestedStructs(to, 64).toString('hex'), `${from} -> ${to}: 64 structs`)
    t.throws(() => transcode(from, to, nestedStructs(from, 65)), { name: 'ProtocolError', message: /nested deeper than 64/ }, `${from} -> ${to}: 65 structs`)
    t.equal(transcode(from, to, nestedLists(from, 63)).out.toString('hex'), nestedLists(to, 63).toString('hex'), `${from} -> ${to}: a struct and 63 lists`)
    t.throws(() => transcode(from, to, nestedLists(from, 64)), { name: 'ProtocolError', message: /nested deeper than 64/ }, `${from} -> ${to}: a struct and 64 lists`)
    t.throws(() => transcode(from, to, nestedStructs(from, 100_000)), { name: 'ProtocolError' }, `${from} -> ${to}: 100,000 levels end at 65, without a stack overflow`)
  }
})

t.test('a struct cut short at any byte is a truncation ProtocolError, for every protocol pair', async (t) => {
  for (const [from, to] of PAIRS) {
    const whole = encode(from, writeEverything)
    const wrong: string[] = []
    for (let cut = 0; cut < whole.length; cut++) {
      try {
        transcode(from, to, whole.subarray(0, cut))
        wrong.push(`cut ${cut}: no error`)
      } catch (err) {
        if (!(err instanceof ProtocolError) || !/truncated/.test(err.message)) wrong.push(`cut ${cut}: ${String(err)}`)
      }
    }
    t.same(wrong, [], `${from} -> ${to}: all ${whole.length} cuts`)
  }
})

t.test('absurd declared sizes fail at once, without allocating for them', async (t) => {
  const cases: [string, ProtocolName, number[], RegExp][] = [
    ['binary list of a million i64 in a few bytes', 'binary', [T_LIST, 0, 1, T_I64, 0x00, 0x0f, 0x42, 0x40, 0, 0], /truncated/],
    ['binary list of 2^31 - 1 elements', 'binary', [T_LIST, 0, 1, T_I64, 0x7f, 0xff, 0xff, 0xff, 0], /over the \d+-byte message limit/],
    ['binary string of length -1', 'binary', [T_STRING, 0, 1, 0xff, 0xff, 0xff, 0xff, 0], /negative length/],
    ['binary map of 2^30 entries', 'binary', [T_MAP, 0, 1, T_STRING, T_STRING, 0x40, 0, 0, 0, 0], /over the/],
    ['binary list of negative size', 'binary', [T_LIST, 0, 1, T_I32, 0x80, 0, 0, 0, 0], /negative container size/],
    ['binary field of unknown type 0x11', 'binary', [0x11, 0, 1, 0], /unknown Thrift type id 17/],
    ['binary list of unknown element type', 'binary', [T_LIST, 0, 1, 0x01, 0, 0, 0, 1, 0, 0], /unknown Thrift type id 1/],
    ['compact list of 2^21 strings in a few bytes', 'compact', [0x19, 0xf8, 0x80, 0x80, 0x80, 0x01, 0], /truncated/],
    ['compact list of 2^28 strings', 'compact', [0x19, 0xf8, 0x80, 0x80, 0x80, 0x80, 0x01, 0], /over the \d+-byte message limit/],
    ['compact string of length 2^32 - 1', 'compact', [0x18, 0xff, 0xff, 0xff, 0xff, 0x0f, 0], /over the|negative/],
    ['compact i64 varint of 11 bytes', 'compact', [0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0], /varint longer than 10 bytes/],
    ['compact i16 out of range', 'compact', [0x14, 0x80, 0x80, 0x04, 0], /i16 value 32768 is out of range/],
    ['compact field of unknown type 13', 'compact', [0x1d, 0], /unknown compact type id 13/],
  ]
  for (const [label, from, bytes, why] of cases) {
    for (const to of PROTOS) {
      t.throws(() => transcode(from, to, Buffer.from(bytes)), { name: 'ProtocolError', message: why }, `${label}, to ${to}`)
    }
  }
})

t.test('compact -> binary growth stops at the output limit with a tooLarge ProtocolError', async (t) => {
  // field 1: a list of 10,000 i64 zeros: 10,004 bytes in compact, 80,008 in binary
  const n = 10_000
  const input = Buffer.concat([Buffer.from([0x19, 0xf6, 0x90, 0x4e]), Buffer.alloc(n, 0), Buffer.from([0])])
  t.throws(() => transcode('compact', 'binary', input, 20_000), { name: 'ProtocolError', tooLarge: true, message: /over the 20000-byte limit/ })
  const { out } = transcode('compact', 'binary', input, 100_000)
  t.equal(out.length, 3 + 5 + 8 * n + 1)
  t.throws(() => copyStruct(readerFor('compact', input), writerFor('binary', 50_000)), { name: 'ProtocolError', tooLarge: true },
    'the default limit is the writer\'s message limit')
})
