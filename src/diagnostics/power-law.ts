/**
 * Continuous power-law fit of a distribution's tail, p(x) ∝ x^(−α) for x ≥ xmin (Clauset, Shalizi &
 * Newman 2009, "Power-law distributions in empirical data", SIAM Review 51(4), §3):
 * - for a given xmin the MLE is α̂ = 1 + n_tail / Σ ln(xᵢ/xmin) over the tail xᵢ ≥ xmin (eq. 3.1);
 * - xmin is the candidate minimizing the Kolmogorov–Smirnov distance between the tail's empirical CDF
 *   and the fitted one, P(x) = 1 − (x/xmin)^(1−α) (§3.3).
 * Candidates are the distinct values, evenly subsampled to at most `maxCandidates`, leaving at least
 * `minTail` points in the tail. This is what the Python `powerlaw` package (used by WeightWatcher and
 * DeepDataProfiler) does for continuous data.
 */
import { positiveInteger } from './check-option.js';

export interface PowerLawFit {
  readonly alpha: number;
  readonly xmin: number;
  /** KS distance of the chosen fit. */
  readonly ks: number;
  /** Number of values ≥ xmin. */
  readonly nTail: number;
  /** Number of positive values considered. */
  readonly n: number;
  /** Standard error of α̂, (α̂ − 1)/sqrt(n_tail) (CSN eq. 3.2). */
  readonly alphaStdError: number;
}

export interface PowerLawOptions {
  /**
   * Fewest values a tail may have.
   * @defaultValue 5
   */
  readonly minTail?: number;
  /**
   * Fewest positive values needed to fit at all (WeightWatcher skips layers with fewer than 10
   * eigenvalues by default; so do we).
   * @defaultValue 10
   */
  readonly minValues?: number;
  /**
   * Most xmin candidates tried; more distinct values are subsampled evenly.
   * @defaultValue 2000
   */
  readonly maxCandidates?: number;
}

/** Fits the tail of `values`; null when there are fewer than `minValues` positive finite values. */
export function fitPowerLaw(values: readonly number[], options: PowerLawOptions = {}): PowerLawFit | null {
  const minTail = positiveInteger('power-law fit', 'minTail', options.minTail ?? 5);
  const minValues = Math.max(minTail, positiveInteger('power-law fit', 'minValues', options.minValues ?? 10));
  const maxCandidates = positiveInteger('power-law fit', 'maxCandidates', options.maxCandidates ?? 2000);
  const x = values.filter((v) => Number.isFinite(v) && v > 0).sort((a, b) => a - b);
  const n = x.length;
  if (n < minValues) return null;

  // suffixLog[i] = Σ_{j ≥ i} ln x_j, so each candidate's MLE is O(1).
  const logs = Float64Array.from(x, Math.log);
  const suffixLog = new Float64Array(n + 1);
  for (let i = n - 1; i >= 0; i--) suffixLog[i] = suffixLog[i + 1]! + logs[i]!;

  // First index of each distinct value, keeping tails of at least minTail points.
  const starts: number[] = [];
  for (let i = 0; i <= n - minTail; i++) if (i === 0 || x[i] !== x[i - 1]) starts.push(i);
  const step = Math.max(1, starts.length / maxCandidates);
  const candidates: number[] = [];
  for (let c = 0; c < starts.length; c += step) candidates.push(starts[Math.floor(c)]!);

  let best: PowerLawFit | null = null;
  for (const i of candidates) {
    const logMin = logs[i]!;
    const nTail = n - i;
    const logSum = suffixLog[i]! - nTail * logMin;
    if (!(logSum > 0)) continue;
    const alpha = 1 + nTail / logSum;
    let ks = 0;
    for (let j = 0; j < nTail; j++) {
      const fitted = 1 - Math.exp((1 - alpha) * (logs[i + j]! - logMin));
      const d = Math.max((j + 1) / nTail - fitted, fitted - j / nTail);
      if (d > ks) ks = d;
    }
    if (best === null || ks < best.ks) {
      best = { alpha, xmin: x[i]!, ks, nTail, n, alphaStdError: (alpha - 1) / Math.sqrt(nTail) };
    }
  }
  return best;
}
