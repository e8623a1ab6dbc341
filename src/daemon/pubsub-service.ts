/**
 * Binds PubSub's methods to the topic engine. Each handler answers its call now, or parks it (poll's long
 * wait). The connection a call came on owns what it subscribes: its owner id is call.session.id, and the
 * daemon calls topics.detach(session.id) when that connection closes.
 *
 * A poll's reply carries its subscription's id with the messages it hands out: if the reply cannot be
 * written, the session passes both to host.returnUndelivered, which gives them to topics.returnToSubscription.
 *
 * Messages are encoded for the replies at most once per protocol. A binary publisher's message usually needs
 * no encoding at all: its bytes, as they came, become its binary encoding when it is published (capture),
 * with the daemon's fields added. Replies copy encodings in runs (writePollResult).
 */
import { BusError } from '../errors.js'
import {
  PubSub, readMessage, T_I64, T_LIST, T_STOP, T_STRING, T_STRUCT, writeMessage,
  type Message, type MethodCodec, type ProtocolReader, type PubSub_poll_args, type PubSub_poll_result,
  type PubSub_publish_args, type PubSub_subscribe_args,
} from '../gen/thriftbus.js'
import { EncodedRange, encodingOf, MAX_TOPIC_NAME_BYTES, type EncodingToComplete, type SharedEncoding, type TopicEngine } from '../broker/topics.js'
import { BinaryReader } from '../wire/binary-reader.js'
import { protocolOf } from '../wire/struct-copy.js'
import { copyBytes, putI32, type WireWriter } from '../wire/writer.js'
import { ReceiveMany } from './message-service.js'
import type { MethodBinding } from './session.js'

/** Most messages one poll returns. */
export const MAX_POLL_BATCH = 10_000

export interface PubSubServiceHost {
  readonly topics: TopicEngine
  /** A poll returns at most about this many bytes of messages (always at least one message). */
  readonly maxMessageBytes: number
}

const methods = PubSub.methods

/** Returns the bindings under both their bare and their multiplexed ("PubSub:name") names. */
export function pubsubServiceBindings(host: PubSubServiceHost): Map<string, MethodBinding> {
  const { topics } = host
  const bind = (codec: MethodBinding['codec'], handle: MethodBinding['handle']): MethodBinding => ({ codec, handle })
  const list: MethodBinding[] = [
    bind(publishCodec, (call, args: PublishArgs) => {
      if (!args.message) throw new BusError('INVALID_ARGUMENT', 'publish needs a message; pass Message(sender, recipient, content)')
      call.reply({ success: topics.publish(args.topic, args.message, args.captured) })
    }),
    bind(methods.subscribe, (call, args: PubSub_subscribe_args) => {
      call.reply({ success: topics.subscribe(call.session.id, args.pattern, args.durableName ?? '', args.maxQueued ?? 0) })
    }),
    bind(pollCodec, (call, args: PubSub_poll_args) => {
      if (args.max < 1) throw new BusError('INVALID_ARGUMENT', `max must be at least 1, got ${args.max}`)
      const owner = call.session.id
      const got = topics.take(owner, args.subscription, Math.min(args.max, MAX_POLL_BATCH), host.maxMessageBytes)
      const timeoutMs = args.timeoutMs ?? 0
      if (got.length > 0 || timeoutMs === 0) return call.deliver({ success: got }, got, args.subscription)
      const waiter = new ReceiveMany(call, Math.min(args.max, MAX_POLL_BATCH), host.maxMessageBytes, args.subscription)
      call.park(topics.wait(owner, args.subscription, waiter, timeoutMs))
    }),
    bind(methods.unsubscribe, (call, args) => {
      call.reply({ success: topics.unsubscribe(call.session.id, args.subscription) })
    }),
    bind(methods.listSubscriptions, (call) => {
      call.reply({ success: topics.list() })
    }),
  ]
  const map = new Map<string, MethodBinding>()
  for (const b of list) {
    map.set(b.codec.name, b)
    map.set(`${PubSub.name}:${b.codec.name}`, b)
  }
  return map
}

/**
 * poll's codec, but its result is written by writePollResult: a message published to several subscriptions is
 * encoded once per protocol, and every other subscriber's reply copies those bytes.
 */
const pollCodec: MethodCodec<PubSub_poll_args, PubSub_poll_result> = { ...methods.poll, writeResult: writePollResult }

/** publish's arguments, with the binary encoding of the message begun from the publisher's own bytes (capture). */
interface PublishArgs extends PubSub_publish_args {
  captured: Captured | undefined
}

