/**
 * Property-based robustness of the FrameReader and the generated decoders: whatever bytes arrive, next() either
 * returns a message, returns undefined (needs more bytes) or throws a ProtocolError. Never another exception type,
 * never a hang, never a buffer sized from an untrusted length.
 */
import t from 'tap'
import fc from 'fast-check'
import { createWriter, FrameReader, type WireFormat } from '../../src/wire/frame-reader.js'
import { DEFAULT_MAX_MESSAGE_BYTES, MAX_NESTING_DEPTH } from '../../src/wire/limits.js'
import { ProtocolError } from '../../src/wire/protocol-error.js'
import type { MessageHeader, WireReader } from '../../src/wire/reader.js'
import {
  MESSAGE_CALL, MESSAGE_ONEWAY, MessageService, T_LIST, T_MAP, T_STRING, T_STRUCT, type Message,
} from '../../src/gen/thriftbus.js'
import { encodeCalls, expectedCall, fmtName, FORMATS, normCall } from './fixtures/wire.js'

const METHODS = MessageService.methods as Record<string, { readArgs(r: WireReader): unknown; writeArgs(w: never, a: never): void }>

/** Decodes like the daemon does: known calls through their codec, anything else skipped. */
function daemonLikeDecode(header: MessageHeader, r: WireReader): unknown {
  const codec = Object.hasOwn(METHODS, header.name) ? METHODS[header.name] : undefined
  if (codec && (header.type === MESSAGE_CALL || header.type === MESSAGE_ONEWAY)) return codec.readArgs(r)
  r.skipStruct()
  return undefined
}

type Outcome = { kind: 'messages'; count: number; pending: boolean } | { kind: 'protocol-error'; err: ProtocolError } | { kind: 'other'; err: unknown }

/** Pushes the chunks and drains after each; at most `cap` messages so that nothing can loop for ever. */
function run(chunks: Buffer[], maxBytes: number, format?: WireFormat, cap = 10_000): Outcome {
  const reader = new FrameReader(maxBytes, format)
  let count = 0
  try {
    for (const c of chunks) {
      reader.push(c)
      for (;;) {
        const m = reader.next(daemonLikeDecode)
        if (!m) break
        if (++count > cap) return { kind: 'other', err: new Error('more messages than bytes: looping') }
      }
    }
  } catch (err) {
    return err instanceof ProtocolError ? { kind: 'protocol-error', err } : { kind: 'other', err }
  }
  return { kind: 'messages', count, pending: reader.buffered > 0 }
}

function describe(o: Outcome): string {
  return o.kind === 'other' ? `${(o.err as Error)?.name}: ${(o.err as Error)?.message}` : o.kind
}

function chunksOf(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set([0, ...cuts.map((c) => c % (bytes.length + 1)), bytes.length])].sort((a, b) => a - b)
  return points.slice(1).map((p, i) => Buffer.from(bytes.subarray(points[i]!, p)))
}

const formatArb = fc.constantFrom(...FORMATS)
const i64Arb = fc.oneof(fc.integer(), fc.integer({ min: -(2 ** 52), max: 2 ** 52 }))
const messageArb: fc.Arbitrary<Message> = fc.record(
  {
    sender: fc.string({ unit: 'grapheme', maxLength: 20 }),
    recipient: fc.string({ maxLength: 20 }),
    content: fc.string({ unit: 'grapheme', maxLength: 200 }),
    id: i64Arb,
    sentAtMs: i64Arb,
    body: fc.uint8Array({ maxLength: 64 }),
    headers: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 5 }),
  },
  { requiredKeys: ['sender', 'recipient', 'content'] },
)
const callArb = fc.record({ seqid: fc.integer(), args: fc.record({ message: messageArb }) })

t.test('random bytes, pushed in random chunks, give messages, undefined or a ProtocolError, nothing else', async (t) => {
  const bad: string[] = []
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 300 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      fc.option(formatArb, { nil: undefined }),
      (bytes, cuts, format) => {
        const o = run(chunksOf(Buffer.from(bytes), cuts), 4096, format)
        if (o.kind === 'other') bad.push(`${Buffer.from(bytes).toString('hex')}: ${describe(o)}`)
        return o.kind !== 'other'
      },
    ),
    { numRuns: 1000 },
  )
  t.same(bad, [])
})

