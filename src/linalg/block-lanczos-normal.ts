import { errors } from '../errors/index.js';
import { createRng } from '../util/rng.js';
import { axpy, dot } from './block-ops.js';
import { requireInteger, requireNonNegative, requireOperatorShape } from './check-args.js';
import { randomOrthogonalRow } from './gram-schmidt.js';
import { countingNormal, type NormalOperator } from './normal-operator.js';
import { nonFiniteProduct, ritzConverged, ritzPairs, ritzSigma, rightResult, skewResidualSquared, type RitzPairs } from './normal-ritz.js';
import { DEFAULT_RANK_EPS, numericalRank } from './numerical-rank.js';
import { DEFAULT_RESIDUAL_TOL, type TruncatedRightSvd } from './svd-types.js';

/** Options for {@link blockLanczosNormal}. */
export interface BlockLanczosNormalOptions {
  /**
   * Vectors per block (b): each pass applies M to one block. A block as wide as k finds k-fold
   * eigenvalues, which a one-vector Krylov method can miss; a wider one needs fewer passes.
   * @defaultValue min(cols, max(k, 4))
   */
  blockSize?: number;
  /**
   * Most passes (products of M with one block). The basis holds (passes + 1)·b vectors of length cols;
   * at ⌈cols/b⌉ passes it spans R^cols and the answer is exact.
   * @defaultValue 40
   */
  maxPasses?: number;
  /**
   * Converged when ‖SᵀS vⱼ − σⱼ² vⱼ‖ ≤ tol·σ₁² for every returned j (NormalConvergenceReport).
   * @defaultValue 1e-5 ({@link DEFAULT_RESIDUAL_TOL})
   */
  tol?: number;
  /**
   * The Rayleigh–Ritz check (an eigendecomposition of the d × d projected matrix, O(d³)) runs after a
   * pass once the basis has grown by this factor since the last check. 1 checks every pass: right when
   * a product is a pass over a reference set. An explicit Gram matrix makes products cheap and the
   * checks dominant: growing the interval geometrically bounds their total to a few times the last one.
   * @defaultValue 1
   */
  checkGrowth?: number;
  /** Seed of the random start block. @defaultValue 0 */
  seed?: number;
  /** Relative rank tolerance, as in thinSvd. @defaultValue 2⁻²³ */
  eps?: number;
}

/** A new basis vector keeping less than this fraction of ‖M‖ (the largest ‖M·q‖ so far) is a breakdown. */
const BREAKDOWN = 1e-12;

/**
 * Top-k right singular vectors of S from products with M = SᵀS, by block Lanczos with full
 * reorthogonalization and Rayleigh–Ritz over the whole Krylov basis (Golub & Underwood 1977; Golub &
 * Van Loan, 4th ed., §10.3.6). Pass p applies M to the newest block; its result is orthogonalized
 * twice against every basis vector, the coefficients forming H = Q·M·Qᵀ (block upper Hessenberg) and
 * the remainder, orthonormalized, the next block with M·Qᵀ = Qᵀ·H + Q_nextᵀ·R. A Ritz pair (θ, y) of H's
 * symmetric part then has ‖M v − θ v‖² = ‖skew(H)·y‖² + ‖R·y_last‖² with no further product, so every
 * pass checks convergence for free. A remainder that vanishes (an invariant subspace: rank deficiency
 * or a complete basis) is replaced by a random vector orthogonal to the basis, which keeps the relation
 * exact and the iteration going until it converges or spans R^cols.
 */
