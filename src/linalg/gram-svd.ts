import { errors } from '../errors/index.js';
import { fixSigns } from './block-ops.js';
import { requireFiniteDiagonal, requireNonNegative } from './check-args.js';
import { DEFAULT_RANK_EPS, numericalRank } from './numerical-rank.js';
import type { SvdResult } from './svd-types.js';
import { symmetricEigen } from './symmetric-eigen.js';
import type { ThinSvdOptions } from './thin-svd.js';

/** σ and U of a wide matrix, without its right singular vectors. */
export type GramSvd = Omit<SvdResult, 'v'>;

/**
 * The SVD of an m × n matrix A from its Gram matrix G = A·Aᵀ (m × m, float64) alone: σ and U, no right
 * singular vectors. The exact per-image scores need the right vectors only through their inner
 * products with one input x, and V_rᵀx = Σ_r⁻¹·U_rᵀ·(A·x) ({@link rightCoordinates}), so an engine
 * that hands back G and A·x spares forming and orthonormalizing r vectors of length n.
 *
 * Accuracy is thinSvd's: σⱼ to about 2⁻⁵²·σ₁²/σⱼ. Above the rank tolerance max(m, n)·eps·σ₁ the
 * implied right vectors Aᵀuⱼ/σⱼ are orthonormal to 2⁻⁵²·σ₁²/σ_r² ≤ 2⁻⁵²/(max(m, n)·eps)² (2.6e-8 at
 * n = 784, eps = 2⁻²³), so there is nothing to re-orthogonalize. When m > n, G's last m − n
 * eigenvalues are A's missing singular values, zeros: σ has min(m, n) entries, as thinSvd's.
 *
 * @param n - A's number of columns: it sets the rank tolerance and the number of singular values.
 */
export function svdFromGram(gram: Float64Array, m: number, n: number, options: ThinSvdOptions = {}): GramSvd {
  if (!Number.isInteger(m) || m < 1 || !Number.isInteger(n) || n < 1 || gram.length !== m * m) {
    throw errors.usage(`svdFromGram: expected the m × m Gram matrix of a positive m × n matrix, got m = ${m}, n = ${n} and ${gram.length} values`, {
      rows: m,
      cols: n,
      length: gram.length,
    });
  }
  const eps = options.eps ?? DEFAULT_RANK_EPS;
  requireNonNegative('svdFromGram', 'eps', eps);
  requireFiniteDiagonal('svdFromGram', gram, m, (i) => `row ${i} of the ${m} × ${n} matrix`, { rows: m, cols: n });
  const { values, vectors } = symmetricEigen(gram, m);
  const sigma = Float64Array.from(values.subarray(0, Math.min(m, n)), (l) => Math.sqrt(Math.max(l, 0)));
  const rank = numericalRank(sigma, m, n, eps);
  const u = new Float64Array(m * rank);
  for (let i = 0; i < m; i++) for (let j = 0; j < rank; j++) u[i * rank + j] = vectors[i * m + j]!;
  fixSigns(u, null, m, n, rank);
  return { sigma, u, rank };
}

/**
 * V_rᵀx, the coordinates of x on the right singular vectors, from A·x: ⟨vⱼ, x⟩ = uⱼᵀ(A·x)/σⱼ.
 * @param ax - A·x, m values from `offset`.
 */
export function rightCoordinates(svd: GramSvd, ax: ArrayLike<number>, offset = 0): Float64Array {
  const { sigma, u, rank } = svd;
  const m = rank === 0 ? 0 : u.length / rank;
  const out = new Float64Array(rank);
  for (let j = 0; j < rank; j++) {
    let acc = 0;
    for (let i = 0; i < m; i++) acc += u[i * rank + j]! * ax[offset + i]!;
    out[j] = acc / sigma[j]!;
  }
  return out;
}
