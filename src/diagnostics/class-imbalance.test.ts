import { createRng } from '../util/rng.js';
import { analyzeClassImbalance, labelStrength, strengthBand, type EvalRecord } from './class-imbalance.js';

const CLASSES = ['0', '1', '2', '3', '4'];

/**
 * Records of five classes, `perClass` images each. Every image carries the LPR curve of every label
 * (m = 5: LPR_1…LPR_5, the last 1): a label's curve sits at `level` (plus noise) up to k = 4. Own-class
 * RPR/LPR are shifted by `ownShift` (shape differences between classes, not imbalance).
 */
function records(
  perClass: number,
  level: Readonly<Record<string, number>>,
  ownShift: Readonly<Record<string, number>>,
  seed: number,
): EvalRecord[] {
  const rng = createRng(seed);
  const out: EvalRecord[] = [];
  for (const label of CLASSES) {
    for (let i = 0; i < perClass; i++) {
      const labelLpr: Record<string, number[]> = {};
      for (const c of CLASSES) {
        const v = Math.min(1, Math.max(0, (level[c] ?? 0.8) + 0.03 * rng.normal()));
        labelLpr[c] = [v / 2, v, v, v, 1];
      }
      const shift = ownShift[label] ?? 0;
      out.push({
        label: Number(label),
        rpr: { '1': 0.3 + shift + 0.05 * rng.normal(), '3': 0.6 + shift + 0.05 * rng.normal() },
        lpr: { '3': 0.7 + shift + 0.05 * rng.normal() },
        labelLpr,
      });
    }
  }
  return out;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

describe('strengthBand and labelStrength', () => {
  it('averages LPR_k over k = ⌈m/2⌉ … m − 2 (at least one k)', () => {
    expect(strengthBand(10)).toEqual([5, 6, 7, 8]);
    expect(strengthBand(5)).toEqual([3]);
    expect(strengthBand(4)).toEqual([2]);
    expect(strengthBand(3)).toEqual([2]);
    expect(strengthBand(2)).toEqual([1]);
    expect(strengthBand(100)).toHaveLength(49);
    expect(labelStrength([0.1, 0.2, 0.4, 0.6, 0.7, 0.9, 1], [3, 4, 5])).toBeCloseTo((0.4 + 0.6 + 0.7) / 3, 12);
  });
});

describe('analyzeClassImbalance', () => {
  it('names the class whose label is weak on every image, with its strength relative to the median class', () => {
    const recs = records(30, { '2': 0.4 }, {}, 1);
    const report = analyzeClassImbalance(recs);
    expect(report.strengthKs).toEqual([3]);
    expect(report.underRepresented).toEqual(['2']);
    expect(report.verdict).toBe('the model under-represents class 2');
    // Independently: per class, the median over all images of LPR_3(e_c); relative to the median class.
    const strengths = CLASSES.map((c) => median(recs.map((r) => r.labelLpr![c]![2]!)));
    const center = median(strengths);
    const two = report.classes.find((c) => c.label === '2')!;
    expect(two.strength!.median).toBeCloseTo(strengths[2]!, 12);
    expect(two.strength!.ratio).toBeCloseTo(strengths[2]! / center, 12);
    expect(two.strength!.summary.n).toBe(150);
    expect(two.reasons[0]).toMatch(/^label strength 0\.\d+ = 0\.\d\d × the median class's \(LPR_3\(e_c\), median over 150 images\)$/);
    expect(report.classes.filter((c) => c.label !== '2').every((c) => !c.underRepresented && c.reasons.length === 0)).toBe(true);
  });

  it('does not name classes whose own RPR and LPR are low by shape, and still describes them as lower', () => {
    const report = analyzeClassImbalance(records(30, {}, { '1': -0.25, '3': -0.2 }, 2));
    expect(report.underRepresented).toEqual([]);
    expect(report.verdict).toBe('no class is under-represented by the model');
    const one = report.classes.find((c) => c.label === '1')!;
    expect(one.results.map((r) => `${r.metric}_${r.k}:${r.direction}`)).toEqual(['rpr_1:lower', 'rpr_3:lower', 'lpr_3:lower']);
    const rpr3 = one.results[1]!;
    expect(rpr3.summary!.median).toBeLessThan(rpr3.rest!.median);
    expect(rpr3.test!.pHolm).toBeGreaterThanOrEqual(rpr3.test!.p);
  });

  it('draws the line at strengthRatio: a class at 0.7 of the median is named at 0.75 and not at 0.65', () => {
    const recs = records(30, { '0': 0.8, '1': 0.8, '2': 0.8, '3': 0.8, '4': 0.56 }, {}, 3);
    const ratio = analyzeClassImbalance(recs).classes[4]!.strength!.ratio;
    expect(ratio).toBeGreaterThan(0.65);
    expect(ratio).toBeLessThan(0.75);
    expect(analyzeClassImbalance(recs).underRepresented).toEqual(['4']);
    expect(analyzeClassImbalance(recs, { strengthRatio: 0.65 }).underRepresented).toEqual([]);
  });

  it('measures a class absent from the labeled images on the other classes\' images', () => {
    const recs = records(20, { '4': 0.3 }, {}, 4).filter((r) => r.label !== 4);
    const report = analyzeClassImbalance(recs);
    const four = report.classes.find((c) => c.label === '4')!;
    expect(four.n).toBe(0);
    expect(four.results[0]!.summary).toBeNull();
    expect(four.strength!.summary.n).toBe(80);
    expect(report.underRepresented).toEqual(['4']);
  });

  it('gives no verdict without per-label curves or with fewer than three classes, and checks its options', () => {
    const bare = records(10, {}, {}, 5).map(({ label, rpr, lpr }) => ({ label, rpr, lpr }));
    const noCurves = analyzeClassImbalance(bare);
    expect(noCurves.strengthKs).toEqual([]);
    expect(noCurves.underRepresented).toEqual([]);
    expect(noCurves.verdict).toMatch(/no verdict: the evaluation records carry no per-label LPR curves/);
    expect(noCurves.classes.every((c) => c.strength === null)).toBe(true);
    const two = records(10, { '1': 0.2 }, {}, 6).map((r) => ({
      ...r,
      labelLpr: { '0': r.labelLpr!['0']!, '1': r.labelLpr!['1']! },
    }));
    expect(analyzeClassImbalance(two.filter((r) => Number(r.label) < 2)).verdict).toMatch(/needs at least 3 classes/);
    expect(analyzeClassImbalance([]).verdict).toMatch(/needs labeled evaluation images/);
    expect(() => analyzeClassImbalance([], { strengthRatio: 1.2 })).toThrow(expect.objectContaining({ code: 'RPR_USAGE' }));
    expect(() => analyzeClassImbalance([], { effectThreshold: 0.7 })).toThrow(expect.objectContaining({ code: 'RPR_USAGE' }));
  });

  it('rarely calls a class lower than the rest when all classes come from one law (descriptive tests, 40 seeds)', () => {
    // Holm keeps each family's error rate at 5%; three families together stay near 10% at most.
    const reports = Array.from({ length: 40 }, (_, seed) => analyzeClassImbalance(records(30, {}, {}, 100 + seed)));
    const lower = reports.filter((r) => r.classes.some((c) => c.results.some((x) => x.direction === 'lower'))).length;
    expect(lower).toBeLessThanOrEqual(6);
    expect(reports.every((r) => r.underRepresented.length === 0)).toBe(true);
  });
});
