/** Binds MessageService's methods to the broker. Each handler answers its call now, or parks it (long-polls). */
import { BusError } from '../errors.js'
import {
  MessageService, type DaemonStatus, type Message,
  type MessageService_receiveMessage_args, type MessageService_receiveMessages_args,
} from '../gen/thriftbus.js'
import { checkMailboxName, type Broker, type Waiter } from '../broker/broker.js'
import type { Call, MethodBinding } from './session.js'

/** Most messages one receiveMessages call returns. */
export const MAX_RECEIVE_BATCH = 10_000

export interface MessageServiceHost {
  readonly broker: Broker
  readonly maxMessageBytes: number
  status(): DaemonStatus
  /** Starts a graceful shutdown after the current reply is written. */
  requestShutdown(): void
}

const methods = MessageService.methods

/** Returns the bindings under both their bare and their multiplexed ("MessageService:name") names. */
export function messageServiceBindings(host: MessageServiceHost): Map<string, MethodBinding> {
  const { broker } = host
  const bind = (codec: MethodBinding['codec'], handle: MethodBinding['handle']): MethodBinding => ({ codec, handle })
  const list: MethodBinding[] = [
    bind(methods.sendMessage, (call, args) => {
      if (!args.message) throw new BusError('INVALID_ARGUMENT', 'sendMessage needs a message; pass Message(sender, recipient, content)')
      broker.send(args.message)
      call.reply({ success: true })
    }),
    bind(methods.receiveMessage, (call, args: MessageService_receiveMessage_args) => {
      const m = broker.takeOne(args.recipient)
      if (m) return call.deliver({ success: m }, [m])
      const timeoutMs = args.timeoutMs ?? 0
      if (timeoutMs === 0) throw new BusError('NO_MESSAGE', `mailbox ${JSON.stringify(args.recipient)} is empty`)
      call.park(broker.wait(args.recipient, new ReceiveOne(call, args.recipient, timeoutMs), timeoutMs))
    }),
    bind(methods.receiveMessages, (call, args: MessageService_receiveMessages_args) => {
      if (args.max < 1) throw new BusError('INVALID_ARGUMENT', `max must be at least 1, got ${args.max}`)
      const max = Math.min(args.max, MAX_RECEIVE_BATCH)
      const got = broker.take(args.recipient, max, host.maxMessageBytes)
      const timeoutMs = args.timeoutMs ?? 0
      if (got.length > 0 || timeoutMs === 0) return call.deliver({ success: got }, got)
      call.park(broker.wait(args.recipient, new ReceiveMany(call), timeoutMs))
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
    bind(methods.ping, (call) => {
      call.reply({ success: host.status().version })
    }),
    bind(methods.status, (call) => {
      call.reply({ success: host.status() })
    }),
    bind(methods.shutdown, (call) => {
      call.reply({})
      host.requestShutdown()
    }),
  ]
  const map = new Map<string, MethodBinding>()
  for (const b of list) {
    map.set(b.codec.name, b)
    map.set(`${MessageService.name}:${b.codec.name}`, b)
  }
  return map
}

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

class ReceiveMany implements Waiter {
  constructor(readonly call: Call) {}

  get active(): boolean {
    return this.call.active
  }

  settle(messages: Message[]): void {
    this.call.deliver({ success: messages }, messages)
  }
}
