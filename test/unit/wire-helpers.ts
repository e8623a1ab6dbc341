/** Shared by the wire tests: encode calls with the project's writers, feed bytes to a FrameReader, normalise. */
import { createWriter, FrameReader, type IncomingMessage, type WireFormat } from '../../src/wire/frame-reader.js'
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../src/wire/limits.js'
import { MESSAGE_CALL, MessageService, type Message, type MessageService_sendMessage_args } from '../../src/gen/thriftbus.js'

export const FORMATS: WireFormat[] = [
  { protocol: 'binary', transport: 'framed' },
  { protocol: 'binary', transport: 'buffered' },
  { protocol: 'compact', transport: 'framed' },
  { protocol: 'compact', transport: 'buffered' },
]

export function fmtName(f: WireFormat): string {
  return `${f.transport} ${f.protocol}`
}

export interface Call {
  seqid: number
  args: MessageService_sendMessage_args
}

/** Encodes sendMessage calls back to back, returning a private copy of the bytes and each call's end offset. */
export function encodeCalls(format: WireFormat, calls: Call[], maxBytes = DEFAULT_MAX_MESSAGE_BYTES): { bytes: Buffer; ends: number[] } {
  const w = createWriter(format, maxBytes)
  const parts: Buffer[] = []
  const ends: number[] = []
  let total = 0
  for (const c of calls) {
    w.beginMessage('sendMessage', MESSAGE_CALL, c.seqid)
    MessageService.methods.sendMessage.writeArgs(w, c.args)
    w.endMessage()
    const out = Buffer.from(w.take()!)
    parts.push(out)
    total += out.length
    ends.push(total)
  }
  return { bytes: Buffer.concat(parts), ends }
}

export type Decoded = IncomingMessage<MessageService_sendMessage_args>

export function nextCall(reader: FrameReader): Decoded | undefined {
  return reader.next((_header, r) => MessageService.methods.sendMessage.readArgs(r))
}

/** A Message with undefined fields dropped and the body as hex, for deep comparison. */
export function normMessage(m: Message): Record<string, unknown> {
  const out: Record<string, unknown> = { sender: m.sender, recipient: m.recipient, content: m.content }
  if (m.id !== undefined && m.id !== null) out.id = m.id
  if (m.sentAtMs !== undefined && m.sentAtMs !== null) out.sentAtMs = m.sentAtMs
  if (m.body !== undefined && m.body !== null) out.body = Buffer.from(m.body).toString('hex')
  if (m.headers !== undefined && m.headers !== null) out.headers = { ...m.headers }
  return out
}

export function normCall(d: { name: string; type: number; seqid: number; body: MessageService_sendMessage_args }): Record<string, unknown> {
  return { name: d.name, type: d.type, seqid: d.seqid, message: normMessage(d.body.message) }
}

export function expectedCall(c: Call): Record<string, unknown> {
  return { name: 'sendMessage', type: MESSAGE_CALL, seqid: c.seqid, message: normMessage(c.args.message) }
}

/** Pushes each chunk, draining after each; records every message with the byte count pushed when it came out. */
export function feed(reader: FrameReader, chunks: Buffer[]): { at: number; call: Record<string, unknown> }[] {
  const out: { at: number; call: Record<string, unknown> }[] = []
  let pushed = 0
  for (const chunk of chunks) {
    // a fresh Buffer per chunk, as a socket gives
    reader.push(Buffer.from(chunk))
    pushed += chunk.length
    for (let m = nextCall(reader); m; m = nextCall(reader)) out.push({ at: pushed, call: normCall(m) })
  }
  return out
}
