/** A bare socket that speaks Thrift through the project's own writers, for tests that need to misbehave. */
import { connect, type Socket } from 'node:net'
import { MESSAGE_CALL, type MethodCodec } from '../../src/gen/thriftbus.js'
import { createWriter, FrameReader, type WireFormat } from '../../src/wire/frame-reader.js'
import { readApplicationException } from '../../src/wire/application-exception.js'
import { MESSAGE_EXCEPTION } from '../../src/gen/thriftbus.js'

export interface RawReply {
  name: string
  type: number
  seqid: number
  body: any
}

export class RawClient {
  readonly socket: Socket
  readonly format: WireFormat
  readonly replies: RawReply[] = []
  readonly closed: Promise<void>
  #reader: FrameReader
  #codecs = new Map<number, MethodCodec<any, any>>()
  #waiters: (() => void)[] = []

  static async open(path: string, format: WireFormat = { protocol: 'binary', transport: 'buffered' }): Promise<RawClient> {
    const socket = connect(path)
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new RawClient(socket, format)
  }

  private constructor(socket: Socket, format: WireFormat) {
    this.socket = socket
    this.format = format
    this.#reader = new FrameReader(64 * 1024 * 1024, format)
    socket.on('error', () => {})
    socket.on('data', (chunk) => {
      this.#reader.push(chunk)
      for (;;) {
        const msg = this.#reader.next((h, r) => (h.type === MESSAGE_EXCEPTION ? readApplicationException(r) : this.#codecs.get(h.seqid)!.readResult(r)))
        if (!msg) break
        this.replies.push(msg)
      }
      for (const w of this.#waiters.splice(0)) w()
    })
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
  }

  /** Encodes and writes one call. */
  call<A>(codec: MethodCodec<A, any>, args: A, seqid: number, name = codec.name): void {
    const w = createWriter(this.format, 64 * 1024 * 1024)
    w.beginMessage(name, MESSAGE_CALL, seqid)
    codec.writeArgs(w, args)
    w.endMessage()
    this.#codecs.set(seqid, codec)
    this.socket.write(w.take()!)
  }

  /** Resolves once n replies have arrived. */
  async waitForReplies(n: number): Promise<RawReply[]> {
    while (this.replies.length < n) await new Promise<void>((resolve) => this.#waiters.push(resolve))
    return this.replies
  }

  destroy(): void {
    this.socket.destroy()
  }
}
