/**
 * The peer broke the wire protocol: a garbage or oversized length, an unknown type, nesting too deep.
 * The connection that sent it cannot be trusted to stay in sync, so it is closed.
 */
export class ProtocolError extends Error {
  /** Set when the message header was read, so the peer can first be told why (TApplicationException). */
  seqid: number | undefined
  method: string | undefined
  /** True when the reason is size (TApplicationException SIZE_LIMIT, BusException TOO_LARGE). */
  readonly tooLarge: boolean

  constructor(message: string, tooLarge = false) {
    super(message)
    this.name = 'ProtocolError'
    this.tooLarge = tooLarge
  }
}
