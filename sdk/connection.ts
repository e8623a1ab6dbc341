/**
 * One socket to the daemon: calls are pipelined (any number outstanding, replies matched by seqid), calls
 * made in the same tick go out in one socket.write, and replies are decoded with the same reader the daemon
 * uses. It speaks framed binary. It knows nothing of reconnecting: client.ts does that.
 *
 * Consecutive sendMessage calls of one tick travel as one sendMessages call (a *send batch*; a send alone in
 * its tick stays a plain sendMessage): one frame and one reply instead of one each, which roughly halves what
 * a send costs the sender and saves the daemon a call per message. Each send still settles on its own (the
 * reply lists the refused ones). A batch is closed by any other call, so the daemon sees every call in the
 * order it was made; messages with headers or of more than BATCH_MESSAGE_BYTES go alone. The first call on
 * a connection asks the daemon for its limits (a batch is one frame, and must fit under the daemon's message
 * limit, which may be lower than the SDK's); sends made before that answer go alone, and a daemon that does
 * not know the call (older than the SDK) gets no batches.
 */
import { Socket } from 'node:net'
import { nextTick } from 'node:process'
import { BusError, type BusErrorCode } from '../src/errors.js'
import {
  ErrorCode, MESSAGE_CALL, MESSAGE_EXCEPTION, MessageService, T_LIST, T_STRUCT, writeMessage,
  type DaemonLimits, type Message, type MethodCodec, type SendFailure,
} from '../src/gen/thriftbus.js'
import { ApplicationErrorType, readApplicationException, type ApplicationException } from '../src/wire/application-exception.js'
import { FrameReader, createWriter } from '../src/wire/frame-reader.js'
import { readInto } from '../src/wire/socket-reads.js'
import { REPLY_SLACK_BYTES } from '../src/wire/limits.js'
import type { MessageHeader, WireReader } from '../src/wire/reader.js'
import type { WireWriter } from '../src/wire/writer.js'
import { SeqidTable } from './seqid-table.js'

const FORMAT = { protocol: 'binary', transport: 'framed' } as const
/** Socket#write, called with .call: Node's stream prototypes are in dictionary mode, so `socket.write` is a full lookup. */
const socketWrite = Socket.prototype.write
const { sendMessage, sendMessages, limits: limitsCall } = MessageService.methods

/** Largest message (by an upper bound of its encoded size) that joins a send batch; larger ones go alone. */
export const BATCH_MESSAGE_BYTES = 16 * 1024
/** A send batch is closed once its frame holds this many bytes (or half the message limit, if less)... */
export const BATCH_BYTES = 256 * 1024
/** ...or this many messages (or the daemon's maxSendBatch, if less). */
export const BATCH_MESSAGES = 4096
/** Message size limit (the daemon's or the SDK's) under which the connection does not batch. */
const MIN_BATCHING_LIMIT = 4 * BATCH_MESSAGE_BYTES
/** Where the list count sits in a sendMessages frame: frame length, version, name, seqid, field header, type. */
const BATCH_COUNT_OFFSET = 4 + 4 + 4 + sendMessages.name.length + 4 + 3 + 1
const ACCEPTED = { success: true }

export interface PendingCall {
  readonly codec: MethodCodec<any, any>
  /** Called with the decoded result struct ({ success } or { error }) or a transport-level error. */
  settle(result: any, error: BusError | undefined): void
}

/** The sendMessage calls of one sendMessages call, in the list's order. */
class SendBatch implements PendingCall {
  readonly codec = sendMessages
  readonly calls: PendingCall[] = []

  settle(result: { success?: SendFailure[]; error?: unknown } | undefined, error: BusError | undefined): void {
    const { calls } = this
    if (error || result?.error) {
      for (const c of calls) c.settle(result, error)
      return
    }
    const failures = result?.success ?? []
    const refused = failures.length === 0 ? undefined : new Map(failures.map((f) => [f.index, f]))
    for (let i = 0; i < calls.length; i++) {
      const failure = refused?.get(i)
      calls[i]!.settle(failure ? { error: failure } : ACCEPTED, undefined)
    }
  }
}

export class Connection {
  readonly #socket: Socket
  readonly #writer: WireWriter
  readonly #reader: FrameReader
  readonly #pending = new SeqidTable<PendingCall>()
  #seqid = 0
  #flushQueued = false
  #closed = false
  readonly #onClose: (cause: Error | undefined) => void
  /** Whether sendMessage calls are batched: once the daemon has told its limits, and they allow it. */
  #batching = false
  #batchBytes = 0
  #batchMessages = 0
  readonly #maxMessageBytes: number
  /** The send batch being written: the last thing in the writer, until another call or the flush closes it. */
  #batch: SendBatch | undefined
  /**
   * The last call written, when it is a batchable sendMessage that has not been flushed: a send on its own
   * goes as a plain sendMessage, and a second send in the same tick turns it into a batch.
   */
  #lone: { seqid: number; mark: number; message: Message; pending: PendingCall } | undefined
  /** The connection's own limits call: not a call of the user's, so closing does not wait for it. */
  #limitsSeqid = 0
  /** Most mailboxes one receiveAny may name: 0 until the daemon has told its limits, or when it predates receiveAny. */
  maxAnyMailboxes = 0

