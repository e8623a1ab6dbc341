/**
 * Turns one connection's bytes into Thrift messages, whatever framing and protocol its client speaks.
 *
 * Detection, from the first bytes of the connection (no flag, no configuration):
 *   0x80 0x01 ...                 buffered (unframed) binary, strict    (TBufferedTransport + TBinaryProtocol)
 *   0x82 ...                      buffered compact                      (TBufferedTransport + TCompactProtocol)
 *   <i32 length> 0x80 0x01 ...    framed binary                         (TFramedTransport + TBinaryProtocol)
 *   <i32 length> 0x82 ...         framed compact
 *   <i32 n> <n name bytes> ...    buffered binary, non-strict (old clients with strictWrite off)
 * A frame length never starts with 0x80 or 0x82: that would be over 2 GiB, far over any limit.
 *
 * Bytes accumulate in one growable buffer with a read offset. A framed message is decoded once its whole
 * frame is there (its declared length is checked against the limit first). An unframed message has no
 * length, so it is decoded from what is there; if the decoder runs out of bytes it says so (underrun) and
 * the attempt is repeated when more arrive.
 */
import { BinaryReader } from './binary-reader.js'
import { BinaryWriter } from './binary-writer.js'
import { COMPACT_PROTOCOL_ID, CompactReader } from './compact-reader.js'
import { CompactWriter } from './compact-writer.js'
import { INITIAL_BUFFER_BYTES } from './limits.js'
import { ProtocolError } from './protocol-error.js'
import type { MessageHeader, WireReader } from './reader.js'
import type { WireWriter } from './writer.js'

export type ProtocolName = 'binary' | 'compact'
export type TransportName = 'framed' | 'buffered'

/** The framing and protocol of a connection. */
export interface WireFormat {
  protocol: ProtocolName
  transport: TransportName
}

/** Decodes a message body (the arguments or the result struct) with the reader positioned at its start. */
export type BodyDecoder<T> = (header: MessageHeader, r: WireReader) => T

export interface IncomingMessage<T> extends MessageHeader {
  body: T
}

const BINARY_VERSION_BYTE = 0x80
/** What #buf points at while nothing is buffered (shared: it is never written into). */
const NO_BYTES = Buffer.alloc(0)
const TLS_HANDSHAKE = 0x16

/** Creates the reader for a format. */
export function createReader(format: WireFormat, maxBytes: number): WireReader {
  return format.protocol === 'binary' ? new BinaryReader(maxBytes) : new CompactReader(maxBytes)
}

/** Creates the writer that answers in the same format. */
export function createWriter(format: WireFormat, maxBytes: number): WireWriter {
  const framed = format.transport === 'framed'
  return format.protocol === 'binary' ? new BinaryWriter(framed, maxBytes) : new CompactWriter(framed, maxBytes)
}

/**
 * Works out a connection's format from its first bytes. Returns undefined while too few bytes are there, and
 * throws a ProtocolError for bytes that are no Thrift at all (HTTP, TLS, THeader, garbage).
 */
export function detectFormat(buf: Buffer, start: number, end: number): WireFormat | undefined {
  if (end - start < 1) return undefined
  const b0 = buf[start]!
  if (b0 === BINARY_VERSION_BYTE) {
    if (end - start < 2) return undefined
    if (buf[start + 1] !== 0x01) throw notThrift(buf, start, end)
    return { protocol: 'binary', transport: 'buffered' }
  }
  if (b0 === COMPACT_PROTOCOL_ID) return { protocol: 'compact', transport: 'buffered' }
  if (b0 === TLS_HANDSHAKE) throw notThrift(buf, start, end) // A frame length starting 0x16 is 369 MB or more.
  if (end - start < 5) {
    // Only a frame length (or a non-strict name length) starts with a small first byte.
    if (b0 > 0x7f) throw notThrift(buf, start, end)
    return undefined
  }
  const len = buf.readInt32BE(start)
  const b4 = buf[start + 4]!
  if (len > 0 && b4 === BINARY_VERSION_BYTE) return { protocol: 'binary', transport: 'framed' }
  if (len > 0 && b4 === COMPACT_PROTOCOL_ID) return { protocol: 'compact', transport: 'framed' }
  if (len > 0 && len <= 255 && isNameByte(b4)) return { protocol: 'binary', transport: 'buffered' }
  throw notThrift(buf, start, end)
}

function isNameByte(b: number): boolean {
  return b >= 0x21 && b < 0x7f
}

function notThrift(buf: Buffer, start: number, end: number): ProtocolError {
  const head = buf.subarray(start, Math.min(end, start + 8))
  const hex = head.toString('hex').replace(/(..)/g, '$1 ').trim()
  let what = 'not a Thrift binary or compact message'
  const text = head.toString('latin1')
  if (/^(GET|POST|PUT|HEAD) /.test(text)) what = 'an HTTP request, not Thrift'
  else if (head[0] === TLS_HANDSHAKE) what = 'a TLS handshake, not Thrift'
  else if (head.length >= 6 && head[4] === 0x0f && head[5] === 0xff) what = 'THeader transport, which thriftbus does not speak'
  return new ProtocolError(`${what} (first bytes: ${hex}); use TBinaryProtocol or TCompactProtocol over a buffered or framed transport`)
}

export class FrameReader {
  #buf: Buffer = NO_BYTES
  #start = 0
  #end = 0
  /** False while #buf is a chunk the socket gave us, which must not be written into. */
  #owned = false
  #reader: WireReader | undefined
  format: WireFormat | undefined
  readonly maxBytes: number

  /** False: messages come back with an empty name (a client matching replies by seqid has no use for it). */
  readonly #names: boolean

