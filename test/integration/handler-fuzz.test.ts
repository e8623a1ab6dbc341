/**
 * Property-based fuzzing of the daemon's handlers (not only its decoder), over real sockets, against one real
 * daemon process with its default durable store.
 *
 * Raw connections send generated calls to every method of MessageService and PubSub (except shutdown) in all
 * five wire formats, with hostile argument values, then the same calls mutated (fields of the wrong type,
 * unknown fields, lengths that lie, truncation, bytes after a valid header), then several such connections at
 * once, ended in every way a client can end, then calls to hosted services whose fuzzing providers answer,
 * fail or vanish. Within a run: no connection hangs (each answers a final ping or is closed), every reply
 * decodes, none is an INTERNAL_ERROR, no oneway call is answered, and a connection that sent only well-formed
 * calls is never closed. After every run, once the fuzz's connections are gone, the daemon must:
 *   - still serve a well-behaved SDK client (ping, and a send + receive round trip);
 *   - still hold the N messages seeded in PRECIOUS before the fuzz (no generated string contains that name, and
 *     every byte the fuzz writes is scrubbed of it);
 *   - hold no waiting receivers, leases, attached subscriptions, providers or routed calls for connections that
 *     have gone;
 *   - have logged no unexpected handler failure, and still be running.
 * At the end the seeded messages are received and compared, and the daemon's RSS is compared with its RSS
 * before the fuzz (a generous bound: this looks for leaks, not for a number).
 *
 * A failing property prints fast-check's seed and counterexample; rerun with THRIFTBUS_FUZZ_SEED=<seed> (and
 * THRIFTBUS_FUZZ_ONLY=<words of its title>, THRIFTBUS_FUZZ_PATH=<path> to replay just the counterexample).
 * THRIFTBUS_FUZZ_RUNS scales the number of runs, THRIFTBUS_FUZZ_NO_SHRINK=1 stops at the first failure,
 * THRIFTBUS_FUZZ_LOG=<file> keeps the daemon's log. The daemon bugs this fuzz found have deterministic
 * reproductions at the end of this file.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import type { Socket } from 'node:net'
import t, { type Test } from 'tap'
import fc from 'fast-check'
import { connect, type Client } from '../../sdk/index.js'
import {
  ErrorCode, MESSAGE_CALL, MESSAGE_EXCEPTION, MESSAGE_ONEWAY, MESSAGE_REPLY, MessageService, PubSub,
  T_BOOL, T_BYTE, T_DOUBLE, T_I16, T_I32, T_I64, T_LIST, T_MAP, T_SET, T_STRING, T_STRUCT,
  type Message, type MethodCodec,
} from '../../src/gen/thriftbus.js'
import { ApplicationErrorType } from '../../src/wire/application-exception.js'
import { startDaemon, type RunningDaemon } from '../helpers/daemon.js'
import {
  argsTree, BARRIER_SEQID, driveConnection, encodeMessage, FUZZ_FORMATS,
  type ConnectionOutcome, type ConnectionPlan, type Ending, type FuzzFormat, type TField, type TValue,
} from '../helpers/fuzz-wire.js'

/** The mailbox seeded before the fuzz. Every name the fuzz uses is checked not to contain it. */
const PRECIOUS = 'precious'
/** The well-behaved client's round-trip mailbox (contains PRECIOUS, so the fuzz cannot touch it either). */
const PROBE = `${PRECIOUS}.probe`
const SEEDED = 64
const RUNS_VALID = Number(process.env.THRIFTBUS_FUZZ_RUNS ?? 200)
const RUNS_MUTATED = RUNS_VALID
const RUNS_INTERLEAVED = Math.ceil(RUNS_VALID * 0.6)
const RUNS_ROUTED = Math.ceil(RUNS_VALID * 0.6)
const SEED = process.env.THRIFTBUS_FUZZ_SEED === undefined ? undefined : Number(process.env.THRIFTBUS_FUZZ_SEED)
/** With the seed, replays one counterexample (the "path" fast-check prints); use with THRIFTBUS_FUZZ_ONLY. */
const PATH = process.env.THRIFTBUS_FUZZ_PATH
/** Runs only the properties whose title contains this. */
const ONLY = process.env.THRIFTBUS_FUZZ_ONLY
/** How long a failing property may spend shrinking its counterexample. */
const SHRINK_BUDGET_MS = 30_000
/** A flooding connection repeats its calls until it has written this much (big arguments are not multiplied). */
const FLOOD_LIMIT_BYTES = 1024 * 1024
/** How long a connection may take to answer its barrier ping or close; generous for a loaded 2-core machine. */
const CONNECTION_DEADLINE_MS = 15_000
const RSS_GROWTH_LIMIT_MIB = 150
const DAEMON_LIMITS = ['--max-mailbox-bytes', '4M', '--max-deliveries', '2', '--max-calls-per-connection', '8']
/**
 * The five bugs at the end of this file are fixed; THRIFTBUS_FUZZ_STEER=1 steers the generators around them
 * again, as they did while the bugs were open.
 */
const STEER_AROUND_KNOWN_BUGS = process.env.THRIFTBUS_FUZZ_STEER === '1'
/**
 * Known bug (see the test "two long-polls with the same seqid"): a connection that parks two calls under one
 * seqid leaves one of them parked after it closes. Until it is fixed, seqids are unique per connection;
 * otherwise the generators reuse seqids (as stock clients that always send seqid 0 do).
 */
const UNIQUE_SEQIDS_PER_CONNECTION = STEER_AROUND_KNOWN_BUGS
/**
 * Known bug (see the test "a bool field with a negative id"): the compact writer drops the header of such a
 * field, so the daemon corrupts it when it relays a struct from a binary peer to a compact one. Until it is
 * fixed, bool fields get positive ids.
 */
const POSITIVE_BOOL_FIELD_IDS = STEER_AROUND_KNOWN_BUGS

const MS = MessageService.methods
const PS = PubSub.methods

// ---------------------------------------------------------------------------------------------------------
// Arbitraries: argument values

const notReserved = (s: string): boolean => !s.includes(PRECIOUS) && !s.includes('shutdown')

const LONG_ASCII = 'x'.repeat(70_000) // past the 64 KiB initial read and write buffers
const LONG_UNICODE = 'é😀'.repeat(20_000) // multi-byte, and surrogate pairs split by any byte cut
const HUGE = 'h'.repeat(1_100_000) // over 1 MiB, still well under the 16 MiB message limit

/** Text for contents, senders, headers: ordinary, unicode, empty, lone surrogates, very long. */
const textArb: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ maxLength: 24 }), weight: 120 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }), weight: 60 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 12 }), weight: 40 },
  { arbitrary: fc.constantFrom('', '\u0000', '\uD800', 'a\uDFFFb', '\uFEFF', 'Ω≈ç√∫'), weight: 40 },
  { arbitrary: fc.constantFrom(LONG_ASCII, LONG_UNICODE), weight: 20 },
  { arbitrary: fc.constant(HUGE), weight: 1 },
).filter(notReserved)

/** Mailbox names: a shared pool (so calls meet in the same mailboxes), edge cases, invalid ones, random. */
const NAME_POOL = ['fz', 'fz', 'fz.a', 'fz.b', 'fz_c:d@e/f+g-h', 'fz.dead-letter', 'Z', 'a'.repeat(200), `${'b'.repeat(200)}.dead-letter`]
const BAD_NAMES = ['', ' ', '.fz', ':fz', '-fz', 'fz fz', 'fz\n', 'fz\u0000', 'ünï', 'a'.repeat(201), `${'c'.repeat(201)}.dead-letter`, '*', 'fz.>', '日本']
const nameArb: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...NAME_POOL), weight: 8 },
  { arbitrary: fc.constantFrom(...BAD_NAMES), weight: 2 },
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._:@/+-]{0,12}$/), weight: 2 },
  { arbitrary: fc.string({ maxLength: 16 }), weight: 1 },
).filter(notReserved)

