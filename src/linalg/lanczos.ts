import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { createRng, type Rng } from '../util/rng.js';
import { axpy, combineRows, fixSigns, transposeBlock } from './block-ops.js';
import { requireInteger, requireNonNegative, requireOperatorShape } from './check-args.js';
import { countingOperator } from './counting-operator.js';
import { orthogonalizeRow, randomOrthogonalRow, scaleRow } from './gram-schmidt.js';
import { DEFAULT_RANK_EPS, numericalRank } from './numerical-rank.js';
import type { LinearOperator } from './operator.js';
import { DEFAULT_RESIDUAL_TOL, convergenceReport, type TruncatedSvdResult } from './svd-types.js';

/** Options for {@link lanczosSvd}. */
export interface LanczosOptions {
  /**
   * Most bidiagonalization steps (one matvec and one rmatvec each); capped at min(m, n), where the
   * factorization is complete and exact. Memory is (steps + 1)·(m + n) doubles.
   * @defaultValue 4k + 30
   */
  maxIterations?: number;
  /** Stop when the top k Ritz residuals are ≤ tol·σ₁. @defaultValue 1e-5 ({@link DEFAULT_RESIDUAL_TOL}) */
  tol?: number;
  /** Seed of the random start vector. @defaultValue 0 */
  seed?: number;
  /** Relative rank tolerance, as in thinSvd. @defaultValue 2⁻²³ */
  eps?: number;
}

/**
 * A Lanczos vector whose norm after orthogonalization falls below this fraction of ‖A‖ (estimated by
 * the largest α, β so far) means the Krylov space is exhausted on that side.
 */
const BREAKDOWN = 1e-12;

/**
 * Top-k SVD of a matrix-free operator by Golub–Kahan–Lanczos bidiagonalization with full
 * reorthogonalization (Golub & Van Loan, 4th ed., §10.4): A·V_j = U_j·B_j and Aᵀ·U_j = V_j·B_jᵀ +
 * β_j·v_{j+1}·e_jᵀ with B_j upper bidiagonal, so a Ritz triplet (σ, U_j·p, V_j·q) from the SVD of B_j
 * has ‖A v − σ u‖ = 0 and ‖Aᵀu − σ v‖ = |β_j·p_j| with no extra product. On breakdown (a new vector
 * in the span of the old ones: rank deficiency or an invariant subspace) the coefficient is 0 and the
 * recurrence restarts from a random vector orthogonal to the basis, which keeps both relations exact.
 */
export async function lanczosSvd(
  op: LinearOperator,
  k: number,
  options: LanczosOptions = {},
): Promise<TruncatedSvdResult> {
  requireOperatorShape('lanczosSvd', op);
  const { rows: m, cols: n } = op;
  const minDim = Math.min(m, n);
  requireInteger('lanczosSvd', 'k', k, 1, minDim);
  const requested = options.maxIterations ?? 4 * k + 30;
  requireInteger('lanczosSvd', 'maxIterations', requested, k, Number.MAX_SAFE_INTEGER);
  const tol = options.tol ?? DEFAULT_RESIDUAL_TOL;
  const eps = options.eps ?? DEFAULT_RANK_EPS;
  requireNonNegative('lanczosSvd', 'tol', tol);
  requireNonNegative('lanczosSvd', 'eps', eps);

  const a = countingOperator(op);
  const rng = createRng(options.seed ?? 0);
  const maxSteps = Math.min(requested, minDim);
  const us = new Float64Array(maxSteps * m);
  const vs = new Float64Array((maxSteps + 1) * n);
  const alpha = new Float64Array(maxSteps);
  const beta = new Float64Array(maxSteps);
  randomOrthogonalRow(vs, 0, n, rng);

  let norm = 0;
  let steps = 0;
  let nextCheck = k;
  let ritz: Ritz | null = null;
  while (steps < maxSteps) {
    const j = steps;
    us.set(await a.matvec(vs.subarray(j * n, (j + 1) * n), 1), j * m);
    if (j > 0) axpy(us, j * m, us, (j - 1) * m, m, -beta[j - 1]!);
    alpha[j] = normalizeOrRestart(us, j, m, rng, norm);
    norm = Math.max(norm, alpha[j]!);

    vs.set(await a.rmatvec(us.subarray(j * m, (j + 1) * m), 1), (j + 1) * n);
    axpy(vs, (j + 1) * n, vs, j * n, n, -alpha[j]!);
    if (j + 1 < n) {
      beta[j] = normalizeOrRestart(vs, j + 1, n, rng, norm);
    } else {
      // The right basis already spans Rⁿ: what is left is rounding.
      beta[j] = 0;
      vs.fill(0, (j + 1) * n, (j + 2) * n);
    }
    norm = Math.max(norm, beta[j]!);
    steps++;

    if (steps >= nextCheck || steps === maxSteps) {
      const current = ritzValues(alpha, beta, steps, steps === m, k);
      ritz = current;
      if (current.residuals.every((r) => r <= tol * current.sigma[0]!)) break;
      nextCheck = steps + Math.max(1, Math.ceil(steps / 10));
    }
  }
  // The loop always ends with a check: steps === maxSteps or an earlier converged one.
  const found = ritz!;
  const rank = Math.min(k, numericalRank(found.sigma, m, n, eps));
  const uRows = combineRows(us, steps, m, found.left, found.size, rank);
  const v = combineRows(vs, found.size, n, found.right, found.size, rank);
  const u = transposeBlock(uRows, rank, m);
  fixSigns(u, v, m, n, rank);
  const residualsAt = Float64Array.from(found.residuals.subarray(0, rank));
  return {
    sigma: found.sigma,
    u,
    v,
    rank,
    report: convergenceReport(found.sigma, new Float64Array(rank), residualsAt, tol, steps, a.counts),
  };
}

/** Top-k Ritz values of the bidiagonal, its singular vectors (size × size, row-major) and residuals. */
interface Ritz {
  readonly sigma: Float64Array;
  readonly residuals: Float64Array;
  readonly left: Float64Array;
  readonly right: Float64Array;
  readonly size: number;
}

/**
 * SVD of B_steps. When the left basis is complete (steps = m) the factorization closes with one more
 * column β·e_steps and a zero row, whose SVD is that of U_mᵀA: exact, with zero residuals.
 */
function ritzValues(alpha: Float64Array, beta: Float64Array, steps: number, closed: boolean, k: number): Ritz {
  const size = closed ? steps + 1 : steps;
  const b = new Matrix(size, size);
  for (let i = 0; i < steps; i++) {
    b.set(i, i, alpha[i]!);
    if (i + 1 < size) b.set(i, i + 1, beta[i]!);
  }
  const svd = new SingularValueDecomposition(b, { autoTranspose: true });
  const left = Float64Array.from(svd.leftSingularVectors.to1DArray());
  const right = Float64Array.from(svd.rightSingularVectors.to1DArray());
  const sigma = Float64Array.from(svd.diagonal.slice(0, k));
  const last = closed ? 0 : beta[steps - 1]!;
  const residuals = Float64Array.from(sigma, (_, i) => Math.abs(last * left[(steps - 1) * size + i]!));
  return { sigma, residuals, left, right, size };
}

/** Orthogonalizes row j against the rows before it and normalizes it; returns its norm, or 0 after a restart. */
function normalizeOrRestart(block: Float64Array, j: number, len: number, rng: Rng, norm: number): number {
  const left = orthogonalizeRow(block, j, len);
  if (left > BREAKDOWN * norm && left > 0) {
    scaleRow(block, j, len, 1 / left);
    return left;
  }
  randomOrthogonalRow(block, j, len, rng);
  return 0;
}
