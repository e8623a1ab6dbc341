/**
 * UTF-8 to and from a Buffer region without Buffer#toString/#write's argument checks, which cost as much as
 * the copy itself for the short strings of a message. Both are Buffer.prototype methods in every Node version
 * this package supports; the callers have already checked the bounds.
 */
interface FastBuffer {
  utf8Slice(start: number, end: number): string
  utf8Write(s: string, offset: number): number
}

/** Decodes buf[start, end). */
export function utf8Slice(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as FastBuffer).utf8Slice(start, end)
}

/** Encodes s at buf[offset...]; returns the byte count. The caller has made room for 3 bytes per UTF-16 unit. */
export function utf8Write(buf: Buffer, s: string, offset: number): number {
  return (buf as unknown as FastBuffer).utf8Write(s, offset)
}
