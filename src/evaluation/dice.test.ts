import { dice } from './dice.js';

describe('dice', () => {
  it('is 2|P∩T|/(|P|+|T|) with logits thresholded at 0', () => {
    // P = {0, 1, 2}, T = {1, 2, 3, 4}: 2·2 / (3 + 4).
    expect(dice([1, 2, 0.5, -1, -3, -0.1], [0, 1, 1, 1, 1, 0])).toBeCloseTo(4 / 7, 12);
  });
  it('is 1 for identical masks, 0 for disjoint ones, 1 when both are empty', () => {
    expect(dice([5, -5, 5], [1, 0, 1])).toBe(1);
    expect(dice([5, -5], [0, 1])).toBe(0);
    expect(dice([-1, -2], [0, 0])).toBe(1);
  });
  it('takes another threshold for probabilities', () => {
    expect(dice([0.9, 0.4], [1, 1], 0.5)).toBeCloseTo(2 / 3, 12);
  });
  it('rejects masks of different sizes', () => {
    expect(() => dice([1], [1, 0])).toThrow(expect.objectContaining({ code: 'RPR_USAGE' }));
  });
});
