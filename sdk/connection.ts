/**
 * One socket to the daemon: calls are pipelined (any number outstanding, replies matched by seqid), calls
 * made in the same tick go out in one socket.write, and replies are decoded with the same reader the daemon
 * uses. It speaks framed binary. It knows nothing of reconnecting: client.ts does that.
 */
import type { Socket } from 'node:net'
import { BusError, type BusErrorCode } from '../src/errors.js'
import { ErrorCode, MESSAGE_CALL, MESSAGE_EXCEPTION, type MethodCodec } from '../src/gen/thriftbus.js'
import { ApplicationErrorType, readApplicationException, type ApplicationException } from '../src/wire/application-exception.js'
import { FrameReader, createWriter } from '../src/wire/frame-reader.js'
import { REPLY_SLACK_BYTES } from '../src/wire/limits.js'
import type { MessageHeader, WireReader } from '../src/wire/reader.js'
import type { WireWriter } from '../src/wire/writer.js'

const FORMAT = { protocol: 'binary', transport: 'framed' } as const

export interface PendingCall {
  readonly codec: MethodCodec<any, any>
  /** Called with the decoded result struct ({ success } or { error }) or a transport-level error. */
  settle(result: any, error: BusError | undefined): void
}

export class Connection {
  readonly #socket: Socket
  readonly #writer: WireWriter
  readonly #reader: FrameReader
  readonly #pending = new Map<number, PendingCall>()
  #seqid = 0
  #flushQueued = false
  #closed = false
  readonly #onClose: (cause: Error | undefined) => void

  constructor(socket: Socket, maxMessageBytes: number, onClose: (cause: Error | undefined) => void) {
    this.#socket = socket
    this.#writer = createWriter(FORMAT, maxMessageBytes)
    this.#reader = new FrameReader(maxMessageBytes + REPLY_SLACK_BYTES, FORMAT)
    this.#onClose = onClose
    socket.setNoDelay(true)
    let cause: Error | undefined
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('error', (err) => (cause = err))
    socket.on('close', () => this.#closedBy(cause ?? new Error('the daemon closed the connection')))
  }

  get closed(): boolean {
    return this.#closed
  }

  get pendingCount(): number {
    return this.#pending.size
  }

  /** Sends a call; returns its seqid. Throws (synchronously) when the arguments cannot be encoded. */
  call<A>(codec: MethodCodec<A, any>, args: A, pending: PendingCall): number {
    if (this.#closed) throw new BusError('CLOSED', 'the connection to the daemon is closed')
    const seqid = (this.#seqid = (this.#seqid + 1) | 0)
    const w = this.#writer
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
    if (!this.#flushQueued) {
      // After this tick's promise callbacks (nextTick runs once the microtask queue is empty): the calls they
      // make, such as a receive pool's next shared call, leave in the same write.
      this.#flushQueued = true
      process.nextTick(this.#flush)
    }
    return seqid
  }

  /** The calls waiting for their replies. */
  pendingCalls(): IterableIterator<PendingCall> {
    return this.#pending.values()
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
    const out = this.#writer.take()
    if (out && !this.#closed) this.#socket.write(out)
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

  #onData(chunk: Buffer): void {
    this.#reader.push(chunk)
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
    }
  }

  #closedBy(cause: Error): void {
    if (this.#closed) return
    this.#closed = true
    const pending = [...this.#pending.values()]
    this.#pending.clear()
    const err = new BusError('CLOSED', `lost the connection to the daemon: ${cause.message}`, { cause })
    for (const p of pending) p.settle(undefined, err)
    this.#onClose(cause)
  }
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
