import { availableParallelism } from 'node:os';
import PQueue from 'p-queue';
import { errors } from '../errors/index.js';

export interface MapOrderedOptions {
  /**
   * How many `fn` calls run at once.
   * @defaultValue os.availableParallelism()
   */
  readonly concurrency?: number;
  /**
   * Items taken from the input and not yet yielded, at most: this bounds memory, so a fast source
   * waits for a slow consumer (backpressure).
   * @defaultValue 2 × concurrency
   */
  readonly maxInFlight?: number;
  /** Stops pulling input and throws the signal's reason at the next step. */
  readonly signal?: AbortSignal;
}

/**
 * An item's result when it is known without calling `fn` (an entry already resolved), else undefined:
 * such an item takes its place in the output without waiting for a concurrency slot.
 */
export type KnownResult<T, R> = (item: T) => R | undefined;

/**
 * Maps an async stream with bounded concurrency, yielding results in input order. A rejection is
 * thrown when its item's turn comes, so a failure is never reported out of order.
 */
export async function* mapOrdered<T, R>(
  items: AsyncIterable<T>,
  fn: (item: T) => Promise<R>,
  options: MapOrderedOptions = {},
  known?: KnownResult<T, R>,
): AsyncGenerator<R, void, undefined> {
  const concurrency = options.concurrency ?? availableParallelism();
  const maxInFlight = options.maxInFlight ?? 2 * concurrency;
  checkPositiveInteger('concurrency', concurrency);
  checkPositiveInteger('maxInFlight', maxInFlight);
  const queue = new PQueue({ concurrency });
  const window: Promise<R>[] = [];
  const iterator = items[Symbol.asyncIterator]();
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && window.length < maxInFlight) {
        options.signal?.throwIfAborted();
        const next = await iterator.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        const item = next.value;
        const ready = known?.(item);
        const result = ready === undefined ? queue.add(() => fn(item)) : Promise.resolve(ready);
        // Observed when its turn comes; this only keeps a waiting rejection from counting as unhandled.
        result.catch(() => undefined);
        window.push(result);
      }
      const head = window.shift();
      if (head === undefined) return;
      options.signal?.throwIfAborted();
      yield await head;
    }
  } finally {
    queue.clear();
    if (!exhausted) await iterator.return?.();
  }
}

function checkPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw errors.usage(`option ${name} must be a positive integer, got ${value}`, { option: name, value });
  }
}
