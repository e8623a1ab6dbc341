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
}

/**
 * The one exception every thriftbus method declares.
 */
export interface BusException {
  code: number
  message: string
}

export function readBusException(r: ProtocolReader): BusException {
  const v: BusException = { code: 0, message: '' }
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
}

export function readMessage(r: ProtocolReader): Message {
  const v: Message = { sender: '', recipient: '', content: '', id: undefined, sentAtMs: undefined, body: undefined, headers: undefined }
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
            x0[k0] = r.readString()
          }
          r.readMapEnd()
          v.headers = x0
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
}

export function readMailboxInfo(r: ProtocolReader): MailboxInfo {
  const v: MailboxInfo = { name: '', depth: 0, bytes: 0, waiters: 0 }
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
}

export function readDaemonStatus(r: ProtocolReader): DaemonStatus {
  const v: DaemonStatus = { pid: 0, version: '', endpoint: '', startedAtMs: 0, uptimeMs: 0, connections: 0, mailboxes: [], stateDir: '' }
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
  w.writeFieldStop()
  w.writeStructEnd()
}

export interface MessageService_sendMessage_args {
  message: Message
}

export function readMessageService_sendMessage_args(r: ProtocolReader): MessageService_sendMessage_args {
  const v: MessageService_sendMessage_args = { message: undefined as unknown as Message }
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

export function readMessageService_sendMessage_result(r: ProtocolReader): MessageService_sendMessage_result {
  const v: MessageService_sendMessage_result = { success: undefined, error: undefined }
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

export interface MessageService_receiveMessage_args {
  recipient: string
  timeoutMs?: number
}

export function readMessageService_receiveMessage_args(r: ProtocolReader): MessageService_receiveMessage_args {
  const v: MessageService_receiveMessage_args = { recipient: '', timeoutMs: 0 }
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

export function readMessageService_receiveMessage_result(r: ProtocolReader): MessageService_receiveMessage_result {
  const v: MessageService_receiveMessage_result = { success: undefined, error: undefined }
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

export function readMessageService_receiveMessages_args(r: ProtocolReader): MessageService_receiveMessages_args {
  const v: MessageService_receiveMessages_args = { recipient: '', max: 0, timeoutMs: 0 }
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

export function readMessageService_receiveMessages_result(r: ProtocolReader): MessageService_receiveMessages_result {
  const v: MessageService_receiveMessages_result = { success: undefined, error: undefined }
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

export interface MessageService_returnMessages_args {
  messages: Message[]
}

export function readMessageService_returnMessages_args(r: ProtocolReader): MessageService_returnMessages_args {
  const v: MessageService_returnMessages_args = { messages: [] }
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

export function readMessageService_returnMessages_result(r: ProtocolReader): MessageService_returnMessages_result {
  const v: MessageService_returnMessages_result = { success: undefined, error: undefined }
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

export function readMessageService_cancel_args(r: ProtocolReader): MessageService_cancel_args {
  const v: MessageService_cancel_args = { seqid: 0 }
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

export function readMessageService_cancel_result(r: ProtocolReader): MessageService_cancel_result {
  const v: MessageService_cancel_result = { success: undefined }
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

export function readMessageService_listMailboxes_args(r: ProtocolReader): MessageService_listMailboxes_args {
  const v: MessageService_listMailboxes_args = {  }
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

export function readMessageService_listMailboxes_result(r: ProtocolReader): MessageService_listMailboxes_result {
  const v: MessageService_listMailboxes_result = { success: undefined }
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

export function readMessageService_mailboxStats_args(r: ProtocolReader): MessageService_mailboxStats_args {
  const v: MessageService_mailboxStats_args = { name: '' }
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

export function readMessageService_mailboxStats_result(r: ProtocolReader): MessageService_mailboxStats_result {
  const v: MessageService_mailboxStats_result = { success: undefined, error: undefined }
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

export function readMessageService_purgeMailbox_args(r: ProtocolReader): MessageService_purgeMailbox_args {
  const v: MessageService_purgeMailbox_args = { name: '' }
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

export function readMessageService_purgeMailbox_result(r: ProtocolReader): MessageService_purgeMailbox_result {
  const v: MessageService_purgeMailbox_result = { success: undefined, error: undefined }
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

export interface MessageService_ping_args {
}

export function readMessageService_ping_args(r: ProtocolReader): MessageService_ping_args {
  const v: MessageService_ping_args = {  }
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

export function readMessageService_ping_result(r: ProtocolReader): MessageService_ping_result {
  const v: MessageService_ping_result = { success: undefined }
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

export interface MessageService_status_args {
}

export function readMessageService_status_args(r: ProtocolReader): MessageService_status_args {
  const v: MessageService_status_args = {  }
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

export function readMessageService_status_result(r: ProtocolReader): MessageService_status_result {
  const v: MessageService_status_result = { success: undefined }
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

export function readMessageService_shutdown_args(r: ProtocolReader): MessageService_shutdown_args {
  const v: MessageService_shutdown_args = {  }
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

export function readMessageService_shutdown_result(r: ProtocolReader): MessageService_shutdown_result {
  const v: MessageService_shutdown_result = {  }
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
    ping: {
      name: 'ping',
      oneway: false,
      exceptions: {  } as Record<string, string>,
      readArgs: readMessageService_ping_args,
      writeArgs: writeMessageService_ping_args,
      readResult: readMessageService_ping_result,
      writeResult: writeMessageService_ping_result,
    } as MethodCodec<MessageService_ping_args, MessageService_ping_result>,
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
