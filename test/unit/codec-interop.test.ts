/**
 * Our codec against the stock Apache Thrift npm runtime (thrift@0.24.0) and the classes its compiler generated
 * from the same IDL (src/gen/js): byte-for-byte where the encodings are deterministic, and decode both ways.
 */
import t from 'tap'
import { createRequire } from 'node:module'
import { BinaryReader } from '../../src/wire/binary-reader.js'
import { BinaryWriter } from '../../src/wire/binary-writer.js'
import { CompactReader } from '../../src/wire/compact-reader.js'
import { CompactWriter } from '../../src/wire/compact-writer.js'
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../src/wire/limits.js'
import type { WireReader } from '../../src/wire/reader.js'
import type { WireWriter } from '../../src/wire/writer.js'
import { FrameReader, type WireFormat } from '../../src/wire/frame-reader.js'
import { ApplicationErrorType, readApplicationException, writeApplicationException } from '../../src/wire/application-exception.js'
import {
  MESSAGE_REPLY, MessageService, T_BOOL, T_STOP, readDaemonStatus, readMessage, writeDaemonStatus, writeMessage,
  type DaemonStatus, type Message,
} from '../../src/gen/thriftbus.js'
import { encodeCalls, expectedCall, feed, fmtName, FORMATS, normMessage } from './fixtures/wire.js'

const require = createRequire(import.meta.url)
/* eslint-disable @typescript-eslint/no-explicit-any */
const thrift: any = require('thrift')
const stockTypes: any = require('../../src/gen/js/thriftbus_types.js')
const StockService: any = require('../../src/gen/js/MessageService.js')
const Int64: any = require('node-int64')

type Proto = 'binary' | 'compact'
const PROTOS: Proto[] = ['binary', 'compact']

function StockProtocol(p: Proto): any {
  return p === 'binary' ? thrift.TBinaryProtocol : thrift.TCompactProtocol
}

/** Runs fn with a stock protocol over an in-memory transport and returns the bytes flushed. */
function stockWrite(p: Proto, fn: (proto: any) => void, framed = false): Buffer {
  let out: Buffer | undefined
  const Transport = framed ? thrift.TFramedTransport : thrift.TBufferedTransport
  const trans = new Transport(undefined, (buf: Buffer) => {
    out = Buffer.from(buf)
  })
  const proto = new (StockProtocol(p))(trans)
  fn(proto)
  trans.flush()
  return out ?? Buffer.alloc(0)
}

/** A stock protocol reading from bytes; returns it and a function telling how many bytes were consumed. */
function stockReader(p: Proto, bytes: Buffer): { proto: any; consumed: () => number } {
  const trans = new thrift.TBufferedTransport()
  trans.inBuf = Buffer.from(bytes)
  trans.readCursor = 0
  trans.writeCursor = bytes.length
  return { proto: new (StockProtocol(p))(trans), consumed: () => trans.readCursor }
}

function ourWriter(p: Proto): WireWriter {
  return p === 'binary' ? new BinaryWriter(false, DEFAULT_MAX_MESSAGE_BYTES) : new CompactWriter(false, DEFAULT_MAX_MESSAGE_BYTES)
}

function ourWrite(p: Proto, fn: (w: WireWriter) => void): Buffer {
  const w = ourWriter(p)
  fn(w)
  return Buffer.from(w.take() ?? Buffer.alloc(0))
}

function ourRead<T>(p: Proto, bytes: Buffer, fn: (r: WireReader) => T): { value: T; pos: number; underrun: boolean } {
  const r = p === 'binary' ? new BinaryReader(DEFAULT_MAX_MESSAGE_BYTES) : new CompactReader(DEFAULT_MAX_MESSAGE_BYTES)
  r.reset(bytes, 0, bytes.length)
  const value = fn(r)
  return { value, pos: r.pos, underrun: r.underrun }
}

function i64(x: any): number | null {
  if (x === null || x === undefined) return null
  return typeof x === 'number' ? x : x.toNumber(true)
}

