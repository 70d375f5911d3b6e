import { RprError } from '../errors/index.js';
import { combineRows } from './block-ops.js';
import type { ProductCounts } from './counting-operator.js';
import { numericalRank } from './numerical-rank.js';
import type { TruncatedRightSvd } from './svd-types.js';
import { symmetricEigen } from './symmetric-eigen.js';

/**
 * The Rayleigh–Ritz step shared by the iterative solvers on a normal operator M = SᵀS: with an
 * orthonormal basis Q (d rows) and H = Q·M·Qᵀ (d × d), the eigenpairs (θⱼ, yⱼ) of H give Ritz vectors
 * vⱼ = Qᵀyⱼ and σⱼ = √θⱼ. H comes from an engine's float32 products, so it is symmetric only to float32
 * rounding: the pairs are those of its symmetric part, and the skew part enters the residuals.
 */
export interface RitzPairs {
  /** Basis size d. */
  readonly size: number;
  /** θ, descending (length d). */
  readonly values: Float64Array;
  /** d × d row-major: column j is yⱼ. */
  readonly vectors: Float64Array;
  /** (H − Hᵀ)/2, d × d row-major. */
  readonly skew: Float64Array;
}

/** Ritz pairs of the leading d × d block of `h` (row-major with row stride `stride`). */
export function ritzPairs(h: Float64Array, d: number, stride: number): RitzPairs {
  const sym = new Float64Array(d * d);
  const skew = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      const a = h[i * stride + j]!;
      const b = h[j * stride + i]!;
      sym[i * d + j] = 0.5 * (a + b);
      skew[i * d + j] = 0.5 * (a - b);
    }
  }
  const { values, vectors } = symmetricEigen(sym, d);
  return { size: d, values, vectors, skew };
}

/** ‖(H − Hᵀ)/2 · yⱼ‖², the part of ‖M vⱼ − θⱼ vⱼ‖² that lies inside the basis. */
export function skewResidualSquared(pairs: RitzPairs, j: number): number {
  const { size: d, vectors, skew } = pairs;
  let total = 0;
  for (let i = 0; i < d; i++) {
    let acc = 0;
    for (let c = 0; c < d; c++) acc += skew[i * d + c]! * vectors[c * d + j]!;
    total += acc * acc;
  }
  return total;
}

/** σⱼ = √max(θⱼ, 0) for j < count. */
export function ritzSigma(pairs: RitzPairs, count: number): Float64Array {
  return Float64Array.from(pairs.values.subarray(0, count), (t) => Math.sqrt(Math.max(t, 0)));
}

/** Whether every residual ‖SᵀS vⱼ − θⱼ vⱼ‖ (j < rank) is ≤ tol·θ₁. */
export function ritzConverged(residuals: ArrayLike<number>, pairs: RitzPairs, rank: number, tol: number): boolean {
  for (let j = 0; j < rank; j++) if (!(residuals[j]! <= tol * pairs.values[0]!)) return false;
  return true;
}

/**
 * The result of a normal-operator solver: the top `rank` Ritz vectors formed from the basis, signed so
 * that each one's largest-magnitude entry is positive (the same operator gives the same vectors on every
 * run), and the report with the residuals relative to θ₁ = σ₁².
 * @param residuals - ‖SᵀS vⱼ − θⱼ vⱼ‖ for j < rank at least.
 */
export function rightResult(
  basis: Float64Array,
  pairs: RitzPairs,
  shape: { readonly rows: number; readonly cols: number },
  k: number,
  residuals: ArrayLike<number>,
  settings: { readonly tol: number; readonly eps: number; readonly products: Readonly<ProductCounts> },
): TruncatedRightSvd {
  const { cols } = shape;
  const sigma = ritzSigma(pairs, Math.min(k, pairs.size));
  const rank = numericalRank(sigma, shape.rows, cols, settings.eps);
  const v = combineRows(basis, pairs.size, cols, pairs.vectors, pairs.size, rank);
  signRowsByLargest(v, rank, cols);
  const top = pairs.values[0]!;
  const relative = Float64Array.from({ length: rank }, (_, j) => residuals[j]! / top);
  const converged = Array.from(relative, (r) => r <= settings.tol);
  return {
    sigma,
    v,
    rank,
    report: {
      residuals: relative,
      tol: settings.tol,
      converged,
      allConverged: converged.every(Boolean),
      passes: settings.products.matvecCalls,
      products: { ...settings.products },
    },
  };
}

/** Flips each row whose largest-magnitude entry is negative. */
function signRowsByLargest(v: Float64Array, count: number, len: number): void {
  for (let j = 0; j < count; j++) {
    let best = 0;
    for (let c = j * len; c < (j + 1) * len; c++) if (Math.abs(v[c]!) > Math.abs(best)) best = v[c]!;
    if (best < 0) for (let c = j * len; c < (j + 1) * len; c++) v[c] = -v[c]!;
  }
}

/** The error for a product with M (the `pass`-th, from 1) that held NaN or Infinity: the operator (the network) is broken there. */
export function nonFiniteProduct(where: string, pass: number): RprError {
  return new RprError('RPR_NUMERIC', `${where}: a product with SᵀS held NaN or Infinity (pass ${pass}); the operator produces non-finite values`, { pass });
}
