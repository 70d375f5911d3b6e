import { type Ordered, orderedBatches } from './ordered-batches.js';

/** Items from a spec string: 'r' a ready item, 'w' a work item, numbered by position. */
async function* itemsOf(spec: string, onTake: () => void = () => undefined): AsyncGenerator<Ordered<number, string>> {
  for (const [i, c] of [...spec].entries()) {
    onTake();
    yield c === 'r' ? { ready: `ready ${i}` } : { work: i };
  }
}

async function collect<T>(stream: AsyncIterable<T>, onEach: (item: T) => void = () => undefined): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) {
    onEach(item);
    out.push(item);
  }
  return out;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('orderedBatches', () => {
  it('yields every outcome in input order, work gathered into full batches across ready items', async () => {
    const batches: number[][] = [];
    const compute = async (work: readonly number[]) => {
      batches.push([...work]);
      await delay(1);
      return work.map((i) => `computed ${i}`);
    };
    const spec = 'rwwrwrrwwwr';
    const out = await collect(orderedBatches(itemsOf(spec), compute, { batchSize: 3 }));
    expect(out).toEqual([...spec].map((c, i) => (c === 'r' ? `ready ${i}` : `computed ${i}`)));
    expect(batches).toEqual([[1, 2, 4], [7, 8, 9]]);
  });

  it('computes at most maxInFlight batches at once, and does overlap them', async () => {
    let running = 0;
    let most = 0;
    const compute = async (work: readonly number[]) => {
      running++;
      most = Math.max(most, running);
      await delay(5);
      running--;
      return work.map(String);
    };
    const out = await collect(orderedBatches(itemsOf('w'.repeat(40)), compute, { batchSize: 4, maxInFlight: 3 }));
    expect(out).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));
    expect(most).toBe(3);
  });

  it('a few work items among many ready ones: the batch is cut short so at most maxHeld outcomes wait', async () => {
    const batches: number[][] = [];
    const compute = async (work: readonly number[]) => {
      batches.push([...work]);
      return work.map(String);
    };
    let taken = 0;
    let yielded = 0;
    let mostWaiting = 0;
    const spec = ('w' + 'r'.repeat(30)).repeat(4);
    const out = await collect(
      orderedBatches(
        itemsOf(spec, () => {
          taken++;
          mostWaiting = Math.max(mostWaiting, taken - yielded);
        }),
        compute,
        { batchSize: 100, maxHeld: 10 },
      ),
      () => yielded++,
    );
    expect(out).toEqual([...spec].map((c, i) => (c === 'r' ? `ready ${i}` : String(i))));
    expect(batches).toEqual([[0], [31], [62], [93]]);
    expect(mostWaiting).toBeLessThanOrEqual(11);
  });

  it('a failed batch throws at its turn, after every earlier outcome; a consumer that stops early leaves nothing unsettled', async () => {
    const compute = async (work: readonly number[]) => {
      await delay(1);
      if (work.includes(4)) throw new Error('batch with item 4 failed');
      return work.map(String);
    };
    const seen: string[] = [];
    await expect(collect(orderedBatches(itemsOf('wwrwwww'), compute, { batchSize: 2, maxInFlight: 2 }), (o) => seen.push(o))).rejects.toThrow(
      'batch with item 4 failed',
    );
    // Item 3 shares the failed batch with item 4: the error comes at item 3's turn.
    expect(seen).toEqual(['0', '1', 'ready 2']);

    let started = 0;
    let settled = 0;
    const slow = async (work: readonly number[]) => {
      started++;
      await delay(10);
      settled++;
      return work.map(String);
    };
    for await (const first of orderedBatches(itemsOf('w'.repeat(12)), slow, { batchSize: 2, maxInFlight: 3 })) {
      expect(first).toBe('0');
      break;
    }
    // Stopping waited for the batches still computing, and started no more.
    expect(started).toBeLessThan(6);
    expect(settled).toBe(started);
  });

  it('refuses a batch size that is not a positive integer, naming the option', async () => {
    const compute = async (work: readonly number[]) => work.map(String);
    await expect(collect(orderedBatches(itemsOf('w'), compute, { batchSize: 0 }))).rejects.toMatchObject({
      code: 'RPR_USAGE',
      message: expect.stringContaining('batchSize'),
    });
  });
});
