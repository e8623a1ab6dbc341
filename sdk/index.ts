/**
 * thriftbus SDK: connect to the per-user message bus daemon (starting it when none runs), send and receive
 * messages by mailbox, with typed, cancellable calls.
 *
 * ```ts
 * import { connect } from 'thriftbus'
 * const bus = await connect()
 * await bus.send('bob', 'hi')
 * const m = await bus.receive('bob', { timeoutMs: 5000 })
 * await bus.close()
 * ```
 */
export { connect, Client, DEFAULT_CALL_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_LEASE_MS, CLOSE_DEADLINE_MS } from './client.js'
export type { CallOptions, ConnectOptions, MessagesOptions, Outgoing, ReceiveOptions, SendOptions } from './client.js'
export { Subscription } from './subscription.js'
export type { SubscribeOptions } from './subscription.js'
export { BusError, isBusError } from '../src/errors.js'
export type { BusErrorCode } from '../src/errors.js'
export { ErrorCode } from '../src/gen/thriftbus.js'
export type { DaemonStatus, MailboxInfo, Message, SubscriptionInfo } from '../src/gen/thriftbus.js'
export { defaultSocketPath, defaultStateDir } from '../src/wire/endpoint.js'
export { DEFAULT_MAX_MESSAGE_BYTES } from '../src/wire/limits.js'
export { serve, serviceClient, serviceClient as client, serviceErrorCode } from './services.js'
export type { ServeOptions, ServedService, ServiceClientOptions, ServiceConnection, ThriftClientClass, ThriftProcessor } from './services.js'
