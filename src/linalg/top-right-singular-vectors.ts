import { errors } from '../errors/index.js';
import { requireInteger, requireNonNegative, requireOperatorShape } from './check-args.js';
import { denseFromOperator } from './dense-from-operator.js';
import type { LinearOperator } from './operator.js';
import { randomizedSvd, type RandomizedSvdOptions } from './randomized-svd.js';
import type { ConvergenceReport } from './svd-types.js';
import { thinSvd } from './thin-svd.js';

/** Which algorithm {@link topRightSingularVectors} uses. */
export const TOP_RIGHT_METHODS = ['auto', 'exact', 'randomized'] as const;
export type TopRightMethod = (typeof TOP_RIGHT_METHODS)[number];

/** Options for {@link topRightSingularVectors}; the randomized ones apply when that path is taken. */
export interface TopRightOptions extends RandomizedSvdOptions {
  /**
   * 'exact' builds A densely (rows adjoint products) and decomposes its Gram matrix on the smaller side;
   * 'randomized' never holds A; 'auto' takes exact when both size limits below allow it.
   * @defaultValue 'auto'
   */
  method?: TopRightMethod;
  /** Largest rows·cols for which 'auto' builds A densely (8 bytes each). @defaultValue 2e7 */
  maxDenseEntries?: number;
  /** Largest min(rows, cols), the Gram matrix's order, for which 'auto' goes exact. @defaultValue 1024 */
  maxGramSize?: number;
  /** Identity rows per rmatvec call on the exact path. @defaultValue 256 */
  batchRows?: number;
}

/** The top right singular vectors of an operator and how they were found. */
export interface TopRightResult {
  /** V_kᵀ, rank × cols row-major: row j = the j-th right singular vector. */
  readonly v: Float64Array;
  /** Leading singular values, descending (length ≤ k); vectors exist for the first `rank`. */
  readonly sigma: Float64Array;
  /** Rows of v: min(k, numerical rank). */
  readonly rank: number;
  readonly method: 'exact' | 'randomized';
  /** Convergence of the randomized path; null on the exact path. */
  readonly report: ConvergenceReport | null;
}

/**
 * V_k of an operator — for the reference scoring mode, of the stacked operator over a reference set,
 * whose right singular vectors are the eigenvectors of Σ AᵢᵀAᵢ. Small problems are solved exactly;
 * large ones by the randomized SVD, with its convergence report.
 */
export async function topRightSingularVectors(
  op: LinearOperator,
  k: number,
  options: TopRightOptions = {},
): Promise<TopRightResult> {
  requireOperatorShape('topRightSingularVectors', op);
  const { rows, cols } = op;
  requireInteger('topRightSingularVectors', 'k', k, 1, Math.min(rows, cols));
  const method = options.method ?? 'auto';
  if (!TOP_RIGHT_METHODS.includes(method)) {
    throw errors.unknownName('topRightSingularVectors method', String(method), TOP_RIGHT_METHODS);
  }
  const maxDense = options.maxDenseEntries ?? 2e7;
  const maxGram = options.maxGramSize ?? 1024;
  requireNonNegative('topRightSingularVectors', 'maxDenseEntries', maxDense);
  requireNonNegative('topRightSingularVectors', 'maxGramSize', maxGram);
  const exact =
    method === 'exact' || (method === 'auto' && rows * cols <= maxDense && Math.min(rows, cols) <= maxGram);

  if (!exact) {
    const svd = await randomizedSvd(op, k, options);
    return { v: svd.v, sigma: svd.sigma, rank: svd.rank, method: 'randomized', report: svd.report };
  }
  const a = await denseFromOperator(op, { batchRows: Math.min(rows, options.batchRows ?? 256) });
  const svd = thinSvd(a, { eps: options.eps });
  const rank = Math.min(k, svd.rank);
  return {
    v: svd.v.slice(0, rank * cols),
    sigma: svd.sigma.slice(0, k),
    rank,
    method: 'exact',
    report: null,
  };
}
