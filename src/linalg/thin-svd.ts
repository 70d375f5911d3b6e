import { errors } from '../errors/index.js';
import { axpy, fixSigns } from './block-ops.js';
import { requireFiniteDiagonal, requireNonNegative } from './check-args.js';
import { denseFromOperator } from './dense-from-operator.js';
import { columnGram, rowGram } from './gram.js';
import { orthogonalizeRow, rowNorm, scaleRow } from './gram-schmidt.js';
import { DEFAULT_RANK_EPS, numericalRank } from './numerical-rank.js';
import type { DenseMatrix, LinearOperator } from './operator.js';
import type { SvdResult } from './svd-types.js';
import { symmetricEigen } from './symmetric-eigen.js';

/** Options for {@link thinSvd} and {@link exactSvd}. */
export interface ThinSvdOptions {
  /**
   * Relative rank tolerance: σ ≤ max(m, n)·eps·σ_max counts as zero and gets no singular vectors.
   * @defaultValue 2⁻²³ (float32 epsilon, {@link DEFAULT_RANK_EPS})
   */
  eps?: number;
}

/**
 * Exact thin SVD of a dense m × n matrix through the eigendecomposition of its Gram matrix on the short
 * side (A·Aᵀ when m ≤ n, else Aᵀ·A), in float64. Built for the per-image hot path (m = 10 logits,
 * n = pixels): the cost is one s × s eigenproblem (s = min(m, n)) plus O(s²·max(m, n)) products.
 *
 * The Gram matrix squares the condition number (σⱼ is accurate to about 2⁻⁵²·σ₁²/σⱼ, which is ample
 * above the float32-scaled rank tolerance), so (1) singular values below the rank tolerance get
 * no vectors — their directions are not resolved — and (2) the long-side vectors, formed as
 * Aᵀuⱼ/σⱼ (or Avⱼ/σⱼ), are re-orthonormalized by modified Gram–Schmidt twice. A formed vector that
 * loses more than half its norm to the ones before it is numerically dependent: the rank stops there.
 * Singular vectors are signed so that each left vector's largest-magnitude entry is positive.
 */
export function thinSvd(a: DenseMatrix, options: ThinSvdOptions = {}): SvdResult {
  const { rows: m, cols: n, data } = a;
  if (!Number.isInteger(m) || m < 1 || !Number.isInteger(n) || n < 1 || data.length !== m * n) {
    throw errors.usage(
      `thinSvd: expected a positive m × n matrix with m·n values, got ${m} × ${n} with ${data.length}`,
      { rows: m, cols: n, length: data.length },
    );
  }
  const eps = options.eps ?? DEFAULT_RANK_EPS;
  requireNonNegative('thinSvd', 'eps', eps);

  const wide = m <= n;
  const s = wide ? m : n;
  const long = wide ? n : m;
  const gram = wide ? rowGram(data, m, n) : columnGram(data, m, n);
  requireFiniteDiagonal('thinSvd', gram, s, (i) => `${wide ? 'row' : 'column'} ${i} of the ${m} × ${n} matrix`, { rows: m, cols: n });
  const { values, vectors: w } = symmetricEigen(gram, s);
  const sigma = new Float64Array(s);
  for (let j = 0; j < s; j++) sigma[j] = Math.sqrt(Math.max(values[j]!, 0));

  let rank = numericalRank(sigma, m, n, eps);
  const formed = new Float64Array(rank * long);
  for (let j = 0; j < rank; j++) {
    const jo = j * long;
    const inv = 1 / sigma[j]!;
    if (wide) {
      for (let i = 0; i < m; i++) {
        const coef = w[i * s + j]! * inv;
        if (coef !== 0) axpy(formed, jo, data, i * n, n, coef);
      }
    } else {
      for (let i = 0; i < m; i++) {
        const ro = i * n;
        let acc = 0;
        for (let c = 0; c < n; c++) acc += data[ro + c]! * w[c * s + j]!;
        formed[jo + i] = acc * inv;
      }
    }
  }
  for (let j = 0; j < rank; j++) {
    const before = rowNorm(formed, j, long);
    const after = orthogonalizeRow(formed, j, long);
    if (!(after > 0.5 * before)) {
      rank = j;
      break;
    }
    scaleRow(formed, j, long, 1 / after);
  }

  const u = new Float64Array(m * rank);
  let v: Float64Array;
  if (wide) {
    for (let i = 0; i < m; i++) for (let j = 0; j < rank; j++) u[i * rank + j] = w[i * s + j]!;
    v = formed.length === rank * n ? formed : formed.slice(0, rank * n);
  } else {
    for (let i = 0; i < m; i++) for (let j = 0; j < rank; j++) u[i * rank + j] = formed[j * m + i]!;
    v = new Float64Array(rank * n);
    for (let j = 0; j < rank; j++) for (let c = 0; c < n; c++) v[j * n + c] = w[c * s + j]!;
  }
  fixSigns(u, v, m, n, rank);
  return { sigma, u, v, rank };
}

/**
 * Exact thin SVD of an operator with a small output side: A is built with one batched rmatvec of the
 * m × m identity (m VJPs), then decomposed by {@link thinSvd}.
 */
export async function exactSvd(op: LinearOperator, options: ThinSvdOptions = {}): Promise<SvdResult> {
  return thinSvd(await denseFromOperator(op), options);
}
