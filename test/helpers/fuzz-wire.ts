/**
 * Raw Thrift traffic for fuzzing the daemon's handlers over real sockets.
 *
 * - Arguments are captured as a tree (TreeWriter records what a generated `writeArgs` writes), so a test can
 *   mutate them structurally (a field of the wrong type, an unknown field, a length that lies) and encode the
 *   result in any of the daemon's formats with the project's own writers.
 * - `driveConnection` plays one planned connection: writes in chunks, then ends it one of several ways, and
 *   reads and decodes every reply (unless told not to read), reporting anything that did not decode and any
 *   connection that neither answered nor closed in time.
 */
import { connect, type Socket } from 'node:net'
import {
  MESSAGE_CALL, MESSAGE_EXCEPTION, MESSAGE_ONEWAY, MESSAGE_REPLY, MessageService, PubSub,
  T_BOOL, T_BYTE, T_DOUBLE, T_I16, T_I32, T_I64, T_LIST, T_MAP, T_SET, T_STRING, T_STRUCT,
  type MethodCodec, type ProtocolWriter,
} from '../../src/gen/thriftbus.js'
import { readApplicationException, type ApplicationException } from '../../src/wire/application-exception.js'
import { createWriter, FrameReader, type WireFormat } from '../../src/wire/frame-reader.js'
import type { MessageHeader, WireReader } from '../../src/wire/reader.js'
import type { WireWriter } from '../../src/wire/writer.js'

/** A connection's framing and protocol; nonStrict: old binary clients whose header starts with the name. */
export interface FuzzFormat {
  readonly label: string
  readonly wire: WireFormat
  readonly nonStrict: boolean
}

export const FUZZ_FORMATS: readonly FuzzFormat[] = [
  { label: 'framed binary', wire: { protocol: 'binary', transport: 'framed' }, nonStrict: false },
  { label: 'buffered binary', wire: { protocol: 'binary', transport: 'buffered' }, nonStrict: false },
  { label: 'buffered binary, non-strict', wire: { protocol: 'binary', transport: 'buffered' }, nonStrict: true },
  { label: 'framed compact', wire: { protocol: 'compact', transport: 'framed' }, nonStrict: false },
  { label: 'buffered compact', wire: { protocol: 'compact', transport: 'buffered' }, nonStrict: false },
]

/** One Thrift value as written on the wire. `sizeLie` replaces the real length of a string or container. */
export interface TValue {
  type: number
  value?: boolean | number | string | Uint8Array
  fields?: TField[]
  elemType?: number
  keyType?: number
  valueType?: number
  /** List and set elements; for maps: key, value, key, value... */
  items?: TValue[]
  sizeLie?: number
}

export interface TField {
  id: number
  value: TValue
}

/** Records the calls of a generated writer as a TValue tree instead of bytes. */
class TreeWriter implements ProtocolWriter {
  root: TValue | undefined
  readonly #stack: TValue[] = []
  #fieldId = 0

  #put(v: TValue): void {
    const top = this.#stack[this.#stack.length - 1]
    if (!top) this.root = v
    else if (top.type === T_STRUCT) top.fields!.push({ id: this.#fieldId, value: v })
    else top.items!.push(v)
  }

  #open(v: TValue): void {
    this.#put(v)
    this.#stack.push(v)
  }