const TOPIC_POOL = ['fz', 'fz.a', 'fz.a.b', 'fz.b', 'other.x', 'a'.repeat(200), 'fz_1:2@3/4+5-6']
const BAD_TOPICS = ['', '.', 'fz.', '.fz', 'fz..a', 'fz.*', 'fz.>', '>', '*', 'fz a', 'é', 'a'.repeat(201), 'fz.\u0000']
const topicArb = fc.oneof(
  { arbitrary: fc.constantFrom(...TOPIC_POOL), weight: 6 },
  { arbitrary: fc.constantFrom(...BAD_TOPICS), weight: 2 },
  { arbitrary: fc.string({ maxLength: 16 }), weight: 1 },
).filter(notReserved)
const patternArb = fc.oneof(
  { arbitrary: fc.constantFrom('fz', 'fz.*', 'fz.>', '>', '*', '*.*', 'fz.*.b', 'fz.a.b', '*.>', 'other.>'), weight: 6 },
  { arbitrary: fc.constantFrom('', 'fz.>.a', 'f*', 'fz.>>', '>.fz', 'fz..*', '.', 'a'.repeat(201), 'é.*'), weight: 2 },
  { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
).filter(notReserved)
const durableArb = fc.oneof(
  { arbitrary: fc.constant(''), weight: 6 },
  { arbitrary: fc.constantFrom('fzd', 'fzd2', 'fzd.x'), weight: 3 },
  { arbitrary: fc.constantFrom('.bad', 'bad name', 'a'.repeat(201), '\u0000'), weight: 1 },
  { arbitrary: fc.string({ maxLength: 10 }), weight: 1 },
).filter(notReserved)

/** Hosted service names: providers register them, callers multiplex calls to them (routed through the daemon). */
const SERVICE_POOL = ['FzSvc', 'FzSvc', 'FzSvc2', 'Fz.svc/x-y_z']
const serviceNameArb = fc.oneof(
  { arbitrary: fc.constantFrom(...SERVICE_POOL), weight: 6 },
  { arbitrary: fc.constantFrom('MessageService', 'PubSub', '', ':', 'Fz:Svc', '-x', 'a'.repeat(201), 'é'), weight: 2 },
  { arbitrary: textArb, weight: 1 },
).filter(notReserved)

const I32_EDGES = [0, 1, -1, 2, 15, 16, 10_000, 10_001, 2 ** 31 - 1, -(2 ** 31), 1_048_576, 1_048_577]
const i32Arb = fc.oneof(fc.constantFrom(...I32_EDGES), fc.integer({ min: -20, max: 20 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }))
const I64_EDGES = [0, 1, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 62, -(2 ** 63), 2 ** 63]
const i64Arb = fc.oneof(fc.constantFrom(...I64_EDGES), fc.integer({ min: -1000, max: 1000 }), fc.integer(), fc.maxSafeInteger())
/** Timeouts: mostly short or none; negative ones wait for ever (the fuzz destroys their sockets); huge ones. */
const timeoutArb = fc.oneof(
  { arbitrary: fc.constantFrom(0, 0, 1, 5, 20, 50), weight: 6 },
  { arbitrary: fc.constantFrom(-1, -1000, -(2 ** 53 - 1), -(2 ** 63)), weight: 2 },
  { arbitrary: fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 40, 2 ** 53 - 1, 2 ** 63), weight: 1 },
)
const leaseArb = fc.oneof(
  { arbitrary: fc.constantFrom(1, 5, 50, 1000, 30_000, 12 * 3600 * 1000), weight: 4 },
  { arbitrary: fc.constantFrom(0, -1, 12 * 3600 * 1000 + 1, 2 ** 31, -(2 ** 63), 2 ** 63), weight: 2 },
  { arbitrary: i64Arb, weight: 1 },
)
const maxArb = fc.oneof({ arbitrary: fc.integer({ min: 1, max: 5 }), weight: 4 }, { arbitrary: i32Arb, weight: 2 })
/** Ids: small ones hit real messages and subscriptions (the seeded ones included), others hit nothing. */
const idArb = fc.oneof({ arbitrary: fc.integer({ min: -2, max: 400 }), weight: 4 }, { arbitrary: i64Arb, weight: 1 })
const seqidArb = fc.oneof(fc.integer({ min: 0, max: 15 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })).filter((s) => s !== BARRIER_SEQID)

const bodyArb = fc.oneof({ arbitrary: fc.uint8Array({ maxLength: 48 }), weight: 8 }, { arbitrary: fc.constant(new Uint8Array(100_000).fill(7)), weight: 1 })
const headersArb = fc.dictionary(
  fc.oneof(textArb, fc.constantFrom('__proto__', 'constructor', 'thriftbus-original-id', 'thriftbus-dead-letter-from')),
  textArb,
  { maxKeys: 4 },
)
/** An optional field, absent with probability absent / (absent + 1). */
const sometimes = <T>(arb: fc.Arbitrary<T>, absent = 3): fc.Arbitrary<T | undefined> =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: Math.round(absent * 10) }, { arbitrary: arb, weight: 10 })

/** A Message: usually the three original fields, any of the others now and then, the daemon-assigned ones included. */
const messageArb: fc.Arbitrary<Message> = fc.record({
  sender: textArb,
  recipient: nameArb,
  content: textArb,
  id: sometimes(idArb),
  sentAtMs: sometimes(i64Arb),
  body: sometimes(bodyArb),
  headers: sometimes(headersArb),
  ttlMs: sometimes(fc.oneof(fc.constantFrom(1, 5, 60_000, 10 * 365 * 24 * 3600 * 1000, 10 * 365 * 24 * 3600 * 1000 + 1), i64Arb), 5),
  deliveryCount: sometimes(i32Arb, 5),
  topic: sometimes(textArb, 5),
}).chain((m) => fc.oneof(
  { arbitrary: fc.constant(m), weight: 12 },
  // Now and then one of the original fields is missing too (the struct's defaults apply).
  { arbitrary: fc.constantFrom('sender', 'recipient', 'content').map((k) => ({ ...m, [k]: undefined })), weight: 1 },
)) as fc.Arbitrary<Message>

// ---------------------------------------------------------------------------------------------------------
// Arbitraries: calls

type Service = 'MessageService' | 'PubSub'
interface CallSpec {
  service: Service
  method: string
  args: object
}

/** "Service.method" of every method the generators call. */
const FUZZED_METHODS = new Set<string>()
function spec(service: Service, method: string, args: fc.Arbitrary<object>, weight = 2) {
  FUZZED_METHODS.add(`${service}.${method}`)
  return { arbitrary: args.map((a): CallSpec => ({ service, method, args: a })), weight }
}

/** Every method but shutdown, with random arguments. */
const CALL_ARBS = [
  spec('MessageService', 'sendMessage', fc.record({ message: sometimes(messageArb, 0.1) }), 6),
  spec('MessageService', 'sendMessages', fc.record({ messages: fc.array(messageArb, { maxLength: 6 }) }), 3),
  spec('MessageService', 'receiveMessage', fc.record({ recipient: nameArb, timeoutMs: timeoutArb }, { requiredKeys: ['recipient'] }), 4),
  spec('MessageService', 'receiveMessages', fc.record({ recipient: nameArb, max: maxArb, timeoutMs: timeoutArb }, { requiredKeys: ['recipient', 'max'] }), 3),
  spec('MessageService', 'receiveAny', fc.record({ wants: fc.dictionary(nameArb, maxArb, { maxKeys: 4 }), timeoutMs: timeoutArb }, { requiredKeys: ['wants'] }), 3),
  spec('MessageService', 'receiveLeased', fc.record({ recipient: nameArb, max: maxArb, timeoutMs: timeoutArb, leaseMs: leaseArb }), 4),
  spec('MessageService', 'ack', fc.record({ ids: fc.array(idArb, { maxLength: 12 }) })),
  spec('MessageService', 'nack', fc.record({ ids: fc.array(idArb, { maxLength: 12 }) })),
  spec('MessageService', 'returnMessages', fc.record({ messages: fc.array(messageArb, { maxLength: 4 }) })),
  spec('MessageService', 'cancel', fc.record({ seqid: seqidArb })),
  spec('MessageService', 'listMailboxes', fc.constant({}), 1),
  spec('MessageService', 'mailboxStats', fc.record({ name: nameArb }), 1),
  spec('MessageService', 'purgeMailbox', fc.record({ name: nameArb }), 1),
  spec('MessageService', 'registerService', fc.record({ name: serviceNameArb }), 2),
  spec('MessageService', 'ping', fc.constant({}), 1),
  spec('MessageService', 'limits', fc.constant({}), 1),
  spec('MessageService', 'status', fc.constant({}), 1),
  spec('PubSub', 'publish', fc.record({ topic: topicArb, message: sometimes(messageArb, 0.1) }), 4),
  spec('PubSub', 'subscribe', fc.record({ pattern: patternArb, durableName: durableArb, maxQueued: fc.oneof(fc.constantFrom(0, 1, 2), i32Arb) }, { requiredKeys: ['pattern'] }), 3),
  spec('PubSub', 'poll', fc.record({ subscription: idArb, max: maxArb, timeoutMs: timeoutArb }), 3),
  spec('PubSub', 'unsubscribe', fc.record({ subscription: idArb })),
  spec('PubSub', 'listSubscriptions', fc.constant({}), 1),
]
const callSpecArb = fc.oneof(...CALL_ARBS)

