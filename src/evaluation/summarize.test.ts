import { pickVariants } from './policy-variants.js';
import type { CurveResult, Scenario } from './simulate-curve.js';
import { summarizeScenario, winner } from './summarize.js';

function curve(variantId: string, seed: number, accuracy: readonly number[], scenario: Scenario = { name: 'standard' }, sevens?: readonly number[]): CurveResult {
  const variant = pickVariants([variantId])[0]!;
  return {
    spec: { scenario, variant, seed },
    rounds: accuracy.map((a, round) => {
      const counts = new Array<number>(10).fill(10 * (round + 1));
      if (sevens) counts[7] = sevens[round]!;
      return { round, labeled: 100 * (round + 1), accuracy: a, classCounts: counts, trainSeconds: 2, selectSeconds: round === accuracy.length - 1 ? 0 : 3, scored: round === accuracy.length - 1 ? 0 : 50 };
    }),
    seconds: 10 * seed,
  };
}

describe('summarizeScenario', () => {
  const curves = [
    curve('random', 1, [0.5, 0.6, 0.7]),
    curve('random', 2, [0.5, 0.7, 0.8]),
    curve('entropy', 1, [0.5, 0.8, 0.9]),
    curve('entropy', 2, [0.5, 0.6, 0.7]),
  ];
  const summary = summarizeScenario(curves, [0.75])!;
  const random = summary.variants.find((v) => v.variant === 'random')!;
  const entropy = summary.variants.find((v) => v.variant === 'entropy')!;

  it('averages accuracy per label count over seeds, with the sample sd', () => {
    expect(random.points.map((p) => p.labeled)).toEqual([100, 200, 300]);
    expect(random.points[1]!.accuracy.mean).toBeCloseTo(0.65, 12);
    expect(random.points[1]!.accuracy.sd).toBeCloseTo(Math.sqrt(0.005), 12);
  });

  it('computes AULC per seed (trapezoids / width) and pairs each seed with random', () => {
    // random: seed 1 (0.5+2·0.6+0.7)/4 = 0.6, seed 2 (0.5+1.4+0.8)/4 = 0.675; entropy: 0.75 and 0.6.
    expect(random.aulc.mean).toBeCloseTo(0.6375, 12);
    expect(entropy.aulc.mean).toBeCloseTo(0.675, 12);
    expect(entropy.vsRandom!.diff.mean).toBeCloseTo((0.15 - 0.075) / 2, 12);
    expect(entropy.vsRandom!.better).toBe(1);
    expect(entropy.vsRandom!.paired).toBe(2);
    expect(random.vsRandom).toBeNull();
  });

  it('reads labels to a target off the mean curve', () => {
    // entropy means: 0.5, 0.7, 0.8 → 300; random: 0.5, 0.65, 0.75 → 300.
    expect(entropy.labelsToTarget['0.750']).toBe(300);
    expect(summarizeScenario(curves, [0.95])!.variants[0]!.labelsToTarget['0.950']).toBeNull();
  });

  it('sums wall time per run and names the winner by mean AULC', () => {
    expect(random.selectSeconds).toBe(6);
    expect(random.trainSeconds).toBe(6);
    expect(random.totalSeconds).toBe(15);
    expect(winner(summary).variant).toBe('entropy');
  });

  it('counts the held-out class per round in the missing-class scenario', () => {
    const scenario = { name: 'missing-class', heldOutClass: 7 } as const;
    const s = summarizeScenario([curve('margin', 1, [0.4, 0.5], scenario, [0, 4]), curve('margin', 2, [0.4, 0.5], scenario, [0, 8])], [0.9])!;
    expect(s.heldOutClass).toBe(7);
    expect(s.variants[0]!.points.map((p) => p.heldOutLabeled!.mean)).toEqual([0, 6]);
    expect(summary.variants[0]!.points[0]!.heldOutLabeled).toBeNull();
  });

  it('is null without curves', () => {
    expect(summarizeScenario([], [0.9])).toBeNull();
  });
});
