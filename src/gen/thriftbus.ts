// Generated from idl/thriftbus.thrift by scripts/gen.mjs. Do not edit: change the IDL and run `npm run gen`.
/* eslint-disable */

/** Wire type ids, numbered as TBinaryProtocol numbers them. TCompactProtocol maps them on the wire. */
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

/**
 * Stable error codes. Callers branch on these, never on message text.
 */
export enum ErrorCode {
  /**
   * receiveMessage found the mailbox empty (or the wait ran out).
   */
  NO_MESSAGE = 1,
  /**
   * An argument is malformed: a bad mailbox name, a negative count.
   */
  INVALID_ARGUMENT = 2,
  /**
   * The mailbox is at its depth or byte limit; retry after receivers drain it.
   */
  MAILBOX_FULL = 3,
  /**
   * A message or frame is larger than the daemon's maximum message size.
   */
  TOO_LARGE = 4,
  /**
   * The connection to the daemon is closed, or the client was closed.
   */
  CLOSED = 5,
  /**
   * The call was cancelled by its caller (cancel(), an AbortSignal).
   */
  CANCELLED = 6,
  /**
   * The call's deadline passed before it completed.
   */
  TIMEOUT = 7,
  /**
   * A per-connection or per-daemon limit was reached (outstanding calls, connections).
   */
  LIMIT_EXCEEDED = 8,
  /**
   * The daemon is shutting down and accepts no new work.
   */
  SHUTTING_DOWN = 9,
  /**
   * No daemon answers at the endpoint and none could be started.
   */
  NO_DAEMON = 10,
  /**
   * The peer broke the protocol: a malformed or unexpected reply.
   */
  PROTOCOL_ERROR = 11,
  /**
   * An unexpected failure inside the daemon; its log has the details.
   */
  INTERNAL = 12,
  /**
   * A call to a hosted service found no provider registered under its name, and none could be activated.
   */
  NO_RESPONDERS = 13,
  /**
   * The provider serving a call died or disconnected before it replied.
   */
  PROVIDER_FAILED = 14,
  /**
   * No such subscription, lease or service (it ended, or never existed).
   */
  NOT_FOUND = 15,
  /**
   * A helper configured for a service failed to start or to register in time.
   */
  ACTIVATION_FAILED = 16,
}

/**
 * The one exception every thriftbus method declares.
 */
export interface BusException {
  code: number
  message: string
}

class DecodedBusException implements BusException {
  code: number = 0
  message: string = ''
}