t.test('random bytes after a valid protocol header (so detection passes) never raise anything but ProtocolError', async (t) => {
  const prefixes: Record<string, number[]> = {
    'strict binary': [0x80, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0b, ...Buffer.from('sendMessage'), 0, 0, 0, 1],
    'strict binary, returnMessages': [0x80, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0e, ...Buffer.from('returnMessages'), 0, 0, 0, 1],
    compact: [0x82, 0x21, 0x01, 0x0b, ...Buffer.from('sendMessage')],
    'compact, unknown method': [0x82, 0x21, 0x01, 0x03, ...Buffer.from('foo')],
  }
  for (const [label, prefix] of Object.entries(prefixes)) {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 4 }), (tail, cuts) => {
        const bytes = Buffer.concat([Buffer.from(prefix), Buffer.from(tail)])
        const o = run(chunksOf(bytes, cuts), 4096)
        if (o.kind === 'other') throw new Error(`${bytes.toString('hex')}: ${describe(o)}`)
      }),
      { numRuns: 500 },
    )
    // framed: the same body inside a frame whose length covers it
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (tail) => {
        const body = Buffer.concat([Buffer.from(prefix), Buffer.from(tail)])
        const frame = Buffer.alloc(4 + body.length)
        frame.writeInt32BE(body.length, 0)
        body.copy(frame, 4)
        const o = run([frame], 4096)
        if (o.kind === 'other') throw new Error(`${frame.toString('hex')}: ${describe(o)}`)
        return o.kind === 'protocol-error' || (o.kind === 'messages' && o.count === 1 && !o.pending)
      }),
      { numRuns: 300 },
    )
    t.pass(label)
  }
})

t.test('random calls round-trip through our writers and the FrameReader in every format', async (t) => {
  fc.assert(
    fc.property(formatArb, fc.array(callArb, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(), { maxLength: 5 }), (format, calls, cuts) => {
      const { bytes } = encodeCalls(format, calls)
      const reader = new FrameReader(DEFAULT_MAX_MESSAGE_BYTES)
      const got: unknown[] = []
      reader.push(bytes) // whole stream at once: the split behaviour is framing-split's business
      for (let m = reader.next((_h, r) => MessageService.methods.sendMessage.readArgs(r)); m; m = reader.next((_h, r) => MessageService.methods.sendMessage.readArgs(r))) {
        got.push(normCall(m))
      }
      t.same(got, calls.map(expectedCall), fmtName(format))
      return reader.buffered === 0
    }),
    { numRuns: 300 },
  )
})

t.test('a truncated valid call is undefined or a ProtocolError, never another exception', async (t) => {
  fc.assert(
    fc.property(formatArb, callArb, fc.nat(), fc.array(fc.nat(), { maxLength: 4 }), (format, call, cutAt, cuts) => {
      const { bytes } = encodeCalls(format, [call])
      const truncated = bytes.subarray(0, cutAt % bytes.length)
      const o = run(chunksOf(truncated, cuts), DEFAULT_MAX_MESSAGE_BYTES)
      if (o.kind === 'other') throw new Error(`${fmtName(format)} ${truncated.toString('hex')}: ${describe(o)}`)
      return o.kind === 'protocol-error' || (o.kind === 'messages' && o.count === 0)
    }),
    { numRuns: 1000 },
  )
  t.pass('only undefined or ProtocolError')
})

t.test('a truncated valid call is simply incomplete (undefined), not an error', async (t) => {
  for (const format of FORMATS) {
    const r = fc.check(
      fc.property(callArb, fc.nat(), (call, cutAt) => {
        const { bytes } = encodeCalls(format, [call])
        const truncated = bytes.subarray(0, cutAt % bytes.length)
        const o = run([Buffer.from(truncated)], DEFAULT_MAX_MESSAGE_BYTES)
        if (o.kind !== 'messages' || o.count !== 0) throw new Error(`cut at ${truncated.length} of ${bytes.toString('hex')}: ${o.kind === 'protocol-error' ? o.err.message : describe(o)}`)
      }),
      { numRuns: 300 },
    )
    const why = r.failed ? String(r.errorInstance).slice(0, 300) : 'always undefined'
    t.notOk(r.failed, `${fmtName(format)}: ${why}`)
  }
})

