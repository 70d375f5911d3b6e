import { createRng } from '../util/rng.js';
import { combineRows, dot, residualNorms } from './block-ops.js';
import { requireInteger, requireNonNegative, requireOperatorShape } from './check-args.js';
import { orthonormalizeRowsFilling, randomOrthogonalRow } from './gram-schmidt.js';
import { countingNormal, type NormalOperator } from './normal-operator.js';
import { nonFiniteProduct, ritzPairs, rightResult } from './normal-ritz.js';
import { DEFAULT_RANK_EPS } from './numerical-rank.js';
import type { RandomizedSvdOptions } from './randomized-svd.js';
import { DEFAULT_RESIDUAL_TOL, type TruncatedRightSvd } from './svd-types.js';

/** Options for {@link randomizedNormal}: those of randomizedSvd, with the residuals measured on SᵀS. */
export interface RandomizedNormalOptions extends Omit<RandomizedSvdOptions, 'tol'> {
  /**
   * A vector converged when ‖SᵀS vⱼ − σⱼ² vⱼ‖ ≤ tol·σ₁² (NormalConvergenceReport).
   * @defaultValue 1e-5 ({@link DEFAULT_RESIDUAL_TOL})
   */
  tol?: number;
}

/**
 * Top-k right singular vectors of S from products with M = SᵀS by randomized subspace iteration
 * (Halko–Martinsson–Tropp, SIAM Review 53(2), 2011, Alg. 4.4 on the normal operator): l = k + p
 * Gaussian probes, orthonormalized; q power iterations Z ← orth(M·Z); then one more product W = M·Z
 * for the Rayleigh–Ritz step on H = Z·Wᵀ. q + 1 products of l vectors in all; the error decays like
 * (σ_{l+1}/σ_k)^(2q). W is kept, so the residuals ‖M vⱼ − θⱼ vⱼ‖ are measured, not estimated.
 */
export async function randomizedNormal(
  normal: NormalOperator,
  k: number,
  options: RandomizedNormalOptions = {},
): Promise<TruncatedRightSvd> {
  requireOperatorShape('randomizedNormal', normal);
  const { rows, cols: n } = normal;
  requireInteger('randomizedNormal', 'k', k, 1, Math.min(rows, n));
  const p = options.oversampling ?? 10;
  const q = options.powerIterations ?? 2;
  const tol = options.tol ?? DEFAULT_RESIDUAL_TOL;
  const eps = options.eps ?? DEFAULT_RANK_EPS;
  requireInteger('randomizedNormal', 'oversampling', p, 0, Number.MAX_SAFE_INTEGER);
  requireInteger('randomizedNormal', 'powerIterations', q, 0, 1000);
  requireNonNegative('randomizedNormal', 'tol', tol);
  requireNonNegative('randomizedNormal', 'eps', eps);

  const m = countingNormal(normal);
  const rng = createRng(options.seed ?? 0);
  const l = Math.min(k + p, n);
  const product = async (block: Float64Array, pass: number): Promise<Float64Array> => {
    const w = await m.apply(block, l);
    for (let i = 0; i < w.length; i++) if (!Number.isFinite(w[i]!)) throw nonFiniteProduct('randomizedNormal', pass);
    return w;
  };
  let z: Float64Array = new Float64Array(l * n);
  for (let r = 0; r < l; r++) randomOrthogonalRow(z, r, n, rng);
  for (let it = 0; it < q; it++) {
    const w = await product(z, it + 1);
    orthonormalizeRowsFilling(w, l, n, rng);
    z = w;
  }
  const w = await product(z, q + 1);
  const h = new Float64Array(l * l);
  for (let i = 0; i < l; i++) for (let j = 0; j < l; j++) h[i * l + j] = dot(z, i * n, w, j * n, n);
  const pairs = ritzPairs(h, l, l);
  const want = Math.min(k, l);
  const v = combineRows(z, l, n, pairs.vectors, l, want);
  const mv = combineRows(w, l, n, pairs.vectors, l, want);
  const residuals = residualNorms(mv, v, pairs.values, want, n);
  return rightResult(z, pairs, normal, k, residuals, { tol, eps, products: m.counts });
}
