/**
 * One client connection: bytes in, calls dispatched, replies out.
 *
 * - Every call found in one chunk of input is handled before the replies go out. The replies it made, on this
 *   connection and on those whose long-polls it woke, are then written at once, one socket.write a connection;
 *   replies made later in the turn (in microtasks) go out in one more pass.
 * - When the socket's write buffer is full, reading stops until it drains: a client that never reads its
 *   replies cannot make the daemon buffer without bound.
 * - Calls that wait (long-polls) are parked by seqid, so the client can cancel them, and so that closing the
 *   connection releases them at once: a receiver that has gone never takes a message.
 * - Malformed input closes this connection only, after a TApplicationException when the framing still allows.
 * - Calls to a service that is not the daemon's own ("UserService:getUser") are routed: their argument bytes
 *   are captured without decoding and the Router forwards them to a provider connection; a provider's REPLY or
 *   EXCEPTION messages go back the same way. A session is both a possible caller and a possible provider.
 */
import { Socket } from 'node:net'
import { BusError, isBusError } from '../errors.js'
import {
  ErrorCode, MESSAGE_CALL, MESSAGE_EXCEPTION, MESSAGE_ONEWAY, MESSAGE_REPLY, type Message, type MethodCodec,
} from '../gen/thriftbus.js'
import { splitServiceName, type CallerLink, type ProviderLink, type Router } from '../broker/router.js'
import { captureStruct, writeStructBytes, type StructBytes } from '../wire/struct-copy.js'
import { ApplicationErrorType, writeApplicationException } from '../wire/application-exception.js'
import { FrameReader, createWriter } from '../wire/frame-reader.js'
import { readInto } from '../wire/socket-reads.js'
import { REPLY_SLACK_BYTES } from '../wire/limits.js'
import { ProtocolError } from '../wire/protocol-error.js'
import type { MessageHeader, WireReader } from '../wire/reader.js'
import type { WireWriter } from '../wire/writer.js'
import type { Parked } from '../broker/broker.js'
import { soon } from '../soon.js'
import type { Logger } from './log.js'

/**
 * Socket#write, called as socketWrite.call(socket, ...). Node's stream prototypes keep their properties in
 * dictionary mode, so `socket.write` is a full property lookup (a LoadIC call) on every flush.
 */
const socketWrite = Socket.prototype.write

/** A connection being closed by the daemon gets this long to take its last replies. */
const CLOSE_GRACE_MS = 2_000

/** Binds one Thrift method to the code that serves it. */
export interface MethodBinding {
  readonly codec: MethodCodec<any, any>
  /** Serves a call: answers it through call.reply/call.fail now or later, or throws a BusError. */
  handle(call: Call, args: any): void
}

/** What a session needs from its daemon. */
export interface SessionHost {
  readonly methods: ReadonlyMap<string, MethodBinding>
  readonly maxMessageBytes: number
  readonly maxOutstandingCalls: number
  readonly log: Logger
  readonly shuttingDown: boolean
  sessionClosed(session: Session): void
  /** Routes calls to hosted services. */
  readonly router: Router<StructBytes>
  /** The daemon's own service names: calls to them are never routed. */
  readonly builtinServices: ReadonlySet<string>
  /** The connection is ending: the router forgets its calls and its registrations. */
  leftRouter(session: Session): void
  /**
   * Messages handed to this connection that could not be written to it: they go back to the subscription
   * whose id is from, else to their mailboxes.
   */
  returnUndelivered(messages: Message[], from: number | undefined): void
  /** Commits the store's pending changes before replies go out; false: the daemon is stopping, write nothing. */
  commitStore(): boolean
  /**
   * True when the store holds uncommitted changes. Then a session's replies wait for the group commit at the
   * end of the event loop's turn (whenCommitted), which every connection served in the turn shares.
   */
  readonly storePending: boolean
  /** Calls session.flushCommitted() once the turn's changes are committed. */
  whenCommitted(session: Session): void
}

/** A call being served. Answer it exactly once; later answers are ignored. */
export class Call {
  answered = false
  /** Set while the call waits in the broker (a long-poll). */
  parked: Parked | undefined
  /** The session's list of parked calls, oldest first (a list, not a Set: no table grows and shrinks per call). */
  prevParked: Call | undefined
  nextParked: Call | undefined
  /** What deliver() handed out, until the reply has been written: returned if it cannot be. */
  handedOut: Message[] | undefined
  /** The subscription they came from; undefined: mailboxes. */
  handedOutFrom: number | undefined

