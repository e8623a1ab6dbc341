/**
 * UTF-8 to and from a Buffer region, tuned for the short strings that fill Thrift messages (method names,
 * mailbox names, senders). Crossing into C++ costs more than the copy for those, so strings up to
 * SHORT_STRING_LENGTH characters that are plain ASCII are converted in JavaScript; anything longer or non-ASCII
 * goes to Buffer's own utf8Slice/utf8Write, called directly to skip Buffer#toString/#write's argument checks
 * (the callers have checked the bounds).
 */
interface FastBuffer {
  utf8Slice(start: number, end: number): string
  utf8Write(s: string, offset: number): number
}

/** Longest string converted in JavaScript. Past this, Buffer's C++ conversion is faster. */
export const SHORT_STRING_LENGTH = 32

/** Decodes buf[start, end). */
export function utf8Slice(buf: Buffer, start: number, end: number): string {
  if (end - start <= SHORT_STRING_LENGTH) {
    let s = ''
    for (let i = start; i < end; i++) {
      const b = buf[i]!
      if (b >= 0x80) return (buf as unknown as FastBuffer).utf8Slice(start, end)
      s += String.fromCharCode(b)
    }
    return s
  }
  return (buf as unknown as FastBuffer).utf8Slice(start, end)
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
