import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { RprError } from '../errors/index.js';
import { countingOperator } from './counting-operator.js';
import { lanczosSvd } from './lanczos.js';
import { denseOperator, type DenseMatrix } from './operator.js';
import { denseResiduals, geometricSpectrum, matrixWithSpectrum, randomMatrix, topKErrors } from './test-matrices.js';

function referenceSigma(a: DenseMatrix): number[] {
  return new SingularValueDecomposition(Matrix.from1DArray(a.rows, a.cols, a.data), { autoTranspose: true }).diagonal;
}

describe('lanczosSvd', () => {
  const known = matrixWithSpectrum(41, 400, 300, geometricSpectrum(300, 0.8));
  const x = randomMatrix(42, 1, 300).data;

  it('finds the top 8 singular values to 1e-6 and the subspace, and counts one product per step', async () => {
    const op = countingOperator(denseOperator(known.matrix));
    const got = await lanczosSvd(op, 8, { tol: 1e-10, seed: 2 });
    expect(got.rank).toBe(8);
    const errors = topKErrors(known, got, 8, x);
    expect(errors.sigma).toBeLessThan(1e-6);
    expect(errors.projection).toBeLessThan(1e-6);

    expect(got.report.allConverged).toBe(true);
    expect(got.report.products).toEqual(op.counts);
    expect(op.counts.matvecs).toBe(got.report.iterations);
    expect(op.counts.rmatvecs).toBe(got.report.iterations);
    expect(got.report.iterations).toBeLessThan(4 * 8 + 30);
  });

  it('estimates residuals that a dense computation confirms', async () => {
    const got = await lanczosSvd(denseOperator(known.matrix), 8, { maxIterations: 12, tol: 1e-10 });
    const dense = denseResiduals(known.matrix, got);
    for (let j = 0; j < 8; j++) {
      expect(Math.abs(got.report.residualsA[j]! - dense.a[j]!)).toBeLessThan(1e-12);
      expect(Math.abs(got.report.residualsAt[j]! - dense.at[j]!)).toBeLessThan(1e-12);
    }
  });

  it('flags non-convergence when it runs out of iterations', async () => {
    const got = await lanczosSvd(denseOperator(known.matrix), 8, { maxIterations: 9, tol: 1e-10 });
    expect(got.report.iterations).toBe(9);
    expect(got.report.allConverged).toBe(false);
    expect(got.report.converged[7]).toBe(false);
  });

  it('recovers from breakdown on a rank-deficient operator', async () => {
    const low = matrixWithSpectrum(43, 60, 40, [4, 2, 1]);
    const got = await lanczosSvd(denseOperator(low.matrix), 5, { tol: 1e-10 });
    expect(got.rank).toBe(3);
    expect(got.sigma.every(Number.isFinite)).toBe(true);
    expect(got.v.every(Number.isFinite)).toBe(true);
    for (let j = 0; j < 3; j++) expect(got.sigma[j]).toBeCloseTo(low.sigma[j]!, 12);
    expect(got.sigma[4]!).toBeLessThan(1e-12);
    expect(got.report.allConverged).toBe(true);
  });

  it.each([
    ['wide', 6, 30],
    ['tall', 30, 6],
  ])('is exact when k = min(m, n) on a %s matrix (complete factorization)', async (_name, m, n) => {
    const a = randomMatrix(44, m, n);
    const got = await lanczosSvd(denseOperator(a), 6, { tol: 1e-12 });
    const ref = referenceSigma(a);
    expect(got.rank).toBe(6);
    for (let j = 0; j < 6; j++) expect(got.sigma[j]).toBeCloseTo(ref[j]!, 11);
    const dense = denseResiduals(a, got);
    for (let j = 0; j < 6; j++) expect(Math.max(dense.a[j]!, dense.at[j]!)).toBeLessThan(1e-11);
    expect(got.report.allConverged).toBe(true);
  });

  it('returns rank 0 for the zero operator', async () => {
    const got = await lanczosSvd(denseOperator({ rows: 7, cols: 9, data: new Float64Array(63) }), 2);
    expect(got.rank).toBe(0);
    expect(Array.from(got.sigma)).toEqual([0, 0]);
  });

  it('rejects maxIterations below k', async () => {
    await expect(lanczosSvd(denseOperator(known.matrix), 8, { maxIterations: 4 })).rejects.toBeInstanceOf(RprError);
  });
});
