/** Summaries of learning curves: mean ± sd per point, area under the curve, labels to reach a target. */

export interface MeanSd {
  readonly mean: number;
  /** Sample standard deviation (n − 1); 0 for a single value. */
  readonly sd: number;
  readonly n: number;
}

export function meanSd(values: readonly number[]): MeanSd {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, sd: Number.NaN, n: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const ss = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { mean, sd: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, n };
}

/**
 * Normalized area under a learning curve: the trapezoid area over [x₀, x_last] divided by its width,
 * i.e. the curve's average accuracy over the label range (a constant curve c gives c).
 */
export function normalizedAulc(labels: readonly number[], accuracy: readonly number[]): number {
  if (labels.length !== accuracy.length || labels.length === 0) return Number.NaN;
  if (labels.length === 1) return accuracy[0]!;
  let area = 0;
  for (let i = 1; i < labels.length; i++) area += ((labels[i]! - labels[i - 1]!) * (accuracy[i]! + accuracy[i - 1]!)) / 2;
  return area / (labels[labels.length - 1]! - labels[0]!);
}

/** The first label count at which the curve reaches `target`; null when it never does. */
export function labelsToReach(labels: readonly number[], accuracy: readonly number[], target: number): number | null {
  for (let i = 0; i < labels.length; i++) if (accuracy[i]! >= target) return labels[i]!;
  return null;
}