/** A stock Message (read by the stock runtime) in the shape normMessage produces. */
function normStockMessage(m: any): Record<string, unknown> {
  return normMessage({
    sender: m.sender,
    recipient: m.recipient,
    content: m.content,
    id: i64(m.id) ?? undefined,
    sentAtMs: i64(m.sentAtMs) ?? undefined,
    body: m.body ?? undefined,
    headers: m.headers ?? undefined,
  })
}

function toStockMessage(m: Message): any {
  return new stockTypes.Message({
    ...m,
    body: m.body === undefined ? undefined : Buffer.from(m.body),
    id: m.id,
    sentAtMs: m.sentAtMs,
  })
}

function normStatus(s: DaemonStatus | any): Record<string, unknown> {
  return {
    pid: s.pid,
    version: s.version,
    endpoint: s.endpoint,
    startedAtMs: i64(s.startedAtMs),
    uptimeMs: i64(s.uptimeMs),
    connections: s.connections,
    mailboxes: (s.mailboxes ?? []).map((b: any) => ({ name: b.name, depth: i64(b.depth), bytes: i64(b.bytes), waiters: b.waiters })),
    stateDir: s.stateDir,
  }
}

function toStockStatus(s: DaemonStatus): any {
  return new stockTypes.DaemonStatus({ ...s, mailboxes: s.mailboxes.map((b) => new stockTypes.MailboxInfo(b)) })
}

const MESSAGES: Record<string, Message> = {
  'every optional field set': {
    sender: 'alice',
    recipient: 'jobs.worker-1',
    content: 'héllo 🎉🚀 wörld',
    id: 2 ** 40 + 3,
    sentAtMs: 1_700_000_000_123,
    body: Uint8Array.from([0, 1, 0x7f, 0x80, 0xff]),
    headers: { 'content-type': 'text/plain', emoji: '👍🏽', empty: '' },
  },
  'empty strings, empty body, empty headers': {
    sender: '',
    recipient: '',
    content: '',
    id: 0,
    sentAtMs: 0,
    body: new Uint8Array(0),
    headers: {},
  },
  'negative i64 values': { sender: 's', recipient: 'r', content: 'c', id: -1, sentAtMs: -(2 ** 40) },
  'i64 just past 2^32 and the largest exact value': { sender: 's', recipient: 'r', content: 'c', id: 2 ** 32 + 1, sentAtMs: 2 ** 53 - 1 },
  'no optional fields': { sender: 'a', recipient: 'b', content: 'x'.repeat(300) },
  'a long unicode string (multi-byte varint length)': { sender: '🎉'.repeat(50), recipient: 'r', content: 'ü'.repeat(2000) },
  'many headers (long compact map size)': {
    sender: 's', recipient: 'r', content: '',
    headers: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, `v${i}`])),
  },
}

/** i64 values whose zigzag form is past 2^53, where only an exact (BigInt) encoding keeps the sign bit. */
const LARGE_NEGATIVE: Message = { sender: 's', recipient: 'r', content: 'c', id: -(2 ** 53 - 1), sentAtMs: -(2 ** 52 + 1) }

const STATUS: DaemonStatus = {
  pid: -2147483648,
  version: '0.1.0-β',
  endpoint: '/run/user/1000/thriftbus/bus.sock',
  startedAtMs: 1_700_000_000_000,
  uptimeMs: 2 ** 33 + 7,
  connections: 2147483647,
  mailboxes: [
    { name: 'jobs', depth: 3, bytes: 2 ** 35, waiters: 0, leased: 2, expired: 0, deadLettered: 1 },
    { name: 'émoji-🎉', depth: 0, bytes: 0, waiters: -1, leased: 0, expired: 2 ** 40, deadLettered: 0 },
    { name: '', depth: -5, bytes: -(2 ** 40), waiters: 12, leased: -1, expired: -2, deadLettered: -3 },
  ],
  stateDir: '',
  durability: 'durable',
  services: [{ name: 'UserService', providers: 2, calls: 2 ** 36, inFlight: 3, failures: 0 }],
  helpers: [
    { serviceName: 'UserService', command: ['node', 'helper.js', 'ü'], pid: 4242, state: 'running', restarts: 1, lastError: '' },
    { serviceName: 'x', command: [], pid: 0, state: 'failed', restarts: 0, lastError: 'exited with code 1' },
  ],
  subscriptions: [
    { id: 7, pattern: 'builds.>', durableName: 'audit', queued: 3, dropped: 2 ** 34, delivered: 9, maxQueued: 10_000, attached: false },
  ],
}
const EMPTY_STATUS: DaemonStatus = { ...STATUS, mailboxes: [], version: '', endpoint: '' }
const BIG_STATUS: DaemonStatus = {
  ...STATUS,
  mailboxes: Array.from({ length: 20 }, (_, i) => ({
    name: `m${i}`, depth: i, bytes: i * 1000, waiters: i % 3, leased: i, expired: 0, deadLettered: i % 2,
  })),
}