/**
 * How the method is named on the wire: bare, multiplexed, multiplexed under the wrong built-in service, under
 * a hosted service (the daemon routes it to that service's provider, if any, with these arguments), or unknown.
 */
type Naming = { kind: 'bare' | 'multiplexed' | 'wrong-service' } | { kind: 'routed'; service: string } | { kind: 'unknown'; name: string }
const namingArb: fc.Arbitrary<Naming> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'bare' as const }), weight: 6 },
  { arbitrary: fc.constant({ kind: 'multiplexed' as const }), weight: 4 },
  { arbitrary: fc.constant({ kind: 'wrong-service' as const }), weight: 1 },
  { arbitrary: serviceNameArb.map((service) => ({ kind: 'routed' as const, service })), weight: 3 },
  {
    arbitrary: fc.oneof(
      fc.constantFrom('', ':', 'MessageService:', ':ping', 'Nope:ping', 'MessageService:PubSub:ping', 'PING', 'x'.repeat(300)),
      fc.string({ maxLength: 20 }),
    ).filter(notReserved).map((name) => ({ kind: 'unknown' as const, name })),
    weight: 1,
  },
)
/** Mostly calls; replies and exceptions too: from a connection that registered a service, they answer routed calls. */
const messageTypeArb = fc.oneof(
  { arbitrary: fc.constant(MESSAGE_CALL), weight: 20 },
  { arbitrary: fc.constant(MESSAGE_ONEWAY), weight: 2 },
  { arbitrary: fc.constantFrom(MESSAGE_REPLY, MESSAGE_EXCEPTION), weight: 3 },
  { arbitrary: fc.constantFrom(0, 5, 7), weight: 1 },
)

interface WireCall {
  call: CallSpec
  naming: Naming
  type: number
  seqid: number
}
const wireCallArb: fc.Arbitrary<WireCall> = fc.record({ call: callSpecArb, naming: namingArb, type: messageTypeArb, seqid: seqidArb })

function codecOf(c: CallSpec): MethodCodec<any, any> {
  const methods = (c.service === 'MessageService' ? MS : PS) as Record<string, MethodCodec<any, any>>
  return methods[c.method]!
}

function wireName(c: WireCall): string {
  const { service, method } = c.call
  switch (c.naming.kind) {
    case 'bare': return method
    case 'multiplexed': return `${service}:${method}`
    case 'wrong-service': return `${service === 'PubSub' ? 'MessageService' : 'PubSub'}:${method}`
    case 'routed': return `${c.naming.service}:${method}`
    case 'unknown': return c.naming.name
  }
}

// ---------------------------------------------------------------------------------------------------------
// Arbitraries: mutations

const PRIMITIVE_TYPES = [T_BOOL, T_BYTE, T_I16, T_I32, T_I64, T_DOUBLE, T_STRING]
const ALL_TYPES = [...PRIMITIVE_TYPES, T_STRUCT, T_LIST, T_SET, T_MAP]
const fieldIdArb = fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(0, -1, 100, 32_767, -32_768))

/** A random value of a given Thrift type, nested at most `depth` deep. */
function valueOf(type: number, depth: number): fc.Arbitrary<TValue> {
  switch (type) {
    case T_BOOL: return fc.boolean().map((value) => ({ type, value }))
    case T_BYTE: return fc.integer({ min: -128, max: 127 }).map((value) => ({ type, value }))
    case T_I16: return fc.integer({ min: -32_768, max: 32_767 }).map((value) => ({ type, value }))
    case T_I32: return i32Arb.map((value) => ({ type, value }))
    case T_I64: return i64Arb.map((value) => ({ type, value }))
    case T_DOUBLE: return fc.double().map((value) => ({ type, value }))
    case T_STRING: return fc.oneof(textArb, fc.uint8Array({ maxLength: 32 })).map((value) => ({ type, value }))
    case T_STRUCT:
      return fc.array(fc.record({ id: fieldIdArb, value: anyValue(depth - 1) }), { maxLength: 4 })
        .map((fields): TValue => ({ type, fields }))
    case T_LIST:
    case T_SET:
      return typeArb(depth - 1).chain((elemType) =>
        fc.array(valueOf(elemType, depth - 1), { maxLength: 4 }).map((items): TValue => ({ type, elemType, items })))
    case T_MAP:
      return fc.tuple(typeArb(depth - 1), typeArb(depth - 1)).chain(([keyType, valueType]) =>
        fc.array(fc.tuple(valueOf(keyType, depth - 1), valueOf(valueType, depth - 1)), { maxLength: 3 })
          .map((pairs): TValue => ({ type, keyType, valueType, items: pairs.flat() })))
    default:
      throw new Error(`no such type ${type}`)
  }
}

function typeArb(depth: number): fc.Arbitrary<number> {
  return fc.constantFrom(...(depth > 0 ? ALL_TYPES : PRIMITIVE_TYPES))
}

function anyValue(depth: number): fc.Arbitrary<TValue> {
  return typeArb(depth).chain((type) => valueOf(type, depth))
}

const LYING_SIZES = [-1, -2, -(2 ** 31), 2 ** 31 - 1, 2 ** 30, 16 * 1024 * 1024 + 1, 0x7ffffff0, 0xffffffff]

/** A change to the arguments' tree. `at` picks the node (modulo how many there are). */
type TreeMutation =
  | { kind: 'retype'; at: number; value: TValue }
  | { kind: 'extra'; at: number; id: number; value: TValue }
  | { kind: 'drop'; at: number }
  | { kind: 'duplicate'; at: number }
  | { kind: 'size-lie'; at: number; size: number }
  | { kind: 'element-type-lie'; at: number; elemType: number }

const treeMutationArb: fc.Arbitrary<TreeMutation> = fc.oneof(
  fc.record({ kind: fc.constant('retype' as const), at: fc.nat(), value: anyValue(2) }),
  fc.record({ kind: fc.constant('extra' as const), at: fc.nat(), id: fieldIdArb, value: anyValue(2) }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('size-lie' as const), at: fc.nat(), size: fc.oneof(fc.constantFrom(...LYING_SIZES), fc.integer({ min: 0, max: 40 })) }),
  fc.record({ kind: fc.constant('element-type-lie' as const), at: fc.nat(), elemType: fc.constantFrom(...ALL_TYPES) }),
)

/** A change to the encoded bytes. */
type ByteMutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'patch-length'; at: number; value: number; varint: boolean }
  | { kind: 'overwrite'; edits: [number, number][] }
  | { kind: 'garbage-after-header'; tail: Uint8Array; fixFrameLength: boolean }

const byteMutationArb: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('patch-length' as const), at: fc.nat(), value: fc.constantFrom(...LYING_SIZES), varint: fc.boolean() }),
  fc.record({ kind: fc.constant('overwrite' as const), edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }) }),
  fc.record({ kind: fc.constant('garbage-after-header' as const), tail: fc.uint8Array({ maxLength: 200 }), fixFrameLength: fc.boolean() }),
)

interface MutatedCall extends WireCall {
  tree: TreeMutation[]
  bytes: ByteMutation | undefined
}
const mutatedCallArb: fc.Arbitrary<MutatedCall> = fc.record({
  call: callSpecArb,
  naming: namingArb,
  type: messageTypeArb,
  seqid: seqidArb,
  tree: fc.array(treeMutationArb, { maxLength: 3 }),
  bytes: fc.option(byteMutationArb, { nil: undefined }),
})

