/** A double-ended queue on a ring buffer: O(1) push, shift and unshift, no per-element allocation. */
export class Deque<T> {
  #items: (T | undefined)[] = new Array(16)
  #head = 0
  #size = 0

  get length(): number {
    return this.#size
  }

  push(item: T): void {
    if (this.#size === this.#items.length) this.#grow()
    this.#items[(this.#head + this.#size) & (this.#items.length - 1)] = item
    this.#size++
  }

  unshift(item: T): void {
    if (this.#size === this.#items.length) this.#grow()
    this.#head = (this.#head - 1) & (this.#items.length - 1)
    this.#items[this.#head] = item
    this.#size++
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head] = undefined
    this.#head = (this.#head + 1) & (this.#items.length - 1)
    this.#size--
    return item
  }

  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[this.#head]
  }

  clear(): void {
    this.#items = new Array(16)
    this.#head = 0
    this.#size = 0
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.#size; i++) yield this.#items[(this.#head + i) & (this.#items.length - 1)] as T
  }

  #grow(): void {
    const old = this.#items
    const next: (T | undefined)[] = new Array(old.length * 2)
    for (let i = 0; i < this.#size; i++) next[i] = old[(this.#head + i) & (old.length - 1)]
    this.#items = next
    this.#head = 0
  }
}