t.test('absurd lengths written over a valid call give undefined or a ProtocolError, never another exception', async (t) => {
  const absurd = [0x7fffffff, 0x80000000, 0xffffffff, 0x40000000, DEFAULT_MAX_MESSAGE_BYTES + 1, 0x7ffffff0]
  fc.assert(
    fc.property(formatArb, callArb, fc.nat(), fc.constantFrom(...absurd), fc.boolean(), (format, call, at, value, asVarint) => {
      const { bytes } = encodeCalls(format, [call])
      const b = Buffer.from(bytes)
      let patch: Buffer
      if (asVarint) {
        const out: number[] = []
        let v = value >>> 0
        while (v >= 0x80) {
          out.push((v & 0x7f) | 0x80)
          v >>>= 7
        }
        out.push(v)
        patch = Buffer.from(out)
      } else {
        patch = Buffer.alloc(4)
        patch.writeUInt32BE(value >>> 0, 0)
      }
      const pos = at % b.length
      patch.copy(b, pos)
      const o = run([b], DEFAULT_MAX_MESSAGE_BYTES)
      if (o.kind === 'other') throw new Error(`${fmtName(format)} patched at ${pos}: ${b.toString('hex')}: ${describe(o)}`)
    }),
    { numRuns: 1000 },
  )
  t.pass('only undefined or ProtocolError')
})

t.test('a declared 2 GiB length throws instead of allocating, in every place a length appears', async (t) => {
  const before = process.memoryUsage().arrayBuffers
  const cases: Record<string, { bytes: number[]; format?: WireFormat }> = {
    'frame length': { bytes: [0x7f, 0xff, 0xff, 0xff, 0x80, 0x01, 0x00, 0x01] },
    'frame length, compact': { bytes: [0x7f, 0xff, 0xff, 0xff, 0x82, 0x21] },
    'frame length, format known': { bytes: [0x7f, 0xff, 0xff, 0xff], format: { protocol: 'binary', transport: 'framed' } },
    'binary method name': { bytes: [0x80, 0x01, 0x00, 0x01, 0x7f, 0xff, 0xff, 0xff] },
    'non-strict binary name length (format known)': { bytes: [0x7f, 0xff, 0xff, 0xff, 0x61], format: { protocol: 'binary', transport: 'buffered' } },
    'compact method name': { bytes: [0x82, 0x21, 0x01, 0xff, 0xff, 0xff, 0xff, 0x07] },
    'binary string field': { bytes: [0x80, 0x01, 0x00, 0x01, 0, 0, 0, 1, 0x78, 0, 0, 0, 1, 0x0b, 0x00, 0x05, 0x7f, 0xff, 0xff, 0xff] },
    'binary list size': { bytes: [0x80, 0x01, 0x00, 0x01, 0, 0, 0, 1, 0x78, 0, 0, 0, 1, 0x0f, 0x00, 0x05, 0x0c, 0x7f, 0xff, 0xff, 0xff] },
    'binary map size': { bytes: [0x80, 0x01, 0x00, 0x01, 0, 0, 0, 1, 0x78, 0, 0, 0, 1, 0x0d, 0x00, 0x05, 0x0b, 0x0b, 0x7f, 0xff, 0xff, 0xff] },
    'compact list size': { bytes: [0x82, 0x21, 0x01, 0x01, 0x78, 0x59, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x07] },
    'compact map size': { bytes: [0x82, 0x21, 0x01, 0x01, 0x78, 0x5b, 0xff, 0xff, 0xff, 0xff, 0x07, 0x88] },
    'compact binary field': { bytes: [0x82, 0x21, 0x01, 0x01, 0x78, 0x58, 0xff, 0xff, 0xff, 0xff, 0x07] },
  }
  for (const [label, c] of Object.entries(cases)) {
    const o = run([Buffer.from(c.bytes)], DEFAULT_MAX_MESSAGE_BYTES, c.format)
    t.equal(o.kind, 'protocol-error', `${label}: ${o.kind === 'protocol-error' ? o.err.message : describe(o)}`)
    if (o.kind === 'protocol-error') t.equal(o.err.tooLarge, true, `${label}: reported as too large`)
  }
  const grown = process.memoryUsage().arrayBuffers - before
  t.ok(grown < 64 * 1024 * 1024, `no large buffer was allocated (${grown} bytes of ArrayBuffers added)`)
})

t.test('a container count the frame cannot hold does not make the decoder materialise that many elements', async (t) => {
  const max = 1 << 20
  for (const protocol of ['binary', 'compact'] as const) {
    const format: WireFormat = { protocol, transport: 'framed' }
    // returnMessages(list<Message> messages = [ ... 1M elements declared, none present ])
    const w = createWriter(format, max)
    w.beginMessage('returnMessages', MESSAGE_CALL, 1)
    w.writeStructBegin()
    w.writeFieldBegin(T_LIST, 1)
    w.writeListBegin(T_STRUCT, max) // as many elements as the byte limit allows
    const bytes = Buffer.from(w.take()!)
    // close the frame by hand: beginMessage reserved 4 bytes for the length
    bytes.writeInt32BE(bytes.length - 4, 0)
    let structs = 0
    const reader = new FrameReader(max)
    reader.push(bytes)
    let err: unknown
    try {
      reader.next((_h, r) => {
        const proto = Object.getPrototypeOf(r) as WireReader
        r.readStructBegin = function (this: WireReader) {
          structs++
          return proto.readStructBegin.call(this)
        }
        return MessageService.methods.returnMessages.readArgs(r)
      })
    } catch (e) {
      err = e
    }
    t.ok(err instanceof ProtocolError, `${protocol}: the truncated frame is a ProtocolError`)
    t.ok(structs < 100, `${protocol}: ${structs} element structs were begun for a ${bytes.length}-byte frame`)
  }
})

