/**
 * UTF-8 to and from a Buffer region, tuned for the short strings that fill Thrift messages (method names,
 * mailbox names, senders).
 *
 * Decoding goes through a StringTable: a short string whose bytes were decoded recently comes back as the
 * same string object, found by comparing bytes, with no allocation and its hash already computed for the
 * Map it is looked up in. Method names have a table of their own, seeded with the names the daemon serves:
 * a decoded name is then the very string its method map was keyed with, so the lookup compares pointers,
 * not characters. Short ASCII strings are written in JavaScript (crossing into C++ costs more than the copy).
 * Anything longer goes to Buffer's own utf8Slice/utf8Write, called directly to skip Buffer#toString/#write's
 * argument checks (the callers have checked the bounds).
 */
interface FastBuffer {
  utf8Slice(start: number, end: number): string
  utf8Write(s: string, offset: number): number
}

/** Buffer's own methods, called with .call: looked up on a Buffer they are a LoadIC call each (see writer.ts's setBytes). */
const { utf8Slice: sliceUtf8, utf8Write: writeUtf8 } = Buffer.prototype as unknown as FastBuffer

/** Longest string a StringTable keeps, and the longest the writer converts in JavaScript. */
export const SHORT_STRING_LENGTH = 32
/** A table slot holds its string's bytes as this many 32-bit words (4 bytes each, the first in the low byte). */
const WORDS_PER_SLOT = SHORT_STRING_LENGTH / 4

/**
 * Recently decoded short strings, by their bytes. A slot is picked from the length and three of the bytes
 * (first, middle, last), and each string may sit in either of two neighbouring slots; a hit is confirmed by
 * comparing every byte, four at a time, so a collision only costs a decode. Hashing three bytes instead of all of them keeps
 * a hit to one pass over the bytes, the comparison. Identical bytes decode to identical strings (malformed
 * UTF-8 included), so non-ASCII strings are kept too.
 */
export class StringTable {
  readonly #strings: (string | undefined)[]
  /** Byte length of the string in each slot; 0: empty. */
  readonly #lengths: Uint8Array
  /** The bytes of each slot's string, WORDS_PER_SLOT words per slot (a last partial word is zero-padded). */
  readonly #words: Int32Array
  readonly #shift: number

  /** slots: a power of two, at least 2. */
  constructor(slots: number) {
    this.#strings = new Array<string | undefined>(slots).fill(undefined)
    this.#lengths = new Uint8Array(slots)
    this.#words = new Int32Array(slots * WORDS_PER_SLOT)
    this.#shift = 32 - Math.log2(slots)
  }

  /** Decodes buf[start, end). */
  decode(buf: Buffer, start: number, end: number): string {
    const n = end - start
    if (n > SHORT_STRING_LENGTH || n <= 0) return n <= 0 ? '' : sliceUtf8.call(buf, start, end)
    const slot = this.#slot(buf[start]!, buf[start + (n >> 1)]!, buf[end - 1]!, n)
    if (this.#holds(slot, buf, start, n)) return this.#strings[slot]!
    if (this.#holds(slot ^ 1, buf, start, n)) return this.#strings[slot ^ 1]!
    const s = sliceUtf8.call(buf, start, end)
    this.#put(slot, s, buf, start, n)
    return s
  }

  /** Puts a string in the table, so that decoding its bytes returns this very object (a Map's key). */
  seed(s: string): void {
    const bytes = Buffer.from(s)
    const n = bytes.length
    if (n === 0 || n > SHORT_STRING_LENGTH) return
    const slot = this.#slot(bytes[0]!, bytes[n >> 1]!, bytes[n - 1]!, n)
    if (this.#lengths[slot] === 0) this.#store(slot, s, bytes, 0, n)
    else if (this.#lengths[slot ^ 1] === 0) this.#store(slot ^ 1, s, bytes, 0, n)
    else this.#put(slot, s, bytes, 0, n)
  }

  #slot(first: number, middle: number, last: number, n: number): number {
    return Math.imul(n | (first << 8) | (middle << 16) | (last << 24), 0x9e3779b1) >>> this.#shift
  }

  #holds(slot: number, buf: Buffer, start: number, n: number): boolean {
    if (this.#lengths[slot] !== n) return false
    const words = this.#words
    let w = slot * WORDS_PER_SLOT
    let p = start
    for (const whole = start + (n & ~3); p < whole; p += 4, w++) {
      if ((buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) !== words[w]) return false
    }
    const rest = n & 3
    return rest === 0 || lastWord(buf, p, rest) === words[w]
  }

  /** Stores s (the decoding of buf[start, start + n)) in slot, moving what was there to its neighbour. */
  #put(slot: number, s: string, buf: Uint8Array, start: number, n: number): void {
    // The string displaced goes to the other slot: the two most recent misses of a pair of slots both stay.
    if (this.#lengths[slot] !== 0) {
      const other = slot ^ 1
      this.#words.copyWithin(other * WORDS_PER_SLOT, slot * WORDS_PER_SLOT, (slot + 1) * WORDS_PER_SLOT)
      this.#lengths[other] = this.#lengths[slot]!
      this.#strings[other] = this.#strings[slot]
    }
    this.#store(slot, s, buf, start, n)
  }

  #store(slot: number, s: string, buf: Uint8Array, start: number, n: number): void {
    const words = this.#words
    let w = slot * WORDS_PER_SLOT
    let p = start
    for (const whole = start + (n & ~3); p < whole; p += 4, w++) {
      words[w] = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)
    }
    if ((n & 3) !== 0) words[w] = lastWord(buf, p, n & 3)
    this.#lengths[slot] = n
    this.#strings[slot] = s
  }
}

/** The last 1-3 bytes of a string as a word, as StringTable stores them (the missing high bytes zero). */
function lastWord(buf: Uint8Array, p: number, rest: number): number {
  let word = buf[p]!
  if (rest > 1) word |= buf[p + 1]! << 8
  if (rest > 2) word |= buf[p + 2]! << 16
  return word
}

/** Strings read from message bodies: mailbox names, senders, topics. */
const values = new StringTable(512)

/** Method names read from message headers; the daemon seeds it with the names it serves (seedMethodNames). */
const methodNames = new StringTable(256)

/** Decodes buf[start, end). */
export function utf8Slice(buf: Buffer, start: number, end: number): string {
  return values.decode(buf, start, end)
}

/** Decodes a method name from a message header. */
export function methodNameSlice(buf: Buffer, start: number, end: number): string {
  return methodNames.decode(buf, start, end)
}

/** Makes decoding these method names return these very strings (the keys of a method map). */
export function seedMethodNames(names: Iterable<string>): void {
  for (const name of names) methodNames.seed(name)
}

/** Encodes s at buf[offset...]; returns the byte count. The caller has made room for 3 bytes per UTF-16 unit. */
export function utf8Write(buf: Buffer, s: string, offset: number): number {
  const n = s.length
  if (n <= SHORT_STRING_LENGTH) {
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) return writeUtf8.call(buf, s, offset)
      buf[offset + i] = c
    }
    return n
  }
  return writeUtf8.call(buf, s, offset)
}
