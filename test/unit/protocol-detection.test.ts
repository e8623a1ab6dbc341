import t from 'tap'
import { detectFormat, FrameReader, type WireFormat } from '../../src/wire/frame-reader.js'
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../src/wire/limits.js'
import { ProtocolError } from '../../src/wire/protocol-error.js'
import { MESSAGE_CALL } from '../../src/gen/thriftbus.js'
import { encodeCalls, expectedCall, feed, fmtName, FORMATS, nextCall, type Call } from './fixtures/wire.js'

const CALL: Call = { seqid: 42, args: { message: { sender: 'me', recipient: 'you', content: 'hi', id: 5 } } }

function detect(bytes: Buffer | number[]): WireFormat | undefined {
  const b = Buffer.from(bytes)
  return detectFormat(b, 0, b.length)
}

/** Pushes bytes into a fresh reader and returns what next() threw (or undefined). */
function errorFrom(bytes: Buffer | number[], maxBytes = DEFAULT_MAX_MESSAGE_BYTES, format?: WireFormat): unknown {
  const r = new FrameReader(maxBytes, format)
  r.push(Buffer.from(bytes))
  try {
    nextCall(r)
  } catch (err) {
    return err
  }
  return undefined
}

const ADVICE = /use TBinaryProtocol or TCompactProtocol/

t.test('the first bytes of each of the four formats are detected', async (t) => {
  for (const format of FORMATS) {
    const { bytes } = encodeCalls(format, [CALL])
    t.same(detect(bytes), format, fmtName(format))
    t.same(detect(bytes.subarray(0, 6)), format, `${fmtName(format)} from 6 bytes`)
  }
})

t.test('detection waits (undefined) while the first bytes cannot tell yet', async (t) => {
  t.equal(detect([]), undefined, 'nothing')
  t.equal(detect([0x80]), undefined, 'strict binary version byte alone')
  t.equal(detect([0x00]), undefined, 'a frame length or name length starts')
  t.equal(detect([0x00, 0x00, 0x00, 0x20]), undefined, 'a whole frame length, no protocol byte yet')
  t.same(detect([0x82]), { protocol: 'compact', transport: 'buffered' }, 'compact is known from one byte')
  t.same(detect([0x80, 0x01]), { protocol: 'binary', transport: 'buffered' })
})

t.test('detectFormat honours the start and end offsets', async (t) => {
  const buf = Buffer.from([0xff, 0xff, 0x82, 0x21, 0xff])
  t.same(detectFormat(buf, 2, 4), { protocol: 'compact', transport: 'buffered' })
  t.equal(detectFormat(buf, 2, 2), undefined)
})

t.test('an old non-strict binary call (i32 name length, name, type byte, seqid) is detected and decoded', async (t) => {
  const { bytes: strict } = encodeCalls({ protocol: 'binary', transport: 'buffered' }, [CALL])
  // strict header: 80 01 00 01 | i32 11 | "sendMessage" | i32 seqid ; the args struct follows
  const name = Buffer.from('sendMessage')
  const headerLen = 4 + 4 + name.length + 4
  const args = strict.subarray(headerLen)
  const head = Buffer.alloc(4 + name.length + 1 + 4)
  head.writeInt32BE(name.length, 0)
  name.copy(head, 4)
  head[4 + name.length] = MESSAGE_CALL
  head.writeInt32BE(CALL.seqid, 4 + name.length + 1)
  const bytes = Buffer.concat([head, args])
  t.same(detect(bytes), { protocol: 'binary', transport: 'buffered' })
  const r = new FrameReader(DEFAULT_MAX_MESSAGE_BYTES)
  const got = feed(r, [bytes])
  t.same(got.map((g) => g.call), [expectedCall(CALL)])
  t.equal(r.buffered, 0)
  // and split in the header: nothing before the whole call is there
  const r2 = new FrameReader(DEFAULT_MAX_MESSAGE_BYTES)
  const got2 = feed(r2, [bytes.subarray(0, 7), bytes.subarray(7, head.length), bytes.subarray(head.length)])
  t.same(got2.map((g) => g.at), [bytes.length])
  t.same(got2.map((g) => g.call), [expectedCall(CALL)])
})

t.test('an HTTP request is refused with a ProtocolError that says HTTP', async (t) => {
  for (const text of ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'POST /rpc HTTP/1.1\r\n', 'PUT /x HTTP/1.1\r\n', 'HEAD / HTTP/1.0\r\n']) {
    const err = errorFrom(Buffer.from(text))
    t.ok(err instanceof ProtocolError, text.slice(0, 4))
    t.match((err as Error).message, /HTTP request, not Thrift/)
    t.match((err as Error).message, ADVICE)
    t.match((err as Error).message, /first bytes: [0-9a-f]{2}( [0-9a-f]{2})*/)
    t.equal((err as ProtocolError).tooLarge, false)
  }
})

