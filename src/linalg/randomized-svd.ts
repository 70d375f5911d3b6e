import { createRng } from '../util/rng.js';
import { combineRows, fixSigns, residualNorms, transposeBlock } from './block-ops.js';
import { requireInteger, requireNonNegative, requireOperatorShape } from './check-args.js';
import { countingOperator } from './counting-operator.js';
import { orthonormalizeRows } from './gram-schmidt.js';
import { DEFAULT_RANK_EPS, numericalRank } from './numerical-rank.js';
import type { LinearOperator } from './operator.js';
import { gaussianBlock } from './random-block.js';
import { DEFAULT_RESIDUAL_TOL, convergenceReport, type TruncatedSvdResult } from './svd-types.js';
import { thinSvd } from './thin-svd.js';

/** Options for {@link randomizedSvd}. */
export interface RandomizedSvdOptions {
  /**
   * Probes beyond k (p): the sketch has l = min(k + p, min(m, n)) columns.
   * @defaultValue 10
   */
  oversampling?: number;
  /**
   * Power iterations (q), each one matvec and one rmatvec of l vectors, re-orthonormalized between them;
   * the error decays like (σ_{l+1}/σ_k)^(2q+1).
   * @defaultValue 2
   */
  powerIterations?: number;
  /** Seed of the Gaussian test matrix. @defaultValue 0 */
  seed?: number;
  /**
   * A triplet converged when both residuals are ≤ tol·σ₁.
   * @defaultValue 1e-5 ({@link DEFAULT_RESIDUAL_TOL})
   */
  tol?: number;
  /** Relative rank tolerance, as in thinSvd. @defaultValue 2⁻²³ */
  eps?: number;
}

/**
 * Top-k SVD of a matrix-free operator by the Halko–Martinsson–Tropp randomized range finder
 * (SIAM Review 53(2), 2011, Alg. 4.4 + 5.1): Y = (AAᵀ)^q·A·Ω orthonormalized at every half-step,
 * B = QᵀA (l × n, by one batched rmatvec), then the exact thin SVD of B. Products: l·(2q + 2) for
 * the factorization plus k matvecs to measure ‖A vᵢ − σᵢ uᵢ‖; ‖Aᵀuᵢ − σᵢvᵢ‖ comes from B for free,
 * since Aᵀ(Q·ubᵢ) = Bᵀ·ubᵢ exactly.
 */
export async function randomizedSvd(
  op: LinearOperator,
  k: number,
  options: RandomizedSvdOptions = {},
): Promise<TruncatedSvdResult> {
  requireOperatorShape('randomizedSvd', op);
  const { rows: m, cols: n } = op;
  const minDim = Math.min(m, n);
  const p = options.oversampling ?? 10;
  const q = options.powerIterations ?? 2;
  const tol = options.tol ?? DEFAULT_RESIDUAL_TOL;
  const eps = options.eps ?? DEFAULT_RANK_EPS;
  requireInteger('randomizedSvd', 'k', k, 1, minDim);
  requireInteger('randomizedSvd', 'oversampling', p, 0, Number.MAX_SAFE_INTEGER);
  requireInteger('randomizedSvd', 'powerIterations', q, 0, 1000);
  requireNonNegative('randomizedSvd', 'tol', tol);
  requireNonNegative('randomizedSvd', 'eps', eps);

  const a = countingOperator(op);
  const l = Math.min(k + p, minDim);
  const rng = createRng(options.seed ?? 0);
  let y = await a.matvec(gaussianBlock(rng, l, n), l);
  orthonormalizeRows(y, l, m);
  for (let it = 0; it < q; it++) {
    const z = await a.rmatvec(y, l);
    orthonormalizeRows(z, l, n);
    y = await a.matvec(z, l);
    orthonormalizeRows(y, l, m);
  }
  const b = await a.rmatvec(y, l);
  // Rank is judged against A's shape below, so the small SVD keeps every positive σ.
  const small = thinSvd({ rows: l, cols: n, data: b }, { eps: 0 });
  const rank = Math.min(k, small.rank, numericalRank(small.sigma, m, n, eps));
  const sigma = small.sigma.slice(0, k);

  const uRows = combineRows(y, l, m, small.u, small.rank, rank);
  const v = small.v.slice(0, rank * n);
  const atu = combineRows(b, l, n, small.u, small.rank, rank);
  const residualsAt = residualNorms(atu, v, sigma, rank, n);
  const av = rank > 0 ? await a.matvec(v, rank) : new Float64Array(0);
  const residualsA = residualNorms(av, uRows, sigma, rank, m);

  const u = transposeBlock(uRows, rank, m);
  fixSigns(u, v, m, n, rank);
  return {
    sigma,
    u,
    v,
    rank,
    report: convergenceReport(sigma, residualsA, residualsAt, tol, q, a.counts),
  };
}