/** Builds `depth` nested containers/structs as an unknown field of sendMessage's args. */
function nested(protocol: 'binary' | 'compact', kind: 'struct' | 'list' | 'map', depth: number): Buffer {
  const w = createWriter({ protocol, transport: 'buffered' }, 1 << 24)
  w.beginMessage('sendMessage', MESSAGE_CALL, 1)
  w.writeStructBegin()
  const outer = kind === 'struct' ? T_STRUCT : kind === 'list' ? T_LIST : T_MAP
  w.writeFieldBegin(outer, 99) // an unknown field id: the decoder must skip it
  for (let i = 1; i < depth; i++) {
    if (kind === 'struct') {
      w.writeStructBegin()
      w.writeFieldBegin(T_STRUCT, 1)
    } else if (kind === 'list') {
      w.writeListBegin(T_LIST, 1)
    } else {
      w.writeMapBegin(T_STRING, T_MAP, 1)
      w.writeString('k')
    }
  }
  // innermost: empty
  if (kind === 'struct') {
    w.writeStructBegin()
    w.writeFieldStop()
  } else if (kind === 'list') w.writeListBegin(T_STRING, 0)
  else w.writeMapBegin(T_STRING, T_STRING, 0)
  for (let i = 1; i < depth; i++) {
    if (kind === 'struct') {
      w.writeFieldStop()
    }
  }
  w.writeFieldStop()
  return Buffer.from(w.take()!)
}

t.test('structs, lists and maps nested 1000 deep throw ProtocolError (no stack overflow)', async (t) => {
  for (const protocol of ['binary', 'compact'] as const) {
    for (const kind of ['struct', 'list', 'map'] as const) {
      let bytes: Buffer
      try {
        bytes = nested(protocol, kind, 1000)
      } catch (err) {
        // the compact writer itself refuses to nest structs that deep: build the bytes by hand then
        t.ok(err instanceof ProtocolError, `${protocol} writer refuses ${kind} nesting: ${(err as Error).message}`)
        continue
      }
      for (const transport of ['buffered', 'framed'] as const) {
        let input = bytes
        if (transport === 'framed') {
          input = Buffer.alloc(bytes.length + 4)
          input.writeInt32BE(bytes.length, 0)
          bytes.copy(input, 4)
        }
        const o = run([input], DEFAULT_MAX_MESSAGE_BYTES)
        t.equal(o.kind, 'protocol-error', `${transport} ${protocol} ${kind} x1000: ${o.kind === 'protocol-error' ? o.err.message : describe(o)}`)
        if (o.kind === 'protocol-error') t.match(o.err.message, new RegExp(`nested deeper than ${MAX_NESTING_DEPTH}`))
      }
    }
  }
})

t.test('compact structs nested 1000 deep (built by hand) throw ProtocolError', async (t) => {
  // 82 21 01 0b "sendMessage" | field 99 struct (long form) | (field 1 struct: 0x1c) x 999 | stops
  const head = [0x82, 0x21, 0x01, 0x0b, ...Buffer.from('sendMessage'), 0x0c, 0xc6, 0x01]
  const bytes = Buffer.from([...head, ...new Array(999).fill(0x1c), ...new Array(1001).fill(0x00)])
  const o = run([bytes], DEFAULT_MAX_MESSAGE_BYTES)
  t.equal(o.kind, 'protocol-error', describe(o))
  if (o.kind === 'protocol-error') t.match(o.err.message, /nested deeper than/)
})

t.test('nesting within the limit is skipped and the call still decodes', async (t) => {
  for (const protocol of ['binary', 'compact'] as const) {
    for (const kind of ['struct', 'list', 'map'] as const) {
      const o = run([nested(protocol, kind, MAX_NESTING_DEPTH - 8)], DEFAULT_MAX_MESSAGE_BYTES)
      t.same(o, { kind: 'messages', count: 1, pending: false }, `${protocol} ${kind} x${MAX_NESTING_DEPTH - 8}`)
    }
  }
})
