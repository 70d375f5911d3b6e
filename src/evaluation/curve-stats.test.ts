import { labelsToReach, meanSd, normalizedAulc } from './curve-stats.js';

describe('meanSd', () => {
  it('gives the sample standard deviation', () => {
    const r = meanSd([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(r.mean).toBeCloseTo(5, 12);
    // Σ(x − 5)² = 32, n − 1 = 7.
    expect(r.sd).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(r.n).toBe(8);
  });
  it('has sd 0 for one value and NaN for none', () => {
    expect(meanSd([0.3])).toEqual({ mean: 0.3, sd: 0, n: 1 });
    expect(Number.isNaN(meanSd([]).mean)).toBe(true);
  });
});

describe('normalizedAulc', () => {
  it('is the constant for a flat curve', () => {
    expect(normalizedAulc([100, 200, 400], [0.8, 0.8, 0.8])).toBeCloseTo(0.8, 12);
  });
  it('is the mid-value for a straight line, whatever the spacing', () => {
    expect(normalizedAulc([100, 150, 1000], [0.5, 0.5 + 0.4 * (50 / 900), 0.9])).toBeCloseTo(0.7, 12);
  });
  it('weights each segment by its width', () => {
    // Two segments: [0,1] at 0→1 (area 0.5) and [1,3] flat at 1 (area 2): total 2.5 over width 3.
    expect(normalizedAulc([0, 1, 3], [0, 1, 1])).toBeCloseTo(2.5 / 3, 12);
  });
  it('returns the single value for one point and NaN for mismatched input', () => {
    expect(normalizedAulc([100], [0.42])).toBe(0.42);
    expect(Number.isNaN(normalizedAulc([1, 2], [0.1]))).toBe(true);
  });
});

describe('labelsToReach', () => {
  it('finds the first label count at or above the target', () => {
    expect(labelsToReach([100, 200, 300], [0.7, 0.9, 0.85], 0.85)).toBe(200);
    expect(labelsToReach([100, 200, 300], [0.7, 0.9, 0.85], 0.9)).toBe(200);
  });
  it('is null when the curve never gets there', () => {
    expect(labelsToReach([100, 200], [0.7, 0.8], 0.95)).toBeNull();
  });
});
