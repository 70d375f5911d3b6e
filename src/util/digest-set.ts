/**
 * A set of sha256 digests (hex) in flat typed arrays: open addressing over the first 128 bits, about
 * 32 bytes per entry at the load it keeps, against ~200 bytes for a Map of strings. Pools of millions
 * of images are de-duplicated in tens of megabytes. Two different images share a 128-bit prefix with
 * probability ~n²/2¹²⁹ (about 10⁻²⁷ for a million): treated as never.
 */
const WORDS = 4;

export class DigestSet {
  #slots: Uint32Array;
  #capacity: number;
  #size = 0;

  constructor(initialCapacity = 1024) {
    this.#capacity = 1 << Math.ceil(Math.log2(Math.max(16, initialCapacity)));
    this.#slots = new Uint32Array(this.#capacity * WORDS);
  }

  get size(): number {
    return this.#size;
  }

  /** Adds the digest; false when it was already present. */
  add(hex: string): boolean {
    const key = parse(hex);
    if (this.#find(this.#slots, this.#capacity, key) >= 0) return false;
    if ((this.#size + 1) * 2 > this.#capacity) this.#grow();
    this.#insert(this.#slots, this.#capacity, key);
    this.#size++;
    return true;
  }

  has(hex: string): boolean {
    return this.#find(this.#slots, this.#capacity, parse(hex)) >= 0;
  }

  #find(slots: Uint32Array, capacity: number, key: Uint32Array): number {
    for (let i = key[0]! & (capacity - 1); ; i = (i + 1) & (capacity - 1)) {
      const o = i * WORDS;
      if (slots[o] === 0 && slots[o + 1] === 0 && slots[o + 2] === 0 && slots[o + 3] === 0) return -1;
      if (slots[o] === key[0] && slots[o + 1] === key[1] && slots[o + 2] === key[2] && slots[o + 3] === key[3]) return i;
    }
  }

  #insert(slots: Uint32Array, capacity: number, key: Uint32Array): void {
    let i = key[0]! & (capacity - 1);
    while (slots[i * WORDS] !== 0 || slots[i * WORDS + 1] !== 0 || slots[i * WORDS + 2] !== 0 || slots[i * WORDS + 3] !== 0) {
      i = (i + 1) & (capacity - 1);
    }
    slots.set(key, i * WORDS);
  }

  #grow(): void {
    const old = this.#slots;
    const oldCapacity = this.#capacity;
    this.#capacity *= 2;
    this.#slots = new Uint32Array(this.#capacity * WORDS);
    const key = new Uint32Array(WORDS);
    for (let i = 0; i < oldCapacity; i++) {
      const o = i * WORDS;
      if (old[o] === 0 && old[o + 1] === 0 && old[o + 2] === 0 && old[o + 3] === 0) continue;
      key.set(old.subarray(o, o + WORDS));
      this.#insert(this.#slots, this.#capacity, key);
    }
  }
}

/** The first 128 bits of a hex digest; the all-zero key (the empty-slot marker) maps to a fixed other value. */
function parse(hex: string): Uint32Array {
  if (!/^[0-9a-f]{32}/i.test(hex)) throw new Error(`not a hex digest: ${hex}`);
  const key = new Uint32Array(WORDS);
  for (let w = 0; w < WORDS; w++) key[w] = Number.parseInt(hex.slice(w * 8, w * 8 + 8), 16) >>> 0;
  if (key[0] === 0 && key[1] === 0 && key[2] === 0 && key[3] === 0) key[3] = 1;
  return key;
}
