/**
 * UTF-8 to and from a Buffer region, tuned for the short strings that fill Thrift messages (method names,
 * mailbox names, senders): short ASCII strings are written in JavaScript (crossing into C++ costs more than
 * the copy) and decoded through a small cache of recent strings. Anything longer or non-ASCII goes to
 * Buffer's own utf8Slice/utf8Write, called directly to skip Buffer#toString/#write's argument checks (the
 * callers have checked the bounds).
 */
interface FastBuffer {
  utf8Slice(start: number, end: number): string
  utf8Write(s: string, offset: number): number
}

/** Longest string converted in JavaScript. Past this, Buffer's C++ conversion is faster. */
export const SHORT_STRING_LENGTH = 32

/**
 * Recently decoded short ASCII strings, by a hash of their bytes. Method names, mailbox names and senders
 * repeat from message to message; returning the same string object saves the allocation, and its hash is
 * already computed when it is used as a Map key. Entries are checked byte for byte, so a collision only
 * costs a decode.
 */
const CACHE_SIZE = 512
const cache: (string | undefined)[] = new Array(CACHE_SIZE)

/** Decodes buf[start, end). */
export function utf8Slice(buf: Buffer, start: number, end: number): string {
  const n = end - start
  if (n > SHORT_STRING_LENGTH) return (buf as unknown as FastBuffer).utf8Slice(start, end)
  let h = n
  for (let i = start; i < end; i++) {
    const b = buf[i]!
    if (b >= 0x80) return (buf as unknown as FastBuffer).utf8Slice(start, end)
    h = (Math.imul(h, 31) + b) | 0
  }
  const slot = (h ^ (h >>> 9)) & (CACHE_SIZE - 1)
  const hit = cache[slot]
  if (hit !== undefined && hit.length === n) {
    let same = true
    for (let i = 0; i < n; i++) {
      if (hit.charCodeAt(i) !== buf[start + i]) {
        same = false
        break
      }
    }
    if (same) return hit
  }
  const s = (buf as unknown as FastBuffer).utf8Slice(start, end)
  cache[slot] = s
  return s
}

/** Encodes s at buf[offset...]; returns the byte count. The caller has made room for 3 bytes per UTF-16 unit. */
export function utf8Write(buf: Buffer, s: string, offset: number): number {
  const n = s.length
  if (n <= SHORT_STRING_LENGTH) {
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) return (buf as unknown as FastBuffer).utf8Write(s, offset)
      buf[offset + i] = c
    }
    return n
  }
  return (buf as unknown as FastBuffer).utf8Write(s, offset)
}