/** True when the mutation can leave the byte stream out of step (then no barrier can follow it). */
function desynchronises(m: MutatedCall): boolean {
  return m.bytes !== undefined || m.tree.some((x) => x.kind === 'size-lie' || x.kind === 'element-type-lie')
}

// ---------------------------------------------------------------------------------------------------------
// Arbitraries: hosted services (providers that fuzz their answers, callers that fuzz their calls)

/** How a fuzzing provider answers a call relayed to it. */
type ProviderAction =
  | { kind: 'reply'; type: number; body: TValue; seqidShift: number; rename: boolean }
  | { kind: 'ignore' }
  | { kind: 'garbage'; bytes: Uint8Array }
  | { kind: 'close' }

const providerActionArb: fc.Arbitrary<ProviderAction> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('reply' as const),
      type: fc.constantFrom(MESSAGE_REPLY, MESSAGE_REPLY, MESSAGE_EXCEPTION),
      body: valueOf(T_STRUCT, 3),
      seqidShift: fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.integer({ min: -3, max: 3 }), weight: 1 }),
      rename: fc.boolean(),
    }),
    weight: 8,
  },
  { arbitrary: fc.constant({ kind: 'ignore' as const }), weight: 2 },
  { arbitrary: fc.uint8Array({ minLength: 1, maxLength: 40 }).map((bytes) => ({ kind: 'garbage' as const, bytes })), weight: 1 },
  { arbitrary: fc.constant({ kind: 'close' as const }), weight: 1 },
)

interface ProviderSpec {
  format: FuzzFormat
  /** Registered in this order; the first is from the pool, the others anything. */
  services: string[]
  /** Used in turn, one per relayed call. */
  actions: ProviderAction[]
}

const providerSpecArb: fc.Arbitrary<ProviderSpec> = fc.record({
  format: fc.constantFrom(...FUZZ_FORMATS),
  services: fc.tuple(fc.constantFrom(...SERVICE_POOL), fc.array(serviceNameArb, { maxLength: 2 })).map(([first, rest]) => [first, ...rest]),
  actions: fc.array(providerActionArb, { minLength: 1, maxLength: 6 }),
})

/** Calls mostly multiplexed under the hosted services' names, with every method's arguments and mutations. */
const routedCallArb: fc.Arbitrary<WireCall> = fc.record({
  call: callSpecArb,
  naming: fc.oneof(
    { arbitrary: fc.constantFrom(...SERVICE_POOL).map((service) => ({ kind: 'routed' as const, service })), weight: 8 },
    { arbitrary: namingArb, weight: 1 },
  ),
  type: fc.oneof({ arbitrary: fc.constant(MESSAGE_CALL), weight: 8 }, { arbitrary: fc.constant(MESSAGE_ONEWAY), weight: 1 }),
  seqid: seqidArb,
})

// ---------------------------------------------------------------------------------------------------------
// Building bytes

function clone(v: TValue): TValue {
  return structuredClone(v)
}

function walk(v: TValue, visit: (v: TValue) => void): void {
  visit(v)
  for (const f of v.fields ?? []) walk(f.value, visit)
  for (const item of v.items ?? []) walk(item, visit)
}

function applyTreeMutation(root: TValue, m: TreeMutation): void {
  const structs: TValue[] = []
  const fields: { owner: TValue; index: number }[] = []
  const sized: TValue[] = []
  const lists: TValue[] = []
  walk(root, (v) => {
    if (v.type === T_STRUCT) {
      structs.push(v)
      v.fields!.forEach((_f, index) => fields.push({ owner: v, index }))
    }
    if (v.type === T_STRING || v.type === T_LIST || v.type === T_SET || v.type === T_MAP) sized.push(v)
    if (v.type === T_LIST || v.type === T_SET) lists.push(v)
  })
  switch (m.kind) {
    case 'retype': {
      const f = fields[m.at % Math.max(fields.length, 1)]
      if (f) f.owner.fields![f.index] = { id: f.owner.fields![f.index]!.id, value: clone(m.value) }
      return
    }
    case 'extra': {
      const s = structs[m.at % structs.length]!
      s.fields!.splice(m.at % (s.fields!.length + 1), 0, { id: m.id, value: clone(m.value) } satisfies TField)
      return
    }
    case 'drop': {
      const f = fields[m.at % Math.max(fields.length, 1)]
      if (f) f.owner.fields!.splice(f.index, 1)
      return
    }
    case 'duplicate': {
      const f = fields[m.at % Math.max(fields.length, 1)]
      if (f) f.owner.fields!.push(structuredClone(f.owner.fields![f.index]!))
      return
    }
    case 'size-lie': {
      const v = sized[m.at % Math.max(sized.length, 1)]
      if (v) v.sizeLie = m.size
      return
    }
    case 'element-type-lie': {
      const v = lists[m.at % Math.max(lists.length, 1)]
      if (v) v.elemType = m.elemType
      return
    }
  }
}

function applyByteMutation(bytes: Buffer, format: FuzzFormat, c: WireCall, m: ByteMutation): Buffer {
  const b = Buffer.from(bytes)
  switch (m.kind) {
    case 'truncate':
      return b.subarray(0, m.at % b.length)
    case 'patch-length': {
      let patch: Buffer
      if (m.varint) {
        const out: number[] = []
        let v = m.value >>> 0
        while (v >= 0x80) {
          out.push((v & 0x7f) | 0x80)
          v >>>= 7
        }
        out.push(v)
        patch = Buffer.from(out)
      } else {
        patch = Buffer.alloc(4)
        patch.writeUInt32BE(m.value >>> 0, 0)
      }
      patch.copy(b, m.at % b.length)
      return b
    }
    case 'overwrite':
      for (const [at, value] of m.edits) b[at % b.length] = value
      return b
    case 'garbage-after-header': {
      // The message header alone (its frame length covers just the header), then garbage where the body goes.
      const header = encodeMessage(format, wireName(c), c.type, c.seqid, undefined)
      const out = Buffer.concat([header, Buffer.from(m.tail)])
      if (format.wire.transport === 'framed' && m.fixFrameLength) out.writeInt32BE(out.length - 4, 0)
      return out
    }
  }
}

/**
 * Replaces every occurrence of the reserved names in bytes the fuzz is about to write, so that no mutation
 * (or astronomically lucky garbage) can name the seeded mailbox or call shutdown. Lengths do not change.
 */
function scrub(bytes: Buffer): Buffer {
  for (const word of [PRECIOUS, 'shutdown']) {
    for (let i = bytes.indexOf(word); i >= 0; i = bytes.indexOf(word, i + 1)) bytes[i + word.length - 1] ^= 0x20
  }
  return bytes
}

/** Steers the generated trees around known bugs (see POSITIVE_BOOL_FIELD_IDS). */
function avoidKnownBugs(tree: TValue): TValue {
  if (!POSITIVE_BOOL_FIELD_IDS) return tree
  walk(tree, (v) => {
    for (const f of v.fields ?? []) if (f.value.type === T_BOOL && f.id < 0) f.id = -f.id > 32_767 ? 32_767 : -f.id
  })
  return tree
}

function encodeCall(format: FuzzFormat, c: WireCall, seqid: number, mutation?: MutatedCall): Buffer {
  const tree = argsTree(codecOf(c.call), c.call.args)
  for (const m of mutation?.tree ?? []) applyTreeMutation(tree, m)
  avoidKnownBugs(tree)
  let bytes = encodeMessage(format, wireName(c), c.type, seqid, tree)
  if (mutation?.bytes) bytes = applyByteMutation(bytes, format, { ...c, seqid }, mutation.bytes)
  return scrub(bytes)
}

/** The seqid of the i-th call of a connection (see UNIQUE_SEQIDS_PER_CONNECTION). */
function seqidFor(i: number, base: number, generated: number): number {
  if (!UNIQUE_SEQIDS_PER_CONNECTION) return generated
  const s = (base + i) | 0
  return s === BARRIER_SEQID ? s + 1000 : s
}

