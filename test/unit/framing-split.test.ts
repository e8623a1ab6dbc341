import t from 'tap'
import fc from 'fast-check'
import { FrameReader } from '../../src/wire/frame-reader.js'
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../src/wire/limits.js'
import { encodeCalls, expectedCall, feed, fmtName, FORMATS, type Call } from './fixtures/wire.js'

const FULL: Call = {
  seqid: 7,
  args: {
    message: {
      sender: 'alice',
      recipient: 'jobs.worker-1',
      content: 'héllo wörld 🎉 — a message long enough to cross a few chunk boundaries',
      id: 2 ** 40 + 3,
      sentAtMs: 1_700_000_000_123,
      body: Uint8Array.from([0, 1, 2, 0x80, 0x82, 0xff, 0x0f]),
      headers: { 'content-type': 'text/plain', trace: 'abc-123', empty: '' },
    },
  },
}


function tryFeed(reader: FrameReader, chunks: Buffer[]): { got: ReturnType<typeof feed>; error?: string } {
  try {
    return { got: feed(reader, chunks) }
  } catch (err) {
    return { got: [], error: `${(err as Error).name}: ${(err as Error).message}` }
  }
}

const MINIMAL: Call = {
  seqid: -5,
  args: { message: { sender: '', recipient: 'b', content: '' } },
}

