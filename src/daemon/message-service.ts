/** Binds MessageService's methods to the broker. Each handler answers its call now, or parks it (long-polls). */
import { BusError, isBusError } from '../errors.js'
import {
  ErrorCode, MessageService, type DaemonStatus, type Message, type SendFailure,
  type MessageService_receiveAny_args, type MessageService_receiveLeased_args, type MessageService_receiveMessage_args,
  type MessageService_receiveMessages_args,
} from '../gen/thriftbus.js'
import { checkMailboxName, replyBytes, type Broker, type Parked, type TakeMode, type Waiter } from '../broker/broker.js'
import { soon } from '../soon.js'
import type { Router } from '../broker/router.js'
import type { StructBytes } from '../wire/struct-copy.js'
import type { HelperManager } from './helper-manager.js'
import type { Logger } from './log.js'
import type { Call, MethodBinding } from './session.js'

/** Most messages one receiveMessages call returns. */
export const MAX_RECEIVE_BATCH = 10_000
/**
 * Most messages one sendMessages call may carry; a longer list is refused whole. One call is handled in one
 * go, so this bounds how long it holds the daemon from its other connections.
 */
export const MAX_SEND_BATCH = 10_000
/** Most mailboxes one receiveAny call may name (DaemonLimits.maxReceiveAnyMailboxes). */
export const MAX_RECEIVE_ANY_MAILBOXES = 1_000

export interface MessageServiceHost {
  readonly broker: Broker
  readonly router: Router<StructBytes>
  readonly helpers: HelperManager
  readonly maxMessageBytes: number
  status(): DaemonStatus
  readonly log: Logger
  /** Starts a graceful shutdown after the current reply is written. */
  requestShutdown(): void
}

const methods = MessageService.methods

/** Its own function, so that acknowledge() allocates no closure context when it answers at once. */
function replyLater(call: Call, result: object): () => void {
  return () => call.reply(result)
}