interface ConnectionSpec {
  format: FuzzFormat
  calls: WireCall[]
  /** Inserted among the calls at `mutantAt` (modulo). */
  mutant: MutatedCall | undefined
  mutantAt: number
  ending: Ending
  cuts: number[]
  cutAt: number
  /** Repeats the calls (a client that floods, with no-read it backs the daemon's writes up). */
  repeat: number
  seqidBase: number
}

function connectionSpecArb(o: {
  mutant: 'never' | 'always' | 'sometimes'; endings: Ending[]; maxCalls: number; maxRepeat: number; calls?: fc.Arbitrary<WireCall>
}): fc.Arbitrary<ConnectionSpec> {
  return fc.record({
    format: fc.constantFrom(...FUZZ_FORMATS),
    calls: fc.array(o.calls ?? wireCallArb, { minLength: o.mutant === 'always' ? 0 : 1, maxLength: o.maxCalls }),
    mutant: o.mutant === 'never' ? fc.constant(undefined) : o.mutant === 'always' ? mutatedCallArb : fc.option(mutatedCallArb, { nil: undefined }),
    mutantAt: fc.nat(),
    ending: fc.constantFrom(...o.endings),
    cuts: fc.array(fc.nat(), { maxLength: 4 }),
    cutAt: fc.nat(),
    repeat: fc.integer({ min: 1, max: o.maxRepeat }),
    seqidBase: fc.constantFrom(0, 0, 1000, -20, 2 ** 31 - 40, -(2 ** 31)),
  })
}

/** The bytes and the way to end one connection. A desynchronising mutant cannot be followed by a barrier. */
function planOf(c: ConnectionSpec): ConnectionPlan {
  const parts: Buffer[] = []
  let i = 0
  let bytes = 0
  let sameFormatReplies = true
  const oneway = new Map<number, string>()
  const mutantAt = c.mutant ? c.mutantAt % (c.calls.length + 1) : -1
  // The mutant goes in the last round: a desynchronising one makes everything after it garbage.
  const rounds = c.repeat
  const push = (b: Buffer): void => {
    parts.push(b)
    bytes += b.length
  }
  for (let r = 0; r < rounds; r++) {
    const last = r === rounds - 1 || bytes > FLOOD_LIMIT_BYTES
    for (let k = 0; k <= c.calls.length; k++) {
      if (k === mutantAt && last) {
        if (parts.length === 0 && c.mutant!.bytes) sameFormatReplies = false
        const seqid = seqidFor(i++, c.seqidBase, c.mutant!.seqid)
        if (c.mutant!.type === MESSAGE_ONEWAY && !c.mutant!.bytes) oneway.set(seqid, c.mutant!.call.method)
        push(encodeCall(c.format, c.mutant!, seqid, c.mutant))
      }
      if (k < c.calls.length) {
        const seqid = seqidFor(i++, c.seqidBase, c.calls[k]!.seqid)
        if (c.calls[k]!.type === MESSAGE_ONEWAY) oneway.set(seqid, c.calls[k]!.call.method)
        push(encodeCall(c.format, c.calls[k]!, seqid))
      }
    }
    if (last) break
  }
  let ending = c.ending
  if (ending === 'barrier' && c.mutant && desynchronises(c.mutant)) ending = 'end'
  const plan: ConnectionPlan = { format: c.format, stream: Buffer.concat(parts), cuts: c.cuts, ending, cutAt: c.cutAt, sameFormatReplies }
  // After a mutant that desynchronises the stream, the daemon may read anything as a header: no seqid is sure.
  if (UNIQUE_SEQIDS_PER_CONNECTION && !(c.mutant && desynchronises(c.mutant))) onewayCalls.set(plan, oneway)
  return plan
}

/** The seqids of the oneway calls in each plan (unique per connection), with their methods: none may be answered. */
const onewayCalls = new WeakMap<ConnectionPlan, Map<number, string>>()
/**
 * Known bug (see the test "a oneway receive is not answered"): Call.deliver writes a reply even for a oneway
 * call, so these methods answer oneway calls. Until it is fixed, their replies to oneway calls are let through.
 */
const ANSWERS_ONEWAY = new Set(STEER_AROUND_KNOWN_BUGS ? ['receiveMessage', 'receiveMessages', 'receiveLeased', 'poll'] : [])

/**
 * Whether the daemon can tell the connection's format from its first message. A non-strict binary message
 * starts with its name's length, and the daemon only takes that for Thrift when the name has 1 to 255 bytes
 * and starts with a printable character (README: "detects which from the first bytes of each connection").
 */
function detectable(c: ConnectionSpec): boolean {
  if (!c.format.nonStrict || c.calls.length === 0) return true
  const name = Buffer.from(wireName(c.calls[0]!))
  return name.length >= 1 && name.length <= 255 && name[0]! >= 0x21 && name[0]! < 0x7f
}

// ---------------------------------------------------------------------------------------------------------
// The daemon under test and its invariants

interface Fixture {
  d: RunningDaemon
  /** The well-behaved SDK client. */
  client: Client
  /** How much of the daemon's log has been checked. */
  logChecked: number
  probes: number
}

/** Log lines that mean a handler failed unexpectedly, the store failed, or the process crashed. */
const UNEXPECTED_LOG = /crashed|failed: |cannot encode|stopping now|uncaught|unhandled/i

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!
  return Number(line.split(/\s+/)[1]) / 1024
}

function alive(d: RunningDaemon): boolean {
  return d.process.exitCode === null && d.process.signalCode === null
}

/** The well-behaved client is served: ping, and a send + receive round trip. */
async function checkServing(f: Fixture): Promise<void> {
  const version = await f.client.ping()
  if (typeof version !== 'string' || version === '') throw new Error(`ping answered ${JSON.stringify(version)}`)
  const token = `probe ${++f.probes} ✓`
  await f.client.send(PROBE, token)
  const got = await f.client.receive(PROBE, { timeoutMs: CONNECTION_DEADLINE_MS })
  if (got.content !== token) throw new Error(`the probe round trip returned ${JSON.stringify(got.content)}, not ${JSON.stringify(token)}`)
}

/**
 * Once the fuzz's sockets are destroyed: the daemon drops their sessions, keeps nothing parked, leased or
 * attached for them, still holds the seeded messages, logged nothing unexpected, and serves.
 */
