import { Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';
import { createRng } from '../util/rng.js';
import type { DenseMatrix } from './operator.js';
import { projectionNorms } from './projection.js';
import type { SvdResult } from './svd-types.js';

/**
 * Seeded dense test matrices for the linear-algebra tests (and for any other folder's tests that need
 * an operator with a known spectrum). Orthonormal factors come from ml-matrix's QR, independently of
 * the Gram–Schmidt code under test.
 */

/** An m × n matrix of independent standard normal entries. */
export function randomMatrix(seed: number, m: number, n: number): DenseMatrix {
  const rng = createRng(seed);
  const data = new Float64Array(m * n);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { rows: m, cols: n, data };
}

/** An m × s matrix (m ≥ s) with orthonormal columns, row-major. */
export function randomOrthonormalColumns(seed: number, m: number, s: number): Float64Array {
  const g = randomMatrix(seed, m, s);
  const q = new QrDecomposition(Matrix.from1DArray(m, s, g.data)).orthogonalMatrix;
  const out = new Float64Array(m * s);
  for (let i = 0; i < m; i++) for (let j = 0; j < s; j++) out[i * s + j] = q.get(i, j);
  return out;
}

/** A known SVD: A = U·diag(sigma)·Vᵀ with U (m × s) and V (n × s) orthonormal columns, s = sigma.length. */
export interface KnownSvd {
  readonly matrix: DenseMatrix;
  /** m × s row-major, column j = left vector j. */
  readonly u: Float64Array;
  /** n × s row-major, column j = right vector j. */
  readonly v: Float64Array;
  readonly sigma: readonly number[];
}

/** An m × n matrix with the given singular values (s ≤ min(m, n)) and random singular vectors. */
export function matrixWithSpectrum(seed: number, m: number, n: number, sigma: readonly number[]): KnownSvd {
  const s = sigma.length;
  const u = randomOrthonormalColumns(seed, m, s);
  const v = randomOrthonormalColumns(seed + 1, n, s);
  const data = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let c = 0; c < n; c++) {
      let acc = 0;
      for (let j = 0; j < s; j++) acc += u[i * s + j]! * sigma[j]! * v[c * s + j]!;
      data[i * n + c] = acc;
    }
  }
  return { matrix: { rows: m, cols: n, data }, u, v, sigma };
}

/** The matrix with every entry rounded to float32, as a network's weights and activations are. */
export function roundToFloat32(a: DenseMatrix): DenseMatrix {
  return { rows: a.rows, cols: a.cols, data: Float64Array.from(a.data, Math.fround) };
}

/** σᵢ = ratio^i for i < count: a geometrically decaying spectrum. */
export function geometricSpectrum(count: number, ratio: number): number[] {
  return Array.from({ length: count }, (_, i) => ratio ** i);
}

/** The first k right vectors of a known SVD as Vᵀ rows (k × n), the layout the SVD results use. */
function knownRightRows(known: KnownSvd, k: number): Float64Array {
  const n = known.matrix.cols;
  const s = known.sigma.length;
  const out = new Float64Array(k * n);
  for (let j = 0; j < k; j++) for (let c = 0; c < n; c++) out[j * n + c] = known.v[c * s + j]!;
  return out;
}

/** ‖A vⱼ − σⱼ uⱼ‖ and ‖Aᵀ uⱼ − σⱼ vⱼ‖ of an SVD result, computed densely from A. */
export function denseResiduals(a: DenseMatrix, got: SvdResult): { a: Float64Array; at: Float64Array } {
  const { rows: m, cols: n, data } = a;
  const r = got.rank;
  const ra = new Float64Array(r);
  const rat = new Float64Array(r);
  for (let j = 0; j < r; j++) {
    const s = got.sigma[j]!;
    let acc = 0;
    for (let i = 0; i < m; i++) {
      let av = 0;
      for (let c = 0; c < n; c++) av += data[i * n + c]! * got.v[j * n + c]!;
      acc += (av - s * got.u[i * r + j]!) ** 2;
    }
    ra[j] = Math.sqrt(acc);
    acc = 0;
    for (let c = 0; c < n; c++) {
      let atu = 0;
      for (let i = 0; i < m; i++) atu += data[i * n + c]! * got.u[i * r + j]!;
      acc += (atu - s * got.v[j * n + c]!) ** 2;
    }
    rat[j] = Math.sqrt(acc);
  }
  return { a: ra, at: rat };
}

/**
 * How far a truncated SVD is from a known one on its top k triplets: the largest relative error of σ,
 * and of ‖V_jᵀx‖ for j = 1..k (a sign- and rotation-blind measure of the right subspaces).
 */
export function topKErrors(
  known: KnownSvd,
  got: SvdResult,
  k: number,
  x: Float64Array,
): { sigma: number; projection: number } {
  const ks = Array.from({ length: k }, (_, j) => j + 1);
  const ours = projectionNorms(got.v, got.rank, x, ks).norms;
  const truth = projectionNorms(knownRightRows(known, k), k, x, ks).norms;
  let sigma = 0;
  let projection = 0;
  for (let j = 0; j < k; j++) {
    sigma = Math.max(sigma, Math.abs(got.sigma[j]! / known.sigma[j]! - 1));
    projection = Math.max(projection, Math.abs(ours[j]! / truth[j]! - 1));
  }
  return { sigma, projection };
}

/**
 * ‖V·Vᵀ − W·Wᵀ‖_F for two k-dimensional subspaces of Rⁿ given by orthonormal rows (k × n each,
 * row-major): 0 for the same subspace whatever the signs or the rotation within it, √(2k) for
 * orthogonal ones. Formed explicitly (n × n), not as √(2k − 2‖V·Wᵀ‖²), which cancels near 0.
 */
export function subspaceDistance(v: ArrayLike<number>, w: ArrayLike<number>, k: number, n: number): number {
  let total = 0;
  for (let p = 0; p < n; p++) {
    for (let q = 0; q < n; q++) {
      let d = 0;
      for (let j = 0; j < k; j++) d += v[j * n + p]! * v[j * n + q]! - w[j * n + p]! * w[j * n + q]!;
      total += d * d;
    }
  }
  return Math.sqrt(total);
}

/** The dense reference for a stacked operator: ml-matrix's SVD, σ descending and Vᵀ rows (k × n). */
export function denseTopRight(a: DenseMatrix, k: number): { sigma: number[]; v: Float64Array } {
  const svd = new SingularValueDecomposition(Matrix.from1DArray(a.rows, a.cols, a.data), { autoTranspose: true });
  const right = svd.rightSingularVectors;
  const v = new Float64Array(k * a.cols);
  for (let j = 0; j < k; j++) for (let c = 0; c < a.cols; c++) v[j * a.cols + c] = right.get(c, j);
  return { sigma: svd.diagonal.slice(0, k), v };
}
