/**
 * Turns the raw curves into what the README reports, per scenario and policy variant: accuracy mean ± sd
 * at each label count, the normalized area under the learning curve, labels to reach a target, the paired
 * comparison with random over the same seeds, wall time, and how many images of a held-out class each
 * policy labels.
 */
import { labelsToReach, meanSd, normalizedAulc, type MeanSd } from './curve-stats.js';
import type { CurveResult } from './simulate-curve.js';

export interface CurvePoint {
  readonly labeled: number;
  readonly accuracy: MeanSd;
  /** Images of the scenario's held-out class labeled so far (missing-class scenario only). */
  readonly heldOutLabeled: MeanSd | null;
}

export interface VariantSummary {
  readonly variant: string;
  readonly seeds: readonly number[];
  readonly points: readonly CurvePoint[];
  readonly aulc: MeanSd;
  /** First label count where the mean curve reaches each target (null: never within the run). */
  readonly labelsToTarget: Readonly<Record<string, number | null>>;
  /** AULC minus random's AULC on the same seed: mean ± sd, and the seeds where it is > 0. */
  readonly vsRandom: { readonly diff: MeanSd; readonly better: number; readonly paired: number } | null;
  /** Mean wall seconds per run: scoring + choosing, retraining, and in all. */
  readonly selectSeconds: number;
  readonly trainSeconds: number;
  readonly totalSeconds: number;
  /** Images scored per run. */
  readonly scored: number;
}

export interface ScenarioSummary {
  readonly scenario: string;
  readonly heldOutClass: number | null;
  readonly targets: readonly number[];
  readonly variants: readonly VariantSummary[];
}

function aulcOf(curve: CurveResult): number {
  return normalizedAulc(
    curve.rounds.map((r) => r.labeled),
    curve.rounds.map((r) => r.accuracy),
  );
}

function heldOutCount(curve: CurveResult, round: number): number | null {
  const scenario = curve.spec.scenario;
  if (scenario.name !== 'missing-class') return null;
  return curve.rounds[round]!.classCounts[scenario.heldOutClass]!;
}

/** Summaries of one scenario's curves, variants in first-seen order. */
export function summarizeScenario(curves: readonly CurveResult[], targets: readonly number[]): ScenarioSummary | null {
  if (curves.length === 0) return null;
  const first = curves[0]!.spec.scenario;
  const byVariant = new Map<string, CurveResult[]>();
  for (const curve of curves) {
    const list = byVariant.get(curve.spec.variant.id) ?? [];
    list.push(curve);
    byVariant.set(curve.spec.variant.id, list);
  }
  const randomAulc = new Map((byVariant.get('random') ?? []).map((c) => [c.spec.seed, aulcOf(c)]));
  const variants = [...byVariant.entries()].map(([variant, list]): VariantSummary => {
    const rounds = Math.min(...list.map((c) => c.rounds.length));
    const points = Array.from({ length: rounds }, (_, r): CurvePoint => {
      const held = list.map((c) => heldOutCount(c, r));
      return {
        labeled: list[0]!.rounds[r]!.labeled,
        accuracy: meanSd(list.map((c) => c.rounds[r]!.accuracy)),
        heldOutLabeled: held.every((h) => h !== null) ? meanSd(held as number[]) : null,
      };
    });
    const labels = points.map((p) => p.labeled);
    const means = points.map((p) => p.accuracy.mean);
    const paired = list.filter((c) => randomAulc.has(c.spec.seed));
    const diffs = paired.map((c) => aulcOf(c) - randomAulc.get(c.spec.seed)!);
    const perRun = (pick: (c: CurveResult) => number) => list.reduce((a, c) => a + pick(c), 0) / list.length;
    return {
      variant,
      seeds: list.map((c) => c.spec.seed),
      points,
      aulc: meanSd(list.map(aulcOf)),
      labelsToTarget: Object.fromEntries(targets.map((t) => [t.toFixed(3), labelsToReach(labels, means, t)])),
      vsRandom:
        variant === 'random' || paired.length === 0
          ? null
          : { diff: meanSd(diffs), better: diffs.filter((d) => d > 0).length, paired: paired.length },
      selectSeconds: perRun((c) => c.rounds.reduce((a, r) => a + r.selectSeconds, 0)),
      trainSeconds: perRun((c) => c.rounds.reduce((a, r) => a + r.trainSeconds, 0)),
      totalSeconds: perRun((c) => c.seconds),
      scored: perRun((c) => c.rounds.reduce((a, r) => a + r.scored, 0)),
    };
  });
  return {
    scenario: first.name,
    heldOutClass: first.name === 'missing-class' ? first.heldOutClass : null,
    targets,
    variants,
  };
}

/** The variant with the highest mean AULC. */
export function winner(summary: ScenarioSummary): VariantSummary {
  return summary.variants.reduce((best, v) => (v.aulc.mean > best.aulc.mean ? v : best));
}