export async function blockLanczosNormal(
  normal: NormalOperator,
  k: number,
  options: BlockLanczosNormalOptions = {},
): Promise<TruncatedRightSvd> {
  requireOperatorShape('blockLanczosNormal', normal);
  const { rows, cols: n } = normal;
  requireInteger('blockLanczosNormal', 'k', k, 1, Math.min(rows, n));
  const b = options.blockSize ?? Math.min(n, Math.max(k, 4));
  requireInteger('blockLanczosNormal', 'blockSize', b, 1, n);
  const maxPasses = options.maxPasses ?? 40;
  requireInteger('blockLanczosNormal', 'maxPasses', maxPasses, 1, Number.MAX_SAFE_INTEGER);
  const tol = options.tol ?? DEFAULT_RESIDUAL_TOL;
  const eps = options.eps ?? DEFAULT_RANK_EPS;
  const growth = options.checkGrowth ?? 1;
  if (!(growth >= 1 && growth < Infinity)) {
    throw errors.usage(`blockLanczosNormal: checkGrowth must be a finite number ≥ 1, got ${growth}`, { option: 'checkGrowth', value: growth });
  }
  requireNonNegative('blockLanczosNormal', 'tol', tol);
  requireNonNegative('blockLanczosNormal', 'eps', eps);

  const m = countingNormal(normal);
  const rng = createRng(options.seed ?? 0);
  // Room for the blocks applied and the one the last pass produces (its R enters the residuals); the
  // storage grows by doubling, so a fast convergence never allocates the whole basis.
  const cap = Math.min(n, (Math.min(maxPasses, Math.ceil(n / b)) + 1) * b);
  let stride = Math.min(cap, 8 * b);
  let q = new Float64Array(stride * n);
  let h = new Float64Array(stride * stride);
  const reserve = (rowsNeeded: number): void => {
    if (rowsNeeded <= stride) return;
    const size = Math.min(cap, Math.max(rowsNeeded, 2 * stride));
    const grownQ = new Float64Array(size * n);
    grownQ.set(q);
    const grownH = new Float64Array(size * size);
    for (let i = 0; i < stride; i++) grownH.set(h.subarray(i * stride, (i + 1) * stride), i * size);
    q = grownQ;
    h = grownH;
    stride = size;
  };
  for (let r = 0; r < b; r++) randomOrthogonalRow(q, r, n, rng);
  let start = 0;
  let end = b;
  let scale = 0;
  let passes = 0;
  let checkAt = 0;
  for (;;) {
    reserve(Math.min(cap, end + (end - start)));
    const w = await m.apply(q.subarray(start * n, end * n), end - start);
    passes++;
    let next = end;
    for (let r = 0; r < end - start; r++) {
      const col = start + r;
      const wo = r * n;
      const size = Math.sqrt(dot(w, wo, w, wo, n));
      if (!Number.isFinite(size)) throw nonFiniteProduct('blockLanczosNormal', passes);
      scale = Math.max(scale, size);
      for (let sweep = 0; sweep < 2; sweep++) {
        for (let i = 0; i < next; i++) {
          const c = dot(q, i * n, w, wo, n);
          if (c === 0) continue;
          axpy(w, wo, q, i * n, n, -c);
          h[i * stride + col] += c;
        }
      }
      // cap leaves room for the last pass's block, so no room means the basis spans R^cols (cap = n)
      // and the remainder is rounding.
      if (next === cap) continue;
      const left = Math.sqrt(dot(w, wo, w, wo, n));
      if (left > BREAKDOWN * scale) {
        for (let c = 0; c < n; c++) q[next * n + c] = w[wo + c]! / left;
        h[next * stride + col] = left;
      } else {
        randomOrthogonalRow(q, next, n, rng);
      }
      next++;
    }

    const last = passes >= maxPasses || next === end;
    if (!last && end < checkAt) {
      start = end;
      end = next;
      continue;
    }
    checkAt = Math.ceil(end * growth);
    const pairs = ritzPairs(h, end, stride);
    const want = Math.min(k, end);
    const residuals = Float64Array.from({ length: want }, (_, j) => Math.sqrt(skewResidualSquared(pairs, j) + remainderSquared(h, stride, pairs, j, start, end, next)));
    const sigma = ritzSigma(pairs, want);
    const rank = numericalRank(sigma, rows, n, eps);
    // Fewer than k basis vectors cannot hold k converged ones, unless they span R^cols already.
    const converged = end >= k && ritzConverged(residuals, pairs, rank, tol);
    if (converged || last) {
      return rightResult(q, pairs, normal, k, residuals, { tol, eps, products: m.counts });
    }
    start = end;
    end = next;
  }
}

/** ‖R·y_last‖²: the part of ‖M v − θ v‖² along the new block's rows [end, next), R = H[end:next, start:end]. */
function remainderSquared(h: Float64Array, stride: number, pairs: RitzPairs, j: number, start: number, end: number, next: number): number {
  const d = pairs.size;
  let total = 0;
  for (let i = end; i < next; i++) {
    let acc = 0;
    for (let c = start; c < end; c++) acc += h[i * stride + c]! * pairs.vectors[c * d + j]!;
    total += acc * acc;
  }
  return total;
}
