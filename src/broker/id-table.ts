/**
 * Values keyed by message id, for the store's entries.
 *
 * Why not a Map: the daemon gives out ids in increasing order and a mailbox's messages leave roughly in
 * order, so the ids the store tracks sit in a window just below the newest. A Map of tens of thousands of
 * them misses the cache on most lookups: in a durable daemon's profile its `set`, `get` and `delete` took
 * about a tenth of the CPU. Here the window is a ring of slots indexed by the id itself, one array access
 * each. An id the window leaves behind (a message still queued after RING_SLOTS newer ids, or an old one
 * put back) moves to a Map, which stays small.
 *
 * Ids must be positive safe integers.
 */
export const RING_SLOTS = 65_536

export class IdTable<T> {
  readonly #slots: (T | undefined)[]
  readonly #mask: number
  /** The ring holds ids from #low to #low + slots - 1. */
  #low = 0
  /** Ids below #low. */
  readonly #old = new Map<number, T>()
  #size = 0

  /** slots: a power of two. */
  constructor(slots = RING_SLOTS) {
    if (!Number.isInteger(slots) || slots < 1 || (slots & (slots - 1)) !== 0) throw new RangeError(`slots must be a power of two, not ${slots}`)
    this.#slots = new Array<T | undefined>(slots).fill(undefined)
    this.#mask = slots - 1
  }

  /** How many ids have a value. */
  get size(): number {
    return this.#size
  }

  get(id: number): T | undefined {
    if (id >= this.#low) return id - this.#low <= this.#mask ? this.#slots[id & this.#mask] : undefined
    return this.#old.size > 0 ? this.#old.get(id) : undefined
  }

  set(id: number, value: T): void {
    if (id < this.#low) {
      if (!this.#old.has(id)) this.#size++
      this.#old.set(id, value)
      return
    }
    if (id - this.#low > this.#mask) this.#advance(id)
    const i = id & this.#mask
    if (this.#slots[i] === undefined) this.#size++
    this.#slots[i] = value
  }

  /** Returns true when id had a value. */
  delete(id: number): boolean {
    if (id < this.#low) {
      if (!this.#old.delete(id)) return false
    } else {
      if (id - this.#low > this.#mask) return false
      const i = id & this.#mask
      if (this.#slots[i] === undefined) return false
      this.#slots[i] = undefined
    }
    this.#size--
    return true
  }

  clear(): void {
    if (this.#size > this.#old.size) this.#slots.fill(undefined)
    this.#old.clear()
    this.#size = 0
  }

  /** Moves the window up to end at id; the values of the ids it leaves behind move to the Map. */
  #advance(id: number): void {
    const low = id - this.#mask
    if (this.#size > this.#old.size) {
      const end = Math.min(low, this.#low + this.#mask + 1)
      for (let k = this.#low; k < end; k++) {
        const i = k & this.#mask
        const v = this.#slots[i]
        if (v === undefined) continue
        this.#old.set(k, v)
        this.#slots[i] = undefined
      }
    }
    this.#low = low
  }
}