for (const format of FORMATS) {
  const name = fmtName(format)
  const calls = [FULL, MINIMAL]
  const { bytes, ends } = encodeCalls(format, calls)
  const n = bytes.length
  const want = calls.map(expectedCall)

  t.test(`a ${name} call split at every byte offset decodes once, identically, and only when complete`, async (t) => {
    const problems: string[] = []
    const threw: string[] = []
    for (let i = 0; i <= n; i++) {
      const reader = new FrameReader(DEFAULT_MAX_MESSAGE_BYTES)
      const { got, error } = tryFeed(reader, [bytes.subarray(0, i), bytes.subarray(i)])
      if (error) {
        threw.push(`split ${i}: ${error}`)
        continue
      }
      // After the first chunk exactly the calls whose bytes are all in it are out; the rest after the second.
      const wantAt = ends.map((e) => (e <= i ? i : n))
      const gotCalls = got.map((g) => g.call)
      if (JSON.stringify(gotCalls) !== JSON.stringify(want)) problems.push(`split ${i}: got ${JSON.stringify(gotCalls)}`)
      else if (JSON.stringify(got.map((g) => g.at)) !== JSON.stringify(wantAt)) {
        problems.push(`split ${i}: messages came out after ${got.map((g) => g.at)} bytes, want ${wantAt}`)
      }
      if (reader.buffered !== 0) problems.push(`split ${i}: ${reader.buffered} bytes left over`)
      if (reader.format?.protocol !== format.protocol || reader.format?.transport !== format.transport) {
        problems.push(`split ${i}: detected ${JSON.stringify(reader.format)}`)
      }
    }
    t.same(threw, [], `no split of the ${n} bytes makes the reader throw`)
    t.same(problems, [], `every split that does not throw decodes both calls once, identically, when complete`)
  })

  t.test(`a ${name} stream fed byte by byte yields each call exactly when its last byte arrives`, async (t) => {
    const reader = new FrameReader(DEFAULT_MAX_MESSAGE_BYTES)
    const chunks = Array.from({ length: n }, (_, i) => bytes.subarray(i, i + 1))
    const { got, error } = tryFeed(reader, chunks)
    t.equal(error, undefined, 'no exception while bytes trickle in')
    if (error) return
    t.same(got.map((g) => g.call), want)
    t.same(got.map((g) => g.at), ends)
    t.equal(reader.buffered, 0)
  })

  t.test(`a ${name} stream cut into random chunks decodes to the same calls`, async (t) => {
    const failure = fc.check(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: n - 1 }), { maxLength: 12 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), n]
        const chunks = points.slice(1).map((p, k) => bytes.subarray(points[k]!, p))
        const { got, error } = tryFeed(new FrameReader(DEFAULT_MAX_MESSAGE_BYTES), chunks)
        if (error) throw new Error(error)
        return JSON.stringify(got.map((g) => g.call)) === JSON.stringify(want)
      }),
      { numRuns: 200 },
    )
    const why = failure.failed
      ? `counterexample cuts ${JSON.stringify(failure.counterexample)}: ${String(failure.errorInstance ?? 'decoded differently')}`
      : 'all chunkings agree'
    t.notOk(failure.failed, why)
  })

  t.test(`a ${name} stream read into one reused buffer (a socket's onread) decodes to the same calls`, async (t) => {
    // Every chunk lands in the same buffer, which is overwritten after release(): bytes the reader kept
    // pointing into instead of copying would decode as garbage.
    const failure = fc.check(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: n - 1 }), { maxLength: 12 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), n]
        const chunks = points.slice(1).map((p, k) => bytes.subarray(points[k]!, p))
        const reader = new FrameReader(DEFAULT_MAX_MESSAGE_BYTES)
        const got = feed(reader, chunks, { reused: true })
        return JSON.stringify(got.map((g) => g.call)) === JSON.stringify(want) && reader.buffered === 0
      }),
      { numRuns: 200 },
    )
    t.notOk(failure.failed, failure.failed ? `counterexample cuts ${JSON.stringify(failure.counterexample)}: ${String(failure.errorInstance ?? 'decoded differently')}` : 'all chunkings agree')
  })

  t.test(`a ${name} call larger than the reader's initial 64 KiB buffer survives splits around the growth points`, async (t) => {
    const big: Call = {
      seqid: 99,
      args: { message: { sender: 'x', recipient: 'big', content: 'ü'.repeat(40_000), body: new Uint8Array(30_000).fill(0xab) } },
    }
    const both = encodeCalls(format, [big, MINIMAL])
    const len = both.bytes.length
    const wantBoth = [expectedCall(big), expectedCall(MINIMAL)]
    const offsets = [1, 2, 3, 4, 5, 6, 100, 65_535, 65_536, 65_537, both.ends[0]! - 1, both.ends[0]!, both.ends[0]! + 1, len - 1]
    const problems: string[] = []
    for (const i of offsets) {
      const { got, error } = tryFeed(new FrameReader(DEFAULT_MAX_MESSAGE_BYTES), [both.bytes.subarray(0, i), both.bytes.subarray(i)])
      if (error) problems.push(`split ${i}: ${error}`)
      else if (JSON.stringify(got.map((g) => g.call)) !== JSON.stringify(wantBoth)) problems.push(`split ${i}`)
    }
    const chunks: Buffer[] = []
    for (let p = 0; p < len; p += 1000) chunks.push(both.bytes.subarray(p, p + 1000))
    const { got, error } = tryFeed(new FrameReader(DEFAULT_MAX_MESSAGE_BYTES), chunks)
    if (error) problems.push(`1000-byte chunks: ${error}`)
    else if (JSON.stringify(got.map((g) => g.call)) !== JSON.stringify(wantBoth)) problems.push('1000-byte chunks')
    const reused = feed(new FrameReader(DEFAULT_MAX_MESSAGE_BYTES), chunks, { reused: true })
    if (JSON.stringify(reused.map((g) => g.call)) !== JSON.stringify(wantBoth)) problems.push('1000-byte chunks in one reused buffer')
    t.same(problems, [], 'every split and the 1000-byte chunkings decode both calls')
  })
}

t.test('a reader created with a known format decodes the same stream without detection', async (t) => {
  for (const format of FORMATS) {
    const { bytes } = encodeCalls(format, [FULL, MINIMAL])
    const got = feed(new FrameReader(DEFAULT_MAX_MESSAGE_BYTES, format), [bytes])
    t.same(got.map((g) => g.call), [expectedCall(FULL), expectedCall(MINIMAL)], fmtName(format))
  }
})

t.test('a reader keeps decoding after draining to empty and receiving more calls later', async (t) => {
  for (const format of FORMATS) {
    const { bytes } = encodeCalls(format, [FULL])
    const reader = new FrameReader(DEFAULT_MAX_MESSAGE_BYTES)
    const first = feed(reader, [bytes.subarray(0, 10), bytes.subarray(10)])
    const second = feed(reader, [bytes])
    const third = feed(reader, [bytes.subarray(0, 3), bytes.subarray(3)])
    t.same([...first, ...second, ...third].map((g) => g.call), [1, 2, 3].map(() => expectedCall(FULL)), fmtName(format))
  }
})