/** Returns the bindings under both their bare and their multiplexed ("MessageService:name") names. */
export function messageServiceBindings(host: MessageServiceHost): Map<string, MethodBinding> {
  const { broker } = host
  const bind = (codec: MethodBinding['codec'], handle: MethodBinding['handle']): MethodBinding => ({ codec, handle })
  /** Answers a send now, or once its mailbox has drained when it is congested (flow control: Broker.hold). */
  const acknowledge = (call: Call, recipient: string, result: object): void => {
    if (broker.congested(recipient)) broker.hold(recipient, replyLater(call, result))
    else call.reply(result)
  }
  const list: MethodBinding[] = [
    bind(methods.sendMessage, (call, args) => {
      if (!args.message) throw new BusError('INVALID_ARGUMENT', 'sendMessage needs a message; pass Message(sender, recipient, content)')
      broker.send(args.message)
      acknowledge(call, args.message.recipient, { success: true })
    }),
    bind(methods.sendMessages, (call, args) => {
      // Each message on its own, as sendMessage: one refused does not undo or stop the others.
      const messages = args.messages
      if (messages.length > MAX_SEND_BATCH) {
        throw new BusError('INVALID_ARGUMENT', `sendMessages takes at most ${MAX_SEND_BATCH} messages, got ${messages.length}; split the list`)
      }
      const failures: SendFailure[] = []
      for (let i = 0; i < messages.length; i++) {
        try {
          broker.send(messages[i]!)
        } catch (err) {
          if (isBusError(err)) {
            failures.push({ index: i, code: err.codeValue, message: err.message })
          } else {
            host.log('error', `sendMessages: message ${i} failed: ${(err as Error)?.stack ?? String(err)}`)
            failures.push({ index: i, code: ErrorCode.INTERNAL, message: 'internal error in the thriftbus daemon; its log has the details' })
          }
        }
      }
      acknowledge(call, messages.length > 0 ? messages[messages.length - 1]!.recipient : '', { success: failures })
    }),
    bind(methods.receiveMessage, (call, args: MessageService_receiveMessage_args) => {
      const m = broker.takeOne(args.recipient)
      if (m) return call.deliver({ success: m }, [m])
      const timeoutMs = args.timeoutMs ?? 0
      if (timeoutMs === 0) throw new BusError('NO_MESSAGE', `mailbox ${JSON.stringify(args.recipient)} is empty`)
      call.park(broker.wait(args.recipient, new ReceiveOne(call, args.recipient, timeoutMs), timeoutMs))
    }),
    bind(methods.receiveMessages, (call, args: MessageService_receiveMessages_args) => {
      receiveMany(call, args.recipient, args.max, args.timeoutMs ?? 0, AT_MOST_ONCE)
    }),
    bind(methods.receiveAny, (call, args: MessageService_receiveAny_args) => {
      receiveAny(call, args.wants, args.timeoutMs ?? 0)
    }),
    bind(methods.receiveLeased, (call, args: MessageService_receiveLeased_args) => {
      if (args.leaseMs === 0) throw new BusError('INVALID_ARGUMENT', 'leaseMs must be at least 1; use receiveMessages to receive without a lease')
      receiveMany(call, args.recipient, args.max, args.timeoutMs, { leaseMs: args.leaseMs, owner: call.session.id })
    }),
    bind(methods.ack, (call, args) => {
      call.reply({ success: broker.ack(args.ids) })
    }),
    bind(methods.nack, (call, args) => {
      call.reply({ success: broker.nack(args.ids) })
    }),
    bind(methods.returnMessages, (call, args) => {
      call.reply({ success: broker.returnMessages(args.messages) })
    }),
    bind(methods.cancel, (call, args) => {
      call.reply({ success: call.session.cancel(args.seqid) })
    }),
    bind(methods.listMailboxes, (call) => {
      call.reply({ success: broker.list() })
    }),
    bind(methods.mailboxStats, (call, args) => {
      call.reply({ success: broker.stats(args.name) })
    }),
    bind(methods.purgeMailbox, (call, args) => {
      checkMailboxName(args.name)
      call.reply({ success: broker.purge(args.name) })
    }),
    bind(methods.registerService, (call, args) => {
      // The reply goes out before any call held for the service: a stock provider reads it first.
      host.router.register(args.name, call.session, () => call.reply({}))
      host.helpers.registered(args.name)
    }),
    bind(methods.ping, (call) => {
      call.reply({ success: host.status().version })
    }),
    bind(methods.limits, (call) => {
      call.reply({ success: { maxMessageBytes: host.maxMessageBytes, maxSendBatch: MAX_SEND_BATCH, maxReceiveAnyMailboxes: MAX_RECEIVE_ANY_MAILBOXES } })
    }),
    bind(methods.status, (call) => {
      call.reply({ success: host.status() })
    }),
    bind(methods.shutdown, (call) => {
      call.reply({})
      host.requestShutdown()
    }),
  ]
  function receiveMany(call: Call, recipient: string, max: number, timeoutMs: number, mode: TakeMode): void {
    if (max < 1) throw new BusError('INVALID_ARGUMENT', `max must be at least 1, got ${max}`)
    const got = broker.take(recipient, Math.min(max, MAX_RECEIVE_BATCH), host.maxMessageBytes, mode)
    if (got.length > 0 || timeoutMs === 0) return call.deliver({ success: got }, got)
    const capacity = mode.leaseMs === 0 ? Math.min(max, MAX_RECEIVE_BATCH) : 1
    call.park(broker.wait(recipient, new ReceiveMany(call, capacity, host.maxMessageBytes), timeoutMs, mode))
  }

  /** Takes what the named mailboxes hold, within one reply's bytes; or parks one waiter on each of them. */
  function receiveAny(call: Call, wants: Record<string, number>, timeoutMs: number): void {
    const names = Object.keys(wants)
    if (names.length === 0 || names.length > MAX_RECEIVE_ANY_MAILBOXES) {
      throw new BusError('INVALID_ARGUMENT', `receiveAny names ${names.length} mailboxes; name 1 to ${MAX_RECEIVE_ANY_MAILBOXES} (split a longer list over several calls)`)
    }
    for (const name of names) {
      checkMailboxName(name)
      if (!(wants[name]! >= 1)) throw new BusError('INVALID_ARGUMENT', `receiveAny wants at least 1 message from each mailbox, got ${wants[name]} for ${JSON.stringify(name)}`)
    }
    const got: Message[] = []
    let room = host.maxMessageBytes
    for (const name of names) {
      // Past the first mailbox with messages, a message must fit in what is left of the reply.
      const taken = broker.take(name, Math.min(wants[name]!, MAX_RECEIVE_BATCH), room, AT_MOST_ONCE, got.length > 0)
      for (const m of taken) {
        got.push(m)
        room -= replyBytes(m)
      }
      if (room <= 0) break
    }
    if (got.length > 0 || timeoutMs === 0) return call.deliver({ success: got }, got)
    const any = new ReceiveAny(call, host.maxMessageBytes)
    // The first part keeps the time limit: when it runs out, the whole call ends with [].
    for (let i = 0; i < names.length; i++) {
      const part = new AnyPart(any, Math.min(wants[names[i]!]!, MAX_RECEIVE_BATCH), host.maxMessageBytes)
      any.parts.push(broker.wait(names[i]!, part, i === 0 ? timeoutMs : -1))
    }
    call.park(any)
  }

  const map = new Map<string, MethodBinding>()
  for (const b of list) {
    map.set(b.codec.name, b)
    map.set(`${MessageService.name}:${b.codec.name}`, b)
  }
  return map
}

