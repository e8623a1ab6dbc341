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
  /** A call to a hosted service found no provider registered under its name, and none could be activated. */
  NO_RESPONDERS = 13,
  /** The provider serving a call died or disconnected before it replied. */
  PROVIDER_FAILED = 14,
  /** No such subscription, lease or service (it ended, or never existed). */
  NOT_FOUND = 15,
  /** A helper configured for a service failed to start or to register in time. */
  ACTIVATION_FAILED = 16,
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
  /**
   * Set by the sender: the message expires this many ms after the daemon accepted it. An expired message
   * is never delivered; it is dropped and counted in MailboxInfo.expired.
   */
  8: optional i64 ttlMs
  /** Set by the daemon on leased receives: how many times this message has been delivered, this time included. */
  9: optional i32 deliveryCount
  /** Set by the daemon on messages delivered through a subscription: the topic they were published to. */
  10: optional string topic
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
  /** Messages out on lease (received with leaseMs > 0, not yet acked). They are not counted in depth. */
  5: i64 leased
  /** Messages dropped because their ttlMs ran out, since the daemon started. */
  6: i64 expired
  /** Messages moved to this mailbox's dead-letter mailbox, since the daemon started. */
  7: i64 deadLettered
}

/** A message that sendMessages refused: where it was in the list, and why. */
struct SendFailure {
  /** Its position in the list passed to sendMessages, from 0. */
  1: i32 index
  2: ErrorCode code
  3: string message
}

/** What the daemon accepts, for clients that size their calls to it (the SDK's send batches). */
struct DaemonLimits {
  /** The largest frame (a call with its message) the daemon accepts: its --max-message-bytes. */
  1: i64 maxMessageBytes
  /** The most messages one sendMessages call may carry. */
  2: i32 maxSendBatch
  /** The most mailboxes one receiveAny call may name; unset: the daemon predates receiveAny. */
  3: optional i32 maxReceiveAnyMailboxes
}

/** A subscription to a topic pattern (PubSub). */
struct SubscriptionInfo {
  1: i64 id
  2: string pattern
  /** The durable subscription's name; empty for a subscription that ends with its connection. */
  3: string durableName
  /** Messages waiting to be polled. */
  4: i64 queued
  /** Messages dropped (oldest first) because the queue was full. */
  5: i64 dropped
  /** Messages handed out by poll. */
  6: i64 delivered
  /** The queue's bound. */
  7: i32 maxQueued
  /** False for a durable subscription whose connection has gone: it queues until resumed by name. */
  8: bool attached
}

/** A service hosted by provider processes through the daemon. */
struct ServiceInfo {
  1: string name
  2: i32 providers
  /** Calls forwarded since the daemon started. */
  3: i64 calls
  /** Calls waiting for their reply now. */
  4: i32 inFlight
  /** Calls that ended in an error (no responders, provider failed, timeout). */
  5: i64 failures
}

/** A helper process that the daemon starts on demand for a service (activation). */
struct HelperInfo {
  1: string serviceName
  2: list<string> command
  /** 0 when not running. */
  3: i32 pid
  /** One of: idle, starting, running, backoff, failed. */
  4: string state
  5: i32 restarts
  /** Why it last failed to start or exited; empty when it did not. */
  6: string lastError
}

/**
 * The durable store of a daemon in durable or fsync mode (DaemonStatus.store). The counts are since the daemon
 * started. A message handed to a waiting receiver in the turn it arrived is written nowhere; one that waits is
 * written to the journal, or straight to SQLite once the journal holds its share or the mailbox is past its
 * memory window.
 */
struct StoreInfo {
  /** The SQLite file; the journal's segments are the .journal.<n> files next to it. */
  1: string path
  /** Queued messages whose copy is in the journal (the rest of a backlog is in SQLite). */
  2: i64 journalMessages
  /** The journal's size on disk, over all its segments. */
  3: i64 journalBytes
  /** Messages written to the journal. */
  4: i64 journalWrites
  /** Messages written straight to SQLite. */
  5: i64 databaseWrites
  /** Times the whole journal was applied to SQLite (purge, stop, start, reading a mailbox back from SQLite). */
  6: i64 checkpoints
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
  /** memory, durable or fsync. */
  9: string durability
  10: list<ServiceInfo> services
  11: list<HelperInfo> helpers
  12: list<SubscriptionInfo> subscriptions
  /** The durable store; unset in memory mode. */
  13: optional StoreInfo store
}