t.test('a TLS handshake is refused with a ProtocolError that says TLS', async (t) => {
  // record type 22 (handshake), version 3.1, length 0x0200, then ClientHello
  const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03])
  const err = errorFrom(hello)
  t.ok(err instanceof ProtocolError)
  t.match((err as Error).message, /TLS handshake, not Thrift/)
})

t.test('a TLS handshake whose record length ends in 0x80 or 0x82 is still named as TLS', async (t) => {
  // 16 03 01 02 80: the 5th byte happens to be the binary version byte; as a frame length 0x16030102 is ~369 MB
  for (const b4 of [0x80, 0x82]) {
    const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, b4, 0x01, 0x00, 0x02, 0x7c, 0x03, 0x03])
    const err = errorFrom(hello)
    t.ok(err instanceof ProtocolError, 'a ProtocolError')
    t.match((err as Error).message, /TLS/, `names TLS (5th byte 0x${b4.toString(16)})`)
    t.equal((err as ProtocolError).tooLarge, false, 'not reported as a size problem')
  }
})

t.test('a THeader frame is refused with a ProtocolError that names THeader', async (t) => {
  const theader = Buffer.from([0x00, 0x00, 0x00, 0x20, 0x0f, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01])
  const err = errorFrom(theader)
  t.ok(err instanceof ProtocolError)
  t.match((err as Error).message, /THeader transport, which thriftbus does not speak/)
})

t.test('garbage is refused with a generic ProtocolError naming the first bytes', async (t) => {
  const cases: number[][] = [
    [0xde, 0xad, 0xbe, 0xef, 0x00, 0x01],
    [0x80, 0x02, 0x00, 0x01], // binary version byte with a bad version
    [0xff], // a first byte no frame length or name length starts with
    [0x00, 0x00, 0x00, 0x05, 0x01, 0x02], // frame length followed by neither protocol
    [0x00, 0x00, 0x00, 0x00, 0x80, 0x01], // zero length
    [0x00, 0x00, 0x01, 0x00, 0x41], // a "name length" over 255
    [0x00, 0x00, 0x00, 0x03, 0x20], // a "name" starting with a space
  ]
  for (const bytes of cases) {
    const err = errorFrom(bytes)
    t.ok(err instanceof ProtocolError, Buffer.from(bytes).toString('hex'))
    t.match((err as Error).message, /not a Thrift binary or compact message/)
    t.match((err as Error).message, ADVICE)
  }
  const hex = (errorFrom([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05]) as Error).message
  t.match(hex, /first bytes: de ad be ef 00 01 02 03\)/, 'at most eight bytes are shown')
})

t.test('a compact id byte with a bad version is refused', async (t) => {
  const err = errorFrom([0x82, 0x02, 0x00, 0x00])
  t.ok(err instanceof ProtocolError)
  t.match((err as Error).message, /bad compact protocol header/)
})

t.test('an oversized frame length throws tooLarge before the body arrives, and names the call', async (t) => {
  const max = 1024
  for (const protocol of ['binary', 'compact'] as const) {
    const format: WireFormat = { protocol, transport: 'framed' }
    const { bytes } = encodeCalls(format, [CALL])
    const header = Buffer.from(bytes.subarray(0, 4 + 30))
    header.writeInt32BE(max + 1, 0)
    const r = new FrameReader(max)
    r.push(header)
    let err: unknown
    try {
      nextCall(r)
    } catch (e) {
      err = e
    }
    t.ok(err instanceof ProtocolError, `${protocol}: ProtocolError`)
    t.equal((err as ProtocolError).tooLarge, true)
    t.match((err as Error).message, /frame of 1025 bytes is over the 1024-byte message limit/)
    t.equal((err as ProtocolError).method, 'sendMessage', 'the header is read so the client can be told')
    t.equal((err as ProtocolError).seqid, CALL.seqid)
    t.equal(r.buffered, header.length, 'nothing beyond what was pushed is held')
  }
})

t.test('a 2 GiB frame length throws at once, with only the length and one protocol byte received', async (t) => {
  const bytes = [0x7f, 0xff, 0xff, 0xff, 0x80]
  const err = errorFrom(bytes)
  t.ok(err instanceof ProtocolError)
  t.equal((err as ProtocolError).tooLarge, true)
  t.equal((err as ProtocolError).method, undefined, 'no header: no call to answer')
  // with the format known in advance, the four length bytes are enough
  const err2 = errorFrom([0x7f, 0xff, 0xff, 0xff], DEFAULT_MAX_MESSAGE_BYTES, { protocol: 'compact', transport: 'framed' })
  t.ok(err2 instanceof ProtocolError)
  t.equal((err2 as ProtocolError).tooLarge, true)
})

