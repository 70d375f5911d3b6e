/**
 * Keeps the best `capacity` items seen so far in O(capacity) memory: a binary heap whose root is the
 * worst item kept, so a new item costs one comparison when it is not good enough and O(log n) when it is.
 */
export class BoundedHeap<T> {
  readonly capacity: number;
  readonly #better: (a: T, b: T) => boolean;
  readonly #items: T[] = [];

  /** `better(a, b)` is true when a ranks strictly before b; it must be a strict total order. */
  constructor(capacity: number, better: (a: T, b: T) => boolean) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`heap capacity must be a non-negative integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#better = better;
  }

  get size(): number {
    return this.#items.length;
  }

  /** Offers an item; returns the item that left (the evicted worst, or `item` itself), or null. */
  offer(item: T): T | null {
    const items = this.#items;
    if (items.length < this.capacity) {
      items.push(item);
      this.#siftUp(items.length - 1);
      return null;
    }
    if (items.length === 0 || !this.#better(item, items[0]!)) return item;
    const evicted = items[0]!;
    items[0] = item;
    this.#siftDown(0);
    return evicted;
  }

  /** The kept items, best first (a copy; the heap is unchanged). */
  sorted(): T[] {
    return [...this.#items].sort((a, b) => (this.#better(a, b) ? -1 : this.#better(b, a) ? 1 : 0));
  }

  /** True when a ranks after b: the heap keeps the worst at the root. */
  #worse(a: T, b: T): boolean {
    return this.#better(b, a);
  }

  #siftUp(index: number): void {
    const items = this.#items;
    let child = index;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!this.#worse(items[child]!, items[parent]!)) break;
      [items[child], items[parent]] = [items[parent]!, items[child]!];
      child = parent;
    }
  }

  #siftDown(index: number): void {
    const items = this.#items;
    let parent = index;
    for (;;) {
      const left = 2 * parent + 1;
      const right = left + 1;
      let worst = parent;
      if (left < items.length && this.#worse(items[left]!, items[worst]!)) worst = left;
      if (right < items.length && this.#worse(items[right]!, items[worst]!)) worst = right;
      if (worst === parent) return;
      [items[parent], items[worst]] = [items[worst]!, items[parent]!];
      parent = worst;
    }
  }
}
