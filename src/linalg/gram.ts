import { axpy, dot } from './block-ops.js';

/**
 * Gram matrices of dense row-major blocks in float64, whatever precision the rows come in (an engine's
 * Jacobians are float32): A·Aᵀ on the short side of a wide block, Aᵀ·A accumulated over the parts of a
 * tall one that is never held whole.
 */

/** A·Aᵀ (m × m) of a row-major m × n matrix. */
export function rowGram(data: Float32Array | Float64Array, m: number, n: number): Float64Array {
  const g = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = i; j < m; j++) {
      const acc = dot(data, i * n, data, j * n, n);
      g[i * m + j] = acc;
      g[j * m + i] = acc;
    }
  }
  return g;
}

/** Aᵀ·A (n × n) of a row-major m × n matrix. */
export function columnGram(data: Float32Array | Float64Array, m: number, n: number): Float64Array {
  const g = new Float64Array(n * n);
  addColumnGramUpper(g, data, m, n);
  mirrorUpper(g, n);
  return g;
}

/**
 * g += Aᵀ·A on and above the diagonal, for a row-major m × n block A. Eight rows go through g at once:
 * g (n × n) is far larger than a cache and each pass over it is what costs, so a pass does eight rank-1
 * updates (measured at n = 784: 2.8× faster than one row per pass, 1.2× faster than four).
 */
export function addColumnGramUpper(g: Float64Array, data: Float32Array | Float64Array, m: number, n: number): void {
  let r = 0;
  for (; r + 8 <= m; r += 8) {
    const o0 = r * n;
    const o1 = o0 + n;
    const o2 = o1 + n;
    const o3 = o2 + n;
    const o4 = o3 + n;
    const o5 = o4 + n;
    const o6 = o5 + n;
    const o7 = o6 + n;
    for (let p = 0; p < n; p++) {
      const a0 = data[o0 + p]!;
      const a1 = data[o1 + p]!;
      const a2 = data[o2 + p]!;
      const a3 = data[o3 + p]!;
      const a4 = data[o4 + p]!;
      const a5 = data[o5 + p]!;
      const a6 = data[o6 + p]!;
      const a7 = data[o7 + p]!;
      const go = p * n;
      for (let q = p; q < n; q++) {
        g[go + q] +=
          a0 * data[o0 + q]! +
          a1 * data[o1 + q]! +
          a2 * data[o2 + q]! +
          a3 * data[o3 + q]! +
          a4 * data[o4 + q]! +
          a5 * data[o5 + q]! +
          a6 * data[o6 + q]! +
          a7 * data[o7 + q]!;
      }
    }
  }
  for (; r < m; r++) {
    const ro = r * n;
    for (let p = 0; p < n; p++) {
      const ap = data[ro + p]!;
      if (ap === 0) continue;
      const go = p * n;
      for (let q = p; q < n; q++) g[go + q] += ap * data[ro + q]!;
    }
  }
}

/** Copies the upper triangle of a symmetric n × n matrix onto its lower one. */
export function mirrorUpper(g: Float64Array, n: number): void {
  for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) g[q * n + p] = g[p * n + q]!;
}

/**
 * out += Aᵀ·(A·vⱼ) for k vectors vⱼ (k × n in `v` and `out`), for a row-major m × n block A: a normal
 * product from A's rows without forming AᵀA, 2·m·n·k multiply-adds.
 */
export function addNormalProduct(out: Float64Array, data: Float32Array | Float64Array, m: number, n: number, v: Float64Array, k: number): void {
  for (let i = 0; i < m; i++) {
    const ro = i * n;
    for (let j = 0; j < k; j++) {
      const c = dot(data, ro, v, j * n, n);
      if (c !== 0) axpy(out, j * n, data, ro, n, c);
    }
  }
}