t.test('a frame of exactly the limit is accepted and waited for', async (t) => {
  const r = new FrameReader(64, { protocol: 'binary', transport: 'framed' })
  const len = Buffer.alloc(4)
  len.writeInt32BE(64, 0)
  r.push(len)
  t.equal(nextCall(r), undefined)
})

t.test('a negative or zero frame length throws ProtocolError (not tooLarge) without waiting for a body', async (t) => {
  for (const protocol of ['binary', 'compact'] as const) {
    for (const v of [-1, -16, -2147483648, 0]) {
      const b = Buffer.alloc(4)
      b.writeInt32BE(v, 0)
      const err = errorFrom(b, DEFAULT_MAX_MESSAGE_BYTES, { protocol, transport: 'framed' })
      t.ok(err instanceof ProtocolError, `${protocol} ${v}`)
      t.match((err as Error).message, new RegExp(`bad frame length ${v}`))
      t.equal((err as ProtocolError).tooLarge, false)
    }
  }
  // undetected connection: a negative length is not even a Thrift start
  t.ok(errorFrom([0xff, 0xff, 0xff, 0xf0, 0x80, 0x01]) instanceof ProtocolError)
})

t.test('an oversized string length inside a buffered message throws at once', async (t) => {
  const max = 1 << 20
  // binary: a method name of 0x7fffffff bytes
  const nameLen = errorFrom([0x80, 0x01, 0x00, 0x01, 0x7f, 0xff, 0xff, 0xff, 0x61], max)
  t.ok(nameLen instanceof ProtocolError, 'binary name length')
  t.equal((nameLen as ProtocolError).tooLarge, true)
  t.match((nameLen as Error).message, /length 2147483647 is over the 1048576-byte message limit/)

  // binary: a string field (Message.sender) declaring 2 GiB, within a well-formed header
  const { bytes } = encodeCalls({ protocol: 'binary', transport: 'buffered' }, [CALL])
  // header(4+4+11+4) | 0c 0001 (field 1 struct) | 0b 0001 (field 1 string) | i32 len
  const lenAt = 23 + 3 + 3
  t.equal(bytes.readInt32BE(lenAt), 2, 'found the sender length')
  const forged = Buffer.from(bytes.subarray(0, lenAt + 4))
  forged.writeInt32BE(0x7fffffff, lenAt)
  const e2 = errorFrom(forged, max)
  t.ok(e2 instanceof ProtocolError, 'binary field length')
  t.equal((e2 as ProtocolError).tooLarge, true)
  t.equal((e2 as ProtocolError).method, 'sendMessage')
  t.equal((e2 as ProtocolError).seqid, CALL.seqid)

  // compact: a name length varint of 2^31
  const e3 = errorFrom([0x82, 0x21, 0x2a, 0x80, 0x80, 0x80, 0x80, 0x08], max)
  t.ok(e3 instanceof ProtocolError, 'compact name length')
  t.equal((e3 as ProtocolError).tooLarge, true)

  // negative string length (binary)
  const neg = Buffer.from(forged)
  neg.writeInt32BE(-5, lenAt)
  const e4 = errorFrom(neg, max)
  t.ok(e4 instanceof ProtocolError)
  t.match((e4 as Error).message, /negative length -5/)
})

t.test('a buffered message that grows past the limit without completing throws tooLarge', async (t) => {
  // strict binary header of a call whose method name claims 1000 bytes: fine under a 2000-byte limit
  const r = new FrameReader(2000)
  const head = Buffer.from([0x80, 0x01, 0x00, 0x01, 0x00, 0x00, 0x03, 0xe8])
  r.push(head)
  t.equal(nextCall(r), undefined)
  r.push(Buffer.alloc(900, 0x61))
  t.equal(nextCall(r), undefined, '908 bytes, name incomplete: still waiting')
  // now args whose string field 1 claims 96 bytes (allowed), and 110 bytes arrive with the string incomplete
  const r2 = new FrameReader(100)
  r2.push(Buffer.from([0x80, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x61, 0x00, 0x00, 0x00, 0x01, 0x0b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x60]))
  t.equal(nextCall(r2), undefined)
  r2.push(Buffer.alloc(90, 0x00)) // zero filler: reads as T_STOP, so it does not trip the underrun bug (see framing-split)
  let err: unknown
  try {
    nextCall(r2)
  } catch (e) {
    err = e
  }
  t.ok(err instanceof ProtocolError)
  t.equal((err as ProtocolError).tooLarge, true)
  t.match((err as Error).message, /over the 100-byte limit/)
})
