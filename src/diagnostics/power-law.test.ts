import { createRng } from '../util/rng.js';
import { fitPowerLaw } from './power-law.js';

/** Inverse-CDF draws from the Pareto law p(x) ∝ x^(−α), x ≥ xmin. */
function pareto(n: number, alpha: number, xmin: number, seed: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => xmin * Math.pow(1 - rng.next(), -1 / (alpha - 1)));
}

describe('fitPowerLaw', () => {
  it.each([2.5, 4])('recovers α = %p within ±0.1 from 10,000 seeded Pareto samples', (alpha) => {
    const fit = fitPowerLaw(pareto(10_000, alpha, 0.3, 1), { maxCandidates: 500 })!;
    expect(Math.abs(fit.alpha - alpha)).toBeLessThan(0.1);
    expect(fit.xmin).toBeGreaterThanOrEqual(0.3);
    expect(fit.nTail).toBeGreaterThan(1000);
    expect(fit.ks).toBeLessThan(0.05);
  });

  it('finds where the power-law tail starts above a non-power-law body', () => {
    const rng = createRng(2);
    const body = Array.from({ length: 3000 }, () => rng.next());
    const fit = fitPowerLaw([...body, ...pareto(6000, 3, 1, 3)], { maxCandidates: 500 })!;
    // Any xmin ≥ 1 starts a true power law; one inside the uniform body (< 1) would bias α.
    expect(fit.xmin).toBeGreaterThanOrEqual(0.98);
    expect(fit.nTail).toBeGreaterThan(3000);
    expect(Math.abs(fit.alpha - 3)).toBeLessThan(0.15);
    // Forcing the fit over the body (xmin = smallest value) gives a clearly different, wrong α.
    const forced = fitPowerLaw([...body, ...pareto(6000, 3, 1, 3)], { minTail: 8999, minValues: 9000 })!;
    expect(Math.abs(forced.alpha - 3)).toBeGreaterThan(0.5);
  });

  it('is the closed-form MLE 1 + n / Σ ln(x/xmin) when only one xmin is allowed', () => {
    const fit = fitPowerLaw([1, Math.E, Math.E ** 2], { minValues: 3, minTail: 3 })!;
    expect(fit.xmin).toBe(1);
    expect(fit.alpha).toBeCloseTo(2, 12);
    expect(fit.nTail).toBe(3);
    expect(fit.alphaStdError).toBeCloseTo(1 / Math.sqrt(3), 12);
    // KS against P(x) = 1 − 1/x at x = 1, e, e²: the empirical CDF jumps 0 → 1/3 → 2/3 → 1.
    const gaps = [1 / 3 - 0, 1 - 1 / Math.E - 1 / 3, 1 - (1 - Math.E ** -2)];
    expect(fit.ks).toBeCloseTo(Math.max(...gaps), 12);
  });

  it('returns null for too few positive values and ignores zeros, negatives and NaN', () => {
    expect(fitPowerLaw([1, 2, 3])).toBeNull();
    expect(fitPowerLaw([0, -1, NaN, 1, 2, 3, 4, 5, 6, 7, 8, 9])).toBeNull();
    expect(fitPowerLaw([0, -1, NaN, ...pareto(10, 3, 1, 4)])?.n).toBe(10);
    expect(() => fitPowerLaw([1, 2], { minTail: 0 })).toThrow(expect.objectContaining({ code: 'RPR_USAGE' }));
  });
});