const AT_MOST_ONCE: TakeMode = { leaseMs: 0, owner: 0 }

class ReceiveOne implements Waiter {
  constructor(
    readonly call: Call,
    readonly recipient: string,
    readonly timeoutMs: number,
  ) {}

  get active(): boolean {
    return this.call.active
  }

  settle(messages: Message[]): void {
    if (messages.length > 0) this.call.deliver({ success: messages[0] }, messages)
    else this.call.fail(new BusError('NO_MESSAGE', `no message arrived in mailbox ${JSON.stringify(this.recipient)} within ${this.timeoutMs} ms`))
  }
}

/** A parked call answered with a list of messages (receiveMessages, receiveLeased, poll); [] when the wait ran out. */
export class ReceiveMany implements Waiter {
  constructor(
    readonly call: Call,
    /** What arrives in the turn it is woken goes out in one reply, up to this many messages and bytes. */
    readonly capacity: number,
    readonly maxBytes: number,
    /** The subscription it waits on (a poll); undefined: a mailbox. */
    readonly from?: number,
  ) {}

  get active(): boolean {
    return this.call.active
  }

  settle(messages: Message[]): void {
    this.call.deliver({ success: messages }, messages, this.from)
  }
}

/**
 * A receiveAny call waiting on several mailboxes, one AnyPart parked on each. The first messages handed to a
 * part, and those handed to the other parts in the same turn, go out in one reply at the end of the turn (a
 * microtask queued after the parts' own fillings). The other parts are then released; messages handed to a
 * part after that, or past the reply's size, go back to the head of their mailboxes.
 */
class ReceiveAny implements Parked {
  readonly parts: Parked[] = []
  readonly #batch: Message[] = []
  #done = false
  #finishQueued = false

  constructor(
    readonly call: Call,
    readonly maxBytes: number,
  ) {}

  get active(): boolean {
    return !this.#done && this.call.active
  }

  /** A part's messages; [] when the first part's time limit ran out. */
  take(messages: Message[]): void {
    if (this.#done) {
      if (messages.length > 0) this.call.session.host.returnUndelivered(messages, undefined)
      return
    }
    if (messages.length === 0) return this.#finish()
    for (const m of messages) this.#batch.push(m)
    if (!this.#finishQueued) {
      this.#finishQueued = true
      soon(this.#finish)
    }
  }

  /** Released by its connection (cancel, close): what it holds goes back. False once it has replied. */
  cancel(): boolean {
    if (this.#done) return false
    this.#release()
    if (this.#batch.length > 0) this.call.session.host.returnUndelivered(this.#batch, undefined)
    return true
  }

  readonly #finish = (): void => {
    if (this.#done) return
    this.#release()
    const batch = this.#batch
    let bytes = 0
    let n = 0
    for (; n < batch.length; n++) {
      const cost = replyBytes(batch[n]!)
      if (n > 0 && bytes + cost > this.maxBytes) break
      bytes += cost
    }
    const reply = n === batch.length ? batch : batch.slice(0, n)
    this.call.deliver({ success: reply }, reply)
    if (n < batch.length) this.call.session.host.returnUndelivered(batch.slice(n), undefined)
  }

  #release(): void {
    this.#done = true
    for (const part of this.parts) part.cancel()
  }
}

/** One mailbox's share of a ReceiveAny: filled like a receiveMessages waiter, then handed to the whole. */
class AnyPart implements Waiter {
  constructor(
    readonly any: ReceiveAny,
    readonly capacity: number,
    readonly maxBytes: number,
  ) {}

  get active(): boolean {
    return this.any.active
  }

  settle(messages: Message[]): void {
    this.any.take(messages)
  }
}
