import { createRng } from '../util/rng.js';
import { holmAdjust, mannWhitneyU, normalCdf } from './mann-whitney.js';
import { quantileSorted, summarize } from './summary-stats.js';

/** All ways to pick k of n indices. */
function combinations(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  if (n < k) return [];
  return [...combinations(n - 1, k - 1).map((c) => [...c, n - 1]), ...combinations(n - 1, k)];
}

describe('normalCdf', () => {
  it('matches tabulated values, including the far tail', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 14);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 12);
    expect(normalCdf(-1)).toBeCloseTo(0.15865525393145707, 12);
    // Φ(−2.5) and Φ(−5), on both sides of the series / continued-fraction switch; relative accuracy
    // matters for small p-values.
    expect(Math.abs(normalCdf(-2.5) / 0.006209665325776132 - 1)).toBeLessThan(1e-10);
    expect(Math.abs(normalCdf(-5) / 2.866515718791939e-7 - 1)).toBeLessThan(1e-10);
    expect(Math.abs(normalCdf(-10) / 7.619853024160527e-24 - 1)).toBeLessThan(1e-10);
  });
});

describe('mannWhitneyU', () => {
  it('U counts pairs a > b (ties ½), and mean/variance equal the exact permutation moments with ties', () => {
    const a = [1, 2, 2, 5];
    const b = [2, 3, 3, 5, 0];
    const pairs = a.reduce((s, x) => s + b.reduce((t, y) => t + (x > y ? 1 : x === y ? 0.5 : 0), 0), 0);
    const r = mannWhitneyU(a, b);
    expect(r.u).toBe(pairs);
    expect(r.a).toBeCloseTo(pairs / 20, 12);
    // Exact null distribution: every split of the pooled values into groups of 4 and 5.
    const pooled = [...a, ...b];
    const us = combinations(9, 4).map((idx) => {
      const aa = idx.map((i) => pooled[i]!);
      const bb = pooled.filter((_, i) => !idx.includes(i));
      return aa.reduce((s, x) => s + bb.reduce((t, y) => t + (x > y ? 1 : x === y ? 0.5 : 0), 0), 0);
    });
    const mean = us.reduce((s, u) => s + u, 0) / us.length;
    const variance = us.reduce((s, u) => s + (u - mean) ** 2, 0) / us.length;
    // The implementation's z encodes its variance: z·sd = ±(|U − E| − ½).
    const expectedZ = (Math.sign(pairs - mean) * Math.max(0, Math.abs(pairs - mean) - 0.5)) / Math.sqrt(variance);
    expect(mean).toBe(10);
    expect(r.z).toBeCloseTo(expectedZ, 12);
    expect(r.p).toBeCloseTo(2 * normalCdf(-Math.abs(expectedZ)), 7);
  });

  it('gives a small p for shifted samples and a large one for samples from the same law', () => {
    const rng = createRng(5);
    const draw = (n: number, shift: number) => Array.from({ length: n }, () => rng.normal() + shift);
    const shifted = mannWhitneyU(draw(60, 0), draw(80, 1));
    expect(shifted.p).toBeLessThan(1e-6);
    expect(shifted.a).toBeLessThan(0.3);
    const same = mannWhitneyU(draw(60, 0), draw(80, 0));
    expect(same.p).toBeGreaterThan(0.1);
    expect(Math.abs(same.a - 0.5)).toBeLessThan(0.1);
  });

  it('returns p = 1 when every value is tied', () => {
    expect(mannWhitneyU([1, 1, 1], [1, 1])).toEqual({ u: 3, z: 0, p: 1, a: 0.5 });
  });
});

describe('holmAdjust', () => {
  it('multiplies the i-th smallest p by (m − i + 1), keeps them monotone, and skips nulls', () => {
    const adjusted = holmAdjust([0.01, 0.04, null, 0.03, 0.005]);
    const expected = [0.03, 0.06, null, 0.06, 0.02];
    adjusted.forEach((p, i) => (expected[i] === null ? expect(p).toBeNull() : expect(p).toBeCloseTo(expected[i]!, 12)));
    expect(holmAdjust([0.9, 0.8])).toEqual([1, 1]);
    expect(holmAdjust([0.02, 0.3])).toEqual([0.04, 0.3]);
  });
});

describe('summarize', () => {
  it('uses linearly interpolated quartiles (type 7)', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
    expect(summarize([4, 1, 3, 2])).toEqual({ n: 4, mean: 2.5, min: 1, q1: 1.75, median: 2.5, q3: 3.25, max: 4 });
    expect(summarize([])).toBeNull();
  });
});