  constructor(
    readonly session: Session,
    readonly name: string,
    readonly seqid: number,
    readonly binding: MethodBinding,
    readonly oneway: boolean,
  ) {}

  /** False once the client is gone: nothing sent to this call would arrive. */
  get active(): boolean {
    return this.session.active
  }

  reply(result: object): void {
    if (this.answered) return
    this.answered = true
    this.session.unpark(this)
    if (!this.oneway) this.session.writeReply(this, result)
  }

  /**
   * Replies with messages taken from their mailboxes, or from the subscription whose id is from. If they cannot
   * be written to the client (it has gone, though the daemon has not read its end-of-stream yet), they are put
   * back at the head of their mailboxes or subscription.
   */
  deliver(result: object, messages: Message[], from?: number): void {
    if (this.answered || this.oneway) {
      // Nobody takes a oneway call's reply: what it took goes back.
      this.answered = true
      this.session.unpark(this)
      if (messages.length > 0) this.session.host.returnUndelivered(messages, from)
      return
    }
    this.answered = true
    this.session.unpark(this)
    this.handedOut = messages
    this.handedOutFrom = from
    this.session.writeReply(this, result)
  }

  /** Answers with the method's declared BusException, or a TApplicationException for anything unexpected. */
  fail(err: unknown): void {
    if (this.answered) return
    if (isBusError(err) && 'error' in this.binding.codec.exceptions) {
      this.reply({ error: { code: ErrorCode[err.code], message: err.message } })
      return
    }
    this.answered = true
    this.session.unpark(this)
    if (isBusError(err)) {
      this.session.writeApplicationError(this.name, this.seqid, ApplicationErrorType.UNKNOWN, err.message)
    } else {
      this.session.host.log('error', `${this.name} failed: ${(err as Error)?.stack ?? String(err)}`)
      this.session.writeApplicationError(this.name, this.seqid, ApplicationErrorType.INTERNAL_ERROR, 'internal error in the thriftbus daemon; its log has the details')
    }
  }

  /**
   * Parks the call (a long-poll) so it can be cancelled, and released when the connection goes. Throws
   * LIMIT_EXCEEDED (after releasing the wait) when the connection already has its limit of waiting calls.
   */
  park(parked: Parked): void {
    const limit = this.session.host.maxOutstandingCalls
    if (this.session.parkedCount >= limit) {
      parked.cancel()
      throw new BusError('LIMIT_EXCEEDED', `this connection already has ${limit} calls waiting, the limit; wait for some to finish or cancel them`)
    }
    this.parked = parked
    this.session.park(this)
  }
}

let nextSessionId = 1

export class Session implements CallerLink<StructBytes>, ProviderLink<StructBytes> {
  readonly id = nextSessionId++
  readonly host: SessionHost
  readonly #socket: Socket
  readonly #reader: FrameReader
  #writer: WireWriter | undefined
  /**
   * Calls waiting in the broker, oldest first, linked through the calls (Call.nextParked). Not keyed by seqid:
   * a client may reuse one (Python's always sends 0).
   */
  #parkedFirst: Call | undefined
  #parkedLast: Call | undefined
  #parkedCount = 0
  #closed = false
  /** The client has finished sending (or we gave up on it): waiters must not take messages any more. */
  #ended = false
  #flushQueued = false
  #readPaused = false
  #killTimer: NodeJS.Timeout | undefined
  /** The calls whose replies, written since the last flush, hand out messages: returned if the write fails. */
  #delivering: Call[] = []
  /** Set by the decoder for dispatch: the binding of the message just read. */
  #binding: MethodBinding | undefined

