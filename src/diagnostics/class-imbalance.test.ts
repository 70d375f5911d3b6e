import { createRng } from '../util/rng.js';
import { analyzeClassImbalance, type EvalRecord } from './class-imbalance.js';

function records(perClass: number, shifts: Record<string, number>, seed: number): EvalRecord[] {
  const rng = createRng(seed);
  const out: EvalRecord[] = [];
  for (const [label, shift] of Object.entries(shifts)) {
    for (let i = 0; i < perClass; i++) {
      const r = 0.5 + 0.1 * rng.normal() + shift;
      out.push({ label: Number(label), rpr: { '1': r / 2, '5': r }, lpr: { '5': 0.6 + 0.1 * rng.normal() } });
    }
  }
  return out;
}

describe('analyzeClassImbalance', () => {
  it('names the class whose RPR is lower than the rest, and only that one', () => {
    const report = analyzeClassImbalance(records(40, { 0: 0, 1: 0, 2: -0.2, 3: 0, 10: 0.2 }, 1));
    expect(report.classes.map((c) => c.label)).toEqual(['0', '1', '2', '3', '10']);
    expect(report.families).toEqual([
      { metric: 'rpr', k: '1' },
      { metric: 'rpr', k: '5' },
      { metric: 'lpr', k: '5' },
    ]);
    expect(report.underRepresented).toEqual(['2']);
    const two = report.classes.find((c) => c.label === '2')!;
    expect(two.reasons).toHaveLength(2);
    expect(two.reasons[0]).toMatch(/^RPR_1: median/);
    const rpr5 = two.results.find((r) => r.metric === 'rpr' && r.k === '5')!;
    expect(rpr5.summary!.median).toBeLessThan(rpr5.rest!.median);
    expect(rpr5.test!.pHolm).toBeGreaterThanOrEqual(rpr5.test!.p);
    // The class shifted up is reported as 'higher', not as under-represented.
    expect(report.classes.find((c) => c.label === '10')!.results[1]!.direction).toBe('higher');
    expect(report.verdict).toBe('the model under-represents class 2');
  });

  it('rarely flags anything when all classes come from the same law (false-positive rate over 40 seeds)', () => {
    // Holm keeps each family's error rate at 5%; three families together stay near 10% at most.
    const reports = Array.from({ length: 40 }, (_, seed) =>
      analyzeClassImbalance(records(40, { 0: 0, 1: 0, 2: 0 }, 100 + seed)),
    );
    const flagged = reports.filter((r) => r.underRepresented.length > 0).length;
    expect(flagged).toBeLessThanOrEqual(6);
    const clean = reports.find((r) => r.underRepresented.length === 0)!;
    expect(clean.verdict).toBe('no class is under-represented by the model');
  });

  it('summarizes but does not test classes below minClassSize, and reports a lone class', () => {
    const report = analyzeClassImbalance(records(40, { 0: 0, 1: 0 }, 3).concat(records(3, { 7: -0.4 }, 4)));
    const seven = report.classes.find((c) => c.label === '7')!;
    expect(seven.n).toBe(3);
    expect(seven.results[0]!.summary!.n).toBe(3);
    expect(seven.results[0]!.test).toBeNull();
    expect(report.underRepresented).toEqual([]);
    expect(analyzeClassImbalance(records(10, { 0: 0 }, 5)).verdict).toMatch(/at least two classes/);
    expect(() => analyzeClassImbalance([], { effectThreshold: 0.7 })).toThrow(expect.objectContaining({ code: 'RPR_USAGE' }));
  });
});
