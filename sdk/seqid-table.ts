/**
 * The calls of one connection waiting for their replies, by seqid: an open-addressing hash table with linear
 * probing, for what a Map did here before. Seqids are handed out in sequence, so they rarely collide, and a
 * lookup is a few array reads. A Map's delete is costly on this path: every call adds an entry and removes it
 * soon after, so the Map's table was rehashed, shrunk and grown again on every round trip (about 800
 * instructions of a client's 43,000 a round trip, counted with callgrind).
 */
export class SeqidTable<V extends object> {
  #keys = new Int32Array(16)
  #values: (V | undefined)[] = new Array<V | undefined>(16).fill(undefined)
  #mask = 15
  #size = 0

  get size(): number {
    return this.#size
  }

  get(seqid: number): V | undefined {
    const i = this.#find(seqid)
    return i < 0 ? undefined : this.#values[i]
  }

  has(seqid: number): boolean {
    return this.#find(seqid) >= 0
  }

  /** Adds or replaces the entry for seqid. */
  set(seqid: number, value: V): void {
    const found = this.#find(seqid)
    if (found >= 0) {
      this.#values[found] = value
      return
    }
    if (2 * (this.#size + 1) > this.#mask + 1) this.#grow()
    const keys = this.#keys
    const values = this.#values
    const mask = this.#mask
    let i = seqid & mask
    while (values[i] !== undefined) i = (i + 1) & mask
    keys[i] = seqid
    values[i] = value
    this.#size++
  }

  /** Removes the entry for seqid; false when there was none. */
  delete(seqid: number): boolean {
    let i = this.#find(seqid)
    if (i < 0) return false
    const keys = this.#keys
    const values = this.#values
    const mask = this.#mask
    // Backward-shift deletion: entries after the hole that probed past it move into it, so no lookup ever
    // stops early at the hole (no tombstones).
    for (let j = (i + 1) & mask; values[j] !== undefined; j = (j + 1) & mask) {
      const home = keys[j]! & mask
      // The entry at j stays when its home slot lies cyclically in (i, j].
      const stays = i <= j ? i < home && home <= j : i < home || home <= j
      if (stays) continue
      keys[i] = keys[j]!
      values[i] = values[j]
      i = j
    }
    values[i] = undefined
    this.#size--
    return true
  }

  clear(): void {
    this.#values.fill(undefined)
    this.#size = 0
  }

  /**
   * The values in the order their seqids were handed out, when they were handed out in sequence from `last`
   * down (wrapping past 2^31): the oldest first.
   */
  inOrder(last: number): V[] {
    const entries: [age: number, value: V][] = []
    for (let i = 0; i < this.#values.length; i++) {
      const v = this.#values[i]
      if (v !== undefined) entries.push([(last - this.#keys[i]!) >>> 0, v])
    }
    return entries.sort((a, b) => b[0] - a[0]).map((e) => e[1])
  }

  #find(seqid: number): number {
    const keys = this.#keys
    const values = this.#values
    const mask = this.#mask
    for (let i = seqid & mask; values[i] !== undefined; i = (i + 1) & mask) {
      if (keys[i] === seqid) return i
    }
    return -1
  }

  #grow(): void {
    const keys = this.#keys
    const values = this.#values
    const capacity = 2 * (this.#mask + 1)
    this.#keys = new Int32Array(capacity)
    this.#values = new Array<V | undefined>(capacity).fill(undefined)
    this.#mask = capacity - 1
    this.#size = 0
    for (let i = 0; i < values.length; i++) if (values[i] !== undefined) this.set(keys[i]!, values[i]!)
  }
}
