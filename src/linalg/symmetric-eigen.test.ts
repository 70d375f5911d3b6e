import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { JACOBI_MAX_SIZE, jacobiEigen, symmetricEigen } from './symmetric-eigen.js';
import type { SymmetricEigen } from './symmetric-eigen.js';
import { randomMatrix } from './test-matrices.js';

function randomSymmetric(seed: number, s: number): Float64Array {
  const r = randomMatrix(seed, s, s).data;
  return Float64Array.from({ length: s * s }, (_, k) => (r[k]! + r[(k % s) * s + Math.floor(k / s)]!) / 2);
}

/** ‖A·vⱼ − λⱼ·vⱼ‖ ≤ tol·‖A‖ for every pair, and VᵀV = I. */
function expectEigenpairs(a: Float64Array, s: number, got: SymmetricEigen, tol: number): void {
  const scale = Math.max(...Array.from(got.values, Math.abs), 1e-300);
  for (let j = 0; j < s; j++) {
    for (let i = 0; i < s; i++) {
      let av = 0;
      for (let k = 0; k < s; k++) av += a[i * s + k]! * got.vectors[k * s + j]!;
      expect(Math.abs(av - got.values[j]! * got.vectors[i * s + j]!)).toBeLessThan(tol * scale);
    }
    for (let k = 0; k <= j; k++) {
      let vv = 0;
      for (let i = 0; i < s; i++) vv += got.vectors[i * s + j]! * got.vectors[i * s + k]!;
      expect(Math.abs(vv - (j === k ? 1 : 0))).toBeLessThan(tol);
    }
  }
}

describe('symmetricEigen', () => {
  it.each([
    ['Jacobi', 2],
    ['Jacobi', 10],
    ['Jacobi', JACOBI_MAX_SIZE],
    ['tridiagonal QL', JACOBI_MAX_SIZE + 1],
    ['tridiagonal QL', 40],
  ])('%s at s = %i matches ml-matrix on an indefinite matrix', (_how, s) => {
    const a = randomSymmetric(s, s);
    const got = symmetricEigen(a, s);
    const ref = Array.from(new EigenvalueDecomposition(Matrix.from1DArray(s, s, a), { assumeSymmetric: true }).realEigenvalues).sort((x, y) => y - x);
    for (let j = 0; j < s; j++) expect(Math.abs(got.values[j]! - ref[j]!)).toBeLessThan(1e-12 * Math.abs(ref[0]!));
    for (let j = 1; j < s; j++) expect(got.values[j]!).toBeLessThanOrEqual(got.values[j - 1]!);
    expectEigenpairs(a, s, got, 1e-12);
  });

  it('solves the 2 × 2 closed form and a 1 × 1', () => {
    const [p, q, r] = [2, -3, 0.5];
    const got = jacobiEigen(Float64Array.of(p, q, q, r), 2);
    const mid = (p + r) / 2;
    const rad = Math.sqrt(((p - r) / 2) ** 2 + q * q);
    expect(got.values[0]).toBeCloseTo(mid + rad, 14);
    expect(got.values[1]).toBeCloseTo(mid - rad, 14);
    expectEigenpairs(Float64Array.of(p, q, q, r), 2, got, 1e-14);
    expect(Array.from(jacobiEigen(Float64Array.of(-7), 1).values)).toEqual([-7]);
  });

  it('sorts an already diagonal matrix and a zero off-diagonal swap matrix', () => {
    const diag = Float64Array.of(1, 0, 0, 0, 5, 0, 0, 0, -2);
    const got = jacobiEigen(diag, 3);
    expect(Array.from(got.values)).toEqual([5, 1, -2]);
    expect(Math.abs(got.vectors[1 * 3 + 0]!)).toBe(1);
    const swap = jacobiEigen(Float64Array.of(0, 1, 1, 0), 2);
    expect(swap.values[0]).toBeCloseTo(1, 15);
    expect(swap.values[1]).toBeCloseTo(-1, 15);
  });

  it('separates repeated eigenvalues into an orthonormal basis', () => {
    // 3·I + w·wᵀ: eigenvalue 3 + ‖w‖² once and 3 four times.
    const w = [1, 2, 0, -1, 1];
    const a = Float64Array.from({ length: 25 }, (_, k) => (k % 6 === 0 ? 3 : 0) + w[Math.floor(k / 5)]! * w[k % 5]!);
    const got = jacobiEigen(a, 5);
    expect(got.values[0]).toBeCloseTo(3 + 7, 13);
    for (let j = 1; j < 5; j++) expect(got.values[j]).toBeCloseTo(3, 13);
    expectEigenpairs(a, 5, got, 1e-13);
  });

  it('keeps a tiny eigenvalue of a graded positive definite matrix to relative accuracy', () => {
    // [[1, b·d], [b·d, d²]]: λ_small = det / λ_big, a closed form without cancellation.
    const [b, d] = [0.5, 1e-6];
    const a = Float64Array.of(1, b * d, b * d, d * d);
    const det = d * d * (1 - b * b);
    const trace = 1 + d * d;
    const small = (2 * det) / (trace + Math.sqrt(trace * trace - 4 * det));
    const got = jacobiEigen(a, 2);
    expect(Math.abs(got.values[1]! / small - 1)).toBeLessThan(1e-14);
  });
});
