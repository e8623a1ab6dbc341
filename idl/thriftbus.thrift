/**
 * thriftbus: the wire contract of the thriftbus daemon.
 *
 * This file is the single source of the RPCs, structs and error codes. Code in
 * src/gen/ is generated from it by `npm run gen`.
 *
 * Compatibility rules (a client generated from the original two-method IDL
 * must keep working, unchanged):
 *   - the fields 1..3 of Message and the signatures of sendMessage and
 *     receiveMessage never change;
 *   - new struct fields are optional and take new ids;
 *   - new arguments take new ids and have a default that keeps the old meaning;
 *   - ErrorCode is append-only: a value, once shipped, keeps its meaning.
 */

namespace py thriftbus
namespace rb Thriftbus
namespace java thriftbus
namespace go thriftbus
namespace cpp thriftbus

/** Stable error codes. Callers branch on these, never on message text. */
enum ErrorCode {
  /** receiveMessage found the mailbox empty (or the wait ran out). */
  NO_MESSAGE = 1,
  /** An argument is malformed: a bad mailbox name, a negative count. */
  INVALID_ARGUMENT = 2,
  /** The mailbox is at its depth or byte limit; retry after receivers drain it. */
  MAILBOX_FULL = 3,
  /** A message or frame is larger than the daemon's maximum message size. */
  TOO_LARGE = 4,
  /** The connection to the daemon is closed, or the client was closed. */
  CLOSED = 5,
  /** The call was cancelled by its caller (cancel(), an AbortSignal). */
  CANCELLED = 6,
  /** The call's deadline passed before it completed. */
  TIMEOUT = 7,
  /** A per-connection or per-daemon limit was reached (outstanding calls, connections). */
  LIMIT_EXCEEDED = 8,
  /** The daemon is shutting down and accepts no new work. */
  SHUTTING_DOWN = 9,
  /** No daemon answers at the endpoint and none could be started. */
  NO_DAEMON = 10,
  /** The peer broke the protocol: a malformed or unexpected reply. */
  PROTOCOL_ERROR = 11,
  /** An unexpected failure inside the daemon; its log has the details. */
  INTERNAL = 12,
}

/** The one exception every thriftbus method declares. */
exception BusException {
  1: ErrorCode code
  2: string message
}

/**
 * A message in a mailbox. Fields 1..3 are the original contract; the daemon
 * fills id and sentAtMs when it accepts a message and ignores any values the
 * sender put there.
 */
struct Message {
  1: string sender
  2: string recipient
  3: string content
  /** Assigned by the daemon: increases with every accepted message. */
  4: optional i64 id
  /** Assigned by the daemon: when it accepted the message, ms since the Unix epoch. */
  5: optional i64 sentAtMs
  /** A payload that is not text. content and body may both be set. */
  6: optional binary body
  /** Free-form metadata, carried unchanged. */
  7: optional map<string, string> headers
}

struct MailboxInfo {
  1: string name
  /** Messages waiting in the mailbox. */
  2: i64 depth
  /**
   * Sum of the sizes of the waiting messages' sender, content, body and headers (text counted as one byte
   * per character). The mailbox byte limit applies to this figure.
   */
  3: i64 bytes
  /** Receivers parked in a long-poll on this mailbox. */
  4: i32 waiters
}

struct DaemonStatus {
  1: i32 pid
  2: string version
  /** The socket or pipe the daemon listens on. */
  3: string endpoint
  4: i64 startedAtMs
  5: i64 uptimeMs
  6: i32 connections
  7: list<MailboxInfo> mailboxes
  /** Where the daemon keeps its state (logs, store). */
  8: string stateDir
}

service MessageService {
  /**
   * Appends message to the mailbox named message.recipient. Returns true once
   * the daemon has accepted it.
   */
  bool sendMessage(1: Message message) throws (1: BusException error)

  /**
   * Takes the oldest message from the mailbox named recipient.
   * timeoutMs = 0 (the default): returns at once, or throws NO_MESSAGE.
   * timeoutMs > 0: waits up to that long for a message, then throws NO_MESSAGE.
   * timeoutMs < 0: waits until a message arrives or the connection closes.
   */
  Message receiveMessage(1: string recipient, 2: i64 timeoutMs = 0) throws (1: BusException error)

  /**
   * Takes up to max messages, oldest first. Waits like receiveMessage when the
   * mailbox is empty, and returns as soon as at least one message is there.
   * Returns an empty list when the wait runs out.
   */
  list<Message> receiveMessages(1: string recipient, 2: i32 max, 3: i64 timeoutMs = 0) throws (1: BusException error)

  /**
   * Puts messages back at the head of their mailboxes, in the given order, so
   * they are the next ones received. Used by clients that took messages they
   * can no longer hand on (a receive that was aborted while its reply was on
   * its way). Returns how many were put back.
   */
  i32 returnMessages(1: list<Message> messages) throws (1: BusException error)

  /**
   * Cancels this connection's own pending call with the given seqid (a
   * long-poll). The cancelled call is answered first, with CANCELLED. Returns
   * false when no such call was pending: its reply has already been sent.
   */
  bool cancel(1: i32 seqid)

  /** Every mailbox that holds messages or has waiters. */
  list<MailboxInfo> listMailboxes()

  /** One mailbox; an unknown mailbox has depth 0. */
  MailboxInfo mailboxStats(1: string name) throws (1: BusException error)

  /** Removes every message in a mailbox. Returns how many were removed. */
  i64 purgeMailbox(1: string name) throws (1: BusException error)

  /** Returns the daemon's version. Cheap: use it as a liveness check. */
  string ping()

  DaemonStatus status()

  /**
   * Asks the daemon to shut down gracefully: it stops accepting, answers or
   * fails the calls in flight, removes its socket and exits 0.
   */
  void shutdown()
}
