import { createRng } from '../util/rng.js';
import { BoundedHeap } from './bounded-heap.js';
import { createPolicy } from './create-policy.js';
import { Ranker } from './rank.js';
import { scoreResult } from './score-result-fixture.js';

function randomId(rng: ReturnType<typeof createRng>): string {
  return Array.from({ length: 8 }, () => rng.int(16).toString(16)).join('');
}

describe('Ranker', () => {
  const policy = createPolicy('highest-rpr', { k: 10 });

  it.each([1, 7, 100, 2000])('keeps the same top %i as a full sort of random scores', (n) => {
    const rng = createRng(n);
    // Scores on a coarse grid so ties happen and must be broken by id.
    const results = Array.from({ length: 1500 }, () =>
      scoreResult(randomId(rng), { rpr: { '10': rng.int(50) / 50 } }),
    );
    const ranker = new Ranker(policy, n);
    for (const r of results) ranker.offer(r);
    const expected = [...results]
      .sort((a, b) => b.rpr!['10']! - a.rpr!['10']! || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, n)
      .map((r) => r.id);
    expect(ranker.shortlist().map((c) => c.result.id)).toEqual(expected);
  });

  it('breaks ties by id, whatever the arrival order', () => {
    const ids = ['d', 'b', 'e', 'a', 'c'];
    for (const order of [ids, [...ids].reverse()]) {
      const ranker = new Ranker(policy, 3);
      for (const id of order) ranker.offer(scoreResult(id, { rpr: { '10': 0.25 } }));
      expect(ranker.shortlist().map((c) => c.result.id)).toEqual(['a', 'b', 'c']);
    }
  });

  it('never holds more than its capacity, however long the stream', () => {
    const rng = createRng(3);
    const ranker = new Ranker(policy, 25);
    let largest = 0;
    for (let i = 0; i < 50_000; i++) {
      ranker.offer(scoreResult(`id${i}`, { rpr: { '10': rng.next() } }));
      largest = Math.max(largest, ranker.size);
    }
    expect(largest).toBe(25);
  });

  it('skips failed, unscored and unrankable images with a reason, and duplicates', () => {
    const ranker = new Ranker(createPolicy('entropy'), 10);
    expect(ranker.offer(scoreResult('z', { rpr: null, error: 'all-zero image' }))).toEqual({
      kind: 'skipped',
      reason: 'all-zero image',
    });
    expect(ranker.offer(scoreResult('n', { rpr: null })).kind).toBe('skipped');
    const noLogits = ranker.offer(scoreResult('l'));
    expect(noLogits.kind === 'skipped' && noLogits.reason).toMatch(/needs logits/);
    expect(ranker.offer(scoreResult('ok', { logits: [1, 2] }))).toEqual({ kind: 'ranked' });
    const duplicate = ranker.offer(scoreResult('ok', { logits: [1, 2] }));
    expect(duplicate.kind === 'skipped' && duplicate.reason).toMatch(/duplicate/);
    expect(ranker.shortlist().map((c) => c.result.id)).toEqual(['ok']);
  });

  it('skips non-finite policy scores', () => {
    const ranker = new Ranker(createPolicy('highest-rpr'), 5);
    expect(ranker.offer(scoreResult('nan', { rpr: { '10': Number.NaN } })).kind).toBe('skipped');
    expect(ranker.size).toBe(0);
  });
});

describe('BoundedHeap', () => {
  it.each([0, 1, 5, 40])('capacity %i keeps the largest values of a random stream', (capacity) => {
    const rng = createRng(capacity + 11);
    const values = Array.from({ length: 30 }, () => rng.int(1000) + rng.next());
    const heap = new BoundedHeap<number>(capacity, (a, b) => a > b);
    for (const v of values) heap.offer(v);
    expect(heap.sorted()).toEqual([...values].sort((a, b) => b - a).slice(0, capacity));
  });

  it('reports what left: nothing, the evicted worst, or the rejected item', () => {
    const heap = new BoundedHeap<number>(2, (a, b) => a > b);
    expect(heap.offer(5)).toBeNull();
    expect(heap.offer(3)).toBeNull();
    expect(heap.offer(1)).toBe(1);
    expect(heap.offer(9)).toBe(3);
  });
});
