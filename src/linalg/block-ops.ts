/**
 * Small dense kernels on row-major blocks shared by the SVD routines: forming singular vectors from a
 * basis and the small problem's coefficients, and measuring residuals.
 */

/** Σ x[xo + i]·y[yo + i] for i < len: a dot product of two rows stored at offsets. */
export function dot(x: ArrayLike<number>, xo: number, y: ArrayLike<number>, yo: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i++) s += x[xo + i]! * y[yo + i]!;
  return s;
}

/** y[yo + i] += factor·x[xo + i] for i < len. */
export function axpy(y: Float64Array, yo: number, x: ArrayLike<number>, xo: number, len: number, factor: number): void {
  for (let i = 0; i < len; i++) y[yo + i] += factor * x[xo + i]!;
}

/**
 * Rows j < count of the result (count × len) are Σ_{t < terms} coef[t·stride + j] · basis row t: the
 * basis (terms × len, one vector per row) times column j of a small coefficient matrix.
 */
export function combineRows(
  basis: Float64Array,
  terms: number,
  len: number,
  coef: ArrayLike<number>,
  stride: number,
  count: number,
): Float64Array {
  const out = new Float64Array(count * len);
  for (let j = 0; j < count; j++) {
    const jo = j * len;
    for (let t = 0; t < terms; t++) {
      const c = coef[t * stride + j]!;
      if (c !== 0) axpy(out, jo, basis, t * len, len, c);
    }
  }
  return out;
}

/** The transpose of a rows × cols row-major block. */
export function transposeBlock(x: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j]!;
  return out;
}

/** ‖xⱼ − σⱼ·yⱼ‖ for rows j < count of two count × len blocks. */
export function residualNorms(
  x: Float64Array,
  y: Float64Array,
  sigma: ArrayLike<number>,
  count: number,
  len: number,
): Float64Array {
  const out = new Float64Array(count);
  for (let j = 0; j < count; j++) {
    const s = sigma[j]!;
    let acc = 0;
    for (let i = j * len; i < (j + 1) * len; i++) {
      const d = x[i]! - s * y[i]!;
      acc += d * d;
    }
    out[j] = Math.sqrt(acc);
  }
  return out;
}

/**
 * Signs each singular pair so that the left vector's largest-magnitude entry is positive, so that
 * the same operator gives the same vectors on every run. `u` is m × rank (columns), `v` is rank × n,
 * or null when only the left vectors were formed.
 */
export function fixSigns(u: Float64Array, v: Float64Array | null, m: number, n: number, rank: number): void {
  for (let j = 0; j < rank; j++) {
    let best = 0;
    for (let i = 0; i < m; i++) if (Math.abs(u[i * rank + j]!) > Math.abs(best)) best = u[i * rank + j]!;
    if (best >= 0) continue;
    for (let i = 0; i < m; i++) u[i * rank + j] = -u[i * rank + j]!;
    if (v) for (let c = j * n; c < (j + 1) * n; c++) v[c] = -v[c]!;
  }
}