/**
 * A published message's binary encoding, begun in a shared block as its publisher sent it: fields 1 to 3, then
 * the daemon's fields 4 (id) and 5 (sentAtMs), whose values complete() fills in, then field 10 (the topic) and
 * STOP.
 */
class Captured extends EncodedRange implements EncodingToComplete {
  constructor(
    block: Buffer,
    start: number,
    end: number,
    /** Where the id's 8 bytes go; sentAtMs's go 11 bytes later. */
    readonly idAt: number,
  ) {
    super(block, start, end)
  }

  complete(m: Message): EncodedRange | undefined {
    if (m.body !== undefined || m.headers !== undefined || m.ttlMs !== undefined || m.deliveryCount !== undefined) return undefined
    putI64(this.block, this.idAt, m.id!)
    putI64(this.block, this.idAt + 11, m.sentAtMs!)
    return this
  }
}

/**
 * publish's codec, but its arguments are read by readPublishArgs: a binary publisher's message becomes its
 * binary encoding for the replies at once, from the publisher's bytes, instead of being encoded again by the
 * first binary poll reply (see capture).
 */
const publishCodec: MethodCodec<PublishArgs, unknown> = { ...methods.publish, readArgs: readPublishArgs } as MethodCodec<PublishArgs, unknown>

/** Reads publish's arguments as the generated reader does; from a binary publisher, also captures the message. */
function readPublishArgs(r: ProtocolReader): PublishArgs {
  const v: PublishArgs = { topic: '', message: undefined as unknown as Message, captured: undefined }
  const binary = r instanceof BinaryReader ? r : undefined
  /** Where the topic's bytes are in the binary reader's buffer (end 0: not read yet). */
  let topicStart = 0
  let topicEnd = 0
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    if (r.fieldId === 1 && t === T_STRING) {
      topicStart = (binary?.pos ?? 0) + 4
      v.topic = r.readString()
      topicEnd = binary?.pos ?? 0
      continue
    }
    if (r.fieldId === 2 && t === T_STRUCT) {
      const start = binary?.pos ?? 0
      v.message = readMessage(r)
      v.captured = binary === undefined || binary.underrun || topicEnd === 0
        ? undefined
        : capture(binary.buf, start, binary.pos, v.message, topicStart, topicEnd)
      continue
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

/** Longest message encoding that capture takes: past it, encoding the strings again costs less than the copies. */
const MAX_CAPTURED_BYTES = 1024

/**
 * Begins the binary encoding of a published message from its bytes as they came, buf[start, end), when they
 * are fields 1, 2 and 3 (sender, recipient, content), all strings, in that order and nothing else: the
 * daemon's fields then follow in the order the generated writer uses, so the bytes are the same. The strings'
 * bytes must also be what the daemon would write for the decoded strings: a string holding U+FFFD, which
 * decoding puts for bytes that are not UTF-8, is encoded again instead (a sender's own U+FFFD only costs the
 * shortcut). The topic's bytes are buf[topicStart, topicEnd). Undefined when the message does not qualify.
 */
function capture(buf: Buffer, start: number, end: number, message: Message, topicStart: number, topicEnd: number): Captured | undefined {
  if (end - start > MAX_CAPTURED_BYTES || topicEnd - topicStart > MAX_TOPIC_NAME_BYTES) return undefined
  let p = start
  for (let id = 1; id <= 3; id++) {
    if (p + 7 > end || buf[p] !== T_STRING || buf[p + 1] !== 0 || buf[p + 2] !== id) return undefined
    p += 7 + ((buf[p + 3]! << 24) | (buf[p + 4]! << 16) | (buf[p + 5]! << 8) | buf[p + 6]!)
  }
  if (p !== end - 1 || buf[p] !== T_STOP) return undefined
  if (message.sender.includes('\uFFFD') || message.recipient.includes('\uFFFD') || message.content.includes('\uFFFD')) return undefined
  const fields = p - start
  const topicBytes = topicEnd - topicStart
  const size = fields + 11 + 11 + 7 + topicBytes + 1
  if (capturing.length - capturingUsed < size) {
    capturing = Buffer.allocUnsafeSlow(Math.max(MAX_BLOCK_BYTES, size))
    capturingUsed = 0
  }
  const block = capturing
  const at = capturingUsed
  capturingUsed += size
  copyBytes.call(buf, block, at, start, p)
  let q = at + fields
  const idAt = q + 3
  block[q] = T_I64
  block[q + 1] = 0
  block[q + 2] = 4
  q += 11
  block[q] = T_I64
  block[q + 1] = 0
  block[q + 2] = 5
  q += 11
  block[q] = T_STRING
  block[q + 1] = 0
  block[q + 2] = 10
  block[q + 3] = 0
  block[q + 4] = 0
  block[q + 5] = topicBytes >>> 8
  block[q + 6] = topicBytes & 0xff
  q += 7
  for (let i = topicStart; i < topicEnd; i++) block[q++] = buf[i]!
  block[q] = T_STOP
  return new Captured(block, at, at + size, idAt)
}

/** The block capture writes into, and how much of it is used. */
let capturing = Buffer.alloc(0)
let capturingUsed = 0

/** Writes v as a big-endian i64 at block[at], as the binary writer's writeI64 does. */
function putI64(block: Buffer, at: number, v: number): void {
  const hi = Math.floor(v / 4294967296)
  putI32(block, at, hi | 0)
  putI32(block, at + 4, (v - hi * 4294967296) >>> 0)
}

/**
 * Writes poll's result as the generated writer does (the same bytes), copying shared encodings where it can. A
 * struct's bytes do not depend on where it sits in a message, in either protocol, so they can be copied.
 *
 * The messages this reply is the first to encode, when they follow one another, get one block: a copy of
 * their bytes, each message an EncodedRange of it. Every subscriber polls the same messages in the same order,
 * so a later reply finds whole runs of them side by side in one block and copies each run at once. A block
 * is closed once it holds MAX_BLOCK_BYTES: one queued message keeps its whole block alive. Messages captured
 * at publish time sit side by side in capture's blocks the same way, so even the first reply copies runs.
 */
function writePollResult(w: WireWriter, v: PubSub_poll_result): void {
  const list = v.success
  const protocol = protocolOf(w)
  if (list === undefined || list === null || protocol === undefined) {
    methods.poll.writeResult(w, v)
    return
  }
  w.writeStructBegin()
  w.writeFieldBegin(T_LIST, 0)
  w.writeListBegin(T_STRUCT, list.length)
  const binary = protocol === 'binary'
  // What an earlier reply left when its encoding threw.
  run.block = undefined
  encoded.shared.length = 0
  encoded.ends.length = 0
  for (let i = 0; i < list.length; i++) {
    const m = list[i]!
    const shared = encodingOf(m)
    const range = shared === undefined ? undefined : binary ? shared.binary : shared.compact
    if (range !== undefined) {
      endEncoded(w, binary)
      if (range.block === run.block && range.start === run.end) {
        run.end = range.end
      } else {
        copyRun(w)
        run.block = range.block
        run.start = range.start
        run.end = range.end
      }
      continue
    }
    copyRun(w)
    if (shared === undefined || !shared.shared) {
      endEncoded(w, binary)
      writeMessage(w, m)
      continue
    }
    if (encoded.shared.length > 0 && w.messageOffset - encoded.from >= MAX_BLOCK_BYTES) endEncoded(w, binary)
    if (encoded.shared.length === 0) encoded.from = w.messageOffset
    writeMessage(w, m)
    encoded.shared.push(shared)
    encoded.ends.push(w.messageOffset)
  }
  copyRun(w)
  endEncoded(w, binary)
  w.writeListEnd()
  w.writeFieldStop()
  w.writeStructEnd()
}

/**
 * Encodings of more messages than this go to another block. Node's Buffer pool, which the messages' own
 * copies came from before blocks, is 8 KiB: a queued message keeps no more memory alive than it did then.
 */
const MAX_BLOCK_BYTES = 8 * 1024

/** writePollResult's run of encoded bytes found side by side, not yet copied (block undefined: none). */
const run = { block: undefined as Buffer | undefined, start: 0, end: 0 }

function copyRun(w: WireWriter): void {
  if (run.block === undefined) return
  w.writeRange(run.block, run.start, run.end)
  run.block = undefined
}

/** writePollResult's messages encoded one after another, from messageOffset `from`, each ending at its `ends`. */
const encoded = { from: 0, shared: [] as SharedEncoding[], ends: [] as number[] }

/** Makes the block of the messages just encoded (see writePollResult) and gives each its range. */
function endEncoded(w: WireWriter, binary: boolean): void {
  const { shared, ends, from } = encoded
  if (shared.length === 0) return
  const block = w.copySince(from)
  let start = 0
  for (let i = 0; i < shared.length; i++) {
    const end = ends[i]! - from
    const range = new EncodedRange(block, start, end)
    if (binary) shared[i]!.binary = range
    else shared[i]!.compact = range
    start = end
  }
  shared.length = 0
  ends.length = 0
}
