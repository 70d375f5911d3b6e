import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/**
 * Eigenpairs of a small dense symmetric matrix in float64, eigenvalues descending. The exact per-image
 * SVD decomposes one m × m Gram matrix per image (m = 10 logits): ml-matrix takes ~15 µs at 10 × 10,
 * a cyclic Jacobi on a flat array ~10 µs, and Jacobi keeps the
 * small eigenvalues of a positive semi-definite matrix to high relative accuracy (Demmel & Veselić
 * 1992). Past a few dozen rows ml-matrix's tridiagonal QL wins: its O(s³) constant is smaller than
 * Jacobi's sweeps.
 */

/**
 * Up to this size {@link symmetricEigen} uses Jacobi. Measured on Gram matrices of spread spectra,
 * Jacobi vs ml-matrix: 1.0 vs 1.2 µs at s = 4, 10 vs 15 µs at 10, 44 vs 54 at 16, 207 vs 238 at 24,
 * 765 vs 521 at 32.
 */
export const JACOBI_MAX_SIZE = 24;

/** Sweeps after which Jacobi stops whatever: it converges quadratically, in ~6–10 sweeps at these sizes. */
const MAX_SWEEPS = 60;

export interface SymmetricEigen {
  /** Eigenvalues, descending. */
  readonly values: Float64Array;
  /** s × s row-major: column j is the unit eigenvector of `values[j]`. */
  readonly vectors: Float64Array;
}

/**
 * Eigendecomposition of the symmetric s × s matrix `a` (row-major; only its symmetry is assumed, not
 * checked). `a` is not modified.
 */
export function symmetricEigen(a: Float64Array, s: number): SymmetricEigen {
  return s <= JACOBI_MAX_SIZE ? jacobiEigen(a, s) : tridiagonalEigen(a, s);
}

/**
 * Cyclic-by-row Jacobi (Golub & Van Loan §8.5) on the upper triangle: each rotation zeroes one
 * off-diagonal pair. An entry is left alone once it is negligible against its diagonal pair,
 * |a_pq| ≤ ε·√|a_pp·a_qq|, the criterion that gives the relative accuracy; the iteration ends after a
 * sweep that rotates nothing.
 */
export function jacobiEigen(a: Float64Array, s: number): SymmetricEigen {
  const w = Float64Array.from(a.subarray(0, s * s));
  const v = new Float64Array(s * s);
  for (let i = 0; i < s; i++) v[i * s + i] = 1;
  const eps = 2 ** -53;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < s - 1; p++) {
      for (let q = p + 1; q < s; q++) {
        const apq = w[p * s + q]!;
        if (apq === 0) continue;
        const app = w[p * s + p]!;
        const aqq = w[q * s + q]!;
        if (Math.abs(apq) <= eps * Math.sqrt(Math.abs(app) * Math.abs(aqq))) {
          w[p * s + q] = 0;
          continue;
        }
        rotated = true;
        // The symmetric Schur decomposition of the 2 × 2 block: t = tan θ, the smaller root. Past
        // 1e150, θ² would overflow and t = 1/(2θ) to double precision anyway.
        const theta = (aqq - app) / (2 * apq);
        const t = Math.abs(theta) > 1e150 ? 0.5 / theta : (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const sn = t * c;
        // Entry (i, j) of the symmetric matrix, i < j, lives at w[i·s + j].
        for (let k = 0; k < p; k++) rotatePair(w, k * s + p, k * s + q, c, sn);
        for (let k = p + 1; k < q; k++) rotatePair(w, p * s + k, k * s + q, c, sn);
        for (let k = q + 1; k < s; k++) rotatePair(w, p * s + k, q * s + k, c, sn);
        w[p * s + p] = app - t * apq;
        w[q * s + q] = aqq + t * apq;
        w[p * s + q] = 0;
        for (let k = 0; k < s; k++) rotatePair(v, k * s + p, k * s + q, c, sn);
      }
    }
    if (!rotated) break;
  }
  return sortedDescending(
    Float64Array.from({ length: s }, (_, i) => w[i * s + i]!),
    (i, j) => v[i * s + j]!,
    s,
  );
}

/** (x[i], x[k]) ← (c·x[i] − s·x[k], s·x[i] + c·x[k]). */
function rotatePair(x: Float64Array, i: number, k: number, c: number, sn: number): void {
  const xi = x[i]!;
  const xk = x[k]!;
  x[i] = c * xi - sn * xk;
  x[k] = sn * xi + c * xk;
}

function tridiagonalEigen(a: Float64Array, s: number): SymmetricEigen {
  const evd = new EigenvalueDecomposition(Matrix.from1DArray(s, s, a.subarray(0, s * s)), { assumeSymmetric: true });
  const vecs = evd.eigenvectorMatrix;
  return sortedDescending(Float64Array.from(evd.realEigenvalues), (i, j) => vecs.get(i, j), s);
}

/** The pairs reordered by descending eigenvalue; `vector(i, j)` is entry i of the j-th unsorted vector. */
function sortedDescending(raw: Float64Array, vector: (i: number, j: number) => number, s: number): SymmetricEigen {
  const order = Array.from({ length: s }, (_, i) => i).sort((x, y) => raw[y]! - raw[x]!);
  const values = new Float64Array(s);
  const vectors = new Float64Array(s * s);
  for (let j = 0; j < s; j++) {
    const src = order[j]!;
    values[j] = raw[src]!;
    for (let i = 0; i < s; i++) vectors[i * s + j] = vector(i, src);
  }
  return { values, vectors };
}