async function checkQuiescent(f: Fixture, what: string, clients = 1): Promise<void> {
  if (!alive(f.d)) throw new Error(`the daemon exited (${f.d.process.exitCode ?? f.d.process.signalCode}) after ${what}; log:\n${f.d.stderr().slice(-3000)}`)
  const deadline = Date.now() + CONNECTION_DEADLINE_MS
  let connections = -1
  for (;;) {
    connections = (await f.client.status()).connections
    if (connections === clients || Date.now() > deadline) break
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  if (connections !== clients) throw new Error(`after ${what}, the daemon still counts ${connections} connections (${clients} expected: the SDK clients)`)
  const boxes = await f.client.listMailboxes()
  const parked = boxes.filter((b) => b.waiters > 0)
  if (parked.length > 0) throw new Error(`after ${what}, receivers of closed connections are still parked: ${JSON.stringify(parked)}`)
  const leased = boxes.filter((b) => b.leased > 0)
  if (leased.length > 0) throw new Error(`after ${what}, leases of closed connections were not given back: ${JSON.stringify(leased)}`)
  const status = await f.client.status()
  const attached = status.subscriptions.filter((s) => s.attached)
  if (attached.length > 0) throw new Error(`after ${what}, subscriptions of closed connections are still attached: ${JSON.stringify(attached)}`)
  const services = status.services.filter((s) => s.providers > 0 || s.inFlight > 0)
  if (services.length > 0) throw new Error(`after ${what}, services keep providers or calls of closed connections: ${JSON.stringify(services)}`)
  const precious = await f.client.mailboxStats(PRECIOUS)
  if (precious.depth !== SEEDED || precious.leased !== 0) {
    throw new Error(`after ${what}, the seeded mailbox holds ${precious.depth} messages (${precious.leased} leased), ${SEEDED} expected`)
  }
  const log = f.d.stderr()
  const fresh = log.slice(f.logChecked)
  f.logChecked = log.length
  const bad = fresh.split('\n').filter((l) => UNEXPECTED_LOG.test(l))
  if (bad.length > 0) throw new Error(`after ${what}, the daemon logged:\n${bad.join('\n').slice(0, 3000)}`)
  await checkServing(f)
}

/**
 * What every connection of a run must show: no hang, replies that decode, no INTERNAL_ERROR, no answer to a
 * oneway call; and with validOnly, a connection that sent only well-formed calls is not closed by the daemon.
 */
function checkOutcomes(outcomes: ConnectionOutcome[], specs: (ConnectionSpec | undefined)[], plans: ConnectionPlan[], o: { validOnly: boolean }): void {
  outcomes.forEach((out, i) => {
    const plan = plans[i]!
    const hex = plan.stream.subarray(0, 600).toString('hex')
    const where = `connection ${i} (${plan.format.label}, ending ${plan.ending}, ${plan.stream.length} bytes written: ${hex}${plan.stream.length > 600 ? '...' : ''})`
    if (out.hang) throw new Error(`${where}: ${out.hang}`)
    if (out.undecodable) throw new Error(`${where}: a reply did not decode: ${out.undecodable}`)
    const internal = out.replies.filter((r) => r.type === MESSAGE_EXCEPTION && r.body.type === ApplicationErrorType.INTERNAL_ERROR)
    if (internal.length > 0) throw new Error(`${where}: INTERNAL_ERROR replies: ${JSON.stringify(internal)}`)
    // No reply to a oneway call; except the PROTOCOL_ERROR the daemon sends, by design, when it closes the
    // connection over a malformed message (the client sees the close either way).
    const oneway = onewayCalls.get(plan)
    const answered = out.replies.filter((r) => oneway?.has(r.seqid) && !ANSWERS_ONEWAY.has(oneway.get(r.seqid)!) &&
      (r.type === MESSAGE_REPLY || (r.type === MESSAGE_EXCEPTION && r.body.type !== ApplicationErrorType.PROTOCOL_ERROR)))
    if (answered.length > 0) throw new Error(`${where}: oneway calls were answered: ${JSON.stringify(answered).slice(0, 2000)}`)
    if (o.validOnly && plan.ending === 'barrier' && specs[i] && detectable(specs[i]) && !out.barrierAnswered) {
      throw new Error(`${where}: the daemon closed a connection that sent only well-formed calls; replies: ${JSON.stringify(out.replies).slice(0, 2000)}`)
    }
  })
}

/** Counts replies by method and outcome, to show which handler paths a property reached. */
type ReplyTally = Map<string, number>

function tally(counts: ReplyTally, outcomes: ConnectionOutcome[]): void {
  for (const out of outcomes) {
    for (const r of out.replies) {
      if (r.seqid === BARRIER_SEQID && r.name === 'ping') continue
      let kind = 'ok'
      if (r.type === MESSAGE_EXCEPTION) {
        const type = Object.entries(ApplicationErrorType).find(([, v]) => v === r.body.type)?.[0] ?? r.body.type
        const code = /^([A-Z_]+): /.exec(String(r.body.message))?.[1]
        kind = `TApplicationException ${type}${code ? ` ${code}` : ''}`
      } else if (r.body?.relayed) kind = r.type === MESSAGE_CALL || r.type === MESSAGE_ONEWAY ? 'call relayed to a provider' : 'reply relayed from a provider'
      else if (r.body?.error) kind = ErrorCode[r.body.error.code] ?? `code ${r.body.error.code}`
      else if (Array.isArray(r.body?.success)) kind = r.body.success.length > 0 ? 'ok, non-empty' : 'ok, empty'
      const known = Object.hasOwn(MS, r.name) || Object.hasOwn(PS, r.name)
      const key = `${known ? r.name : '(other name)'} ${kind}`
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
  }
}

function describeTally(counts: ReplyTally): string {
  return [...counts].sort((a, b) => a[0].localeCompare(b[0])).map(([k, n]) => `${k}: ${n}`).join('; ')
}

async function runConnections(f: Fixture, specs: ConnectionSpec[], o: { validOnly: boolean; what: string; counts: ReplyTally }): Promise<void> {
  const plans = specs.map(planOf)
  const sockets: Socket[] = []
  try {
    const outcomes = await Promise.all(plans.map(async (plan) => {
      const out = await driveConnection(f.d.socket, plan, CONNECTION_DEADLINE_MS)
      sockets.push(out.socket)
      return out
    }))
    checkOutcomes(outcomes, specs, plans, o)
    tally(o.counts, outcomes)
  } finally {
    for (const s of sockets) s.destroy()
  }
  await checkQuiescent(f, o.what)
}

/** Providers that wrote garbage: the daemon may be waiting for the rest of a frame, so no barrier can follow. */
const desynchronised = new WeakSet<ConnectionOutcome>()

/** Plays a fuzzing provider: registers its services, then answers each call relayed to it with its next action. */
function startProvider(f: Fixture, p: ProviderSpec): Promise<ConnectionOutcome> {
  const register = p.services.map((name, i) =>
    encodeCall(p.format, { call: { service: 'MessageService', method: 'registerService', args: { name } }, naming: { kind: 'bare' }, type: MESSAGE_CALL, seqid: i }, i))
  const plan: ConnectionPlan = { format: p.format, stream: Buffer.concat(register), cuts: [], ending: 'barrier', cutAt: 0, sameFormatReplies: true }
  let next = 0
  return driveConnection(f.d.socket, plan, CONNECTION_DEADLINE_MS, (m, out) => {
    if (m.type !== MESSAGE_CALL && m.type !== MESSAGE_ONEWAY) return
    const action = p.actions[next++ % p.actions.length]!
    switch (action.kind) {
      case 'reply':
        out.socket.write(scrub(encodeMessage(p.format, action.rename ? `${m.name}X` : m.name, action.type, (m.seqid + action.seqidShift) | 0, avoidKnownBugs(structuredClone(action.body)))))
        return
      case 'garbage':
        desynchronised.add(out)
        out.socket.write(scrub(Buffer.from(action.bytes)))
        return
      case 'close':
        out.socket.destroy()
        return
      case 'ignore':
        return
    }
  })
}

/**
 * Providers register first; then the callers run, concurrently; then everyone still in step is made to wait
 * for its last answers (a provider's barrier: its replies were relayed; a caller's: the relays were written).
 */
async function runRouting(f: Fixture, run: { providers: ProviderSpec[]; callers: ConnectionSpec[] }, counts: ReplyTally): Promise<void> {
  const sockets: Socket[] = []
  try {
    const providers = await Promise.all(run.providers.map(async (p) => {
      const out = await startProvider(f, p)
      sockets.push(out.socket)
      return out
    }))
    const plans = run.callers.map(planOf)
    const callers = await Promise.all(plans.map(async (plan) => {
      const out = await driveConnection(f.d.socket, plan, CONNECTION_DEADLINE_MS)
      sockets.push(out.socket)
      return out
    }))
    // Best effort, not asserted: give the calls just relayed time to reach their providers before the barriers.
    await new Promise((resolve) => setTimeout(resolve, 5))
    await Promise.all(providers.map((out) => (desynchronised.has(out) ? out.end() : out.barrierAnswered ? out.barrier() : undefined)))
    await Promise.all(callers.map((out, i) => (plans[i]!.ending === 'barrier' && out.barrierAnswered ? out.barrier() : undefined)))
    const providerPlans: ConnectionPlan[] = run.providers.map((p) => ({ format: p.format, stream: Buffer.alloc(0), cuts: [], ending: 'barrier', cutAt: 0, sameFormatReplies: true }))
    checkOutcomes([...providers, ...callers], [...run.providers.map(() => undefined), ...run.callers], [...providerPlans, ...plans], { validOnly: false })
    tally(counts, [...providers, ...callers])
  } finally {
    for (const s of sockets) s.destroy()
  }
  await checkQuiescent(f, 'a run of routed calls')
}

/**
 * Runs a property, unless THRIFTBUS_FUZZ_ONLY names another one. Shrinking a failure replays runs against the
 * live daemon, which can be slow (a hang costs CONNECTION_DEADLINE_MS each time): it stops after
 * SHRINK_BUDGET_MS with the smallest counterexample found so far.
 */
async function assertProperty<T>(t: Test, arb: fc.Arbitrary<T>, numRuns: number, run: (value: T, counts: ReplyTally) => Promise<void>): Promise<void> {
  if (ONLY !== undefined && !t.name.includes(ONLY)) {
    t.pass(`skipped: THRIFTBUS_FUZZ_ONLY=${ONLY}`)
    return
  }
  const seed = SEED ?? (Date.now() ^ (Math.random() * 0x100000000)) | 0
  t.comment(`fast-check seed ${seed}, ${numRuns} runs (THRIFTBUS_FUZZ_SEED=${seed} reproduces them)`)
  const counts: ReplyTally = new Map()
  let failedAt: number | undefined
  const property = fc.asyncProperty(arb, async (value) => {
    if (failedAt !== undefined && Date.now() - failedAt > SHRINK_BUDGET_MS) return // stop shrinking: keep what we have
    try {
      await run(value, counts)
    } catch (err) {
      failedAt ??= Date.now()
      throw err
    }
  })
  await fc.assert(property, { numRuns, seed, path: PATH, endOnFailure: PATH !== undefined || process.env.THRIFTBUS_FUZZ_NO_SHRINK !== undefined })
  t.pass(`${numRuns} runs held every invariant`)
  t.comment(`replies seen: ${describeTally(counts)}`)
}

// ---------------------------------------------------------------------------------------------------------
// The fuzz

t.test('every method of the IDL but shutdown is fuzzed', async (t) => {
  const all = [...Object.keys(MS).map((m) => `MessageService.${m}`), ...Object.keys(PS).map((m) => `PubSub.${m}`)]
  t.same([...FUZZED_METHODS].sort(), all.filter((m) => m !== 'MessageService.shutdown').sort())
})

t.test('handlers fed generated calls keep serving, lose nothing queued, and stay bounded in memory', async (t) => {
  // Default durability (the SQLite store); limits low enough for the fuzz to reach them: full mailboxes, dead
  // letters after two deliveries, refused long-polls past eight on a connection.
  const d = await startDaemon(t, { args: DAEMON_LIMITS })
  const client = await connect({ socket: d.socket, spawn: false, reconnect: false, name: 'well-behaved' })
  t.teardown(() => client.close())
  const started = Date.now()

  // Seed the precious mailbox: text, unicode, empty, a body and headers, before any fuzz.
  const seeded = Array.from({ length: SEEDED }, (_, i) => (i % 8 === 0 ? '' : `precious #${i} ${'✓'.repeat(i % 5)} ${'p'.repeat(i * 37)}`))
  for (let i = 0; i < SEEDED; i++) {
    await client.send(PRECIOUS, { content: seeded[i]!, headers: { n: String(i) }, body: new Uint8Array([i, 255 - i]) })
  }
  const f: Fixture = { d, client, logChecked: 0, probes: 0 }
  await checkQuiescent(f, 'seeding')
  const rssBefore = rssMiB(d.process.pid!)

  await t.test('valid calls to every method, with hostile argument values, in all five wire formats', async (t) => {
    const arb = fc.array(connectionSpecArb({ mutant: 'never', endings: ['barrier'], maxCalls: 10, maxRepeat: 1 }), { minLength: 1, maxLength: 3 })
    await assertProperty(t, arb, RUNS_VALID, (specs, counts) => runConnections(f, specs, { validOnly: true, what: 'a run of valid calls', counts }))
  })

  await t.test('mutated calls: wrong field types, unknown fields, lying lengths, truncation, garbage after a header', async (t) => {
    const arb = fc.array(connectionSpecArb({ mutant: 'always', endings: ['barrier', 'end', 'destroy'], maxCalls: 4, maxRepeat: 1 }), { minLength: 1, maxLength: 3 })
    await assertProperty(t, arb, RUNS_MUTATED, (specs, counts) => runConnections(f, specs, { validOnly: false, what: 'a run of mutated calls', counts }))
  })

  await t.test('interleaved connections: concurrent, destroyed mid-frame, half-closed, never reading, flooding', async (t) => {
    const arb = fc.array(
      connectionSpecArb({ mutant: 'sometimes', endings: ['barrier', 'end', 'destroy', 'destroy-mid', 'no-read'], maxCalls: 6, maxRepeat: 40 }),
      { minLength: 2, maxLength: 6 },
    )
    await assertProperty(t, arb, RUNS_INTERLEAVED, (specs, counts) => runConnections(f, specs, { validOnly: false, what: 'a run of interleaved connections', counts }))
  })

  await t.test('hosted services: fuzzing providers answer, fail and vanish while fuzzing callers call them', async (t) => {
    const arb = fc.record({
      providers: fc.array(providerSpecArb, { minLength: 1, maxLength: 3 }),
      callers: fc.array(
        connectionSpecArb({ mutant: 'sometimes', endings: ['barrier', 'barrier', 'end', 'destroy', 'destroy-mid', 'no-read'], maxCalls: 6, maxRepeat: 3, calls: routedCallArb }),
        { minLength: 1, maxLength: 4 },
      ),
    })
    await assertProperty(t, arb, RUNS_ROUTED, (run, counts) => runRouting(f, run, counts))
  })

  await t.test('afterwards: still serving, the seeded messages intact and in order, memory bounded', async (t) => {
    await checkQuiescent(f, 'the fuzz')
    const fresh = await connect({ socket: d.socket, spawn: false, reconnect: false })
    t.teardown(() => fresh.close())
    t.match(await fresh.ping(), /./, 'a new SDK client connects and is answered')

    // What the fuzz legitimately left queued is no leak: clear it before comparing memory.
    const left = await fresh.status()
    const fuzzBoxes = left.mailboxes.filter((b) => b.name !== PRECIOUS)
    const queuedBytes = fuzzBoxes.reduce((n, b) => n + b.bytes, 0)
    const queued = fuzzBoxes.reduce((n, b) => n + b.depth, 0)
    const subQueued = left.subscriptions.reduce((n, s) => n + s.queued, 0)
    const expired = fuzzBoxes.reduce((n, b) => n + b.expired, 0)
    const deadLettered = fuzzBoxes.reduce((n, b) => n + b.deadLettered, 0)
    t.comment(`the fuzz left ${queued} messages (${(queuedBytes / 2 ** 20).toFixed(1)} MiB) in ${fuzzBoxes.length} mailboxes ` +
      `(${expired} expired, ${deadLettered} dead-lettered), ${left.subscriptions.length} detached durable subscriptions holding ` +
      `${subQueued} messages, ${left.services.length} services known; daemon RSS ${rssMiB(d.process.pid!).toFixed(0)} MiB`)
    for (const b of fuzzBoxes) await fresh.purge(b.name)
    const unsubscribe = left.subscriptions.map((s, i): RawCall => ['PubSub:unsubscribe', i, PS.unsubscribe, { subscription: s.id }])
    ;(await rawConnection(d.socket, FRAMED_BINARY, unsubscribe)).socket.destroy()
    await checkQuiescent(f, 'clearing what the fuzz left', 2)
    t.same((await fresh.status()).subscriptions, [], 'the subscriptions the fuzz left are ended')

    t.equal((await fresh.mailboxStats(PRECIOUS)).depth, SEEDED, `the seeded mailbox still holds ${SEEDED} messages`)
    const got = await fresh.receiveMany(PRECIOUS, SEEDED + 10, { timeoutMs: 0 })
    t.same(got.map((m) => m.content), seeded, 'their contents are exactly the seeded ones, in order')
    t.same(got.map((m) => m.headers?.n), seeded.map((_, i) => String(i)), 'their headers are intact')
    t.same(got.map((m) => [...(m.body ?? [])]), seeded.map((_, i) => [i, 255 - i]), 'their bodies are intact')
    t.ok(got.every((m, i) => i === 0 || m.id! > got[i - 1]!.id!), 'their ids still increase')
    t.equal((await fresh.mailboxStats(PRECIOUS)).depth, 0, 'and now the mailbox is empty')

    const rssAfter = rssMiB(d.process.pid!)
    t.ok(rssAfter - rssBefore < RSS_GROWTH_LIMIT_MIB, `daemon RSS ${rssBefore.toFixed(0)} -> ${rssAfter.toFixed(0)} MiB (limit +${RSS_GROWTH_LIMIT_MIB})`)
    t.ok(alive(d), 'the daemon process is still running')
    t.notMatch(d.stderr(), /crashed/, 'its log has no "crashed" line')
    t.comment(`fuzz took ${((Date.now() - started) / 1000).toFixed(1)} s`)
    if (process.env.THRIFTBUS_FUZZ_LOG) writeFileSync(process.env.THRIFTBUS_FUZZ_LOG, d.stderr())
  })
})

// ---------------------------------------------------------------------------------------------------------
// Daemon bugs this fuzz found (all fixed), as small deterministic reproductions that run every time.

type RawCall = [name: string, seqid: number, codec: MethodCodec<any, any>, args: object, type?: number]

/** Plays calls on a fresh raw connection in format, then a barrier; replies are read and decoded. */
function rawConnection(path: string, format: FuzzFormat, calls: RawCall[]): Promise<ConnectionOutcome> {
  const stream = Buffer.concat(calls.map(([name, seqid, codec, args, type]) => encodeMessage(format, name, type ?? MESSAGE_CALL, seqid, argsTree(codec, args))))
  return driveConnection(path, { format, stream, cuts: [], ending: 'barrier', cutAt: 0, sameFormatReplies: true }, CONNECTION_DEADLINE_MS)
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + CONNECTION_DEADLINE_MS
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const FRAMED_BINARY = FUZZ_FORMATS[0]!

const BUG_DUPLICATE_SEQIDS = 'daemon bug: Session keeps parked calls in a Map by seqid, so a second one overwrites the first, which then escapes the limit and is never released'

t.test('two long-polls with the same seqid on one connection: closing it releases both', async (t) => {
  const d = await startDaemon(t, { args: ['--max-calls-per-connection', '2'] })
  const c = await connect({ socket: d.socket, spawn: false, reconnect: false })
  t.teardown(() => c.close())
  // Stock clients may reuse seqids (Python's generated client always sends 0).
  const poll: RawCall = ['receiveMessage', 0, MS.receiveMessage, { recipient: 'dup', timeoutMs: -1 }]
  const raw = await rawConnection(d.socket, FRAMED_BINARY, [poll, poll, poll, poll])
  const limited = raw.replies.filter((r) => r.body?.error?.code === ErrorCode.LIMIT_EXCEEDED).length
  t.equal(limited, 2, 'four waiting calls on a connection limited to 2: two are refused with LIMIT_EXCEEDED')
  raw.socket.destroy()
  await until('the daemon has dropped the connection', async () => (await c.status()).connections === 1)
  t.equal((await c.mailboxStats('dup')).waiters, 0, 'no receiver of the closed connection is still parked')
})

const BUG_TIMER_OVERFLOW = 'daemon bug: broker and topic waits pass timeoutMs to setTimeout, which takes any delay over 2^31-1 ms as 1 ms'

t.test('a receive with a timeout above 2^31-1 ms waits instead of answering NO_MESSAGE at once', async (t) => {
  const d = await startDaemon(t)
  const raw = await rawConnection(d.socket, FRAMED_BINARY, [
    ['receiveMessage', 1, MS.receiveMessage, { recipient: 'later', timeoutMs: 2 ** 31 }],
    ['receiveMessages', 2, MS.receiveMessages, { recipient: 'later', max: 1, timeoutMs: 2 ** 40 }],
  ])
  t.teardown(() => raw.socket.destroy())
  await new Promise((resolve) => setTimeout(resolve, 500))
  await raw.barrier()
  t.same(raw.replies.filter((r) => r.seqid === 1 || r.seqid === 2), [], 'both calls are still waiting after 500 ms')
  t.notMatch(d.stderr(), /TimeoutOverflowWarning/, 'no timer overflowed')
})

const BUG_BATCH_REPLY_SIZE = 'daemon bug (found reading the handlers for this fuzz, not by it): a batch is bounded by content bytes ' +
  'only, so the envelopes of 10,000 messages overflow the reply limit (max message bytes + 64 KiB): INTERNAL_ERROR, every time'

t.test('receiveMessages takes a full batch of 10,000 small messages without failing', async (t) => {
  const d = await startDaemon(t, { args: ['--max-message-bytes', '256K'] })
  const c = await connect({ socket: d.socket, spawn: false, reconnect: false, name: '', maxMessageBytes: 1 << 24 })
  t.teardown(() => c.close())
  for (let i = 0; i < 10; i++) await Promise.all(Array.from({ length: 1000 }, () => c.send('many', { content: '', sender: '' })))
  t.equal((await c.mailboxStats('many')).depth, 10_000)
  const got = await c.receiveMany('many', 10_000, { timeoutMs: 0 }).then((m) => m.length, (err: Error) => err.message)
  t.type(got, 'number', `a batch is received (got: ${got})`)
  t.notMatch(d.stderr(), /cannot encode the reply/, 'the daemon encoded its reply')
})

const BUG_NEGATIVE_BOOL_FIELD = 'daemon bug: CompactWriter uses -1 as "no bool field pending", so it drops the header of a bool field whose id is negative'

t.test('a bool field with a negative id survives relaying from a binary provider to a compact caller', async (t) => {
  const d = await startDaemon(t)
  // A ping result (field 0, the version string) with a bool field of id -1 before it, as an IDL with implicit ids has.
  const result: TValue = { type: T_STRUCT, fields: [{ id: -1, value: { type: T_BOOL, value: true } }, { id: 0, value: { type: T_STRING, value: 'after' } }] }
  const provider = await driveConnection(d.socket, {
    format: FUZZ_FORMATS[1]!, // buffered binary
    stream: encodeMessage(FUZZ_FORMATS[1]!, 'registerService', MESSAGE_CALL, 1, argsTree(MS.registerService, { name: 'NegBool' })),
    cuts: [], ending: 'barrier', cutAt: 0, sameFormatReplies: true,
  }, CONNECTION_DEADLINE_MS, (m, out) => {
    if (m.type === MESSAGE_CALL) out.socket.write(encodeMessage(FUZZ_FORMATS[1]!, m.name, MESSAGE_REPLY, m.seqid, result))
  })
  t.teardown(() => provider.socket.destroy())
  const caller = await rawConnection(d.socket, FUZZ_FORMATS[4]!, [['NegBool:ping', 5, MS.ping, {}]]) // buffered compact
  t.teardown(() => caller.socket.destroy())
  await until('the reply was relayed, or the caller saw garbage', async () => caller.undecodable !== undefined || caller.replies.some((r) => r.seqid === 5))
  const relayed = caller.replies.find((r) => r.seqid === 5)
  t.equal(caller.undecodable, undefined, 'what the daemon relayed is well-formed compact')
  t.equal(relayed?.type, MESSAGE_REPLY, 'the provider\'s reply is relayed')
  t.equal(relayed?.body?.success, 'after', 'with the field after the bool intact')
})

const BUG_ONEWAY_ANSWERED = 'daemon bug: Call.deliver writes its reply without checking call.oneway (Call.reply does check)'

t.test('a oneway receive is not answered', async (t) => {
  const d = await startDaemon(t)
  const c = await connect({ socket: d.socket, spawn: false, reconnect: false })
  t.teardown(() => c.close())
  await c.send('ow', 'taken by a oneway call')
  const raw = await rawConnection(d.socket, FRAMED_BINARY, [
    ['receiveMessage', 1, MS.receiveMessage, { recipient: 'ow', timeoutMs: 0 }, MESSAGE_ONEWAY],
    ['receiveMessages', 2, MS.receiveMessages, { recipient: 'ow-empty', max: 1, timeoutMs: 0 }, MESSAGE_ONEWAY],
    ['receiveMessage', 3, MS.receiveMessage, { recipient: 'ow-empty', timeoutMs: 0 }, MESSAGE_ONEWAY],
  ])
  t.teardown(() => raw.socket.destroy())
  t.same(raw.replies.filter((r) => r.seqid === 3), [], 'a oneway receive that fails is not answered')
  t.same(raw.replies.filter((r) => r.seqid === 1 || r.seqid === 2).map((r) => r.name), [], 'nor one that succeeds')
})
