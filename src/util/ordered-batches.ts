/**
 * A stream of items, some already resolved and some needing work done in batches (a scorer's cache hits
 * and misses), turned back into one stream of outcomes in input order. Work is gathered into batches as
 * it comes, resolved items between them do not break a batch, and memory stays bounded.
 */
import { errors } from '../errors/index.js';

/** An item whose outcome is known (`ready`), or one whose outcome a batch computes (`work`). */
export type Ordered<W, R> = { readonly ready: R } | { readonly work: W };

export interface OrderedBatchesOptions {
  /** Work items per batch; the last batch, and one cut short by `maxHeld`, may be smaller. */
  readonly batchSize: number;
  /** Batches computing at once. @defaultValue 1 */
  readonly maxInFlight?: number;
  /**
   * Outcomes held back behind a batch not yet computed, at most. Past it the batch being gathered is
   * computed as it is, so a few work items among many ready ones cannot hold the stream up.
   * @defaultValue 4 × batchSize
   */
  readonly maxHeld?: number;
}

interface Batch<W, R> {
  readonly work: W[];
  results: R[] | null;
  /** Set at launch; rejects when the batch fails. */
  done: Promise<void> | null;
  /** Set at launch; resolves once the batch is over, whatever the outcome. */
  settled: Promise<void> | null;
}

type Slot<W, R> = { readonly ready: R } | { readonly batch: Batch<W, R>; readonly index: number };

function checkCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw errors.usage(`option ${name} must be a positive integer, got ${value}`, { option: name, value });
}

/**
 * Yields each item's outcome in input order: a ready item's value, a work item's result from
 * `compute(batch)` (which returns one result per work item, in order). A failed batch throws when its
 * first item's turn comes, after every earlier outcome.
 */
export async function* orderedBatches<W, R>(
  items: AsyncIterable<Ordered<W, R>>,
  compute: (work: readonly W[]) => Promise<readonly R[]>,
  options: OrderedBatchesOptions,
): AsyncGenerator<R, void, undefined> {
  const { batchSize, maxInFlight = 1, maxHeld = 4 * options.batchSize } = options;
  checkCount('batchSize', batchSize);
  checkCount('maxInFlight', maxInFlight);
  checkCount('maxHeld', maxHeld);
  const slots: Slot<W, R>[] = [];
  const running = new Set<Batch<W, R>>();
  let open: Batch<W, R> | null = null;

  const launchOpen = async (): Promise<void> => {
    const batch = open;
    if (batch === null) return;
    open = null;
    while (running.size >= maxInFlight) await Promise.race([...running].map((b) => b.settled));
    batch.done = compute(batch.work).then((results) => {
      if (results.length !== batch.work.length) throw errors.internal(`a batch of ${batch.work.length} items returned ${results.length} results`);
      batch.results = [...results];
    });
    batch.settled = batch.done.then(
      () => undefined,
      () => undefined,
    );
    running.add(batch);
    void batch.settled.then(() => running.delete(batch));
  };

  /** Yields the outcomes at the head that are known; waits for the head while more than `keep` are held. */
  async function* drain(keep: number): AsyncGenerator<R, void, undefined> {
    while (slots.length > 0) {
      const head = slots[0]!;
      if ('ready' in head) {
        slots.shift();
        yield head.ready;
      } else if (head.batch.results !== null) {
        slots.shift();
        yield head.batch.results[head.index]!;
      } else if (slots.length <= keep) {
        return;
      } else {
        if (head.batch === open) await launchOpen();
        await head.batch.done;
      }
    }
  }

  try {
    for await (const item of items) {
      if ('ready' in item) {
        slots.push({ ready: item.ready });
      } else {
        open ??= { work: [], results: null, done: null, settled: null };
        slots.push({ batch: open, index: open.work.length });
        open.work.push(item.work);
        if (open.work.length >= batchSize) await launchOpen();
      }
      yield* drain(maxHeld);
    }
    await launchOpen();
    yield* drain(0);
  } finally {
    // A consumer that stops early leaves batches running: settle them so none rejects unobserved.
    await Promise.all([...running].map((b) => b.settled));
  }
}