  constructor(maxBytes: number, format?: WireFormat, options: { names?: boolean } = {}) {
    this.maxBytes = maxBytes
    this.#names = options.names ?? true
    if (format) this.#setFormat(format)
  }

  /** Bytes received and not yet consumed as messages. */
  get buffered(): number {
    return this.#end - this.#start
  }

  /** Adds chunk[0, length) to the bytes to read. Until release(), the reader may keep reading the chunk itself. */
  push(chunk: Buffer, length = chunk.length): void {
    if (this.#start === this.#end) {
      // Nothing pending: read the chunk in place, no copy.
      this.#buf = chunk
      this.#start = 0
      this.#end = length
      this.#owned = false
      return
    }
    this.#reserve(length)
    chunk.copy(this.#buf, this.#end, 0, length)
    this.#end += length
  }

  /**
   * Lets go of the last chunk pushed, which its owner is about to reuse (a socket's onread buffer): the part of
   * it not yet read as messages is copied.
   */
  release(): void {
    if (!this.#owned && this.#start < this.#end) this.#reserve(0)
  }

  /**
   * Reads the next whole message and decodes its body with `decode`. Returns undefined when more bytes are
   * needed. Throws a ProtocolError when the bytes are malformed or over the limit; the connection must then
   * be closed, since nothing after it can be trusted.
   */
  next<T>(decode: BodyDecoder<T>): IncomingMessage<T> | undefined {
    if (this.#start === this.#end) return undefined
    if (!this.format) {
      const format = detectFormat(this.#buf, this.#start, this.#end)
      if (!format) return undefined
      this.#setFormat(format)
    }
    return this.format!.transport === 'framed' ? this.#nextFramed(decode) : this.#nextBuffered(decode)
  }

  #setFormat(format: WireFormat): void {
    this.format = format
    this.#reader = createReader(format, this.maxBytes)
    this.#reader.skipNames = !this.#names
  }

  #nextFramed<T>(decode: BodyDecoder<T>): IncomingMessage<T> | undefined {
    const available = this.#end - this.#start
    if (available < 4) return undefined
    const b = this.#buf
    const at = this.#start
    const size = (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!
    if (size <= 0 || size > this.maxBytes) this.#badFrameLength(size)
    if (available < 4 + size) {
      this.#reserve(4 + size - available)
      return undefined
    }
    const r = this.#reader!
    const bodyEnd = this.#start + 4 + size
    r.reset(this.#buf, this.#start + 4, bodyEnd)
    const msg = this.#decode(r, decode)
    if (r.underrun) throw truncated(size, msg)
    this.#consume(bodyEnd)
    return msg
  }

  /**
   * Throws the error for a frame length out of bounds. This and truncated() are functions of their own: with
   * the size in several template strings inline, V8 converted it to a string on every frame, ahead of the checks.
   */
  #badFrameLength(size: number): never {
    if (size <= 0) throw new ProtocolError(`bad frame length ${size}`)
    const err = new ProtocolError(`frame of ${size} bytes is over the ${this.maxBytes}-byte message limit`, true)
    this.#annotate(err, this.#start + 4, this.#end)
    throw err
  }

  #nextBuffered<T>(decode: BodyDecoder<T>): IncomingMessage<T> | undefined {
    const r = this.#reader!
    r.reset(this.#buf, this.#start, this.#end)
    const msg = this.#decode(r, decode)
    if (r.underrun) {
      if (this.#end - this.#start > this.maxBytes) {
        throw annotated(new ProtocolError(`message is over the ${this.maxBytes}-byte limit`, true), msg)
      }
      return undefined
    }
    this.#consume(r.pos)
    return msg
  }

  #decode<T>(r: WireReader, decode: BodyDecoder<T>): IncomingMessage<T> {
    const header = r.readMessageBegin()
    if (r.underrun) return { ...header, body: undefined as T }
    try {
      return { name: header.name, type: header.type, seqid: header.seqid, body: decode(header, r) }
    } catch (err) {
      if (err instanceof ProtocolError) throw annotated(err, header)
      throw err
    }
  }

  /** Reads the header of an oversized frame, when it is there, so the client can be told. */
  #annotate(err: ProtocolError, start: number, end: number): void {
    const r = this.#reader!
    r.reset(this.#buf, start, end)
    try {
      const header = r.readMessageBegin()
      if (!r.underrun) annotated(err, header)
    } catch {
      // The header itself is garbage: the client gets no reply, only the closed connection.
    }
  }

  #consume(to: number): void {
    this.#start = to
    if (this.#start === this.#end) {
      this.#start = 0
      this.#end = 0
      if (!this.#owned) this.#buf = NO_BYTES
    }
  }

  /** Makes room for `extra` more bytes after #end, keeping #buf ours to write into. */
  #reserve(extra: number): void {
    const pending = this.#end - this.#start
    if (this.#owned && this.#end + extra <= this.#buf.length) return
    if (this.#owned && pending + extra <= this.#buf.length) {
      this.#buf.copy(this.#buf, 0, this.#start, this.#end)
    } else {
      let size = Math.max(INITIAL_BUFFER_BYTES, this.#buf.length)
      while (size < pending + extra) size *= 2
      const next = Buffer.allocUnsafe(size)
      this.#buf.copy(next, 0, this.#start, this.#end)
      this.#buf = next
      this.#owned = true
    }
    this.#start = 0
    this.#end = pending
  }
}

function annotated<E extends ProtocolError>(err: E, header: MessageHeader): E {
  if (header.name !== '') {
    err.seqid = header.seqid
    err.method = header.name
  }
  return err
}

function truncated(size: number, header: MessageHeader): ProtocolError {
  return annotated(new ProtocolError(`truncated message: the ${size}-byte frame ends inside it`), header)
}
