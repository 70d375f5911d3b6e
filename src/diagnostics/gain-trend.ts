/**
 * The shape of a network's scalar gain over training checkpoints. Stamatescu & McDonnell
 * (arXiv:1810.03241) report that gain rises while a network learns and saturates as it converges, and
 * that strong fluctuations point to over-fitting or a poor learning rate. Our rule, on the relative
 * steps dₜ = (gₜ₊₁ − gₜ)/|gₜ| between consecutive checkpoints (oldest first), where a step is
 * significant when |dₜ| > tolerance:
 * - fewer than 3 checkpoints: 'too-few-checkpoints';
 * - no significant step: 'flat';
 * - any two consecutive significant steps of opposite sign (a reversal): 'fluctuating';
 * - only significant rises, and the last step is not significant: 'rising-then-saturating' (healthy);
 * - only significant rises, the last one included: 'still-rising' (not converged, or logit inflation);
 * - only significant falls: 'falling'.
 * These are heuristics to validate on our own training runs, not results from the paper.
 */
import { RprError } from '../errors/index.js';

export type GainTrendKind =
  | 'too-few-checkpoints'
  | 'flat'
  | 'fluctuating'
  | 'rising-then-saturating'
  | 'still-rising'
  | 'falling';

export interface GainTrendOptions {
  /**
   * Relative step below which a change between checkpoints is not significant.
   * @defaultValue 0.05
   */
  readonly trendTolerance?: number;
}

export interface GainTrend {
  readonly kind: GainTrendKind;
  readonly text: string;
  readonly values: readonly number[];
  readonly relativeSteps: readonly number[];
  readonly reversals: number;
  readonly tolerance: number;
}

export function classifyGainTrend(values: readonly number[], options: GainTrendOptions = {}): GainTrend {
  const tolerance = options.trendTolerance ?? 0.05;
  if (!(tolerance >= 0) || !Number.isFinite(tolerance)) {
    throw new RprError('RPR_USAGE', `gain trend: trendTolerance must be a number ≥ 0, got ${tolerance}`, {});
  }
  const steps = values.slice(1).map((g, t) => (g - values[t]!) / Math.max(Math.abs(values[t]!), 1e-300));
  const signs = steps.map((d) => (d > tolerance ? 1 : d < -tolerance ? -1 : 0)).filter((s) => s !== 0);
  const reversals = signs.filter((s, i) => i > 0 && s !== signs[i - 1]).length;
  const result = (kind: GainTrendKind, text: string): GainTrend => ({
    kind,
    text,
    values: [...values],
    relativeSteps: steps,
    reversals,
    tolerance,
  });
  const pct = `${(tolerance * 100).toFixed(0)}%`;
  if (values.length < 3) return result('too-few-checkpoints', `${values.length} checkpoint(s): a trend needs at least 3`);
  if (signs.length === 0) return result('flat', `gain changed by less than ${pct} between every pair of checkpoints`);
  if (reversals > 0) {
    return result(
      'fluctuating',
      `gain reversed direction ${reversals} time(s) by more than ${pct}: a sign of over-fitting or a poorly chosen learning rate`,
    );
  }
  if (signs[0] === -1) return result('falling', `gain fell across checkpoints by more than ${pct} per significant step`);
  if (Math.abs(steps[steps.length - 1]!) <= tolerance) {
    return result('rising-then-saturating', 'gain rose and then saturated: the expected shape of a converging network');
  }
  return result('still-rising', `gain was still rising by more than ${pct} at the last checkpoint: training may not have converged`);
}