  /**
   * onAnswered is called once the daemon has answered the connection's first call (limits), which tells a
   * serving daemon from a listener that is going away: a connection left in a dying daemon's backlog is reset
   * without an answer. onClose is called once, when the connection closes.
   */
  constructor(socket: Socket, maxMessageBytes: number, onClose: (cause: Error | undefined) => void, onAnswered?: () => void) {
    this.#socket = socket
    this.#writer = createWriter(FORMAT, maxMessageBytes)
    this.#reader = new FrameReader(maxMessageBytes + REPLY_SLACK_BYTES, FORMAT, { names: false })
    this.#onClose = onClose
    this.#maxMessageBytes = maxMessageBytes
    socket.setNoDelay(true)
    readInto(socket, this)
    let cause: Error | undefined
    socket.on('error', (err) => (cause = err))
    socket.on('close', () => this.#closedBy(cause ?? new Error('the daemon closed the connection')))
    this.#limitsSeqid = this.call(limitsCall, {}, {
      codec: limitsCall,
      settle: (result) => {
        // Closing settles it too (with CLOSED), after #closed is set: that is no answer.
        if (this.#closed) return
        this.#configure(result?.success)
        onAnswered?.()
      },
    })
  }

  /** The daemon's answer to the limits call (undefined when it failed, e.g. an older daemon): sets batching. */
  #configure(limits: DaemonLimits | undefined): void {
    if (!limits) return
    const max = Math.min(this.#maxMessageBytes, limits.maxMessageBytes)
    this.#batching = max >= MIN_BATCHING_LIMIT && limits.maxSendBatch > 1
    this.#batchBytes = Math.min(BATCH_BYTES, max / 2)
    this.#batchMessages = Math.min(BATCH_MESSAGES, limits.maxSendBatch)
    this.maxAnyMailboxes = limits.maxReceiveAnyMailboxes ?? 0
  }

  get closed(): boolean {
    return this.#closed
  }

  /** The calls waiting for their replies, the connection's own limits call aside. */
  get pendingCount(): number {
    return this.#pending.size - (this.#pending.has(this.#limitsSeqid) ? 1 : 0)
  }

