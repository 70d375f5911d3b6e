import { createPolicy } from './create-policy.js';
import { Ranker, type RankedCandidate } from './rank.js';
import { scoreResult } from './score-result-fixture.js';
import { selectBatch } from './select-batch.js';

function shortlistOf(results: ReturnType<typeof scoreResult>[], capacity = 1000): RankedCandidate[] {
  const ranker = new Ranker(createPolicy('lowest-rpr'), capacity);
  for (const r of results) ranker.offer(r);
  return ranker.shortlist();
}

describe('selectBatch', () => {
  // Three clusters in 2-D; the best-ranked (lowest RPR) images all sit in cluster A.
  const centres = { A: [0, 0], B: [10, 0], C: [0, 10] } as const;
  const toy = (['A', 'B', 'C'] as const).flatMap((name, c) =>
    Array.from({ length: 5 }, (_, i) =>
      scoreResult(`${name}${i}`, {
        rpr: { '10': c * 0.3 + i * 0.01 },
        coords: [centres[name][0] + i * 0.1, centres[name][1] - i * 0.1],
      }),
    ),
  );

  it('without diversity takes the top of the ranking', () => {
    const batch = selectBatch(shortlistOf(toy), { capacity: 3 });
    expect(batch.picked.map((c) => c.result.id)).toEqual(['A0', 'A1', 'A2']);
    expect(batch.picked.map((c) => c.rank)).toEqual([1, 2, 3]);
  });

  it('with diversity spreads the batch over the three clusters, starting from the best', () => {
    const batch = selectBatch(shortlistOf(toy), { capacity: 3, diversity: true });
    const ids = batch.picked.map((c) => c.result.id);
    expect(ids[0]).toBe('A0');
    expect(new Set(ids.map((id) => id[0]))).toEqual(new Set(['A', 'B', 'C']));
    // Farthest-first: from A0=(0,0) the farthest points are B4=(10.4,-0.4) (d²=108.32) and
    // C0=(0,10) (d²=100), so B4 comes second; then the C points are nearer A0 than B4, and of their
    // distances to A0, (0.1i)² + (10 − 0.1i)², C0's 100 is the largest.
    expect(ids).toEqual(['A0', 'B4', 'C0']);
  });

  it('keeps each predicted class within its share', () => {
    const results = Array.from({ length: 40 }, (_, i) =>
      scoreResult(`p${String(i).padStart(2, '0')}`, { rpr: { '10': i / 100 }, predicted: i < 30 ? 0 : 1 + (i % 3) }),
    );
    const batch = selectBatch(shortlistOf(results), { capacity: 10, maxClassShare: 0.4 });
    const perClass = new Map<number | null, number>();
    for (const c of batch.picked) perClass.set(c.result.predicted, (perClass.get(c.result.predicted) ?? 0) + 1);
    expect(perClass.get(0)).toBe(4);
    expect(Math.max(...perClass.values())).toBeLessThanOrEqual(4);
    expect(batch.picked).toHaveLength(10);
    expect(batch.overQuota).toBeGreaterThan(0);
  });

  it('quotas and diversity compose', () => {
    const batch = selectBatch(
      shortlistOf(toy.map((r, i) => ({ ...r, predicted: i < 5 ? 7 : 8 }))),
      { capacity: 4, diversity: true, maxClassShare: 0.5 },
    );
    const sevens = batch.picked.filter((c) => c.result.predicted === 7).length;
    expect(sevens).toBeLessThanOrEqual(2);
    expect(batch.picked).toHaveLength(4);
  });

  it('never exceeds the capacity in cost units and skips what no longer fits', () => {
    const costs = [4, 5, 2, 1];
    const ranker = new Ranker(createPolicy('lowest-rpr'), 10);
    [0.1, 0.2, 0.3, 0.4].forEach((v, i) => ranker.offer(scoreResult(`c${i}`, { rpr: { '10': v } }), costs[i]));
    const batch = selectBatch(ranker.shortlist(), { capacity: 7 });
    expect(batch.picked.map((c) => c.result.id)).toEqual(['c0', 'c2', 'c3']);
    expect(batch.spent).toBe(7);
    expect(batch.overCapacity).toBe(1);
  });

  it('asks for coordinates when diversity is on and the scorer gave none', () => {
    expect(() => selectBatch(shortlistOf([scoreResult('x')]), { capacity: 1, diversity: true })).toThrow(
      /diversity needs projection coordinates/,
    );
  });
});
