import { mnistPart } from '../pool/index.js';
import { createRng } from '../util/rng.js';
import { clutteredDigit, clutteredSet } from './cluttered-digits.js';

describe('clutteredDigit', () => {
  const digits = mnistPart('train').slice(0, 20);
  const target = digits[0]!;

  it('keeps the whole target digit and masks exactly its pixels above 0.5', () => {
    const { pixels, mask } = clutteredDigit(target, digits.slice(1), createRng(3));
    for (let i = 0; i < 784; i++) {
      expect(mask[i]).toBe(target.pixels[i]! > 0.5 ? 1 : 0);
      expect(pixels[i]).toBeGreaterThanOrEqual(target.pixels[i]!);
      expect(pixels[i]).toBeLessThanOrEqual(1);
    }
  });

  it('adds clutter outside the digit: fragments of full-intensity strokes and noise', () => {
    const { pixels, mask } = clutteredDigit(target, digits.slice(1), createRng(3), { fragments: 4 });
    let strokesOutside = 0;
    let noisy = 0;
    for (let i = 0; i < 784; i++) {
      if (mask[i] === 0 && target.pixels[i]! < 0.05) {
        if (pixels[i]! > 0.5) strokesOutside++;
        if (pixels[i]! > 0 && pixels[i]! <= 0.2) noisy++;
      }
    }
    expect(strokesOutside).toBeGreaterThan(5);
    expect(noisy).toBeGreaterThan(300);
  });

  it('with no fragments and no noise is the digit itself', () => {
    const { pixels } = clutteredDigit(target, digits.slice(1), createRng(1), { fragments: 0, noise: 0 });
    expect(Array.from(pixels)).toEqual(Array.from(target.pixels));
  });

  it('is reproducible from the seed', () => {
    const a = clutteredSet(digits, createRng(9));
    const b = clutteredSet(digits, createRng(9));
    expect(a.map((s) => Array.from(s.pixels))).toEqual(b.map((s) => Array.from(s.pixels)));
    expect(a).toHaveLength(digits.length);
  });
});