  /** Sends a call; returns its seqid. Throws (synchronously) when the arguments cannot be encoded. */
  call<A>(codec: MethodCodec<A, any>, args: A, pending: PendingCall): number {
    if (this.#closed) throw new BusError('CLOSED', 'the connection to the daemon is closed')
    let lone: Message | undefined
    if (codec === sendMessage && this.#batching && batchable((args as { message: Message }).message)) {
      const message = (args as { message: Message }).message
      if (this.#batch) return this.#append(message, pending)
      if (this.#lone) return this.#startBatch(message, pending)
      lone = message
    }
    if (this.#batch) this.#closeBatch()
    this.#lone = undefined
    const seqid = (this.#seqid = (this.#seqid + 1) | 0)
    const w = this.#writer
    const mark = w.pending
    try {
      w.beginMessage(codec.name, MESSAGE_CALL, seqid)
      codec.writeArgs(w, args)
      w.endMessage()
    } catch (err) {
      w.abortMessage()
      const tooLarge = (err as { tooLarge?: boolean }).tooLarge === true
      throw new BusError(tooLarge ? 'TOO_LARGE' : 'INVALID_ARGUMENT', `cannot send ${codec.name}: ${(err as Error).message}`, { cause: err })
    }
    this.#pending.set(seqid, pending)
    if (lone) this.#lone = { seqid, mark, message: lone, pending }
    this.#queueFlush()
    return seqid
  }

  /**
   * A second send in the tick: takes the first one's sendMessage back out of the writer (it has not been sent)
   * and opens a batch with both, under the first one's seqid. Returns the seqid.
   */
  #startBatch(message: Message, pending: PendingCall): number {
    const lone = this.#lone!
    this.#lone = undefined
    const w = this.#writer
    w.rewind(lone.mark)
    const batch = (this.#batch = new SendBatch())
    w.beginMessage(sendMessages.name, MESSAGE_CALL, lone.seqid)
    w.writeStructBegin()
    w.writeFieldBegin(T_LIST, 1)
    w.writeListBegin(T_STRUCT, 0) // the count is patched in when the batch is closed
    writeMessage(w, lone.message) // it was encoded once already
    batch.calls.push(lone.pending)
    this.#pending.set(lone.seqid, batch)
    return this.#append(message, pending)
  }

  /** Adds a message to the open send batch; returns the batch's seqid. */
  #append(message: Message, pending: PendingCall): number {
    const w = this.#writer
    const batch = this.#batch!
    const mark = w.messageOffset
    try {
      writeMessage(w, message)
    } catch (err) {
      w.rollback(mark)
      throw new BusError('INVALID_ARGUMENT', `cannot send ${sendMessage.name}: ${(err as Error).message}`, { cause: err })
    }
    batch.calls.push(pending)
    const seqid = this.#seqid
    if (w.messageOffset >= this.#batchBytes || batch.calls.length >= this.#batchMessages) this.#closeBatch()
    return seqid
  }

  /** Writes the open send batch's count and end. */
  #closeBatch(): void {
    const w = this.#writer
    w.patchI32(BATCH_COUNT_OFFSET, this.#batch!.calls.length)
    w.writeListEnd()
    w.writeFieldStop()
    w.writeStructEnd()
    w.endMessage()
    this.#batch = undefined
  }

  #queueFlush(): void {
    if (!this.#flushQueued) {
      // After this tick's promise callbacks (nextTick runs once the microtask queue is empty): the calls they
      // make, such as a receive pool's next shared call, leave in the same write.
      this.#flushQueued = true
      nextTick(this.#flush)
    }
  }

  /** The calls waiting for their replies (the sends of a batch one by one). */
  *pendingCalls(): IterableIterator<PendingCall> {
    for (const p of this.#pending.inOrder(this.#seqid)) {
      if (p instanceof SendBatch) yield* p.calls
      else yield p
    }
  }

  /** Replaces the handler of a pending call (an abandoned receive whose reply must still be dealt with). */
  redirect(seqid: number, pending: PendingCall): void {
    if (this.#pending.has(seqid)) this.#pending.set(seqid, pending)
  }

  /** Closes the socket at once; pending calls fail with CLOSED. */
  destroy(cause?: Error): void {
    this.#socket.destroy()
    this.#closedBy(cause ?? new Error('the client closed the connection'))
  }

  readonly #flush = (): void => {
    this.#flushQueued = false
    this.#lone = undefined
    if (this.#batch && !this.#closed) this.#closeBatch()
    const out = this.#writer.take()
    if (out && !this.#closed) socketWrite.call(this.#socket, out)
  }

  readonly #decode = (header: MessageHeader, r: WireReader): unknown => {
    const pending = this.#pending.get(header.seqid)
    if (header.type === MESSAGE_EXCEPTION) return readApplicationException(r)
    if (!pending) {
      r.skipStruct()
      return undefined
    }
    return pending.codec.readResult(r)
  }

  /** ReadSink: reads buf[0, length), which the socket reuses for its next read (see socket-reads.ts). */
  received(buf: Buffer, length: number): void {
    this.#reader.push(buf, length)
    try {
      for (;;) {
        const msg = this.#reader.next(this.#decode)
        if (!msg) break
        const pending = this.#pending.get(msg.seqid)
        if (!pending) continue
        this.#pending.delete(msg.seqid)
        if (msg.type === MESSAGE_EXCEPTION) pending.settle(undefined, fromApplicationException(msg.body as ApplicationException))
        else pending.settle(msg.body, undefined)
      }
    } catch (err) {
      this.destroy(new Error(`the daemon sent a malformed reply: ${(err as Error).message}`))
      return
    }
    this.#reader.release()
  }

  #closedBy(cause: Error): void {
    if (this.#closed) return
    this.#closed = true
    this.#batch = undefined
    this.#lone = undefined
    const pending = this.#pending.inOrder(this.#seqid)
    this.#pending.clear()
    const err = new BusError('CLOSED', `lost the connection to the daemon: ${cause.message}`, { cause })
    for (const p of pending) p.settle(undefined, err)
    this.#onClose(cause)
  }
}

/**
 * Whether a message joins a send batch: one without headers (their size is not known without walking them)
 * whose encoded size is surely under BATCH_MESSAGE_BYTES (3 bytes per UTF-16 unit, as the writer reserves).
 */
function batchable(m: Message): boolean {
  if (!m || m.headers || typeof m.content !== 'string' || typeof m.sender !== 'string' || typeof m.recipient !== 'string') return false
  return 3 * (m.content.length + m.sender.length + m.recipient.length) + (m.body?.length ?? 0) <= BATCH_MESSAGE_BYTES
}

/**
 * A TApplicationException as a BusError. Errors of routed calls carry their code as the text's first word
 * ("NO_RESPONDERS: no provider ..."): that code is kept.
 */
function fromApplicationException(ex: ApplicationException): BusError {
  const m = /^([A-Z_]+): /.exec(ex.message)
  if (m && m[1]! in ErrorCode) return new BusError(m[1] as BusErrorCode, ex.message)
  const code = ex.type === ApplicationErrorType.INTERNAL_ERROR ? 'INTERNAL' : 'PROTOCOL_ERROR'
  return new BusError(code, `the daemon answered: ${ex.message}`)
}
