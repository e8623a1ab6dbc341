/**
 * A TopicStore in memory, for tests. It keeps clones, never the engine's objects, so that a test which
 * "restarts" an engine from it sees only what was written through the interface, as with a real file.
 * Every call is recorded in `ops`, so tests can check what reached the store.
 */
import type { Message } from '../../src/gen/thriftbus.js'
import type { StoredSubscription, StoredTopics, TopicStore } from '../../src/broker/topics.js'

export class MemoryTopicStore implements TopicStore {
  readonly subscriptions = new Map<number, StoredSubscription>()
  /** Subscription id -> message id -> message. */
  readonly queues = new Map<number, Map<number, Message>>()
  readonly ops: string[] = []

  saveSubscription(subscription: StoredSubscription): void {
    this.ops.push(`save ${subscription.id}`)
    this.subscriptions.set(subscription.id, { ...subscription })
    if (!this.queues.has(subscription.id)) this.queues.set(subscription.id, new Map())
  }

  deleteSubscription(id: number): void {
    this.ops.push(`delete ${id}`)
    this.subscriptions.delete(id)
    this.queues.delete(id)
  }

  enqueue(subscriptionId: number, message: Message): void {
    this.ops.push(`enqueue ${subscriptionId} ${message.id}`)
    const queue = this.queues.get(subscriptionId)
    if (!queue) throw new Error(`enqueue for subscription ${subscriptionId}, which was never saved`)
    queue.set(message.id!, structuredClone(message))
  }

  dequeue(subscriptionId: number, messageIds: number[]): void {
    this.ops.push(`dequeue ${subscriptionId} ${messageIds.join(',')}`)
    const queue = this.queues.get(subscriptionId)
    for (const id of messageIds) queue?.delete(id)
  }

  loadAll(): StoredTopics {
    const out: StoredTopics = { subscriptions: [], messages: [] }
    for (const s of this.subscriptions.values()) out.subscriptions.push({ ...s })
    for (const [subscriptionId, queue] of this.queues) {
      const ids = [...queue.keys()].sort((a, b) => a - b)
      for (const id of ids) out.messages.push({ subscriptionId, message: structuredClone(queue.get(id)!) })
    }
    return out
  }
}
