/**
 * Thin SVD of a small dense row-major float64 matrix through ml-matrix (Golub–Kahan, as in JAMA), the
 * one place the diagnostics call into a linear-algebra library.
 */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';

export interface ThinSvd {
  /** min(rows, cols) singular values, descending. */
  readonly values: number[];
  /** Left singular vectors in the same order, each of length `rows`; empty unless requested. */
  readonly left: Float64Array[];
}

function toMatrix(rows: number, cols: number, data: Float64Array): Matrix {
  const m = new Matrix(rows, cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) m.set(r, c, data[r * cols + c]!);
  }
  return m;
}

export function thinSvd(rows: number, cols: number, data: Float64Array, withLeft = false): ThinSvd {
  const svd = new SingularValueDecomposition(toMatrix(rows, cols, data), {
    computeLeftSingularVectors: withLeft,
    computeRightSingularVectors: false,
    autoTranspose: true,
  });
  const raw = svd.diagonal.slice(0, Math.min(rows, cols));
  const order = raw.map((_, i) => i).sort((a, b) => raw[b]! - raw[a]!);
  const values = order.map((i) => Math.max(0, raw[i]!));
  const left: Float64Array[] = [];
  if (withLeft) {
    const u = svd.leftSingularVectors;
    for (const i of order) {
      const v = new Float64Array(rows);
      for (let r = 0; r < rows; r++) v[r] = u.get(r, i);
      left.push(v);
    }
  }
  return { values, left };
}

/** Singular values only, descending. */
export function singularValuesOf(rows: number, cols: number, data: Float64Array): number[] {
  return thinSvd(rows, cols, data).values;
}
