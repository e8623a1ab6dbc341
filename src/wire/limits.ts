/** Largest message the daemon and the SDK accept or send, unless configured otherwise. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024

/** A reply may exceed the message limit by this much: a message at the limit plus its reply envelope. */
export const REPLY_SLACK_BYTES = 64 * 1024

/** Structs, lists, sets and maps nested deeper than this are rejected as malformed. */
export const MAX_NESTING_DEPTH = 64

/** Reads and writes start with buffers this large and grow by doubling. */
export const INITIAL_BUFFER_BYTES = 64 * 1024