  writeStructBegin(): void { this.#open({ type: T_STRUCT, fields: [] }) }
  writeStructEnd(): void { this.#stack.pop() }
  writeFieldBegin(_type: number, id: number): void { this.#fieldId = id }
  writeFieldStop(): void {}
  writeListBegin(elemType: number): void { this.#open({ type: T_LIST, elemType, items: [] }) }
  writeListEnd(): void { this.#stack.pop() }
  writeSetBegin(elemType: number): void { this.#open({ type: T_SET, elemType, items: [] }) }
  writeSetEnd(): void { this.#stack.pop() }
  writeMapBegin(keyType: number, valueType: number): void { this.#open({ type: T_MAP, keyType, valueType, items: [] }) }
  writeMapEnd(): void { this.#stack.pop() }
  writeBool(v: boolean): void { this.#put({ type: T_BOOL, value: v }) }
  writeByte(v: number): void { this.#put({ type: T_BYTE, value: v }) }
  writeI16(v: number): void { this.#put({ type: T_I16, value: v }) }
  writeI32(v: number): void { this.#put({ type: T_I32, value: v }) }
  writeI64(v: number): void { this.#put({ type: T_I64, value: v }) }
  writeDouble(v: number): void { this.#put({ type: T_DOUBLE, value: v }) }
  writeString(v: string): void { this.#put({ type: T_STRING, value: v }) }
  writeBinary(v: Uint8Array): void { this.#put({ type: T_STRING, value: v }) }
}

/** The arguments struct that codec.writeArgs would write for args, as a tree. */
export function argsTree(codec: MethodCodec<any, any>, args: object): TValue {
  const w = new TreeWriter()
  codec.writeArgs(w, args)
  return w.root!
}

/** Compact protocol type ids (TCompactProtocol numbers them differently from the binary ones). */
const COMPACT_TYPE: Record<number, number> = {
  [T_BOOL]: 1, [T_BYTE]: 3, [T_I16]: 4, [T_I32]: 5, [T_I64]: 6, [T_DOUBLE]: 7,
  [T_STRING]: 8, [T_LIST]: 9, [T_SET]: 10, [T_MAP]: 11, [T_STRUCT]: 12,
}

function writeVarint(w: WireWriter, n: number): void {
  let v = n >>> 0
  while (v >= 0x80) {
    w.writeByte((v & 0x7f) | 0x80)
    v >>>= 7
  }
  w.writeByte(v)
}

/** Writes a length that may lie: as an i32 in binary, as an unsigned varint (two's complement) in compact. */
function writeLength(w: WireWriter, compact: boolean, n: number): void {
  if (compact) writeVarint(w, n)
  else w.writeI32(n | 0)
}

/** Encodes a TValue with a real protocol writer (its field header must have been written already). */
export function writeTree(w: WireWriter, v: TValue, compact: boolean): void {
  switch (v.type) {
    case T_BOOL: w.writeBool(Boolean(v.value)); return
    case T_BYTE: w.writeByte(Number(v.value)); return
    case T_I16: w.writeI16(Number(v.value)); return
    case T_I32: w.writeI32(Number(v.value)); return
    case T_I64: w.writeI64(Number(v.value)); return
    case T_DOUBLE: w.writeDouble(Number(v.value)); return
    case T_STRING: {
      if (v.sizeLie === undefined) {
        if (typeof v.value === 'string') w.writeString(v.value)
        else w.writeBinary(v.value as Uint8Array)
        return
      }
      const bytes = typeof v.value === 'string' ? Buffer.from(v.value) : Buffer.from(v.value as Uint8Array)
      writeLength(w, compact, v.sizeLie)
      for (const b of bytes) w.writeByte(b)
      return
    }
    case T_STRUCT:
      w.writeStructBegin()
      for (const f of v.fields!) {
        w.writeFieldBegin(f.value.type, f.id)
        writeTree(w, f.value, compact)
      }
      w.writeFieldStop()
      w.writeStructEnd()
      return
    case T_LIST:
    case T_SET: {
      const items = v.items!
      if (v.sizeLie === undefined) w.writeListBegin(v.elemType!, items.length)
      else if (compact) {
        w.writeByte(0xf0 | COMPACT_TYPE[v.elemType!]!)
        writeVarint(w, v.sizeLie)
      } else {
        w.writeByte(v.elemType!)
        w.writeI32(v.sizeLie | 0)
      }
      for (const item of items) writeTree(w, item, compact)
      return
    }
    case T_MAP: {
      const items = v.items!
      const size = v.sizeLie ?? items.length / 2
      if (v.sizeLie === undefined) w.writeMapBegin(v.keyType!, v.valueType!, size)
      else if (compact) {
        writeVarint(w, size)
        w.writeByte((COMPACT_TYPE[v.keyType!]! << 4) | COMPACT_TYPE[v.valueType!]!)
      } else {
        w.writeByte(v.keyType!)
        w.writeByte(v.valueType!)
        w.writeI32(size | 0)
      }
      for (const item of items) writeTree(w, item, compact)
      return
    }
    default:
      throw new Error(`writeTree: no such Thrift type ${v.type}`)
  }
}

/** Largest message the fuzz itself encodes; the daemon's own limit is what the test is about. */
const ENCODE_LIMIT_BYTES = 256 * 1024 * 1024

/** Encodes one message (header and body) in format; body undefined writes no body at all (a bare header). */
export function encodeMessage(format: FuzzFormat, name: string, type: number, seqid: number, body: TValue | undefined): Buffer {
  const w = createWriter(format.wire, ENCODE_LIMIT_BYTES)
  w.beginMessage(name, type, seqid)
  if (body) writeTree(w, body, format.wire.protocol === 'compact')
  w.endMessage()
  const bytes = Buffer.from(w.take()!)
  return format.nonStrict ? toNonStrict(bytes) : bytes
}

/** Strict binary [80 01 00 type][i32 n][name][i32 seqid]... to non-strict [i32 n][name][type][i32 seqid]... */
function toNonStrict(strict: Buffer): Buffer {
  const type = strict[3]!
  const n = strict.readInt32BE(4)
  return Buffer.concat([strict.subarray(4, 8 + n), Buffer.from([type]), strict.subarray(8 + n)])
}

/** Methods by name, both services (their method names do not overlap), for decoding replies. */
const CODECS = new Map<string, MethodCodec<any, any>>([
  ...Object.values(MessageService.methods).map((c) => [c.name, c] as const),
  ...Object.values(PubSub.methods).map((c) => [c.name, c] as const),
])

export interface DecodedReply {
  name: string
  type: number
  seqid: number
  /** The result struct of a reply; the exception of a MESSAGE_EXCEPTION. */
  body: any
}

export type Ending =
  /** Append a ping and wait for its reply (or for the daemon to close the connection). */
  | 'barrier'
  /** Half-close after writing and wait for the daemon to close its side. */
  | 'end'
  /** Destroy the socket right after writing, replies unread. */
  | 'destroy'
  /** Write only up to cutAt, then destroy: the daemon sees a frame that stops in the middle. */
  | 'destroy-mid'
  /** Never read a reply; the socket stays open until the caller destroys it. */
  | 'no-read'

export interface ConnectionPlan {
  format: FuzzFormat
  /** The bytes to write, whole messages or not. */
  stream: Buffer
  /** Offsets at which the stream is split into separate writes (with a turn of the event loop between). */
  cuts: number[]
  ending: Ending
  /** For destroy-mid: where to stop (modulo the stream's length). */
  cutAt: number
  /**
   * Whether replies must come in the connection's format. False when the first bytes were mutated: the daemon
   * may then rightly read them as another format (a frame length whose next byte became printable is a
   * non-strict binary name length) and answer in that one. Replies are decoded in whatever format they come.
   */
  sameFormatReplies: boolean
}

export interface ConnectionOutcome {
  readonly socket: Socket
  readonly replies: DecodedReply[]
  /** Set when a reply could not be decoded: the daemon wrote something that is not valid Thrift. */
  undecodable?: string
  /** Set when the connection neither answered a barrier nor closed within the deadline. */
  hang?: string
  /** The daemon closed the connection (it ended, or saw EOF from us). */
  closed: boolean
  /** A barrier ping was answered: everything written before it was served. */
  barrierAnswered: boolean
  /**
   * Writes a ping and waits for its reply (true), or for the connection to close (false); sets hang past the
   * deadline. The daemon serves one connection's calls in order, so everything written before was served.
   */
  barrier(): Promise<boolean>
  /** Half-closes the connection and waits for the daemon to close it (true); sets hang past the deadline. */
  end(): Promise<boolean>
}

/**
 * Decodes one message the daemon wrote: its own replies with their codecs, TApplicationExceptions, and what it
 * relays for hosted services (calls to a provider, providers' replies to a caller), whose bodies are anything a
 * fuzzing provider or caller sent: those only have to be well-formed Thrift, which skipping checks.
 */
function decodeFromDaemon(h: MessageHeader, r: WireReader): unknown {
  const start = r.pos
  if (h.type === MESSAGE_EXCEPTION) return readApplicationException(r) as ApplicationException
  const codec = CODECS.get(h.name)
  if (h.type === MESSAGE_REPLY && codec) {
    try {
      return codec.readResult(r)
    } catch {
      // A relayed reply that happens to carry the name of one of the daemon's methods: check its form only.
      r.reset(r.buf, start, r.end)
    }
  }
  if (h.type !== MESSAGE_REPLY && h.type !== MESSAGE_CALL && h.type !== MESSAGE_ONEWAY) {
    throw new Error(`message type ${h.type} named ${JSON.stringify(h.name)} from the daemon`)
  }
  r.skipStruct()
  return { relayed: true }
}

/** The seqid of the barrier ping; generators must not produce it. */
export const BARRIER_SEQID = 0x7ffffffe

/**
 * Plays one connection against the daemon at path. onMessage sees every message the daemon writes to it (a
 * fuzzing provider answers the calls relayed to it from there).
 */
export async function driveConnection(
  path: string, plan: ConnectionPlan, deadlineMs: number, onMessage?: (m: DecodedReply, out: ConnectionOutcome) => void,
): Promise<ConnectionOutcome> {
  const socket = connect(path)
  socket.on('error', () => {})
  let closedNow: () => void = () => {}
  const closed = new Promise<void>((resolve) => (closedNow = resolve))
  /** Resolvers of the barriers written and not answered yet, oldest first. */
  const barriers: (() => void)[] = []
  const out: ConnectionOutcome = {
    socket,
    replies: [],
    closed: false,
    barrierAnswered: false,
    async barrier() {
      if (out.closed) return false
      const answered = new Promise<true>((resolve) => barriers.push(() => resolve(true)))
      socket.write(encodeMessage(plan.format, 'ping', MESSAGE_CALL, BARRIER_SEQID, argsTree(MessageService.methods.ping, {})))
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, deadlineMs, 'timeout')))
      const r = await Promise.race([answered, closed.then(() => false), timeout])
      clearTimeout(timer)
      if (r === 'timeout') out.hang ??= `no reply to a barrier ping and no close within ${deadlineMs} ms`
      return r === true
    },
    async end() {
      socket.end()
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, deadlineMs, 'timeout')))
      const r = await Promise.race([closed, timeout])
      clearTimeout(timer)
      if (r === 'timeout') out.hang ??= `the daemon did not close a half-closed connection within ${deadlineMs} ms`
      return r !== 'timeout'
    },
  }
  socket.once('close', () => {
    out.closed = true
    closedNow()
  })
  await new Promise<void>((resolve) => {
    socket.once('connect', resolve)
    socket.once('close', resolve)
  })
  if (out.closed) {
    out.hang = 'the daemon refused the connection'
    return out
  }
  if (plan.ending === 'no-read') {
    socket.pause()
  } else {
    const reader = new FrameReader(64 * 1024 * 1024)
    socket.on('data', (chunk: Buffer) => {
      if (out.undecodable) return
      reader.push(chunk)
      try {
        for (;;) {
          const format = reader.format
          if (plan.sameFormatReplies && format && (format.protocol !== plan.format.wire.protocol || format.transport !== plan.format.wire.transport)) {
            throw new Error(`the daemon answered in ${format.transport} ${format.protocol}, not in the client's ${plan.format.label}`)
          }
          const m = reader.next(decodeFromDaemon)
          if (!m) break
          const reply: DecodedReply = { name: m.name, type: m.type, seqid: m.seqid, body: m.body }
          out.replies.push(reply)
          if (m.seqid === BARRIER_SEQID && m.name === 'ping' && m.type === MESSAGE_REPLY) {
            out.barrierAnswered = true
            barriers.shift()?.()
          } else {
            onMessage?.(reply, out)
          }
        }
      } catch (err) {
        out.undecodable = `${(err as Error).message} (after ${out.replies.length} replies)`
      }
    })
  }
  const stream = plan.ending === 'destroy-mid' ? plan.stream.subarray(0, plan.cutAt % (plan.stream.length + 1)) : plan.stream
  const points = [...new Set([0, ...plan.cuts.map((c) => c % (stream.length + 1)), stream.length])].sort((a, b) => a - b)
  for (let i = 1; i < points.length && !out.closed; i++) {
    socket.write(stream.subarray(points[i - 1]!, points[i]!))
    await new Promise((resolve) => setImmediate(resolve))
  }
  switch (plan.ending) {
    case 'barrier':
      await out.barrier()
      break
    case 'end':
      await out.end()
      break
    case 'destroy':
    case 'destroy-mid':
      socket.destroy()
      break
    case 'no-read':
      break
  }
  return out
}