service MessageService {
  /**
   * Appends message to the mailbox named message.recipient. Returns true once
   * the daemon has accepted it.
   */
  bool sendMessage(1: Message message) throws (1: BusException error)
  /**
   * Sends several messages in one call, in the list's order: each is accepted or refused on its own, as
   * sendMessage would accept or refuse it, and a refused one does not stop the others. Returns the refused
   * ones, in order (an empty list: all were accepted). A list of more than 10,000 messages is refused whole
   * (INVALID_ARGUMENT). The SDK sends the send() calls of one tick this way.
   */
  list<SendFailure> sendMessages(1: list<Message> messages) throws (1: BusException error)

  /**
   * Takes the oldest message from the mailbox named recipient.
   * timeoutMs = 0 (the default): returns at once, or throws NO_MESSAGE.
   * timeoutMs > 0: waits up to that long for a message, then throws NO_MESSAGE.
   * timeoutMs < 0: waits until a message arrives or the connection closes.
   * At most once: the message is removed as it is handed out (receiveLeased is the at-least-once way).
   */
  Message receiveMessage(1: string recipient, 2: i64 timeoutMs = 0) throws (1: BusException error)

  /**
   * Takes up to max messages, oldest first. Waits like receiveMessage when the
   * mailbox is empty, and returns as soon as at least one message is there.
   * Returns an empty list when the wait runs out.
   */
  list<Message> receiveMessages(1: string recipient, 2: i32 max, 3: i64 timeoutMs = 0) throws (1: BusException error)

  /**
   * Takes messages from several mailboxes in one call: up to wants[name] messages from each mailbox it names,
   * at most once, oldest first within each mailbox. Returns at once with what those mailboxes hold. When they
   * are all empty it waits like receiveMessages (timeoutMs 0: returns an empty list at once; > 0: at most that
   * long; < 0: without a limit) and returns what arrives in the turn the first message arrives, from any of
   * them. Each message's recipient says its mailbox. A reply holds at most one message-size of content: what
   * does not fit stays queued. Naming more than DaemonLimits.maxReceiveAnyMailboxes (1,000) mailboxes, or a
   * want below 1, is INVALID_ARGUMENT. The SDK's waiting receive() calls on several mailboxes share such calls.
   */
  list<Message> receiveAny(1: map<string, i32> wants, 2: i64 timeoutMs = 0) throws (1: BusException error)

  /**
   * At least once: takes up to max messages like receiveMessages, but leases them to this connection for
   * leaseMs instead of removing them. ack(ids) removes them for good; nack(ids), the end of the lease, or the
   * end of the connection puts them back at the head of their mailbox, with deliveryCount kept, and after the
   * daemon's maximum number of deliveries moves them to the mailbox "<recipient>.dead-letter".
   * (A new method rather than a new argument: code generated for Python and others passes every argument.)
   */
  list<Message> receiveLeased(1: string recipient, 2: i32 max, 3: i64 timeoutMs, 4: i64 leaseMs) throws (1: BusException error)

  /** Removes leased messages for good. Returns how many of the ids were out on lease (others are ignored). */
  i32 ack(1: list<i64> ids) throws (1: BusException error)

  /**
   * Ends leases at once: the messages go back to the head of their mailboxes, or to the dead-letter
   * mailbox once delivered the daemon's maximum number of times. Returns how many were out on lease.
   */
  i32 nack(1: list<i64> ids) throws (1: BusException error)

  /**
   * Puts messages back at the head of their mailboxes, in id order (the order
   * they were received in), so they are the next ones received. Used by clients that took messages they
   * can no longer hand on (a receive that was aborted while its reply was on
   * its way). Each must carry the id the daemon gave it; a leased one has its
   * lease ended, as nack does. Returns how many were put back.
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

  /**
   * Makes this connection a provider of the named service: the daemon then sends it the calls that clients
   * make to that service (TMultiplexedProtocol with the service name), as plain calls without the prefix,
   * and relays its replies. Several connections may provide one service; calls are shared among them.
   */
  void registerService(1: string name) throws (1: BusException error)

  /** Returns the daemon's version. Cheap: use it as a liveness check. */
  string ping()

  /** What the daemon accepts. The SDK asks once per connection, before it batches sends. */
  DaemonLimits limits()

  DaemonStatus status()

  /**
   * Asks the daemon to shut down gracefully: it stops accepting, answers or
   * fails the calls in flight, removes its socket and exits 0.
   */
  void shutdown()
}

/**
 * Topics: publish to a name, subscribe with a pattern. Multiplexed on the daemon's socket as "PubSub".
 * Topic names are dot-separated segments; in patterns "*" matches one segment and ">" (last) the rest.
 */
service PubSub {
  /** Queues message for every subscription whose pattern matches topic. Returns how many received it. */
  i32 publish(1: string topic, 2: Message message) throws (1: BusException error)

  /**
   * Subscribes this connection. durableName empty: the subscription ends with the connection. Otherwise it
   * is durable: it keeps queueing while nobody is attached and across restarts, and subscribing again with
   * the same name resumes it (the same id). maxQueued 0 takes the daemon's default bound.
   */
  i64 subscribe(1: string pattern, 2: string durableName = "", 3: i32 maxQueued = 0) throws (1: BusException error)

  /** Takes up to max queued messages; waits like receiveMessages when none is queued. */
  list<Message> poll(1: i64 subscription, 2: i32 max, 3: i64 timeoutMs = 0) throws (1: BusException error)

  /** Ends a subscription, durable ones included. Returns false when there was no such subscription. */
  bool unsubscribe(1: i64 subscription) throws (1: BusException error)

  list<SubscriptionInfo> listSubscriptions()
}
