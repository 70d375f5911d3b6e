import { createRng } from '../util/rng.js';
import { compareWithBaseline, robustZ } from './class-imbalance-shift.js';
import type { EvalRecord } from './class-imbalance.js';

const CLASSES = ['0', '1', '2', '3', '4', '5'];

/** One record per image: the true label's LPR curve (m = 4) at `level`, RPR_2 at 0.5; class-specific shape offsets. */
function scored(labels: readonly string[], drop: Readonly<Record<string, number>>, seed: number): EvalRecord[] {
  const rng = createRng(seed);
  return labels.map((label, i) => {
    const shape = 0.1 * (i % 3);
    const level = 0.6 + shape - (drop[label] ?? 0) + 0.01 * rng.normal();
    return { label, rpr: { '2': 0.5 + shape + 0.01 * rng.normal() }, lpr: {}, labelLpr: { [label]: [level / 2, level, level, 1] } };
  });
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

describe('robustZ', () => {
  it('is (x − median)/(1.4826·MAD), with the spread floored', () => {
    // median 3, |deviations| 2,1,0,1,7 → MAD 1.
    expect(robustZ([1, 2, 3, 4, 10])).toEqual([-2, -1, 0, 1, 7].map((d) => d / 1.4826));
    expect(robustZ([5, 5, 5, 4], 0.5)).toEqual([0, 0, 0, -2]);
    expect(robustZ([5, 5, 5])).toEqual([0, 0, 0]);
  });
});

describe('compareWithBaseline', () => {
  const labels = Array.from({ length: 240 }, (_, i) => CLASSES[i % CLASSES.length]!);

  it('flags the class whose true-label LPR fell against the baseline, image by image', () => {
    const baseline = scored(labels, {}, 1);
    const model = scored(labels, { '4': 0.2 }, 2);
    const result = compareWithBaseline(model, baseline);
    expect(result.flagged).toEqual(['4']);
    expect(result.verdict).toBe('against the baseline, the model under-represents class 4');
    // Independently: per class, the median over its images of the change of the curve's mean.
    const area = (r: EvalRecord) => r.labelLpr![String(r.label)]!.reduce((a, b) => a + b, 0) / 4;
    const shifts = CLASSES.map((c) => median(labels.flatMap((l, i) => (l === c ? [area(model[i]!) - area(baseline[i]!)] : []))));
    result.classes.forEach((c, i) => {
      expect(c.label).toBe(CLASSES[i]);
      expect(c.n).toBe(40);
      expect(c.lprArea.median).toBeCloseTo(shifts[i]!, 12);
    });
    const center = median(shifts);
    const spread = Math.max(0.01, 1.4826 * median(shifts.map((s) => Math.abs(s - center))));
    expect(result.classes[4]!.z).toBeCloseTo((shifts[4]! - center) / spread, 10);
    expect(result.classes[4]!.rpr['2']!.median).toBeCloseTo(0, 1);
  });

  it('flags nothing when only noise separates the models, and a gain is never a loss', () => {
    expect(compareWithBaseline(scored(labels, {}, 3), scored(labels, {}, 4)).flagged).toEqual([]);
    const better = compareWithBaseline(scored(labels, { '1': -0.2 }, 5), scored(labels, {}, 6));
    expect(better.flagged).toEqual([]);
    expect(better.verdict).toBe('no class lost more label strength than the others against the baseline');
  });

  it('refuses records of different images', () => {
    const base = scored(labels, {}, 7);
    expect(() => compareWithBaseline(base.slice(1), base)).toThrow(expect.objectContaining({ code: 'RPR_INTERNAL' }));
    const shuffled = [base[1]!, base[0]!, ...base.slice(2)];
    expect(() => compareWithBaseline(shuffled, base)).toThrow(expect.objectContaining({ code: 'RPR_INTERNAL' }));
    expect(compareWithBaseline(base.slice(0, 2), base.slice(0, 2)).verdict).toMatch(/at least 3 classes/);
  });
});
