import { averageRanks, regularizedBeta, spearman, studentTTwoSided } from './spearman.js';

describe('averageRanks', () => {
  it('ranks from 1 and averages ties', () => {
    expect(averageRanks([10, 30, 20, 30, 5])).toEqual([2, 4.5, 3, 4.5, 1]);
  });
});

describe('regularizedBeta', () => {
  it('matches the closed forms I_x(1, 1) = x, I_x(a, 1) = x^a, I_x(1, b) = 1 − (1 − x)^b', () => {
    for (const x of [0.01, 0.3, 0.5, 0.77, 0.99]) {
      expect(regularizedBeta(x, 1, 1)).toBeCloseTo(x, 12);
      expect(regularizedBeta(x, 3.5, 1)).toBeCloseTo(x ** 3.5, 12);
      expect(regularizedBeta(x, 1, 2.5)).toBeCloseTo(1 - (1 - x) ** 2.5, 12);
    }
  });
  it('is 0 and 1 at the ends', () => {
    expect(regularizedBeta(0, 2, 3)).toBe(0);
    expect(regularizedBeta(1, 2, 3)).toBe(1);
  });
});

describe('studentTTwoSided', () => {
  it('matches the Cauchy closed form at 1 degree of freedom', () => {
    for (const t of [0.2, 1, 3.7]) expect(studentTTwoSided(t, 1)).toBeCloseTo(1 - (2 / Math.PI) * Math.atan(t), 10);
  });
  it('matches the closed form at 2 degrees of freedom', () => {
    for (const t of [0.5, 2, 6]) expect(studentTTwoSided(t, 2)).toBeCloseTo(1 - t / Math.sqrt(t * t + 2), 10);
  });
  it('approaches the normal tail for many degrees of freedom', () => {
    // Two-sided normal tail at 1.959964 is 0.05.
    expect(studentTTwoSided(1.959964, 1e6)).toBeCloseTo(0.05, 4);
  });
});

describe('spearman', () => {
  it('is 1 for any increasing relation and −1 for a decreasing one, with p = 0', () => {
    const x = [1, 2, 3, 4, 5, 6];
    expect(spearman(x, x.map((v) => Math.exp(v))).rho).toBeCloseTo(1, 12);
    const down = spearman(x, x.map((v) => -(v ** 3)));
    expect(down.rho).toBeCloseTo(-1, 12);
    expect(down.p).toBe(0);
  });
  it('matches 1 − 6Σd²/(n(n² − 1)) without ties, with the t-test p-value', () => {
    const x = [3.1, 1.2, 5.5, 4.0, 2.2, 6.7, 0.4];
    const y = [2.0, 3.0, 7.0, 1.0, 4.0, 6.0, 5.0];
    // ranks x: 4 2 6 5 3 7 1; ranks y: 2 3 7 1 4 6 5; d² = 4 1 1 16 1 1 16 = 40.
    const expected = 1 - (6 * 40) / (7 * 48);
    const r = spearman(x, y);
    expect(r.rho).toBeCloseTo(expected, 12);
    expect(r.n).toBe(7);
    const t = expected * Math.sqrt(5 / (1 - expected * expected));
    expect(r.p).toBeCloseTo(regularizedBeta(5 / (5 + t * t), 2.5, 0.5), 12);
    expect(r.p).toBeGreaterThan(0.05);
  });
  it('has no p-value below 3 points and no rho for a constant input', () => {
    expect(Number.isNaN(spearman([1, 2], [2, 1]).p)).toBe(true);
    expect(Number.isNaN(spearman([1, 1, 1], [1, 2, 3]).rho)).toBe(true);
  });
  it('rejects inputs of different lengths', () => {
    expect(() => spearman([1, 2, 3], [1, 2])).toThrow(expect.objectContaining({ code: 'RPR_USAGE' }));
  });
});