for (const p of PROTOS) {
  t.test(`${p}: Message encodes byte for byte like the stock runtime, and each side decodes the other`, async (t) => {
    for (const [label, m] of Object.entries(MESSAGES)) {
      const ours = ourWrite(p, (w) => writeMessage(w, m))
      const stock = stockWrite(p, (proto) => toStockMessage(m).write(proto))
      t.equal(ours.toString('hex'), stock.toString('hex'), `${label}: same bytes`)

      const { proto, consumed } = stockReader(p, ours)
      const back = new stockTypes.Message()
      back.read(proto)
      t.same(normStockMessage(back), normMessage(m), `${label}: stock decodes ours`)
      t.equal(consumed(), ours.length)

      const r = ourRead(p, stock, readMessage)
      t.notOk(r.underrun)
      t.equal(r.pos, stock.length)
      t.same(normMessage(r.value), normMessage(m), `${label}: we decode stock`)
    }
  })

  t.test(`${p}: negative i64 values between -2^53 and -2^52 survive both directions`, async (t) => {
    const m = LARGE_NEGATIVE
    const ours = ourWrite(p, (w) => writeMessage(w, m))
    const stock = stockWrite(p, (proto) => toStockMessage(m).write(proto))
    t.equal(ours.toString('hex'), stock.toString('hex'), 'same bytes')
    const { proto } = stockReader(p, ours)
    const back = new stockTypes.Message()
    back.read(proto)
    t.same([i64(back.id), i64(back.sentAtMs)], [m.id, m.sentAtMs], 'stock decodes ours')
    const r = ourRead(p, stock, readMessage)
    t.same([r.value.id, r.value.sentAtMs], [m.id, m.sentAtMs], 'we decode stock')
  })

  t.test(`${p}: DaemonStatus with a list of MailboxInfo encodes byte for byte like the stock runtime`, async (t) => {
    for (const [label, s] of [['three mailboxes', STATUS], ['empty list and strings', EMPTY_STATUS], ['20 mailboxes (long list header)', BIG_STATUS]] as const) {
      const ours = ourWrite(p, (w) => writeDaemonStatus(w, s))
      const stock = stockWrite(p, (proto) => toStockStatus(s).write(proto))
      t.equal(ours.toString('hex'), stock.toString('hex'), `${label}: same bytes`)
      const { proto, consumed } = stockReader(p, ours)
      const back = new stockTypes.DaemonStatus()
      back.read(proto)
      t.same(normStatus(back), normStatus(s), `${label}: stock decodes ours`)
      t.equal(consumed(), ours.length)
      const r = ourRead(p, stock, readDaemonStatus)
      t.notOk(r.underrun)
      t.equal(r.pos, stock.length)
      t.same(normStatus(r.value), normStatus(s), `${label}: we decode stock`)
    }
  })

  t.test(`${p}: bool fields, true and false, in the short and long field-header forms, match the stock runtime`, async (t) => {
    // ids 1 (delta 1), 5 (delta 4), 40 (delta 35: long form), 0 after 40 (negative delta: long form), 41
    const fields: [number, boolean][] = [[1, true], [5, false], [40, true], [0, false], [41, false], [42, true]]
    const ours = ourWrite(p, (w) => {
      w.writeStructBegin()
      for (const [id, v] of fields) {
        w.writeFieldBegin(T_BOOL, id)
        w.writeBool(v)
      }
      w.writeFieldStop()
      w.writeStructEnd()
    })
    const stock = stockWrite(p, (proto) => {
      proto.writeStructBegin('S')
      for (const [id, v] of fields) {
        proto.writeFieldBegin(`f${id}`, thrift.Thrift.Type.BOOL, id)
        proto.writeBool(v)
        proto.writeFieldEnd()
      }
      proto.writeFieldStop()
      proto.writeStructEnd()
    })
    t.equal(ours.toString('hex'), stock.toString('hex'), 'same bytes')
    if (p === 'compact') t.equal(ours.length, 1 + 1 + 1 + 2 + 2 + 1 + 1 + 1, 'bool values folded into the field headers')
    const r = ourRead(p, stock, (r) => {
      const got: [number, boolean][] = []
      r.readStructBegin()
      for (let ty = r.readFieldBegin(); ty !== T_STOP; ty = r.readFieldBegin()) {
        t.equal(ty, T_BOOL)
        got.push([r.fieldId, r.readBool()])
      }
      r.readStructEnd()
      return got
    })
    t.same(r.value, fields, 'we decode stock bools')
  })

  t.test(`${p}: sendMessage results with success true and false match the stock processor's replies`, async (t) => {
    for (const success of [true, false]) {
      const stock = await new Promise<Buffer>((resolve) => {
        const trans = new thrift.TBufferedTransport(undefined, (buf: Buffer) => resolve(Buffer.from(buf)))
        const output = new (StockProtocol(p))(trans)
        const call = stockWrite(p, (proto) => {
          proto.writeMessageBegin('sendMessage', thrift.Thrift.MessageType.CALL, 9)
          proto.writeStructBegin('args')
          proto.writeFieldBegin('message', thrift.Thrift.Type.STRUCT, 1)
          new stockTypes.Message({ sender: 'a', recipient: 'b', content: 'c' }).write(proto)
          proto.writeFieldEnd()
          proto.writeFieldStop()
          proto.writeStructEnd()
          proto.writeMessageEnd()
        })
        const input = stockReader(p, call).proto
        new StockService.Processor({ sendMessage: (_m: unknown) => Promise.resolve(success) }).process(input, output)
      })
      const w = ourWriter(p)
      w.beginMessage('sendMessage', MESSAGE_REPLY, 9)
      MessageService.methods.sendMessage.writeResult(w, { success })
      w.endMessage()
      const ours = Buffer.from(w.take()!)
      t.equal(ours.toString('hex'), stock.toString('hex'), `success=${success}: same bytes`)
      // and the stock client reads our reply
      const client = new StockService.Client(null, StockProtocol(p))
      const got = await new Promise((resolve, reject) => {
        client._reqs[9] = (err: unknown, res: unknown) => (err ? reject(err) : resolve(res))
        const { proto } = stockReader(p, ours)
        const h = proto.readMessageBegin()
        client.recv_sendMessage(proto, h.mtype, h.rseqid)
      })
      t.equal(got, success, `success=${success}: stock client decodes our reply`)
    }
  })

  t.test(`${p}: a BusException result and a TApplicationException match the stock runtime`, async (t) => {
    const ours = ourWrite(p, (w) =>
      MessageService.methods.sendMessage.writeResult(w, { error: { code: 3, message: 'mailbox "q" is full 🙁' } }),
    )
    const stock = stockWrite(p, (proto) => {
      proto.writeStructBegin('r')
      proto.writeFieldBegin('error', thrift.Thrift.Type.STRUCT, 1)
      new stockTypes.BusException({ code: 3, message: 'mailbox "q" is full 🙁' }).write(proto)
      proto.writeFieldEnd()
      proto.writeFieldStop()
      proto.writeStructEnd()
    })
    t.equal(ours.toString('hex'), stock.toString('hex'), 'BusException result: same bytes')
    const res = ourRead(p, stock, (r) => MessageService.methods.sendMessage.readResult(r))
    t.same(res.value.error, { code: 3, message: 'mailbox "q" is full 🙁' })

    const ex = { message: 'Unknown function nope', type: ApplicationErrorType.UNKNOWN_METHOD }
    const oursEx = ourWrite(p, (w) => writeApplicationException(w, ex))
    // The npm runtime's TApplicationException.write emits field 2 from `this.code`, not `this.type` (a quirk of
    // thrift@0.24.0, not ours): set both so it writes the standard layout (1: string message, 2: i32 type).
    const stockEx = stockWrite(p, (proto) => {
      const e = new thrift.Thrift.TApplicationException(ex.type, ex.message)
      e.code = ex.type
      e.write(proto)
    })
    t.equal(oursEx.toString('hex'), stockEx.toString('hex'), 'TApplicationException: same bytes')
    t.same(ourRead(p, stockEx, readApplicationException).value, ex)
    const { proto } = stockReader(p, oursEx)
    const back = new thrift.Thrift.TApplicationException()
    back.read(proto)
    t.same([back.type, back.message], [ex.type, ex.message])
  })
}

