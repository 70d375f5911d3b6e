import type { ProductCounts } from './counting-operator.js';

/**
 * A (possibly truncated) SVD A ≈ U·diag(σ)·Vᵀ of an m × n operator, both factors row-major so that
 * the product reads as written: `u` is U (m × rank, column j = the j-th left singular vector, entry
 * (i, j) at u[i·rank + j]) and `v` is Vᵀ (rank × n, row j = the j-th right singular vector, entry
 * (j, c) at v[j·n + c]).
 */
export interface SvdResult {
  /** Singular values, descending. May be longer than `rank`: values past it count as zero. */
  readonly sigma: Float64Array;
  /** U, m × rank row-major: column j is the j-th left singular vector. */
  readonly u: Float64Array;
  /** Vᵀ, rank × n row-major: row j is the j-th right singular vector. */
  readonly v: Float64Array;
  /** Number of singular triplets with vectors: the σ above the numerical-rank tolerance. */
  readonly rank: number;
}

/** How far an iterative SVD got: the answer to "can these σ and vectors be trusted?". */
export interface ConvergenceReport {
  /** ‖A vᵢ − σᵢ uᵢ‖ per returned triplet (length = rank). */
  readonly residualsA: Float64Array;
  /** ‖Aᵀ uᵢ − σᵢ vᵢ‖ per returned triplet. */
  readonly residualsAt: Float64Array;
  /** Per triplet: both residuals ≤ `threshold`. */
  readonly converged: readonly boolean[];
  /** Every returned triplet converged (triplets past the numerical rank are not returned). */
  readonly allConverged: boolean;
  /** Absolute residual bound used: tol·σ₁. */
  readonly threshold: number;
  /** Power iterations (randomized) or Lanczos steps taken. */
  readonly iterations: number;
  /** Operator products used, residual checks included. */
  readonly products: Readonly<ProductCounts>;
}

/** A truncated SVD with the report of how well it converged. */
export interface TruncatedSvdResult extends SvdResult {
  readonly report: ConvergenceReport;
}

/** Builds the report from the residuals of the returned triplets. */
export function convergenceReport(
  sigma: ArrayLike<number>,
  residualsA: Float64Array,
  residualsAt: Float64Array,
  tol: number,
  iterations: number,
  products: Readonly<ProductCounts>,
): ConvergenceReport {
  const top = sigma.length > 0 ? sigma[0]! : 0;
  const threshold = tol * top;
  const converged = Array.from(residualsA, (ra, i) => Math.max(ra, residualsAt[i]!) <= threshold);
  return {
    residualsA,
    residualsAt,
    converged,
    allConverged: converged.every(Boolean),
    threshold,
    iterations,
    products: { ...products },
  };
}

/** Default relative residual tolerance of the iterative SVDs: ~100× float32 eps, reachable by a float32 network. */
export const DEFAULT_RESIDUAL_TOL = 1e-5;

/**
 * How far a solver on the normal operator M = SᵀS got. Its residuals are measured relative to
 * ‖M‖ = σ₁², the scale of the rounding in M's products (a float32 network gives a floor near 1e-7
 * whatever σⱼ is), and they bound the error of each vector: the angle between vⱼ and the true one is
 * at most the residual over the relative gap (σⱼ² − σⱼ₊₁²)/σ₁².
 */
export interface NormalConvergenceReport {
  /** ‖SᵀS vⱼ − σⱼ² vⱼ‖ / σ₁² per returned vector (length = rank). */
  readonly residuals: Float64Array;
  /** A vector converged when its residual is ≤ tol. */
  readonly tol: number;
  readonly converged: readonly boolean[];
  /** Every returned vector converged (vectors past the numerical rank are not returned). */
  readonly allConverged: boolean;
  /** Products with SᵀS, each of one block of vectors: the passes over S and Sᵀ. */
  readonly passes: number;
  /** Vectors multiplied: each product with SᵀS counts once as a matvec and once as an rmatvec. */
  readonly products: Readonly<ProductCounts>;
}

/** The top right singular vectors of an operator S found through SᵀS alone (no left vectors formed). */
export interface TruncatedRightSvd extends Omit<SvdResult, 'u'> {
  readonly report: NormalConvergenceReport;
}