export function readBusException(r: ProtocolReader): BusException {
  const v = new DecodedBusException()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_I32) {
          v.code = r.readI32()
          continue
        }
        break
      case 2:
        if (t === T_STRING) {
          v.message = r.readString()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeBusException(w: ProtocolWriter, v: BusException): void {
  w.writeStructBegin()
  if (v.code !== undefined && v.code !== null) {
    w.writeFieldBegin(T_I32, 1)
    w.writeI32(v.code)
  }
  if (v.message !== undefined && v.message !== null) {
    w.writeFieldBegin(T_STRING, 2)
    w.writeString(v.message)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

/**
 * A message in a mailbox. Fields 1..3 are the original contract; the daemon
 * fills id and sentAtMs when it accepts a message and ignores any values the
 * sender put there.
 */
export interface Message {
  sender: string
  recipient: string
  content: string
  /**
   * Assigned by the daemon: increases with every accepted message.
   */
  id?: number
  /**
   * Assigned by the daemon: when it accepted the message, ms since the Unix epoch.
   */
  sentAtMs?: number
  /**
   * A payload that is not text. content and body may both be set.
   */
  body?: Uint8Array
  /**
   * Free-form metadata, carried unchanged.
   */
  headers?: Record<string, string>
  /**
   * Set by the sender: the message expires this many ms after the daemon accepted it. An expired message
   * is never delivered; it is dropped and counted in MailboxInfo.expired.
   */
  ttlMs?: number
  /**
   * Set by the daemon on leased receives: how many times this message has been delivered, this time included.
   */
  deliveryCount?: number
  /**
   * Set by the daemon on messages delivered through a subscription: the topic they were published to.
   */
  topic?: string
}

class DecodedMessage implements Message {
  sender: string = ''
  recipient: string = ''
  content: string = ''
  id: number | undefined = undefined
  sentAtMs: number | undefined = undefined
  body: Uint8Array | undefined = undefined
  headers: Record<string, string> | undefined = undefined
  ttlMs: number | undefined = undefined
  deliveryCount: number | undefined = undefined
  topic: string | undefined = undefined
}

export function readMessage(r: ProtocolReader): Message {
  const v = new DecodedMessage()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_STRING) {
          v.sender = r.readString()
          continue
        }
        break
      case 2:
        if (t === T_STRING) {
          v.recipient = r.readString()
          continue
        }
        break
      case 3:
        if (t === T_STRING) {
          v.content = r.readString()
          continue
        }
        break
      case 4:
        if (t === T_I64) {
          v.id = r.readI64()
          continue
        }
        break
      case 5:
        if (t === T_I64) {
          v.sentAtMs = r.readI64()
          continue
        }
        break
      case 6:
        if (t === T_STRING) {
          v.body = r.readBinary()
          continue
        }
        break
      case 7:
        if (t === T_MAP) {
          const n0 = r.readMapBegin(T_STRING, T_STRING)
          const x0: Record<string, string> = {}
          for (let i0 = 0; i0 < n0; i0++) {
            const k0 = r.readString()
            let v0: string
            v0 = r.readString()
            setEntry(x0, k0, v0)
          }
          r.readMapEnd()
          v.headers = x0
          continue
        }
        break
      case 8:
        if (t === T_I64) {
          v.ttlMs = r.readI64()
          continue
        }
        break
      case 9:
        if (t === T_I32) {
          v.deliveryCount = r.readI32()
          continue
        }
        break
      case 10:
        if (t === T_STRING) {
          v.topic = r.readString()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessage(w: ProtocolWriter, v: Message): void {
  w.writeStructBegin()
  if (v.sender !== undefined && v.sender !== null) {
    w.writeFieldBegin(T_STRING, 1)
    w.writeString(v.sender)
  }
  if (v.recipient !== undefined && v.recipient !== null) {
    w.writeFieldBegin(T_STRING, 2)
    w.writeString(v.recipient)
  }
  if (v.content !== undefined && v.content !== null) {
    w.writeFieldBegin(T_STRING, 3)
    w.writeString(v.content)
  }
  if (v.id !== undefined && v.id !== null) {
    w.writeFieldBegin(T_I64, 4)
    w.writeI64(v.id)
  }
  if (v.sentAtMs !== undefined && v.sentAtMs !== null) {
    w.writeFieldBegin(T_I64, 5)
    w.writeI64(v.sentAtMs)
  }
  if (v.body !== undefined && v.body !== null) {
    w.writeFieldBegin(T_STRING, 6)
    w.writeBinary(v.body)
  }
  if (v.headers !== undefined && v.headers !== null) {
    w.writeFieldBegin(T_MAP, 7)
    const k0 = Object.keys(v.headers)
    w.writeMapBegin(T_STRING, T_STRING, k0.length)
    for (const e0 of k0) {
      w.writeString(e0)
      w.writeString(v.headers[e0])
    }
    w.writeMapEnd()
  }
  if (v.ttlMs !== undefined && v.ttlMs !== null) {
    w.writeFieldBegin(T_I64, 8)
    w.writeI64(v.ttlMs)
  }
  if (v.deliveryCount !== undefined && v.deliveryCount !== null) {
    w.writeFieldBegin(T_I32, 9)
    w.writeI32(v.deliveryCount)
  }
  if (v.topic !== undefined && v.topic !== null) {
    w.writeFieldBegin(T_STRING, 10)
    w.writeString(v.topic)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MailboxInfo {
  name: string
  /**
   * Messages waiting in the mailbox.
   */
  depth: number
  /**
   * Sum of the sizes of the waiting messages' sender, content, body and headers (text counted as one byte
   * per character). The mailbox byte limit applies to this figure.
   */
  bytes: number
  /**
   * Receivers parked in a long-poll on this mailbox.
   */
  waiters: number
  /**
   * Messages out on lease (received with leaseMs > 0, not yet acked). They are not counted in depth.
   */
  leased: number
  /**
   * Messages dropped because their ttlMs ran out, since the daemon started.
   */
  expired: number
  /**
   * Messages moved to this mailbox's dead-letter mailbox, since the daemon started.
   */
  deadLettered: number
}

class DecodedMailboxInfo implements MailboxInfo {
  name: string = ''
  depth: number = 0
  bytes: number = 0
  waiters: number = 0
  leased: number = 0
  expired: number = 0
  deadLettered: number = 0
}

export function readMailboxInfo(r: ProtocolReader): MailboxInfo {
  const v = new DecodedMailboxInfo()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_STRING) {
          v.name = r.readString()
          continue
        }
        break
      case 2:
        if (t === T_I64) {
          v.depth = r.readI64()
          continue
        }
        break
      case 3:
        if (t === T_I64) {
          v.bytes = r.readI64()
          continue
        }
        break
      case 4:
        if (t === T_I32) {
          v.waiters = r.readI32()
          continue
        }
        break
      case 5:
        if (t === T_I64) {
          v.leased = r.readI64()
          continue
        }
        break
      case 6:
        if (t === T_I64) {
          v.expired = r.readI64()
          continue
        }
        break
      case 7:
        if (t === T_I64) {
          v.deadLettered = r.readI64()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMailboxInfo(w: ProtocolWriter, v: MailboxInfo): void {
  w.writeStructBegin()
  if (v.name !== undefined && v.name !== null) {
    w.writeFieldBegin(T_STRING, 1)
    w.writeString(v.name)
  }
  if (v.depth !== undefined && v.depth !== null) {
    w.writeFieldBegin(T_I64, 2)
    w.writeI64(v.depth)
  }
  if (v.bytes !== undefined && v.bytes !== null) {
    w.writeFieldBegin(T_I64, 3)
    w.writeI64(v.bytes)
  }
  if (v.waiters !== undefined && v.waiters !== null) {
    w.writeFieldBegin(T_I32, 4)
    w.writeI32(v.waiters)
  }
  if (v.leased !== undefined && v.leased !== null) {
    w.writeFieldBegin(T_I64, 5)
    w.writeI64(v.leased)
  }
  if (v.expired !== undefined && v.expired !== null) {
    w.writeFieldBegin(T_I64, 6)
    w.writeI64(v.expired)
  }
  if (v.deadLettered !== undefined && v.deadLettered !== null) {
    w.writeFieldBegin(T_I64, 7)
    w.writeI64(v.deadLettered)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

/**
 * A message that sendMessages refused: where it was in the list, and why.
 */
export interface SendFailure {
  /**
   * Its position in the list passed to sendMessages, from 0.
   */
  index: number
  code: number
  message: string
}

class DecodedSendFailure implements SendFailure {
  index: number = 0
  code: number = 0
  message: string = ''
}

export function readSendFailure(r: ProtocolReader): SendFailure {
  const v = new DecodedSendFailure()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_I32) {
          v.index = r.readI32()
          continue
        }
        break
      case 2:
        if (t === T_I32) {
          v.code = r.readI32()
          continue
        }
        break
      case 3:
        if (t === T_STRING) {
          v.message = r.readString()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeSendFailure(w: ProtocolWriter, v: SendFailure): void {
  w.writeStructBegin()
  if (v.index !== undefined && v.index !== null) {
    w.writeFieldBegin(T_I32, 1)
    w.writeI32(v.index)
  }
  if (v.code !== undefined && v.code !== null) {
    w.writeFieldBegin(T_I32, 2)
    w.writeI32(v.code)
  }
  if (v.message !== undefined && v.message !== null) {
    w.writeFieldBegin(T_STRING, 3)
    w.writeString(v.message)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

/**
 * What the daemon accepts, for clients that size their calls to it (the SDK's send batches).
 */
export interface DaemonLimits {
  /**
   * The largest frame (a call with its message) the daemon accepts: its --max-message-bytes.
   */
  maxMessageBytes: number
  /**
   * The most messages one sendMessages call may carry.
   */
  maxSendBatch: number
  /**
   * The most mailboxes one receiveAny call may name; unset: the daemon predates receiveAny.
   */
  maxReceiveAnyMailboxes?: number
}

class DecodedDaemonLimits implements DaemonLimits {
  maxMessageBytes: number = 0
  maxSendBatch: number = 0
  maxReceiveAnyMailboxes: number | undefined = undefined
}

export function readDaemonLimits(r: ProtocolReader): DaemonLimits {
  const v = new DecodedDaemonLimits()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_I64) {
          v.maxMessageBytes = r.readI64()
          continue
        }
        break
      case 2:
        if (t === T_I32) {
          v.maxSendBatch = r.readI32()
          continue
        }
        break
      case 3:
        if (t === T_I32) {
          v.maxReceiveAnyMailboxes = r.readI32()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeDaemonLimits(w: ProtocolWriter, v: DaemonLimits): void {
  w.writeStructBegin()
  if (v.maxMessageBytes !== undefined && v.maxMessageBytes !== null) {
    w.writeFieldBegin(T_I64, 1)
    w.writeI64(v.maxMessageBytes)
  }
  if (v.maxSendBatch !== undefined && v.maxSendBatch !== null) {
    w.writeFieldBegin(T_I32, 2)
    w.writeI32(v.maxSendBatch)
  }
  if (v.maxReceiveAnyMailboxes !== undefined && v.maxReceiveAnyMailboxes !== null) {
    w.writeFieldBegin(T_I32, 3)
    w.writeI32(v.maxReceiveAnyMailboxes)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

/**
 * A subscription to a topic pattern (PubSub).
 */
export interface SubscriptionInfo {
  id: number
  pattern: string
  /**
   * The durable subscription's name; empty for a subscription that ends with its connection.
   */
  durableName: string
  /**
   * Messages waiting to be polled.
   */
  queued: number
  /**
   * Messages dropped (oldest first) because the queue was full.
   */
  dropped: number
  /**
   * Messages handed out by poll.
   */
  delivered: number
  /**
   * The queue's bound.
   */
  maxQueued: number
  /**
   * False for a durable subscription whose connection has gone: it queues until resumed by name.
   */
  attached: boolean
}

class DecodedSubscriptionInfo implements SubscriptionInfo {
  id: number = 0
  pattern: string = ''
  durableName: string = ''
  queued: number = 0
  dropped: number = 0
  delivered: number = 0
  maxQueued: number = 0
  attached: boolean = false
}

export function readSubscriptionInfo(r: ProtocolReader): SubscriptionInfo {
  const v = new DecodedSubscriptionInfo()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_I64) {
          v.id = r.readI64()
          continue
        }
        break
      case 2:
        if (t === T_STRING) {
          v.pattern = r.readString()
          continue
        }
        break
      case 3:
        if (t === T_STRING) {
          v.durableName = r.readString()
          continue
        }
        break
      case 4:
        if (t === T_I64) {
          v.queued = r.readI64()
          continue
        }
        break
      case 5:
        if (t === T_I64) {
          v.dropped = r.readI64()
          continue
        }
        break
      case 6:
        if (t === T_I64) {
          v.delivered = r.readI64()
          continue
        }
        break
      case 7:
        if (t === T_I32) {
          v.maxQueued = r.readI32()
          continue
        }
        break
      case 8:
        if (t === T_BOOL) {
          v.attached = r.readBool()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeSubscriptionInfo(w: ProtocolWriter, v: SubscriptionInfo): void {
  w.writeStructBegin()
  if (v.id !== undefined && v.id !== null) {
    w.writeFieldBegin(T_I64, 1)
    w.writeI64(v.id)
  }
  if (v.pattern !== undefined && v.pattern !== null) {
    w.writeFieldBegin(T_STRING, 2)
    w.writeString(v.pattern)
  }
  if (v.durableName !== undefined && v.durableName !== null) {
    w.writeFieldBegin(T_STRING, 3)
    w.writeString(v.durableName)
  }
  if (v.queued !== undefined && v.queued !== null) {
    w.writeFieldBegin(T_I64, 4)
    w.writeI64(v.queued)
  }
  if (v.dropped !== undefined && v.dropped !== null) {
    w.writeFieldBegin(T_I64, 5)
    w.writeI64(v.dropped)
  }
  if (v.delivered !== undefined && v.delivered !== null) {
    w.writeFieldBegin(T_I64, 6)
    w.writeI64(v.delivered)
  }
  if (v.maxQueued !== undefined && v.maxQueued !== null) {
    w.writeFieldBegin(T_I32, 7)
    w.writeI32(v.maxQueued)
  }
  if (v.attached !== undefined && v.attached !== null) {
    w.writeFieldBegin(T_BOOL, 8)
    w.writeBool(v.attached)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

/**
 * A service hosted by provider processes through the daemon.
 */
export interface ServiceInfo {
  name: string
  providers: number
  /**
   * Calls forwarded since the daemon started.
   */
  calls: number
  /**
   * Calls waiting for their reply now.
   */
  inFlight: number
  /**
   * Calls that ended in an error (no responders, provider failed, timeout).
   */
  failures: number
}

class DecodedServiceInfo implements ServiceInfo {
  name: string = ''
  providers: number = 0
  calls: number = 0
  inFlight: number = 0
  failures: number = 0
}

export function readServiceInfo(r: ProtocolReader): ServiceInfo {
  const v = new DecodedServiceInfo()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_STRING) {
          v.name = r.readString()
          continue
        }
        break
      case 2:
        if (t === T_I32) {
          v.providers = r.readI32()
          continue
        }
        break
      case 3:
        if (t === T_I64) {
          v.calls = r.readI64()
          continue
        }
        break
      case 4:
        if (t === T_I32) {
          v.inFlight = r.readI32()
          continue
        }
        break
      case 5:
        if (t === T_I64) {
          v.failures = r.readI64()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeServiceInfo(w: ProtocolWriter, v: ServiceInfo): void {
  w.writeStructBegin()
  if (v.name !== undefined && v.name !== null) {
    w.writeFieldBegin(T_STRING, 1)
    w.writeString(v.name)
  }
  if (v.providers !== undefined && v.providers !== null) {
    w.writeFieldBegin(T_I32, 2)
    w.writeI32(v.providers)
  }
  if (v.calls !== undefined && v.calls !== null) {
    w.writeFieldBegin(T_I64, 3)
    w.writeI64(v.calls)
  }
  if (v.inFlight !== undefined && v.inFlight !== null) {
    w.writeFieldBegin(T_I32, 4)
    w.writeI32(v.inFlight)
  }
  if (v.failures !== undefined && v.failures !== null) {
    w.writeFieldBegin(T_I64, 5)
    w.writeI64(v.failures)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

/**
 * A helper process that the daemon starts on demand for a service (activation).
 */
export interface HelperInfo {
  serviceName: string
  command: string[]
  /**
   * 0 when not running.
   */
  pid: number
  /**
   * One of: idle, starting, running, backoff, failed.
   */
  state: string
  restarts: number
  /**
   * Why it last failed to start or exited; empty when it did not.
   */
  lastError: string
}

class DecodedHelperInfo implements HelperInfo {
  serviceName: string = ''
  command: string[] = []
  pid: number = 0
  state: string = ''
  restarts: number = 0
  lastError: string = ''
}

export function readHelperInfo(r: ProtocolReader): HelperInfo {
  const v = new DecodedHelperInfo()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_STRING) {
          v.serviceName = r.readString()
          continue
        }
        break
      case 2:
        if (t === T_LIST) {
          const n0 = r.readListBegin(T_STRING)
          const x0: string[] = []
          for (let i0 = 0; i0 < n0; i0++) {
            const e0 = r.readString()
            x0.push(e0)
          }
          r.readListEnd()
          v.command = x0
          continue
        }
        break
      case 3:
        if (t === T_I32) {
          v.pid = r.readI32()
          continue
        }
        break
      case 4:
        if (t === T_STRING) {
          v.state = r.readString()
          continue
        }
        break
      case 5:
        if (t === T_I32) {
          v.restarts = r.readI32()
          continue
        }
        break
      case 6:
        if (t === T_STRING) {
          v.lastError = r.readString()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeHelperInfo(w: ProtocolWriter, v: HelperInfo): void {
  w.writeStructBegin()
  if (v.serviceName !== undefined && v.serviceName !== null) {
    w.writeFieldBegin(T_STRING, 1)
    w.writeString(v.serviceName)
  }
  if (v.command !== undefined && v.command !== null) {
    w.writeFieldBegin(T_LIST, 2)
    w.writeListBegin(T_STRING, v.command.length)
    for (const e0 of v.command) {
      w.writeString(e0)
    }
    w.writeListEnd()
  }
  if (v.pid !== undefined && v.pid !== null) {
    w.writeFieldBegin(T_I32, 3)
    w.writeI32(v.pid)
  }
  if (v.state !== undefined && v.state !== null) {
    w.writeFieldBegin(T_STRING, 4)
    w.writeString(v.state)
  }
  if (v.restarts !== undefined && v.restarts !== null) {
    w.writeFieldBegin(T_I32, 5)
    w.writeI32(v.restarts)
  }
  if (v.lastError !== undefined && v.lastError !== null) {
    w.writeFieldBegin(T_STRING, 6)
    w.writeString(v.lastError)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

/**
 * The durable store of a daemon in durable or fsync mode (DaemonStatus.store). The counts are since the daemon
 * started. A message handed to a waiting receiver in the turn it arrived is written nowhere; one that waits is
 * written to the journal, or straight to SQLite once the journal holds its share or the mailbox is past its
 * memory window.
 */
export interface StoreInfo {
  /**
   * The SQLite file; the journal's segments are the .journal.<n> files next to it.
   */
  path: string
  /**
   * Queued messages whose copy is in the journal (the rest of a backlog is in SQLite).
   */
  journalMessages: number
  /**
   * The journal's size on disk, over all its segments.
   */
  journalBytes: number
  /**
   * Messages written to the journal.
   */
  journalWrites: number
  /**
   * Messages written straight to SQLite.
   */
  databaseWrites: number
  /**
   * Times the whole journal was applied to SQLite (purge, stop, start, reading a mailbox back from SQLite).
   */
  checkpoints: number
}

class DecodedStoreInfo implements StoreInfo {
  path: string = ''
  journalMessages: number = 0
  journalBytes: number = 0
  journalWrites: number = 0
  databaseWrites: number = 0
  checkpoints: number = 0
}

export function readStoreInfo(r: ProtocolReader): StoreInfo {
  const v = new DecodedStoreInfo()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_STRING) {
          v.path = r.readString()
          continue
        }
        break
      case 2:
        if (t === T_I64) {
          v.journalMessages = r.readI64()
          continue
        }
        break
      case 3:
        if (t === T_I64) {
          v.journalBytes = r.readI64()
          continue
        }
        break
      case 4:
        if (t === T_I64) {
          v.journalWrites = r.readI64()
          continue
        }
        break
      case 5:
        if (t === T_I64) {
          v.databaseWrites = r.readI64()
          continue
        }
        break
      case 6:
        if (t === T_I64) {
          v.checkpoints = r.readI64()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeStoreInfo(w: ProtocolWriter, v: StoreInfo): void {
  w.writeStructBegin()
  if (v.path !== undefined && v.path !== null) {
    w.writeFieldBegin(T_STRING, 1)
    w.writeString(v.path)
  }
  if (v.journalMessages !== undefined && v.journalMessages !== null) {
    w.writeFieldBegin(T_I64, 2)
    w.writeI64(v.journalMessages)
  }
  if (v.journalBytes !== undefined && v.journalBytes !== null) {
    w.writeFieldBegin(T_I64, 3)
    w.writeI64(v.journalBytes)
  }
  if (v.journalWrites !== undefined && v.journalWrites !== null) {
    w.writeFieldBegin(T_I64, 4)
    w.writeI64(v.journalWrites)
  }
  if (v.databaseWrites !== undefined && v.databaseWrites !== null) {
    w.writeFieldBegin(T_I64, 5)
    w.writeI64(v.databaseWrites)
  }
  if (v.checkpoints !== undefined && v.checkpoints !== null) {
    w.writeFieldBegin(T_I64, 6)
    w.writeI64(v.checkpoints)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface DaemonStatus {
  pid: number
  version: string
  /**
   * The socket or pipe the daemon listens on.
   */
  endpoint: string
  startedAtMs: number
  uptimeMs: number
  connections: number
  mailboxes: MailboxInfo[]
  /**
   * Where the daemon keeps its state (logs, store).
   */
  stateDir: string
  /**
   * memory, durable or fsync.
   */
  durability: string
  services: ServiceInfo[]
  helpers: HelperInfo[]
  subscriptions: SubscriptionInfo[]
  /**
   * The durable store; unset in memory mode.
   */
  store?: StoreInfo
}

class DecodedDaemonStatus implements DaemonStatus {
  pid: number = 0
  version: string = ''
  endpoint: string = ''
  startedAtMs: number = 0
  uptimeMs: number = 0
  connections: number = 0
  mailboxes: MailboxInfo[] = []
  stateDir: string = ''
  durability: string = ''
  services: ServiceInfo[] = []
  helpers: HelperInfo[] = []
  subscriptions: SubscriptionInfo[] = []
  store: StoreInfo | undefined = undefined
}

export function readDaemonStatus(r: ProtocolReader): DaemonStatus {
  const v = new DecodedDaemonStatus()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_I32) {
          v.pid = r.readI32()
          continue
        }
        break
      case 2:
        if (t === T_STRING) {
          v.version = r.readString()
          continue
        }
        break
      case 3:
        if (t === T_STRING) {
          v.endpoint = r.readString()
          continue
        }
        break
      case 4:
        if (t === T_I64) {
          v.startedAtMs = r.readI64()
          continue
        }
        break
      case 5:
        if (t === T_I64) {
          v.uptimeMs = r.readI64()
          continue
        }
        break
      case 6:
        if (t === T_I32) {
          v.connections = r.readI32()
          continue
        }
        break
      case 7:
        if (t === T_LIST) {
          const n0 = r.readListBegin(T_STRUCT)
          const x0: MailboxInfo[] = []
          for (let i0 = 0; i0 < n0; i0++) {
            const e0 = readMailboxInfo(r)
            x0.push(e0)
          }
          r.readListEnd()
          v.mailboxes = x0
          continue
        }
        break
      case 8:
        if (t === T_STRING) {
          v.stateDir = r.readString()
          continue
        }
        break
      case 9:
        if (t === T_STRING) {
          v.durability = r.readString()
          continue
        }
        break
      case 10:
        if (t === T_LIST) {
          const n0 = r.readListBegin(T_STRUCT)
          const x0: ServiceInfo[] = []
          for (let i0 = 0; i0 < n0; i0++) {
            const e0 = readServiceInfo(r)
            x0.push(e0)
          }
          r.readListEnd()
          v.services = x0
          continue
        }
        break
      case 11:
        if (t === T_LIST) {
          const n0 = r.readListBegin(T_STRUCT)
          const x0: HelperInfo[] = []
          for (let i0 = 0; i0 < n0; i0++) {
            const e0 = readHelperInfo(r)
            x0.push(e0)
          }
          r.readListEnd()
          v.helpers = x0
          continue
        }
        break
      case 12:
        if (t === T_LIST) {
          const n0 = r.readListBegin(T_STRUCT)
          const x0: SubscriptionInfo[] = []
          for (let i0 = 0; i0 < n0; i0++) {
            const e0 = readSubscriptionInfo(r)
            x0.push(e0)
          }
          r.readListEnd()
          v.subscriptions = x0
          continue
        }
        break
      case 13:
        if (t === T_STRUCT) {
          v.store = readStoreInfo(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeDaemonStatus(w: ProtocolWriter, v: DaemonStatus): void {
  w.writeStructBegin()
  if (v.pid !== undefined && v.pid !== null) {
    w.writeFieldBegin(T_I32, 1)
    w.writeI32(v.pid)
  }
  if (v.version !== undefined && v.version !== null) {
    w.writeFieldBegin(T_STRING, 2)
    w.writeString(v.version)
  }
  if (v.endpoint !== undefined && v.endpoint !== null) {
    w.writeFieldBegin(T_STRING, 3)
    w.writeString(v.endpoint)
  }
  if (v.startedAtMs !== undefined && v.startedAtMs !== null) {
    w.writeFieldBegin(T_I64, 4)
    w.writeI64(v.startedAtMs)
  }
  if (v.uptimeMs !== undefined && v.uptimeMs !== null) {
    w.writeFieldBegin(T_I64, 5)
    w.writeI64(v.uptimeMs)
  }
  if (v.connections !== undefined && v.connections !== null) {
    w.writeFieldBegin(T_I32, 6)
    w.writeI32(v.connections)
  }
  if (v.mailboxes !== undefined && v.mailboxes !== null) {
    w.writeFieldBegin(T_LIST, 7)
    w.writeListBegin(T_STRUCT, v.mailboxes.length)
    for (const e0 of v.mailboxes) {
      writeMailboxInfo(w, e0)
    }
    w.writeListEnd()
  }
  if (v.stateDir !== undefined && v.stateDir !== null) {
    w.writeFieldBegin(T_STRING, 8)
    w.writeString(v.stateDir)
  }
  if (v.durability !== undefined && v.durability !== null) {
    w.writeFieldBegin(T_STRING, 9)
    w.writeString(v.durability)
  }
  if (v.services !== undefined && v.services !== null) {
    w.writeFieldBegin(T_LIST, 10)
    w.writeListBegin(T_STRUCT, v.services.length)
    for (const e0 of v.services) {
      writeServiceInfo(w, e0)
    }
    w.writeListEnd()
  }
  if (v.helpers !== undefined && v.helpers !== null) {
    w.writeFieldBegin(T_LIST, 11)
    w.writeListBegin(T_STRUCT, v.helpers.length)
    for (const e0 of v.helpers) {
      writeHelperInfo(w, e0)
    }
    w.writeListEnd()
  }
  if (v.subscriptions !== undefined && v.subscriptions !== null) {
    w.writeFieldBegin(T_LIST, 12)
    w.writeListBegin(T_STRUCT, v.subscriptions.length)
    for (const e0 of v.subscriptions) {
      writeSubscriptionInfo(w, e0)
    }
    w.writeListEnd()
  }
  if (v.store !== undefined && v.store !== null) {
    w.writeFieldBegin(T_STRUCT, 13)
    writeStoreInfo(w, v.store)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_sendMessage_args {
  message: Message
}

class DecodedMessageService_sendMessage_args implements MessageService_sendMessage_args {
  message: Message = undefined as unknown as Message
}

export function readMessageService_sendMessage_args(r: ProtocolReader): MessageService_sendMessage_args {
  const v = new DecodedMessageService_sendMessage_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_STRUCT) {
          v.message = readMessage(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_sendMessage_args(w: ProtocolWriter, v: MessageService_sendMessage_args): void {
  w.writeStructBegin()
  if (v.message !== undefined && v.message !== null) {
    w.writeFieldBegin(T_STRUCT, 1)
    writeMessage(w, v.message)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_sendMessage_result {
  success?: boolean
  error?: BusException
}

class DecodedMessageService_sendMessage_result implements MessageService_sendMessage_result {
  success: boolean | undefined = undefined
  error: BusException | undefined = undefined
}

export function readMessageService_sendMessage_result(r: ProtocolReader): MessageService_sendMessage_result {
  const v = new DecodedMessageService_sendMessage_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_BOOL) {
          v.success = r.readBool()
          continue
        }
        break
      case 1:
        if (t === T_STRUCT) {
          v.error = readBusException(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_sendMessage_result(w: ProtocolWriter, v: MessageService_sendMessage_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_BOOL, 0)
    w.writeBool(v.success)
  }
  if (v.error !== undefined && v.error !== null) {
    w.writeFieldBegin(T_STRUCT, 1)
    writeBusException(w, v.error)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_sendMessages_args {
  messages: Message[]
}

class DecodedMessageService_sendMessages_args implements MessageService_sendMessages_args {
  messages: Message[] = []
}

export function readMessageService_sendMessages_args(r: ProtocolReader): MessageService_sendMessages_args {
  const v = new DecodedMessageService_sendMessages_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_LIST) {
          const n0 = r.readListBegin(T_STRUCT)
          const x0: Message[] = []
          for (let i0 = 0; i0 < n0; i0++) {
            const e0 = readMessage(r)
            x0.push(e0)
          }
          r.readListEnd()
          v.messages = x0
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_sendMessages_args(w: ProtocolWriter, v: MessageService_sendMessages_args): void {
  w.writeStructBegin()
  if (v.messages !== undefined && v.messages !== null) {
    w.writeFieldBegin(T_LIST, 1)
    w.writeListBegin(T_STRUCT, v.messages.length)
    for (const e0 of v.messages) {
      writeMessage(w, e0)
    }
    w.writeListEnd()
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_sendMessages_result {
  success?: SendFailure[]
  error?: BusException
}

class DecodedMessageService_sendMessages_result implements MessageService_sendMessages_result {
  success: SendFailure[] | undefined = undefined
  error: BusException | undefined = undefined
}

export function readMessageService_sendMessages_result(r: ProtocolReader): MessageService_sendMessages_result {
  const v = new DecodedMessageService_sendMessages_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_LIST) {
          const n0 = r.readListBegin(T_STRUCT)
          const x0: SendFailure[] = []
          for (let i0 = 0; i0 < n0; i0++) {
            const e0 = readSendFailure(r)
            x0.push(e0)
          }
          r.readListEnd()
          v.success = x0
          continue
        }
        break
      case 1:
        if (t === T_STRUCT) {
          v.error = readBusException(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_sendMessages_result(w: ProtocolWriter, v: MessageService_sendMessages_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_LIST, 0)
    w.writeListBegin(T_STRUCT, v.success.length)
    for (const e0 of v.success) {
      writeSendFailure(w, e0)
    }
    w.writeListEnd()
  }
  if (v.error !== undefined && v.error !== null) {
    w.writeFieldBegin(T_STRUCT, 1)
    writeBusException(w, v.error)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_receiveMessage_args {
  recipient: string
  timeoutMs?: number
}

class DecodedMessageService_receiveMessage_args implements MessageService_receiveMessage_args {
  recipient: string = ''
  timeoutMs: number | undefined = 0
}

export function readMessageService_receiveMessage_args(r: ProtocolReader): MessageService_receiveMessage_args {
  const v = new DecodedMessageService_receiveMessage_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_STRING) {
          v.recipient = r.readString()
          continue
        }
        break
      case 2:
        if (t === T_I64) {
          v.timeoutMs = r.readI64()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_receiveMessage_args(w: ProtocolWriter, v: MessageService_receiveMessage_args): void {
  w.writeStructBegin()
  if (v.recipient !== undefined && v.recipient !== null) {
    w.writeFieldBegin(T_STRING, 1)
    w.writeString(v.recipient)
  }
  if (v.timeoutMs !== undefined && v.timeoutMs !== null) {
    w.writeFieldBegin(T_I64, 2)
    w.writeI64(v.timeoutMs)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_receiveMessage_result {
  success?: Message
  error?: BusException
}

class DecodedMessageService_receiveMessage_result implements MessageService_receiveMessage_result {
  success: Message | undefined = undefined
  error: BusException | undefined = undefined
}

export function readMessageService_receiveMessage_result(r: ProtocolReader): MessageService_receiveMessage_result {
  const v = new DecodedMessageService_receiveMessage_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_STRUCT) {
          v.success = readMessage(r)
          continue
        }
        break
      case 1:
        if (t === T_STRUCT) {
          v.error = readBusException(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_receiveMessage_result(w: ProtocolWriter, v: MessageService_receiveMessage_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_STRUCT, 0)
    writeMessage(w, v.success)
  }
  if (v.error !== undefined && v.error !== null) {
    w.writeFieldBegin(T_STRUCT, 1)
    writeBusException(w, v.error)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_receiveMessages_args {
  recipient: string
  max: number
  timeoutMs?: number
}

class DecodedMessageService_receiveMessages_args implements MessageService_receiveMessages_args {
  recipient: string = ''
  max: number = 0
  timeoutMs: number | undefined = 0
}

export function readMessageService_receiveMessages_args(r: ProtocolReader): MessageService_receiveMessages_args {
  const v = new DecodedMessageService_receiveMessages_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_STRING) {
          v.recipient = r.readString()
          continue
        }
        break
      case 2:
        if (t === T_I32) {
          v.max = r.readI32()
          continue
        }
        break
      case 3:
        if (t === T_I64) {
          v.timeoutMs = r.readI64()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_receiveMessages_args(w: ProtocolWriter, v: MessageService_receiveMessages_args): void {
  w.writeStructBegin()
  if (v.recipient !== undefined && v.recipient !== null) {
    w.writeFieldBegin(T_STRING, 1)
    w.writeString(v.recipient)
  }
  if (v.max !== undefined && v.max !== null) {
    w.writeFieldBegin(T_I32, 2)
    w.writeI32(v.max)
  }
  if (v.timeoutMs !== undefined && v.timeoutMs !== null) {
    w.writeFieldBegin(T_I64, 3)
    w.writeI64(v.timeoutMs)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_receiveMessages_result {
  success?: Message[]
  error?: BusException
}

class DecodedMessageService_receiveMessages_result implements MessageService_receiveMessages_result {
  success: Message[] | undefined = undefined
  error: BusException | undefined = undefined
}

export function readMessageService_receiveMessages_result(r: ProtocolReader): MessageService_receiveMessages_result {
  const v = new DecodedMessageService_receiveMessages_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_LIST) {
          const n0 = r.readListBegin(T_STRUCT)
          const x0: Message[] = []
          for (let i0 = 0; i0 < n0; i0++) {
            const e0 = readMessage(r)
            x0.push(e0)
          }
          r.readListEnd()
          v.success = x0
          continue
        }
        break
      case 1:
        if (t === T_STRUCT) {
          v.error = readBusException(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_receiveMessages_result(w: ProtocolWriter, v: MessageService_receiveMessages_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_LIST, 0)
    w.writeListBegin(T_STRUCT, v.success.length)
    for (const e0 of v.success) {
      writeMessage(w, e0)
    }
    w.writeListEnd()
  }
  if (v.error !== undefined && v.error !== null) {
    w.writeFieldBegin(T_STRUCT, 1)
    writeBusException(w, v.error)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_receiveAny_args {
  wants: Record<string, number>
  timeoutMs?: number
}

class DecodedMessageService_receiveAny_args implements MessageService_receiveAny_args {
  wants: Record<string, number> = {}
  timeoutMs: number | undefined = 0
}

export function readMessageService_receiveAny_args(r: ProtocolReader): MessageService_receiveAny_args {
  const v = new DecodedMessageService_receiveAny_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_MAP) {
          const n0 = r.readMapBegin(T_STRING, T_I32)
          const x0: Record<string, number> = {}
          for (let i0 = 0; i0 < n0; i0++) {
            const k0 = r.readString()
            let v0: number
            v0 = r.readI32()
            setEntry(x0, k0, v0)
          }
          r.readMapEnd()
          v.wants = x0
          continue
        }
        break
      case 2:
        if (t === T_I64) {
          v.timeoutMs = r.readI64()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_receiveAny_args(w: ProtocolWriter, v: MessageService_receiveAny_args): void {
  w.writeStructBegin()
  if (v.wants !== undefined && v.wants !== null) {
    w.writeFieldBegin(T_MAP, 1)
    const k0 = Object.keys(v.wants)
    w.writeMapBegin(T_STRING, T_I32, k0.length)
    for (const e0 of k0) {
      w.writeString(e0)
      w.writeI32(v.wants[e0])
    }
    w.writeMapEnd()
  }
  if (v.timeoutMs !== undefined && v.timeoutMs !== null) {
    w.writeFieldBegin(T_I64, 2)
    w.writeI64(v.timeoutMs)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_receiveAny_result {
  success?: Message[]
  error?: BusException
}

class DecodedMessageService_receiveAny_result implements MessageService_receiveAny_result {
  success: Message[] | undefined = undefined
  error: BusException | undefined = undefined
}

export function readMessageService_receiveAny_result(r: ProtocolReader): MessageService_receiveAny_result {
  const v = new DecodedMessageService_receiveAny_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_LIST) {
          const n0 = r.readListBegin(T_STRUCT)
          const x0: Message[] = []
          for (let i0 = 0; i0 < n0; i0++) {
            const e0 = readMessage(r)
            x0.push(e0)
          }
          r.readListEnd()
          v.success = x0
          continue
        }
        break
      case 1:
        if (t === T_STRUCT) {
          v.error = readBusException(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_receiveAny_result(w: ProtocolWriter, v: MessageService_receiveAny_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_LIST, 0)
    w.writeListBegin(T_STRUCT, v.success.length)
    for (const e0 of v.success) {
      writeMessage(w, e0)
    }
    w.writeListEnd()
  }
  if (v.error !== undefined && v.error !== null) {
    w.writeFieldBegin(T_STRUCT, 1)
    writeBusException(w, v.error)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_receiveLeased_args {
  recipient: string
  max: number
  timeoutMs: number
  leaseMs: number
}

class DecodedMessageService_receiveLeased_args implements MessageService_receiveLeased_args {
  recipient: string = ''
  max: number = 0
  timeoutMs: number = 0
  leaseMs: number = 0
}

export function readMessageService_receiveLeased_args(r: ProtocolReader): MessageService_receiveLeased_args {
  const v = new DecodedMessageService_receiveLeased_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_STRING) {
          v.recipient = r.readString()
          continue
        }
        break
      case 2:
        if (t === T_I32) {
          v.max = r.readI32()
          continue
        }
        break
      case 3:
        if (t === T_I64) {
          v.timeoutMs = r.readI64()
          continue
        }
        break
      case 4:
        if (t === T_I64) {
          v.leaseMs = r.readI64()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_receiveLeased_args(w: ProtocolWriter, v: MessageService_receiveLeased_args): void {
  w.writeStructBegin()
  if (v.recipient !== undefined && v.recipient !== null) {
    w.writeFieldBegin(T_STRING, 1)
    w.writeString(v.recipient)
  }
  if (v.max !== undefined && v.max !== null) {
    w.writeFieldBegin(T_I32, 2)
    w.writeI32(v.max)
  }
  if (v.timeoutMs !== undefined && v.timeoutMs !== null) {
    w.writeFieldBegin(T_I64, 3)
    w.writeI64(v.timeoutMs)
  }
  if (v.leaseMs !== undefined && v.leaseMs !== null) {
    w.writeFieldBegin(T_I64, 4)
    w.writeI64(v.leaseMs)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_receiveLeased_result {
  success?: Message[]
  error?: BusException
}

class DecodedMessageService_receiveLeased_result implements MessageService_receiveLeased_result {
  success: Message[] | undefined = undefined
  error: BusException | undefined = undefined
}

export function readMessageService_receiveLeased_result(r: ProtocolReader): MessageService_receiveLeased_result {
  const v = new DecodedMessageService_receiveLeased_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_LIST) {
          const n0 = r.readListBegin(T_STRUCT)
          const x0: Message[] = []
          for (let i0 = 0; i0 < n0; i0++) {
            const e0 = readMessage(r)
            x0.push(e0)
          }
          r.readListEnd()
          v.success = x0
          continue
        }
        break
      case 1:
        if (t === T_STRUCT) {
          v.error = readBusException(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_receiveLeased_result(w: ProtocolWriter, v: MessageService_receiveLeased_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_LIST, 0)
    w.writeListBegin(T_STRUCT, v.success.length)
    for (const e0 of v.success) {
      writeMessage(w, e0)
    }
    w.writeListEnd()
  }
  if (v.error !== undefined && v.error !== null) {
    w.writeFieldBegin(T_STRUCT, 1)
    writeBusException(w, v.error)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_ack_args {
  ids: number[]
}

class DecodedMessageService_ack_args implements MessageService_ack_args {
  ids: number[] = []
}

export function readMessageService_ack_args(r: ProtocolReader): MessageService_ack_args {
  const v = new DecodedMessageService_ack_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_LIST) {
          const n0 = r.readListBegin(T_I64)
          const x0: number[] = []
          for (let i0 = 0; i0 < n0; i0++) {
            const e0 = r.readI64()
            x0.push(e0)
          }
          r.readListEnd()
          v.ids = x0
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_ack_args(w: ProtocolWriter, v: MessageService_ack_args): void {
  w.writeStructBegin()
  if (v.ids !== undefined && v.ids !== null) {
    w.writeFieldBegin(T_LIST, 1)
    w.writeListBegin(T_I64, v.ids.length)
    for (const e0 of v.ids) {
      w.writeI64(e0)
    }
    w.writeListEnd()
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_ack_result {
  success?: number
  error?: BusException
}

class DecodedMessageService_ack_result implements MessageService_ack_result {
  success: number | undefined = undefined
  error: BusException | undefined = undefined
}

export function readMessageService_ack_result(r: ProtocolReader): MessageService_ack_result {
  const v = new DecodedMessageService_ack_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_I32) {
          v.success = r.readI32()
          continue
        }
        break
      case 1:
        if (t === T_STRUCT) {
          v.error = readBusException(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_ack_result(w: ProtocolWriter, v: MessageService_ack_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_I32, 0)
    w.writeI32(v.success)
  }
  if (v.error !== undefined && v.error !== null) {
    w.writeFieldBegin(T_STRUCT, 1)
    writeBusException(w, v.error)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_nack_args {
  ids: number[]
}

class DecodedMessageService_nack_args implements MessageService_nack_args {
  ids: number[] = []
}

export function readMessageService_nack_args(r: ProtocolReader): MessageService_nack_args {
  const v = new DecodedMessageService_nack_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_LIST) {
          const n0 = r.readListBegin(T_I64)
          const x0: number[] = []
          for (let i0 = 0; i0 < n0; i0++) {
            const e0 = r.readI64()
            x0.push(e0)
          }
          r.readListEnd()
          v.ids = x0
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_nack_args(w: ProtocolWriter, v: MessageService_nack_args): void {
  w.writeStructBegin()
  if (v.ids !== undefined && v.ids !== null) {
    w.writeFieldBegin(T_LIST, 1)
    w.writeListBegin(T_I64, v.ids.length)
    for (const e0 of v.ids) {
      w.writeI64(e0)
    }
    w.writeListEnd()
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_nack_result {
  success?: number
  error?: BusException
}

class DecodedMessageService_nack_result implements MessageService_nack_result {
  success: number | undefined = undefined
  error: BusException | undefined = undefined
}

export function readMessageService_nack_result(r: ProtocolReader): MessageService_nack_result {
  const v = new DecodedMessageService_nack_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_I32) {
          v.success = r.readI32()
          continue
        }
        break
      case 1:
        if (t === T_STRUCT) {
          v.error = readBusException(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_nack_result(w: ProtocolWriter, v: MessageService_nack_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_I32, 0)
    w.writeI32(v.success)
  }
  if (v.error !== undefined && v.error !== null) {
    w.writeFieldBegin(T_STRUCT, 1)
    writeBusException(w, v.error)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_returnMessages_args {
  messages: Message[]
}

class DecodedMessageService_returnMessages_args implements MessageService_returnMessages_args {
  messages: Message[] = []
}

export function readMessageService_returnMessages_args(r: ProtocolReader): MessageService_returnMessages_args {
  const v = new DecodedMessageService_returnMessages_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_LIST) {
          const n0 = r.readListBegin(T_STRUCT)
          const x0: Message[] = []
          for (let i0 = 0; i0 < n0; i0++) {
            const e0 = readMessage(r)
            x0.push(e0)
          }
          r.readListEnd()
          v.messages = x0
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_returnMessages_args(w: ProtocolWriter, v: MessageService_returnMessages_args): void {
  w.writeStructBegin()
  if (v.messages !== undefined && v.messages !== null) {
    w.writeFieldBegin(T_LIST, 1)
    w.writeListBegin(T_STRUCT, v.messages.length)
    for (const e0 of v.messages) {
      writeMessage(w, e0)
    }
    w.writeListEnd()
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_returnMessages_result {
  success?: number
  error?: BusException
}

class DecodedMessageService_returnMessages_result implements MessageService_returnMessages_result {
  success: number | undefined = undefined
  error: BusException | undefined = undefined
}

export function readMessageService_returnMessages_result(r: ProtocolReader): MessageService_returnMessages_result {
  const v = new DecodedMessageService_returnMessages_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_I32) {
          v.success = r.readI32()
          continue
        }
        break
      case 1:
        if (t === T_STRUCT) {
          v.error = readBusException(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_returnMessages_result(w: ProtocolWriter, v: MessageService_returnMessages_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_I32, 0)
    w.writeI32(v.success)
  }
  if (v.error !== undefined && v.error !== null) {
    w.writeFieldBegin(T_STRUCT, 1)
    writeBusException(w, v.error)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_cancel_args {
  seqid: number
}

class DecodedMessageService_cancel_args implements MessageService_cancel_args {
  seqid: number = 0
}

export function readMessageService_cancel_args(r: ProtocolReader): MessageService_cancel_args {
  const v = new DecodedMessageService_cancel_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_I32) {
          v.seqid = r.readI32()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_cancel_args(w: ProtocolWriter, v: MessageService_cancel_args): void {
  w.writeStructBegin()
  if (v.seqid !== undefined && v.seqid !== null) {
    w.writeFieldBegin(T_I32, 1)
    w.writeI32(v.seqid)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_cancel_result {
  success?: boolean
}

class DecodedMessageService_cancel_result implements MessageService_cancel_result {
  success: boolean | undefined = undefined
}

export function readMessageService_cancel_result(r: ProtocolReader): MessageService_cancel_result {
  const v = new DecodedMessageService_cancel_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_BOOL) {
          v.success = r.readBool()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_cancel_result(w: ProtocolWriter, v: MessageService_cancel_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_BOOL, 0)
    w.writeBool(v.success)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_listMailboxes_args {
}

class DecodedMessageService_listMailboxes_args implements MessageService_listMailboxes_args {
}

export function readMessageService_listMailboxes_args(r: ProtocolReader): MessageService_listMailboxes_args {
  const v = new DecodedMessageService_listMailboxes_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_listMailboxes_args(w: ProtocolWriter, v: MessageService_listMailboxes_args): void {
  w.writeStructBegin()
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_listMailboxes_result {
  success?: MailboxInfo[]
}

class DecodedMessageService_listMailboxes_result implements MessageService_listMailboxes_result {
  success: MailboxInfo[] | undefined = undefined
}

export function readMessageService_listMailboxes_result(r: ProtocolReader): MessageService_listMailboxes_result {
  const v = new DecodedMessageService_listMailboxes_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_LIST) {
          const n0 = r.readListBegin(T_STRUCT)
          const x0: MailboxInfo[] = []
          for (let i0 = 0; i0 < n0; i0++) {
            const e0 = readMailboxInfo(r)
            x0.push(e0)
          }
          r.readListEnd()
          v.success = x0
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_listMailboxes_result(w: ProtocolWriter, v: MessageService_listMailboxes_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_LIST, 0)
    w.writeListBegin(T_STRUCT, v.success.length)
    for (const e0 of v.success) {
      writeMailboxInfo(w, e0)
    }
    w.writeListEnd()
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_mailboxStats_args {
  name: string
}

class DecodedMessageService_mailboxStats_args implements MessageService_mailboxStats_args {
  name: string = ''
}

export function readMessageService_mailboxStats_args(r: ProtocolReader): MessageService_mailboxStats_args {
  const v = new DecodedMessageService_mailboxStats_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_STRING) {
          v.name = r.readString()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_mailboxStats_args(w: ProtocolWriter, v: MessageService_mailboxStats_args): void {
  w.writeStructBegin()
  if (v.name !== undefined && v.name !== null) {
    w.writeFieldBegin(T_STRING, 1)
    w.writeString(v.name)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_mailboxStats_result {
  success?: MailboxInfo
  error?: BusException
}

class DecodedMessageService_mailboxStats_result implements MessageService_mailboxStats_result {
  success: MailboxInfo | undefined = undefined
  error: BusException | undefined = undefined
}

export function readMessageService_mailboxStats_result(r: ProtocolReader): MessageService_mailboxStats_result {
  const v = new DecodedMessageService_mailboxStats_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_STRUCT) {
          v.success = readMailboxInfo(r)
          continue
        }
        break
      case 1:
        if (t === T_STRUCT) {
          v.error = readBusException(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_mailboxStats_result(w: ProtocolWriter, v: MessageService_mailboxStats_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_STRUCT, 0)
    writeMailboxInfo(w, v.success)
  }
  if (v.error !== undefined && v.error !== null) {
    w.writeFieldBegin(T_STRUCT, 1)
    writeBusException(w, v.error)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_purgeMailbox_args {
  name: string
}

class DecodedMessageService_purgeMailbox_args implements MessageService_purgeMailbox_args {
  name: string = ''
}

export function readMessageService_purgeMailbox_args(r: ProtocolReader): MessageService_purgeMailbox_args {
  const v = new DecodedMessageService_purgeMailbox_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_STRING) {
          v.name = r.readString()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_purgeMailbox_args(w: ProtocolWriter, v: MessageService_purgeMailbox_args): void {
  w.writeStructBegin()
  if (v.name !== undefined && v.name !== null) {
    w.writeFieldBegin(T_STRING, 1)
    w.writeString(v.name)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_purgeMailbox_result {
  success?: number
  error?: BusException
}

class DecodedMessageService_purgeMailbox_result implements MessageService_purgeMailbox_result {
  success: number | undefined = undefined
  error: BusException | undefined = undefined
}

export function readMessageService_purgeMailbox_result(r: ProtocolReader): MessageService_purgeMailbox_result {
  const v = new DecodedMessageService_purgeMailbox_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_I64) {
          v.success = r.readI64()
          continue
        }
        break
      case 1:
        if (t === T_STRUCT) {
          v.error = readBusException(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_purgeMailbox_result(w: ProtocolWriter, v: MessageService_purgeMailbox_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_I64, 0)
    w.writeI64(v.success)
  }
  if (v.error !== undefined && v.error !== null) {
    w.writeFieldBegin(T_STRUCT, 1)
    writeBusException(w, v.error)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_registerService_args {
  name: string
}

class DecodedMessageService_registerService_args implements MessageService_registerService_args {
  name: string = ''
}

export function readMessageService_registerService_args(r: ProtocolReader): MessageService_registerService_args {
  const v = new DecodedMessageService_registerService_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_STRING) {
          v.name = r.readString()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_registerService_args(w: ProtocolWriter, v: MessageService_registerService_args): void {
  w.writeStructBegin()
  if (v.name !== undefined && v.name !== null) {
    w.writeFieldBegin(T_STRING, 1)
    w.writeString(v.name)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_registerService_result {
  error?: BusException
}

class DecodedMessageService_registerService_result implements MessageService_registerService_result {
  error: BusException | undefined = undefined
}

export function readMessageService_registerService_result(r: ProtocolReader): MessageService_registerService_result {
  const v = new DecodedMessageService_registerService_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_STRUCT) {
          v.error = readBusException(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_registerService_result(w: ProtocolWriter, v: MessageService_registerService_result): void {
  w.writeStructBegin()
  if (v.error !== undefined && v.error !== null) {
    w.writeFieldBegin(T_STRUCT, 1)
    writeBusException(w, v.error)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_ping_args {
}

class DecodedMessageService_ping_args implements MessageService_ping_args {
}

export function readMessageService_ping_args(r: ProtocolReader): MessageService_ping_args {
  const v = new DecodedMessageService_ping_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_ping_args(w: ProtocolWriter, v: MessageService_ping_args): void {
  w.writeStructBegin()
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_ping_result {
  success?: string
}

class DecodedMessageService_ping_result implements MessageService_ping_result {
  success: string | undefined = undefined
}

export function readMessageService_ping_result(r: ProtocolReader): MessageService_ping_result {
  const v = new DecodedMessageService_ping_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_STRING) {
          v.success = r.readString()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_ping_result(w: ProtocolWriter, v: MessageService_ping_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_STRING, 0)
    w.writeString(v.success)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_limits_args {
}

class DecodedMessageService_limits_args implements MessageService_limits_args {
}

export function readMessageService_limits_args(r: ProtocolReader): MessageService_limits_args {
  const v = new DecodedMessageService_limits_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_limits_args(w: ProtocolWriter, v: MessageService_limits_args): void {
  w.writeStructBegin()
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_limits_result {
  success?: DaemonLimits
}

class DecodedMessageService_limits_result implements MessageService_limits_result {
  success: DaemonLimits | undefined = undefined
}

export function readMessageService_limits_result(r: ProtocolReader): MessageService_limits_result {
  const v = new DecodedMessageService_limits_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_STRUCT) {
          v.success = readDaemonLimits(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_limits_result(w: ProtocolWriter, v: MessageService_limits_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_STRUCT, 0)
    writeDaemonLimits(w, v.success)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_status_args {
}

class DecodedMessageService_status_args implements MessageService_status_args {
}

export function readMessageService_status_args(r: ProtocolReader): MessageService_status_args {
  const v = new DecodedMessageService_status_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_status_args(w: ProtocolWriter, v: MessageService_status_args): void {
  w.writeStructBegin()
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_status_result {
  success?: DaemonStatus
}

class DecodedMessageService_status_result implements MessageService_status_result {
  success: DaemonStatus | undefined = undefined
}

export function readMessageService_status_result(r: ProtocolReader): MessageService_status_result {
  const v = new DecodedMessageService_status_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_STRUCT) {
          v.success = readDaemonStatus(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_status_result(w: ProtocolWriter, v: MessageService_status_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_STRUCT, 0)
    writeDaemonStatus(w, v.success)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_shutdown_args {
}

class DecodedMessageService_shutdown_args implements MessageService_shutdown_args {
}

export function readMessageService_shutdown_args(r: ProtocolReader): MessageService_shutdown_args {
  const v = new DecodedMessageService_shutdown_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_shutdown_args(w: ProtocolWriter, v: MessageService_shutdown_args): void {
  w.writeStructBegin()
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_shutdown_result {
}

class DecodedMessageService_shutdown_result implements MessageService_shutdown_result {
}

export function readMessageService_shutdown_result(r: ProtocolReader): MessageService_shutdown_result {
  const v = new DecodedMessageService_shutdown_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writeMessageService_shutdown_result(w: ProtocolWriter, v: MessageService_shutdown_result): void {
  w.writeStructBegin()
  w.writeFieldStop()
  w.writeStructEnd()
}

export const MessageService = {
  name: 'MessageService',
  methods: {
    sendMessage: {
      name: 'sendMessage',
      oneway: false,
      exceptions: { error: 'BusException' } as Record<string, string>,
      readArgs: readMessageService_sendMessage_args,
      writeArgs: writeMessageService_sendMessage_args,
      readResult: readMessageService_sendMessage_result,
      writeResult: writeMessageService_sendMessage_result,
    } as MethodCodec<MessageService_sendMessage_args, MessageService_sendMessage_result>,
    sendMessages: {
      name: 'sendMessages',
      oneway: false,
      exceptions: { error: 'BusException' } as Record<string, string>,
      readArgs: readMessageService_sendMessages_args,
      writeArgs: writeMessageService_sendMessages_args,
      readResult: readMessageService_sendMessages_result,
      writeResult: writeMessageService_sendMessages_result,
    } as MethodCodec<MessageService_sendMessages_args, MessageService_sendMessages_result>,
    receiveMessage: {
      name: 'receiveMessage',
      oneway: false,
      exceptions: { error: 'BusException' } as Record<string, string>,
      readArgs: readMessageService_receiveMessage_args,
      writeArgs: writeMessageService_receiveMessage_args,
      readResult: readMessageService_receiveMessage_result,
      writeResult: writeMessageService_receiveMessage_result,
    } as MethodCodec<MessageService_receiveMessage_args, MessageService_receiveMessage_result>,
    receiveMessages: {
      name: 'receiveMessages',
      oneway: false,
      exceptions: { error: 'BusException' } as Record<string, string>,
      readArgs: readMessageService_receiveMessages_args,
      writeArgs: writeMessageService_receiveMessages_args,
      readResult: readMessageService_receiveMessages_result,
      writeResult: writeMessageService_receiveMessages_result,
    } as MethodCodec<MessageService_receiveMessages_args, MessageService_receiveMessages_result>,
    receiveAny: {
      name: 'receiveAny',
      oneway: false,
      exceptions: { error: 'BusException' } as Record<string, string>,
      readArgs: readMessageService_receiveAny_args,
      writeArgs: writeMessageService_receiveAny_args,
      readResult: readMessageService_receiveAny_result,
      writeResult: writeMessageService_receiveAny_result,
    } as MethodCodec<MessageService_receiveAny_args, MessageService_receiveAny_result>,
    receiveLeased: {
      name: 'receiveLeased',
      oneway: false,
      exceptions: { error: 'BusException' } as Record<string, string>,
      readArgs: readMessageService_receiveLeased_args,
      writeArgs: writeMessageService_receiveLeased_args,
      readResult: readMessageService_receiveLeased_result,
      writeResult: writeMessageService_receiveLeased_result,
    } as MethodCodec<MessageService_receiveLeased_args, MessageService_receiveLeased_result>,
    ack: {
      name: 'ack',
      oneway: false,
      exceptions: { error: 'BusException' } as Record<string, string>,
      readArgs: readMessageService_ack_args,
      writeArgs: writeMessageService_ack_args,
      readResult: readMessageService_ack_result,
      writeResult: writeMessageService_ack_result,
    } as MethodCodec<MessageService_ack_args, MessageService_ack_result>,
    nack: {
      name: 'nack',
      oneway: false,
      exceptions: { error: 'BusException' } as Record<string, string>,
      readArgs: readMessageService_nack_args,
      writeArgs: writeMessageService_nack_args,
      readResult: readMessageService_nack_result,
      writeResult: writeMessageService_nack_result,
    } as MethodCodec<MessageService_nack_args, MessageService_nack_result>,
    returnMessages: {
      name: 'returnMessages',
      oneway: false,
      exceptions: { error: 'BusException' } as Record<string, string>,
      readArgs: readMessageService_returnMessages_args,
      writeArgs: writeMessageService_returnMessages_args,
      readResult: readMessageService_returnMessages_result,
      writeResult: writeMessageService_returnMessages_result,
    } as MethodCodec<MessageService_returnMessages_args, MessageService_returnMessages_result>,
    cancel: {
      name: 'cancel',
      oneway: false,
      exceptions: {  } as Record<string, string>,
      readArgs: readMessageService_cancel_args,
      writeArgs: writeMessageService_cancel_args,
      readResult: readMessageService_cancel_result,
      writeResult: writeMessageService_cancel_result,
    } as MethodCodec<MessageService_cancel_args, MessageService_cancel_result>,
    listMailboxes: {
      name: 'listMailboxes',
      oneway: false,
      exceptions: {  } as Record<string, string>,
      readArgs: readMessageService_listMailboxes_args,
      writeArgs: writeMessageService_listMailboxes_args,
      readResult: readMessageService_listMailboxes_result,
      writeResult: writeMessageService_listMailboxes_result,
    } as MethodCodec<MessageService_listMailboxes_args, MessageService_listMailboxes_result>,
    mailboxStats: {
      name: 'mailboxStats',
      oneway: false,
      exceptions: { error: 'BusException' } as Record<string, string>,
      readArgs: readMessageService_mailboxStats_args,
      writeArgs: writeMessageService_mailboxStats_args,
      readResult: readMessageService_mailboxStats_result,
      writeResult: writeMessageService_mailboxStats_result,
    } as MethodCodec<MessageService_mailboxStats_args, MessageService_mailboxStats_result>,
    purgeMailbox: {
      name: 'purgeMailbox',
      oneway: false,
      exceptions: { error: 'BusException' } as Record<string, string>,
      readArgs: readMessageService_purgeMailbox_args,
      writeArgs: writeMessageService_purgeMailbox_args,
      readResult: readMessageService_purgeMailbox_result,
      writeResult: writeMessageService_purgeMailbox_result,
    } as MethodCodec<MessageService_purgeMailbox_args, MessageService_purgeMailbox_result>,
    registerService: {
      name: 'registerService',
      oneway: false,
      exceptions: { error: 'BusException' } as Record<string, string>,
      readArgs: readMessageService_registerService_args,
      writeArgs: writeMessageService_registerService_args,
      readResult: readMessageService_registerService_result,
      writeResult: writeMessageService_registerService_result,
    } as MethodCodec<MessageService_registerService_args, MessageService_registerService_result>,
    ping: {
      name: 'ping',
      oneway: false,
      exceptions: {  } as Record<string, string>,
      readArgs: readMessageService_ping_args,
      writeArgs: writeMessageService_ping_args,
      readResult: readMessageService_ping_result,
      writeResult: writeMessageService_ping_result,
    } as MethodCodec<MessageService_ping_args, MessageService_ping_result>,
    limits: {
      name: 'limits',
      oneway: false,
      exceptions: {  } as Record<string, string>,
      readArgs: readMessageService_limits_args,
      writeArgs: writeMessageService_limits_args,
      readResult: readMessageService_limits_result,
      writeResult: writeMessageService_limits_result,
    } as MethodCodec<MessageService_limits_args, MessageService_limits_result>,
    status: {
      name: 'status',
      oneway: false,
      exceptions: {  } as Record<string, string>,
      readArgs: readMessageService_status_args,
      writeArgs: writeMessageService_status_args,
      readResult: readMessageService_status_result,
      writeResult: writeMessageService_status_result,
    } as MethodCodec<MessageService_status_args, MessageService_status_result>,
    shutdown: {
      name: 'shutdown',
      oneway: false,
      exceptions: {  } as Record<string, string>,
      readArgs: readMessageService_shutdown_args,
      writeArgs: writeMessageService_shutdown_args,
      readResult: readMessageService_shutdown_result,
      writeResult: writeMessageService_shutdown_result,
    } as MethodCodec<MessageService_shutdown_args, MessageService_shutdown_result>,
  },
} as const

export interface PubSub_publish_args {
  topic: string
  message: Message
}

class DecodedPubSub_publish_args implements PubSub_publish_args {
  topic: string = ''
  message: Message = undefined as unknown as Message
}

export function readPubSub_publish_args(r: ProtocolReader): PubSub_publish_args {
  const v = new DecodedPubSub_publish_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_STRING) {
          v.topic = r.readString()
          continue
        }
        break
      case 2:
        if (t === T_STRUCT) {
          v.message = readMessage(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writePubSub_publish_args(w: ProtocolWriter, v: PubSub_publish_args): void {
  w.writeStructBegin()
  if (v.topic !== undefined && v.topic !== null) {
    w.writeFieldBegin(T_STRING, 1)
    w.writeString(v.topic)
  }
  if (v.message !== undefined && v.message !== null) {
    w.writeFieldBegin(T_STRUCT, 2)
    writeMessage(w, v.message)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface PubSub_publish_result {
  success?: number
  error?: BusException
}

class DecodedPubSub_publish_result implements PubSub_publish_result {
  success: number | undefined = undefined
  error: BusException | undefined = undefined
}

export function readPubSub_publish_result(r: ProtocolReader): PubSub_publish_result {
  const v = new DecodedPubSub_publish_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_I32) {
          v.success = r.readI32()
          continue
        }
        break
      case 1:
        if (t === T_STRUCT) {
          v.error = readBusException(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writePubSub_publish_result(w: ProtocolWriter, v: PubSub_publish_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_I32, 0)
    w.writeI32(v.success)
  }
  if (v.error !== undefined && v.error !== null) {
    w.writeFieldBegin(T_STRUCT, 1)
    writeBusException(w, v.error)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface PubSub_subscribe_args {
  pattern: string
  durableName?: string
  maxQueued?: number
}

class DecodedPubSub_subscribe_args implements PubSub_subscribe_args {
  pattern: string = ''
  durableName: string | undefined = ""
  maxQueued: number | undefined = 0
}

export function readPubSub_subscribe_args(r: ProtocolReader): PubSub_subscribe_args {
  const v = new DecodedPubSub_subscribe_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_STRING) {
          v.pattern = r.readString()
          continue
        }
        break
      case 2:
        if (t === T_STRING) {
          v.durableName = r.readString()
          continue
        }
        break
      case 3:
        if (t === T_I32) {
          v.maxQueued = r.readI32()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writePubSub_subscribe_args(w: ProtocolWriter, v: PubSub_subscribe_args): void {
  w.writeStructBegin()
  if (v.pattern !== undefined && v.pattern !== null) {
    w.writeFieldBegin(T_STRING, 1)
    w.writeString(v.pattern)
  }
  if (v.durableName !== undefined && v.durableName !== null) {
    w.writeFieldBegin(T_STRING, 2)
    w.writeString(v.durableName)
  }
  if (v.maxQueued !== undefined && v.maxQueued !== null) {
    w.writeFieldBegin(T_I32, 3)
    w.writeI32(v.maxQueued)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface PubSub_subscribe_result {
  success?: number
  error?: BusException
}

class DecodedPubSub_subscribe_result implements PubSub_subscribe_result {
  success: number | undefined = undefined
  error: BusException | undefined = undefined
}

export function readPubSub_subscribe_result(r: ProtocolReader): PubSub_subscribe_result {
  const v = new DecodedPubSub_subscribe_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_I64) {
          v.success = r.readI64()
          continue
        }
        break
      case 1:
        if (t === T_STRUCT) {
          v.error = readBusException(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writePubSub_subscribe_result(w: ProtocolWriter, v: PubSub_subscribe_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_I64, 0)
    w.writeI64(v.success)
  }
  if (v.error !== undefined && v.error !== null) {
    w.writeFieldBegin(T_STRUCT, 1)
    writeBusException(w, v.error)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface PubSub_poll_args {
  subscription: number
  max: number
  timeoutMs?: number
}

class DecodedPubSub_poll_args implements PubSub_poll_args {
  subscription: number = 0
  max: number = 0
  timeoutMs: number | undefined = 0
}

export function readPubSub_poll_args(r: ProtocolReader): PubSub_poll_args {
  const v = new DecodedPubSub_poll_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_I64) {
          v.subscription = r.readI64()
          continue
        }
        break
      case 2:
        if (t === T_I32) {
          v.max = r.readI32()
          continue
        }
        break
      case 3:
        if (t === T_I64) {
          v.timeoutMs = r.readI64()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writePubSub_poll_args(w: ProtocolWriter, v: PubSub_poll_args): void {
  w.writeStructBegin()
  if (v.subscription !== undefined && v.subscription !== null) {
    w.writeFieldBegin(T_I64, 1)
    w.writeI64(v.subscription)
  }
  if (v.max !== undefined && v.max !== null) {
    w.writeFieldBegin(T_I32, 2)
    w.writeI32(v.max)
  }
  if (v.timeoutMs !== undefined && v.timeoutMs !== null) {
    w.writeFieldBegin(T_I64, 3)
    w.writeI64(v.timeoutMs)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface PubSub_poll_result {
  success?: Message[]
  error?: BusException
}

class DecodedPubSub_poll_result implements PubSub_poll_result {
  success: Message[] | undefined = undefined
  error: BusException | undefined = undefined
}

export function readPubSub_poll_result(r: ProtocolReader): PubSub_poll_result {
  const v = new DecodedPubSub_poll_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_LIST) {
          const n0 = r.readListBegin(T_STRUCT)
          const x0: Message[] = []
          for (let i0 = 0; i0 < n0; i0++) {
            const e0 = readMessage(r)
            x0.push(e0)
          }
          r.readListEnd()
          v.success = x0
          continue
        }
        break
      case 1:
        if (t === T_STRUCT) {
          v.error = readBusException(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writePubSub_poll_result(w: ProtocolWriter, v: PubSub_poll_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_LIST, 0)
    w.writeListBegin(T_STRUCT, v.success.length)
    for (const e0 of v.success) {
      writeMessage(w, e0)
    }
    w.writeListEnd()
  }
  if (v.error !== undefined && v.error !== null) {
    w.writeFieldBegin(T_STRUCT, 1)
    writeBusException(w, v.error)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface PubSub_unsubscribe_args {
  subscription: number
}

class DecodedPubSub_unsubscribe_args implements PubSub_unsubscribe_args {
  subscription: number = 0
}

export function readPubSub_unsubscribe_args(r: ProtocolReader): PubSub_unsubscribe_args {
  const v = new DecodedPubSub_unsubscribe_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 1:
        if (t === T_I64) {
          v.subscription = r.readI64()
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writePubSub_unsubscribe_args(w: ProtocolWriter, v: PubSub_unsubscribe_args): void {
  w.writeStructBegin()
  if (v.subscription !== undefined && v.subscription !== null) {
    w.writeFieldBegin(T_I64, 1)
    w.writeI64(v.subscription)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface PubSub_unsubscribe_result {
  success?: boolean
  error?: BusException
}

class DecodedPubSub_unsubscribe_result implements PubSub_unsubscribe_result {
  success: boolean | undefined = undefined
  error: BusException | undefined = undefined
}

export function readPubSub_unsubscribe_result(r: ProtocolReader): PubSub_unsubscribe_result {
  const v = new DecodedPubSub_unsubscribe_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_BOOL) {
          v.success = r.readBool()
          continue
        }
        break
      case 1:
        if (t === T_STRUCT) {
          v.error = readBusException(r)
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writePubSub_unsubscribe_result(w: ProtocolWriter, v: PubSub_unsubscribe_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_BOOL, 0)
    w.writeBool(v.success)
  }
  if (v.error !== undefined && v.error !== null) {
    w.writeFieldBegin(T_STRUCT, 1)
    writeBusException(w, v.error)
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface PubSub_listSubscriptions_args {
}

class DecodedPubSub_listSubscriptions_args implements PubSub_listSubscriptions_args {
}

export function readPubSub_listSubscriptions_args(r: ProtocolReader): PubSub_listSubscriptions_args {
  const v = new DecodedPubSub_listSubscriptions_args()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writePubSub_listSubscriptions_args(w: ProtocolWriter, v: PubSub_listSubscriptions_args): void {
  w.writeStructBegin()
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface PubSub_listSubscriptions_result {
  success?: SubscriptionInfo[]
}

class DecodedPubSub_listSubscriptions_result implements PubSub_listSubscriptions_result {
  success: SubscriptionInfo[] | undefined = undefined
}

export function readPubSub_listSubscriptions_result(r: ProtocolReader): PubSub_listSubscriptions_result {
  const v = new DecodedPubSub_listSubscriptions_result()
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    switch (r.fieldId) {
      case 0:
        if (t === T_LIST) {
          const n0 = r.readListBegin(T_STRUCT)
          const x0: SubscriptionInfo[] = []
          for (let i0 = 0; i0 < n0; i0++) {
            const e0 = readSubscriptionInfo(r)
            x0.push(e0)
          }
          r.readListEnd()
          v.success = x0
          continue
        }
        break
    }
    r.skip(t)
  }
  r.readStructEnd()
  return v
}

export function writePubSub_listSubscriptions_result(w: ProtocolWriter, v: PubSub_listSubscriptions_result): void {
  w.writeStructBegin()
  if (v.success !== undefined && v.success !== null) {
    w.writeFieldBegin(T_LIST, 0)
    w.writeListBegin(T_STRUCT, v.success.length)
    for (const e0 of v.success) {
      writeSubscriptionInfo(w, e0)
    }
    w.writeListEnd()
  }
  w.writeFieldStop()
  w.writeStructEnd()
}

/**
 * Topics: publish to a name, subscribe with a pattern. Multiplexed on the daemon's socket as "PubSub".
 * Topic names are dot-separated segments; in patterns "*" matches one segment and ">" (last) the rest.
 */
export const PubSub = {
  name: 'PubSub',
  methods: {
    publish: {
      name: 'publish',
      oneway: false,
      exceptions: { error: 'BusException' } as Record<string, string>,
      readArgs: readPubSub_publish_args,
      writeArgs: writePubSub_publish_args,
      readResult: readPubSub_publish_result,
      writeResult: writePubSub_publish_result,
    } as MethodCodec<PubSub_publish_args, PubSub_publish_result>,
    subscribe: {
      name: 'subscribe',
      oneway: false,
      exceptions: { error: 'BusException' } as Record<string, string>,
      readArgs: readPubSub_subscribe_args,
      writeArgs: writePubSub_subscribe_args,
      readResult: readPubSub_subscribe_result,
      writeResult: writePubSub_subscribe_result,
    } as MethodCodec<PubSub_subscribe_args, PubSub_subscribe_result>,
    poll: {
      name: 'poll',
      oneway: false,
      exceptions: { error: 'BusException' } as Record<string, string>,
      readArgs: readPubSub_poll_args,
      writeArgs: writePubSub_poll_args,
      readResult: readPubSub_poll_result,
      writeResult: writePubSub_poll_result,
    } as MethodCodec<PubSub_poll_args, PubSub_poll_result>,
    unsubscribe: {
      name: 'unsubscribe',
      oneway: false,
      exceptions: { error: 'BusException' } as Record<string, string>,
      readArgs: readPubSub_unsubscribe_args,
      writeArgs: writePubSub_unsubscribe_args,
      readResult: readPubSub_unsubscribe_result,
      writeResult: writePubSub_unsubscribe_result,
    } as MethodCodec<PubSub_unsubscribe_args, PubSub_unsubscribe_result>,
    listSubscriptions: {
      name: 'listSubscriptions',
      oneway: false,
      exceptions: {  } as Record<string, string>,
      readArgs: readPubSub_listSubscriptions_args,
      writeArgs: writePubSub_listSubscriptions_args,
      readResult: readPubSub_listSubscriptions_result,
      writeResult: writePubSub_listSubscriptions_result,
    } as MethodCodec<PubSub_listSubscriptions_args, PubSub_listSubscriptions_result>,
  },
} as const