  constructor(socket: Socket, host: SessionHost) {
    this.#socket = socket
    this.host = host
    this.#reader = new FrameReader(host.maxMessageBytes)
    readInto(socket, this)
    socket.on('drain', this.#onDrain)
    socket.on('end', this.#onEnd)
    socket.on('error', this.#onError)
    socket.on('close', this.#onClose)
  }

  get active(): boolean {
    return !this.#ended && !this.#closed
  }

  /** How many calls wait (long-polls). */
  get parkedCount(): number {
    return this.#parkedCount
  }

  /** Cancels this connection's (oldest) parked call with seqid: it is answered with CANCELLED. */
  cancel(seqid: number): boolean {
    let call = this.#parkedFirst
    while (call && call.seqid !== seqid) call = call.nextParked
    if (!call) return false
    call.parked?.cancel()
    call.fail(new BusError('CANCELLED', 'the receive was cancelled by its caller'))
    return true
  }

  park(call: Call): void {
    call.prevParked = this.#parkedLast
    call.nextParked = undefined
    if (this.#parkedLast) this.#parkedLast.nextParked = call
    else this.#parkedFirst = call
    this.#parkedLast = call
    this.#parkedCount++
  }

  unpark(call: Call): void {
    if (!call.parked) return
    const { prevParked, nextParked } = call
    if (prevParked) prevParked.nextParked = nextParked
    else if (this.#parkedFirst === call) this.#parkedFirst = nextParked
    else return // not in the list (any more)
    if (nextParked) nextParked.prevParked = prevParked
    else this.#parkedLast = prevParked
    call.prevParked = call.nextParked = undefined
    this.#parkedCount--
  }

  /** The parked calls, oldest first, as an array (to walk while they unpark themselves). */
  #parkedCalls(): Call[] {
    const calls: Call[] = []
    for (let call = this.#parkedFirst; call; call = call.nextParked) calls.push(call)
    return calls
  }

  /** Fails every parked call with SHUTTING_DOWN, then closes once the replies are written. */
  shutdown(): void {
    for (const call of this.#parkedCalls()) {
      call.parked?.cancel()
      call.fail(new BusError('SHUTTING_DOWN', 'the thriftbus daemon is shutting down; reconnect to start or reach a new one'))
    }
    this.#flushNow()
    this.#ended = true
    this.#closeSoon()
  }

  /** Closes the connection at once. */
  destroy(): void {
    this.#socket.destroy()
  }

  /** Writes a call's reply; messages it hands out (call.handedOut) go back if it cannot be written. */
  writeReply(call: Call, result: object): void {
    if (this.#closed || !this.#writer) {
      returnHandedOut(call)
      return
    }
    const w = this.#writer
    try {
      w.beginMessage(call.name, MESSAGE_REPLY, call.seqid)
      call.binding.codec.writeResult(w, result)
      w.endMessage()
    } catch (err) {
      w.abortMessage()
      this.host.log('error', `cannot encode the reply to ${call.name}: ${(err as Error).message}`)
      this.writeApplicationError(call.name, call.seqid, ApplicationErrorType.INTERNAL_ERROR, 'the daemon could not encode its reply; its log has the details')
      returnHandedOut(call)
      return
    }
    if (call.handedOut) this.#delivering.push(call)
    this.#queueFlush()
  }

  get label(): string {
    return `connection ${this.id}`
  }

  /** ProviderLink: writes a routed call to this provider connection. */
  relayCall(method: string, type: number, seqid: number, body: StructBytes): void {
    if (!this.active || !this.#writer) throw new BusError('PROVIDER_FAILED', `the provider (${this.label}) is disconnecting; retry`)
    this.#writeStruct(method, type, seqid, body)
  }

  /** CallerLink: writes a provider's reply to this caller. */
  relayReply(method: string, type: number, seqid: number, body: StructBytes): void {
    if (this.#closed || !this.#writer) return
    try {
      this.#writeStruct(method, type, seqid, body)
    } catch (err) {
      const code = isBusError(err) ? err.code : 'INTERNAL'
      this.writeApplicationError(method, seqid, ApplicationErrorType.UNKNOWN, `${code}: the provider's reply could not be relayed: ${(err as Error).message}`)
    }
  }

  /** CallerLink: ends a routed call with an error (its text starts with the code's name). */
  failCall(method: string, seqid: number, err: BusError): void {
    this.writeApplicationError(method, seqid, ApplicationErrorType.UNKNOWN, err.message)
  }

  #writeStruct(name: string, type: number, seqid: number, body: StructBytes): void {
    const w = this.#writer!
    try {
      w.beginMessage(name, type, seqid)
      writeStructBytes(w, body)
      w.endMessage()
    } catch (err) {
      w.abortMessage()
      if (err instanceof ProtocolError) throw new BusError(err.tooLarge ? 'TOO_LARGE' : 'PROTOCOL_ERROR', err.message, { cause: err })
      throw err
    }
    this.#queueFlush()
  }

  /** The service a call is routed to, when its name is "Service:method" and Service is not the daemon's own. */
  #routed(name: string): { service: string; method: string } | undefined {
    const s = splitServiceName(name)
    return s && !this.host.builtinServices.has(s.service) ? s : undefined
  }

  writeApplicationError(name: string, seqid: number, type: number, message: string): void {
    if (this.#closed || !this.#writer) return
    const w = this.#writer
    w.beginMessage(name, MESSAGE_EXCEPTION, seqid)
    writeApplicationException(w, { message, type })
    w.endMessage()
    this.#queueFlush()
  }

  readonly #decode = (header: MessageHeader, r: WireReader): unknown => {
    const binding = this.host.methods.get(header.name)
    this.#binding = binding
    const isCall = header.type === MESSAGE_CALL || header.type === MESSAGE_ONEWAY
    if (binding && isCall) return binding.codec.readArgs(r)
    // Routed calls and providers' replies travel as captured bytes, never decoded.
    if (isCall ? this.#routed(header.name) !== undefined : this.host.router.isProvider(this)) return captureStruct(r)
    r.skipStruct()
    return undefined
  }

  /** ReadSink: serves the calls in buf[0, length), which the socket may reuse for its next read. */
  received(buf: Buffer, length: number): void {
    if (!this.active) return
    this.#reader.push(buf, length)
    this.#serveBuffered()
    this.#reader.release()
  }

  #serveBuffered(): void {
    try {
      for (;;) {
        const msg = this.#reader.next(this.#decode)
        if (!msg) break
        this.#ensureWriter()
        this.#dispatch(msg.name, msg.type, msg.seqid, msg.body)
        if (!this.active || this.#readPaused) break
      }
    } catch (err) {
      this.#protocolFailure(err)
    }
    // Queued behind the flushes of the connections this input woke (a message handed to a waiting receiver
    // is written before the sender's acknowledgement), as the input's own replies are; and written now rather
    // than in the microtask, which would wait for Node's return from this data callback (a few µs on every
    // round trip). Replies that this turn's microtasks make (a receiver's batch filled by several sends, a
    // receiveAny) still go out in the microtask.
    this.#queueFlush()
    Session.#flushAll()
  }

  #dispatch(name: string, type: number, seqid: number, args: unknown): void {
    const binding = this.#binding
    if ((type === MESSAGE_REPLY || type === MESSAGE_EXCEPTION) && args !== undefined) {
      this.host.router.providerReply(this, seqid, type, args as StructBytes) // false: a late reply, dropped
      return
    }
    if (type !== MESSAGE_CALL && type !== MESSAGE_ONEWAY) {
      this.writeApplicationError(name, seqid, ApplicationErrorType.INVALID_MESSAGE_TYPE, `message type ${type} is not a call; send calls (type 1) or oneway calls (type 4)`)
      return
    }
    if (!binding) {
      const bare = name.slice(name.indexOf(':') + 1)
      const routed = this.#routed(name)
      if (routed) {
        if (this.host.shuttingDown) {
          if (type === MESSAGE_CALL) this.writeApplicationError(bare, seqid, ApplicationErrorType.UNKNOWN, 'SHUTTING_DOWN: the thriftbus daemon is shutting down; reconnect to start or reach a new one')
          return
        }
        this.host.router.forward(this, routed.service, routed.method, type, seqid, args as StructBytes)
        return
      }
      if (type === MESSAGE_CALL) {
        this.writeApplicationError(bare, seqid, ApplicationErrorType.UNKNOWN_METHOD, this.#unknownMethodText(name))
      }
      return
    }
    const call = new Call(this, binding.codec.name, seqid, binding, type === MESSAGE_ONEWAY)
    if (this.host.shuttingDown) {
      call.fail(new BusError('SHUTTING_DOWN', 'the thriftbus daemon is shutting down; reconnect to start or reach a new one'))
      return
    }
    try {
      binding.handle(call, args)
    } catch (err) {
      call.fail(err)
    }
  }

  /** Creates the writer once the client's format is known: replies use the client's framing and protocol. */
  #ensureWriter(): void {
    if (!this.#writer && this.#reader.format) {
      this.#writer = createWriter(this.#reader.format, this.host.maxMessageBytes + REPLY_SLACK_BYTES)
    }
  }

  #protocolFailure(err: unknown): void {
    const reason = (err as Error).message
    this.host.log('error', `connection ${this.id}: ${reason}; closing it`)
    if (err instanceof ProtocolError && err.seqid !== undefined) {
      this.#ensureWriter()
      const bare = (err.method ?? '').slice((err.method ?? '').indexOf(':') + 1)
      this.writeApplicationError(bare, err.seqid, ApplicationErrorType.PROTOCOL_ERROR, `${reason}; the daemon closes this connection`)
    }
    this.#ended = true
    this.#releaseParked()
    this.host.leftRouter(this)
    this.#flushNow()
    this.#closeSoon()
  }

  /** Ends the connection once the replies are out; destroys it if the client does not take them promptly. */
  #closeSoon(): void {
    this.#socket.end(() => this.#socket.destroy())
    this.#killTimer ??= setTimeout(() => this.#socket.destroy(), CLOSE_GRACE_MS).unref()
  }

  /**
   * The sessions with replies to write, in the order they asked (a message handed to a waiting receiver goes
   * out before its sender's acknowledgement). #flushAll writes them all: when an input chunk has been served,
   * and in a microtask for the replies made outside it.
   */
  static #toFlush: Session[] = []

  static readonly #flushAll = (): void => {
    const sessions = Session.#toFlush
    Session.#toFlush = []
    for (const session of sessions) session.#flush()
  }

  #queueFlush(): void {
    if (this.#flushQueued) return
    this.#flushQueued = true
    if (Session.#toFlush.push(this) === 1) soon(Session.#flushAll)
  }

  /**
   * Writes the replies gathered so far. A reply may confirm a change to the store (a send accepted, a message
   * handed out), so while changes are pending the replies wait for the turn's group commit: a message sent
   * and taken in the same turn is then never written to the store at all.
   */
  #flush(): void {
    this.#flushQueued = false
    if (this.#writer === undefined || this.#writer.pending === 0) return
    if (this.host.storePending) {
      this.host.whenCommitted(this)
      return
    }
    this.#write()
  }

  /** The host committed the turn's changes: the replies that waited for it go out. */
  flushCommitted(): void {
    if (this.#writer !== undefined && this.#writer.pending > 0) this.#flushNow()
  }

  /** Commits now and writes: for replies that cannot wait for the end of the turn (shutdown, failures). */
  #flushNow(): void {
    this.#flushQueued = false
    if (this.#writer === undefined || this.#writer.pending === 0) return
    if (!this.host.commitStore()) return
    this.#write()
  }

  #write(): void {
    const out = this.#writer!.take()
    if (!out) return
    const delivering = this.#delivering
    if (delivering.length > 0) this.#delivering = []
    if (this.#closed) {
      for (const call of delivering) returnHandedOut(call)
      return
    }
    const written = delivering.length === 0
      ? socketWrite.call(this.#socket, out)
      : socketWrite.call(this.#socket, out, undefined, (err?: Error | null) => {
        if (err) for (const call of delivering) returnHandedOut(call)
      })
    if (!written && !this.#readPaused) {
      this.#readPaused = true
      this.#socket.pause()
    }
  }

  readonly #onDrain = (): void => {
    if (!this.#readPaused) return
    this.#readPaused = false
    this.#socket.resume()
    // Calls that arrived before the pause may still be buffered: serve them now.
    if (this.active && this.#reader.buffered > 0) this.#serveBuffered()
  }

  readonly #onEnd = (): void => {
    this.#ended = true
    this.#releaseParked()
    this.host.leftRouter(this)
  }

  readonly #onError = (err: NodeJS.ErrnoException): void => {
    if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') this.host.log('error', `connection ${this.id}: ${err.message}`)
  }

  readonly #onClose = (): void => {
    this.#closed = true
    if (this.#killTimer) clearTimeout(this.#killTimer)
    this.#releaseParked()
    this.host.leftRouter(this)
    this.host.sessionClosed(this)
  }

  /** Only for calls that are not routed: unknown bare names, and unknown methods of the daemon's own services. */
  #unknownMethodText(name: string): string {
    const colon = name.indexOf(':')
    const service = colon >= 0 ? name.slice(0, colon) : undefined
    const methods = new Set<string>()
    for (const [key, binding] of this.host.methods) {
      if (service === undefined || key.startsWith(`${service}:`)) methods.add(binding.codec.name)
    }
    const method = JSON.stringify(name.slice(colon + 1))
    return `unknown method ${method}${service ? ` in ${service}` : ''}; ${service ?? 'the daemon'} serves ${[...methods].join(', ')}`
  }

  /** Takes every parked call out of the broker: the client cannot receive what they would take. */
  #releaseParked(): void {
    for (const call of this.#parkedCalls()) {
      call.parked?.cancel()
      call.answered = true
      call.prevParked = call.nextParked = undefined
    }
    this.#parkedFirst = this.#parkedLast = undefined
    this.#parkedCount = 0
  }
}

/** Gives what a call's reply handed out back to where it came from: the reply was not written. */
function returnHandedOut(call: Call): void {
  const messages = call.handedOut
  if (messages === undefined) return
  call.handedOut = undefined
  if (messages.length > 0) call.session.host.returnUndelivered(messages, call.handedOutFrom)
}
