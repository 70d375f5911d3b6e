import { alphaVerdict, modelAlphaScore } from './alpha-verdict.js';

describe('alphaVerdict', () => {
  it.each([
    [1.5, 'over-trained'],
    [1.999, 'over-trained'],
    [2, 'well-trained'],
    [3.9, 'well-trained'],
    [6, 'well-trained'],
    [6.01, 'under-trained'],
    [null, 'unknown'],
    [NaN, 'unknown'],
  ] as const)('α = %p → %s', (alpha, verdict) => {
    const v = alphaVerdict(alpha);
    expect(v.verdict).toBe(verdict);
    expect(v.text.length).toBeGreaterThan(10);
  });
});

describe('modelAlphaScore', () => {
  it('weights α by layer size, averages α·ln λmax, and counts verdicts', () => {
    const s = modelAlphaScore([
      { alpha: 3, parameters: 100, lambdaMax: Math.E },
      { alpha: 7, parameters: 300, lambdaMax: Math.E ** 2 },
      { alpha: null, parameters: 50, lambdaMax: 1 },
    ]);
    expect(s.fitted).toBe(2);
    expect(s.meanAlpha).toBeCloseTo(5, 12);
    expect(s.weightedMeanAlpha).toBeCloseTo((3 * 100 + 7 * 300) / 400, 12);
    expect(s.alphaHat).toBeCloseTo((3 * 1 + 7 * 2) / 2, 12);
    expect(s.verdictCounts).toEqual({ 'over-trained': 0, 'well-trained': 1, 'under-trained': 1, unknown: 1 });
    expect(s.verdict).toBe('well-trained');
    expect(s.text).toContain('1 under-trained');
  });

  it('has no score when no layer was fitted', () => {
    const s = modelAlphaScore([{ alpha: null, parameters: 9, lambdaMax: 1 }]);
    expect(s.verdict).toBe('unknown');
    expect(s.meanAlpha).toBeNull();
    expect(s.verdictCounts.unknown).toBe(1);
  });
});
