import t from 'tap'
import fc from 'fast-check'
import { SHORT_STRING_LENGTH, StringTable, methodNameSlice, seedMethodNames, utf8Slice, utf8Write } from '../../src/wire/utf8.js'

/** The string's UTF-8 bytes at an offset inside a larger buffer, as a message would hold them. */
function embedded(s: string, at = 7): { buf: Buffer; start: number; end: number } {
  const bytes = Buffer.from(s)
  const buf = Buffer.alloc(at + bytes.length + 5, 0x41)
  bytes.copy(buf, at)
  return { buf, start: at, end: at + bytes.length }
}

t.test('a table decodes any bytes as Buffer#toString does, repeated or not, colliding or not', async (t) => {
  // A small table, so that strings collide and displace each other all the time.
  const table = new StringTable(4)
  fc.assert(fc.property(fc.array(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.uint8Array({ maxLength: 40 })), { maxLength: 30 }), (items) => {
    for (const item of [...items, ...items]) {
      const bytes = Buffer.from(item)
      const buf = Buffer.concat([Buffer.from('pad'), bytes, Buffer.from('tail')])
      if (table.decode(buf, 3, 3 + bytes.length) !== bytes.toString('utf8')) return false
    }
    return true
  }), { numRuns: 300 })
})

t.test('a short string decoded again comes back as the same string object; a long one is decoded each time', async (t) => {
  const table = new StringTable(64)
  const short = embedded('mailbox.jobs')
  const first = table.decode(short.buf, short.start, short.end)
  t.equal(first, 'mailbox.jobs')
  const again = embedded('mailbox.jobs', 3)
  t.ok(Object.is(table.decode(again.buf, again.start, again.end), first))
  const long = 'x'.repeat(SHORT_STRING_LENGTH + 1)
  const l = embedded(long)
  t.equal(table.decode(l.buf, l.start, l.end), long)
  t.equal(table.decode(l.buf, l.start, l.start), '', 'no bytes: the empty string')
})

t.test('strings that differ in bytes the slot is not picked by are told apart', async (t) => {
  // Same length, first, middle and last byte: the same pair of slots.
  const table = new StringTable(16)
  const names = ['wAAAAxAAAAz', 'wBBBBxBBBBz', 'wCCCCxCCCCz']
  for (let round = 0; round < 3; round++) {
    for (const name of names) {
      const { buf, start, end } = embedded(name)
      t.equal(table.decode(buf, start, end), name)
    }
  }
})

t.test('non-ASCII and malformed UTF-8 are kept and decoded exactly', async (t) => {
  const table = new StringTable(8)
  for (const bytes of [Buffer.from('Grüße, 世界'), Buffer.from([0x61, 0xc3]), Buffer.from([0xff, 0xfe, 0x41])]) {
    for (let i = 0; i < 2; i++) {
      const buf = Buffer.concat([Buffer.from('zz'), bytes])
      t.equal(table.decode(buf, 2, buf.length), bytes.toString('utf8'))
    }
  }
})

t.test('a seeded method name decodes to the seeded string itself', async (t) => {
  // A string built at run time, not a literal: identity shows the table returned this very object.
  const name = ['Message', 'Service:sendMessage'].join('')
  seedMethodNames([name])
  const { buf, start, end } = embedded('MessageService:sendMessage')
  t.ok(Object.is(methodNameSlice(buf, start, end), name))
  t.equal(utf8Slice(buf, start, end), name, 'the values table decodes it too (as its own object)')
})

t.test('utf8Write writes what Buffer#write writes, short or long, ASCII or not', async (t) => {
  fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 40 })), (s) => {
    const out = Buffer.alloc(3 * s.length + 8)
    const n = utf8Write(out, s, 4)
    return n === Buffer.byteLength(s) && out.subarray(4, 4 + n).equals(Buffer.from(s))
  }), { numRuns: 500 })
})
