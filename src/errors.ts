/**
 * BusError: the one error class of thriftbus, in the daemon and in the SDK. Its `code` is the name of a value
 * of the IDL's ErrorCode enum ('NO_MESSAGE', 'CLOSED', ...): callers branch on it, never on the text.
 */
import { ErrorCode } from './gen/thriftbus.js'

export type BusErrorCode = keyof typeof ErrorCode

export class BusError extends Error {
  readonly code: BusErrorCode

  constructor(code: BusErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'BusError'
    this.code = code
  }

  /** The IDL's numeric value of the code, as it travels in BusException. */
  get codeValue(): number {
    return ErrorCode[this.code]
  }

  /** Builds a BusError from a BusException received on the wire; an unknown code becomes INTERNAL. */
  static fromWire(code: number, message: string): BusError {
    const name = ErrorCode[code] as BusErrorCode | undefined
    return new BusError(name ?? 'INTERNAL', name ? message : `${message} (error code ${code})`)
  }
}

/**
 * True for a BusError, including one made by another copy of this package (two versions of the SDK in one
 * program): it checks the shape, not the class.
 */
export function isBusError(err: unknown): err is BusError {
  return err instanceof Error && err.name === 'BusError' && typeof (err as BusError).code === 'string'
}
