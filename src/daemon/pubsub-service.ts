/**
 * Binds PubSub's methods to the topic engine. Each handler answers its call now, or parks it (poll's long
 * wait). The connection a call came on owns what it subscribes: its owner id is call.session.id, and the
 * daemon calls topics.detach(session.id) when that connection closes.
 *
 * A poll's reply carries its subscription's id with the messages it hands out: if the reply cannot be
 * written, the session passes both to host.returnUndelivered, which gives them to topics.returnToSubscription.
 */
import { BusError } from '../errors.js'
import {
  PubSub, T_LIST, T_STRUCT, writeMessage,
  type Message, type MethodCodec, type PubSub_poll_args, type PubSub_poll_result, type PubSub_subscribe_args,
} from '../gen/thriftbus.js'
import { EncodedRange, encodingOf, type SharedEncoding, type TopicEngine } from '../broker/topics.js'
import { protocolOf } from '../wire/struct-copy.js'
import type { WireWriter } from '../wire/writer.js'
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
    bind(methods.publish, (call, args) => {
      if (!args.message) throw new BusError('INVALID_ARGUMENT', 'publish needs a message; pass Message(sender, recipient, content)')
      call.reply({ success: topics.publish(args.topic, args.message) })
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

/**
 * Writes poll's result as the generated writer does (the same bytes), copying shared encodings where it can. A
 * struct's bytes do not depend on where it sits in a message, in either protocol, so they can be copied.
 *
 * The messages this reply is the first to encode, when they follow one another, get one block: a copy of
 * their bytes, each message an EncodedRange of it. Every subscriber polls the same messages in the same order,
 * so a later reply finds whole runs of them side by side in one block and copies each run at once. A block
 * is closed once it holds MAX_BLOCK_BYTES: one queued message keeps its whole block alive.
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
    if (shared === undefined) {
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
