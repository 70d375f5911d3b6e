import { setTimeout as sleep } from 'node:timers/promises';
import { mapOrdered } from './map-ordered.js';

/** A source that counts how many of its items have been taken and not yet handed to the consumer. */
function countingSource(n: number) {
  const state = { taken: 0, consumed: 0, maxOutstanding: 0, returned: false };
  async function* items() {
    try {
      for (let i = 0; i < n; i++) {
        state.taken++;
        state.maxOutstanding = Math.max(state.maxOutstanding, state.taken - state.consumed);
        yield i;
      }
    } finally {
      state.returned = true;
    }
  }
  return { state, items: items() };
}

async function collect<T>(iterable: AsyncIterable<T>, onItem: () => void = () => undefined): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) {
    onItem();
    out.push(item);
  }
  return out;
}

describe('mapOrdered', () => {
  it('yields results in input order although later items finish first', async () => {
    const n = 20;
    const finished: number[] = [];
    const { items } = countingSource(n);
    const out = await collect(
      mapOrdered(items, async (i) => {
        await sleep((n - i) * 3);
        finished.push(i);
        return i * i;
      }, { concurrency: 4 }),
    );
    expect(out).toEqual(Array.from({ length: n }, (_, i) => i * i));
    // The run really was concurrent: completion order differed from input order.
    expect(finished).not.toEqual([...finished].sort((a, b) => a - b));
  });

  it('never holds more than maxInFlight items between the source and a slow consumer', async () => {
    const { state, items } = countingSource(50);
    let running = 0;
    let maxRunning = 0;
    const out = await collect(
      mapOrdered(items, async (i) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(1);
        running--;
        return i;
      }, { concurrency: 3 }),
      () => state.consumed++,
    );
    expect(out).toHaveLength(50);
    expect(state.maxOutstanding).toBeLessThanOrEqual(6);
    expect(state.maxOutstanding).toBeGreaterThan(1);
    expect(maxRunning).toBeLessThanOrEqual(3);
  });

  it('throws a failure at its position in the order, after the results before it', async () => {
    const { items } = countingSource(10);
    const seen: number[] = [];
    const run = async () => {
      for await (const value of mapOrdered(items, async (i) => {
        if (i === 4) throw new Error('item 4 failed');
        await sleep(5);
        return i;
      }, { concurrency: 4 })) seen.push(value);
    };
    await expect(run()).rejects.toThrow('item 4 failed');
    expect(seen).toEqual([0, 1, 2, 3]);
  });

  it('closes the source when the consumer stops early', async () => {
    const { state, items } = countingSource(1000);
    for await (const value of mapOrdered(items, async (i) => i, { concurrency: 2 })) {
      if (value === 3) break;
    }
    expect(state.returned).toBe(true);
    expect(state.taken).toBeLessThan(20);
  });

  it('stops with the abort reason when the signal is aborted', async () => {
    const { items } = countingSource(1000);
    const controller = new AbortController();
    const reason = new Error('stopped by caller');
    const run = async () => {
      for await (const value of mapOrdered(items, async (i) => i, { concurrency: 2, signal: controller.signal })) {
        if (value === 5) controller.abort(reason);
      }
    };
    await expect(run()).rejects.toBe(reason);
  });

  it('known items skip fn and take their place without waiting for a slot', async () => {
    const { items } = countingSource(12);
    const called: number[] = [];
    let running = 0;
    let most = 0;
    const out = await collect(
      mapOrdered(
        items,
        async (i) => {
          called.push(i);
          running++;
          most = Math.max(most, running);
          await sleep(5);
          running--;
          return `computed ${i}`;
        },
        { concurrency: 1 },
        (i) => (i % 3 === 0 ? undefined : `known ${i}`),
      ),
    );
    expect(out).toEqual(Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? `computed ${i}` : `known ${i}`)));
    expect(called).toEqual([0, 3, 6, 9]);
    expect(most).toBe(1);
  });

  it('rejects a concurrency that is not a positive integer, naming the option', async () => {
    const { items } = countingSource(1);
    await expect(collect(mapOrdered(items, async (i) => i, { concurrency: 0 }))).rejects.toMatchObject({
      code: 'RPR_USAGE',
      message: expect.stringContaining('concurrency'),
    });
  });
});
