import { entropy, leastConfidence, normalizedUncertainty, probabilityMargin, softmax } from './uncertainty.js';

const sigmoid = (a: number) => 1 / (1 + Math.exp(-a));

describe('uncertainty from logits', () => {
  it.each([2, 3, 10])('uniform logits over %i classes: H = ln C, margin 0, least confidence 1 − 1/C', (c) => {
    const logits = Array.from({ length: c }, () => 3.7);
    expect(entropy(logits)).toBeCloseTo(Math.log(c), 12);
    expect(probabilityMargin(logits)).toBeCloseTo(0, 12);
    expect(leastConfidence(logits)).toBeCloseTo(1 - 1 / c, 12);
    expect(normalizedUncertainty('entropy', logits)).toBeCloseTo(1, 12);
    expect(normalizedUncertainty('least-confidence', logits)).toBeCloseTo(1, 12);
    expect(normalizedUncertainty('margin', logits)).toBeCloseTo(1, 12);
  });

  it.each([-4, -0.3, 0, 1.5, 6])('two classes with logits [%d, 0] match the Bernoulli closed forms', (a) => {
    const p = sigmoid(a);
    const logits = [a, 0];
    expect(softmax(logits)[0]).toBeCloseTo(p, 14);
    expect(entropy(logits)).toBeCloseTo(-(p * Math.log(p) + (1 - p) * Math.log(1 - p)), 12);
    expect(probabilityMargin(logits)).toBeCloseTo(Math.tanh(Math.abs(a) / 2), 12);
    expect(leastConfidence(logits)).toBeCloseTo(1 - Math.max(p, 1 - p), 12);
  });

  it('three classes match a direct computation', () => {
    const z = [0.2, -1.1, 2.4];
    const e = z.map(Math.exp);
    const s = e.reduce((a, b) => a + b, 0);
    const p = e.map((v) => v / s);
    const sorted = [...p].sort((a, b) => b - a);
    expect(entropy(z)).toBeCloseTo(-p.reduce((acc, q) => acc + q * Math.log(q), 0), 12);
    expect(probabilityMargin(z)).toBeCloseTo(sorted[0]! - sorted[1]!, 12);
    expect(leastConfidence(z)).toBeCloseTo(1 - sorted[0]!, 12);
  });

  it('stays finite for huge logits, where a naive softmax overflows', () => {
    const z = [1000, 999, -1000];
    const p = sigmoid(1);
    expect(entropy(z)).toBeCloseTo(-(p * Math.log(p) + (1 - p) * Math.log(1 - p)), 10);
    expect(probabilityMargin(z)).toBeCloseTo(2 * p - 1, 10);
    expect(softmax(z).every(Number.isFinite)).toBe(true);
    expect(entropy([5e4, 0])).toBeCloseTo(0, 12);
  });
});