t.test('a whole sendMessage call from the stock client matches ours in all four formats and decodes through FrameReader', async (t) => {
  const m = MESSAGES['every optional field set']!
  for (const format of FORMATS) {
    const framed = format.transport === 'framed'
    let stock: Buffer | undefined
    const Transport = framed ? thrift.TFramedTransport : thrift.TBufferedTransport
    const trans = new Transport(undefined, (buf: Buffer) => {
      stock = Buffer.from(buf)
    })
    const client = new StockService.Client(trans, StockProtocol(format.protocol))
    void client.sendMessage(toStockMessage(m)) // never answered; seqid 1
    const { bytes: ours } = encodeCalls(format, [{ seqid: 1, args: { message: m } }])
    t.equal(ours.toString('hex'), stock!.toString('hex'), `${fmtName(format)}: same bytes`)
    const got = feed(new FrameReader(DEFAULT_MAX_MESSAGE_BYTES), [stock!])
    t.same(got.map((g) => g.call), [expectedCall({ seqid: 1, args: { message: m } })], `${fmtName(format)}: FrameReader decodes the stock call`)
  }
})

t.test('a stock client reads a receiveMessages reply with a list of Messages that we wrote', async (t) => {
  const list = Object.values(MESSAGES)
  for (const format of FORMATS) {
    const w = format.protocol === 'binary'
      ? new BinaryWriter(format.transport === 'framed', DEFAULT_MAX_MESSAGE_BYTES)
      : new CompactWriter(format.transport === 'framed', DEFAULT_MAX_MESSAGE_BYTES)
    w.beginMessage('receiveMessages', MESSAGE_REPLY, 4)
    MessageService.methods.receiveMessages.writeResult(w, { success: list })
    w.endMessage()
    let bytes = Buffer.from(w.take()!)
    if (format.transport === 'framed') {
      t.equal(bytes.readInt32BE(0), bytes.length - 4, 'frame length')
      bytes = bytes.subarray(4)
    }
    const client = new StockService.Client(null, StockProtocol(format.protocol))
    const got: any[] = await new Promise((resolve, reject) => {
      client._reqs[4] = (err: unknown, res: any[]) => (err ? reject(err) : resolve(res))
      const { proto } = stockReader(format.protocol, bytes)
      const h = proto.readMessageBegin()
      t.equal(h.fname, 'receiveMessages')
      client.recv_receiveMessages(proto, h.mtype, h.rseqid)
    })
    t.same(got.map(normStockMessage), list.map(normMessage), fmtName(format))
  }
})

// keep `Int64` referenced for readers of this file: stock i64 values come back as node-int64 objects
t.ok(new Int64(1).toNumber() === 1, 'node-int64 is the stock i64 type')
