import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { countingOperator } from './counting-operator.js';
import { denseOperator, type DenseMatrix } from './operator.js';
import type { SvdResult } from './svd-types.js';
import { matrixWithSpectrum, randomMatrix, roundToFloat32 } from './test-matrices.js';
import { exactSvd, thinSvd } from './thin-svd.js';
import { rprThrown } from '../../test/helpers/rpr-rejection.js';

/** Checks `got` against ml-matrix's one-sided Jacobi SVD of the same matrix, triplet by triplet. */
function expectMatchesReference(a: DenseMatrix, got: SvdResult, tol: number): void {
  const { rows: m, cols: n } = a;
  const ref = new SingularValueDecomposition(Matrix.from1DArray(m, n, a.data), { autoTranspose: true });
  const refSigma = ref.diagonal;
  const scale = refSigma[0]!;
  const r = got.rank;
  for (let j = 0; j < r; j++) {
    expect(Math.abs(got.sigma[j]! - refSigma[j]!)).toBeLessThanOrEqual(tol * scale);
    let du = 0;
    for (let i = 0; i < m; i++) du += got.u[i * r + j]! * ref.leftSingularVectors.get(i, j);
    let dv = 0;
    for (let c = 0; c < n; c++) dv += got.v[j * n + c]! * ref.rightSingularVectors.get(c, j);
    expect(Math.abs(du)).toBeGreaterThan(1 - tol);
    // The pair's sign is free, but u and v must flip together.
    expect(dv * Math.sign(du)).toBeGreaterThan(1 - tol);
  }
}

/** UᵀU = I, VVᵀ = I and A·vⱼ = σⱼ·uⱼ, all computed from the definitions. */
function expectValidSvd(a: DenseMatrix, got: SvdResult, tol: number): void {
  const { rows: m, cols: n, data } = a;
  const r = got.rank;
  for (let j = 0; j < r; j++) {
    for (let k = 0; k <= j; k++) {
      let uu = 0;
      for (let i = 0; i < m; i++) uu += got.u[i * r + j]! * got.u[i * r + k]!;
      let vv = 0;
      for (let c = 0; c < n; c++) vv += got.v[j * n + c]! * got.v[k * n + c]!;
      expect(Math.abs(uu - (j === k ? 1 : 0))).toBeLessThan(tol);
      expect(Math.abs(vv - (j === k ? 1 : 0))).toBeLessThan(tol);
    }
    for (let i = 0; i < m; i++) {
      let av = 0;
      for (let c = 0; c < n; c++) av += data[i * n + c]! * got.v[j * n + c]!;
      expect(Math.abs(av - got.sigma[j]! * got.u[i * r + j]!)).toBeLessThan(tol * Math.max(1, got.sigma[0]!));
    }
  }
}

