/**
 * The empirical spectral density of a layer: the eigenvalues of the correlation matrix X = W̄W̄ᵀ/N
 * (or W̄ᵀW̄/N, whichever is M × M), i.e. λᵢ = σᵢ²/N with N the larger and M the smaller dimension of
 * the unfolded matrix (Martin & Mahoney's normalization; DeepDataProfiler divides by the row count,
 * which differs by Q for wide matrices). With i.i.d. weights of variance s², these eigenvalues follow
 * the Marchenko–Pastur law of scale s² and ratio M/N = 1/Q.
 */
import { RprError } from '../errors/index.js';

export interface Esd {
  /** λᵢ = σᵢ²/N, descending. */
  readonly eigenvalues: readonly number[];
  /** Larger dimension of the matrix (the normalization). */
  readonly n: number;
  /** Smaller dimension (the number of eigenvalues of one block). */
  readonly m: number;
  /** Aspect ratio Q = N/M ≥ 1. */
  readonly q: number;
}

export interface HistogramBin {
  readonly x0: number;
  readonly x1: number;
  /** count / (total · width): a density comparable with a probability density function. */
  readonly density: number;
  readonly count: number;
}

/** The ESD of a rows × cols matrix (or of equal-shaped blocks) from its singular values. */
export function esdFromSingularValues(singularValues: readonly number[], rows: number, cols: number): Esd {
  if (!(rows >= 1 && cols >= 1)) {
    throw new RprError('RPR_USAGE', `ESD: matrix shape ${rows} × ${cols} must be positive`, { rows, cols });
  }
  const n = Math.max(rows, cols);
  const m = Math.min(rows, cols);
  const eigenvalues = singularValues.map((s) => (s * s) / n).sort((a, b) => b - a);
  return { eigenvalues, n, m, q: n / m };
}

/** Equal-width histogram on [0, max] (default max: the largest value), normalized as a density. */
export function esdHistogram(values: readonly number[], bins = 40, max?: number): HistogramBin[] {
  if (!Number.isInteger(bins) || bins < 1) {
    throw new RprError('RPR_USAGE', `ESD histogram: bins must be a positive integer, got ${bins}`, { bins });
  }
  if (values.length === 0) return [];
  const top = max ?? values.reduce((a, b) => Math.max(a, b), 0);
  const width = top > 0 ? top / bins : 1;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor(v / width)))]! += 1;
  return counts.map((count, b) => ({
    x0: b * width,
    x1: (b + 1) * width,
    count,
    density: count / (values.length * width),
  }));
}