describe('thinSvd', () => {
  it.each([
    ['wide 10×784', 10, 784],
    ['square 30×30', 30, 30],
    ['tall 60×12', 60, 12],
  ])('%s matches ml-matrix SVD', (_name, m, n) => {
    const a = randomMatrix(m * 1000 + n, m, n);
    const got = thinSvd(a);
    expect(got.rank).toBe(Math.min(m, n));
    expect(got.sigma).toHaveLength(Math.min(m, n));
    expect(got.u).toHaveLength(m * got.rank);
    expect(got.v).toHaveLength(got.rank * n);
    expectMatchesReference(a, got, 1e-9);
    expectValidSvd(a, got, 1e-10);
  });

  it('finds rank 3 in a 10×50 matrix of rank 3 and forms only 3 right vectors', () => {
    const known = matrixWithSpectrum(7, 10, 50, [5, 2, 0.5]);
    const got = thinSvd(known.matrix);
    expect(got.rank).toBe(3);
    expect(got.v).toHaveLength(3 * 50);
    for (let j = 0; j < 3; j++) expect(got.sigma[j]).toBeCloseTo(known.sigma[j]!, 12);
    expect(got.sigma.every(Number.isFinite)).toBe(true);
    expectMatchesReference(known.matrix, got, 1e-9);
    expectValidSvd(known.matrix, got, 1e-10);
  });

  it('handles a tall rank-deficient matrix (the Aᵀ·A side)', () => {
    const known = matrixWithSpectrum(8, 40, 9, [3, 1, 0.25, 0.125]);
    const got = thinSvd(known.matrix);
    expect(got.rank).toBe(4);
    expectMatchesReference(known.matrix, got, 1e-9);
    expectValidSvd(known.matrix, got, 1e-10);
  });

  it('decomposes a 1×1 matrix', () => {
    const got = thinSvd({ rows: 1, cols: 1, data: Float64Array.of(-3) });
    expect(got.rank).toBe(1);
    expect(got.sigma[0]).toBeCloseTo(3, 14);
    expect(got.u[0]! * got.sigma[0]! * got.v[0]!).toBeCloseTo(-3, 14);
  });

  it('returns rank 0 and no NaN for a zero matrix', () => {
    const got = thinSvd({ rows: 4, cols: 6, data: new Float64Array(24) });
    expect(got.rank).toBe(0);
    expect(Array.from(got.sigma)).toEqual([0, 0, 0, 0]);
    expect(got.u).toHaveLength(0);
    expect(got.v).toHaveLength(0);
  });

  it('cuts float32 rounding noise off a nearly singular matrix and keeps the resolved triplets exact', () => {
    const spectrum = [1, 0.5, 0.1, 1e-2, 1e-3, 1e-9, 1e-10, 1e-11, 1e-12, 1e-13];
    const a = roundToFloat32(matrixWithSpectrum(11, 10, 784, spectrum).matrix);
    const got = thinSvd(a);
    // Tolerance 784·2⁻²³ ≈ 9.3e-5: the five values ≥ 1e-3 are kept, the rest is rounding noise.
    expect(got.rank).toBe(5);
    expectMatchesReference(a, got, 1e-9);
    expectValidSvd(a, got, 1e-10);
  });

  it('keeps more of the spectrum when eps is set for float64 data', () => {
    const known = matrixWithSpectrum(12, 10, 200, [1, 1e-3, 1e-5, 1e-6]);
    expect(thinSvd(known.matrix).rank).toBe(2);
    const fine = thinSvd(known.matrix, { eps: 1e-12 });
    expect(fine.rank).toBe(4);
    // Through the Gram matrix σⱼ is accurate to about 2⁻⁵²·σ₁²/σⱼ = 2e-10 here, not 2⁻⁵²·σ₁.
    expect(Math.abs(fine.sigma[3]! - 1e-6)).toBeLessThan(1e-9);
  });

  it('signs each pair so the largest entry of the left vector is positive', () => {
    const got = thinSvd(randomMatrix(3, 6, 40));
    for (let j = 0; j < got.rank; j++) {
      const col = Array.from({ length: 6 }, (_, i) => got.u[i * got.rank + j]!);
      const biggest = col.reduce((x, y) => (Math.abs(y) > Math.abs(x) ? y : x));
      expect(biggest).toBeGreaterThan(0);
    }
  });

  it('rejects NaN input with RPR_NUMERIC and a bad shape with RPR_USAGE', () => {
    const bad = randomMatrix(1, 3, 5);
    bad.data[7] = Number.NaN;
    const caught = rprThrown(() => thinSvd(bad));
    expect(caught.code).toBe('RPR_NUMERIC');
    expect(caught.message).toMatch(/row 1/);

    const shape = rprThrown(() => thinSvd({ rows: 3, cols: 5, data: new Float64Array(14) }));
    expect(shape.code).toBe('RPR_USAGE');
  });
});

describe('exactSvd', () => {
  it('builds A with one batched rmatvec of the identity and matches the dense routine', async () => {
    const a = randomMatrix(21, 10, 300);
    const op = countingOperator(denseOperator(a));
    const got = await exactSvd(op);
    expect(op.counts).toEqual({ matvecs: 0, rmatvecs: 10, matvecCalls: 0, rmatvecCalls: 1 });
    const dense = thinSvd(a);
    expect(got.rank).toBe(dense.rank);
    for (let j = 0; j < got.rank; j++) expect(got.sigma[j]).toBeCloseTo(dense.sigma[j]!, 12);
    expectMatchesReference(a, got, 1e-9);
  });
});
