import { RprError } from '../errors/index.js';
import { countingOperator } from './counting-operator.js';
import { denseOperator } from './operator.js';
import { randomizedSvd } from './randomized-svd.js';
import { denseResiduals, geometricSpectrum, matrixWithSpectrum, randomMatrix, topKErrors } from './test-matrices.js';

describe('randomizedSvd', () => {
  const known = matrixWithSpectrum(31, 400, 300, geometricSpectrum(300, 0.8));
  const x = randomMatrix(32, 1, 300).data;

  it('finds the top 8 singular values to 1e-3 and the subspace with q = 2', async () => {
    const op = countingOperator(denseOperator(known.matrix));
    const got = await randomizedSvd(op, 8, { oversampling: 10, powerIterations: 2, seed: 4 });
    expect(got.rank).toBe(8);
    expect(got.sigma).toHaveLength(8);
    const errors = topKErrors(known, got, 8, x);
    expect(errors.sigma).toBeLessThan(1e-3);
    expect(errors.projection).toBeLessThan(1e-3);

    // Products: l·(2q + 2) for the factorization, then k matvecs for the residual check.
    expect(got.report.products).toEqual(op.counts);
    expect(op.counts.matvecs).toBe(18 * 3 + 8);
    expect(op.counts.rmatvecs).toBe(18 * 3);
    expect(got.report.iterations).toBe(2);
  });

  it('reports residuals that match a dense computation and flags convergence by them', async () => {
    // At this tolerance the leading triplets converge and the trailing ones do not.
    const tol = 1e-10;
    const got = await randomizedSvd(denseOperator(known.matrix), 8, { powerIterations: 3, tol });
    const dense = denseResiduals(known.matrix, got);
    for (let j = 0; j < 8; j++) {
      expect(Math.abs(got.report.residualsA[j]! - dense.a[j]!)).toBeLessThan(1e-13);
      expect(Math.abs(got.report.residualsAt[j]! - dense.at[j]!)).toBeLessThan(1e-13);
      expect(got.report.converged[j]).toBe(Math.max(dense.a[j]!, dense.at[j]!) <= tol * got.sigma[0]!);
    }
    expect(got.report.converged[0]).toBe(true);
    expect(got.report.converged[7]).toBe(false);
    expect(got.report.allConverged).toBe(false);
  });

  it('flags non-convergence with no power iteration and no oversampling', async () => {
    const slow = matrixWithSpectrum(33, 200, 150, geometricSpectrum(150, 0.97));
    const got = await randomizedSvd(denseOperator(slow.matrix), 8, { oversampling: 0, powerIterations: 0, tol: 1e-6 });
    expect(got.report.allConverged).toBe(false);
    expect(got.report.converged.filter((c) => !c).length).toBeGreaterThan(0);
  });

  it('stops at the numerical rank of a rank-deficient operator', async () => {
    const low = matrixWithSpectrum(34, 60, 40, [4, 2, 1]);
    const got = await randomizedSvd(denseOperator(low.matrix), 5, { oversampling: 5 });
    expect(got.rank).toBe(3);
    expect(got.v).toHaveLength(3 * 40);
    expect(got.sigma.every(Number.isFinite)).toBe(true);
    for (let j = 0; j < 3; j++) expect(got.sigma[j]).toBeCloseTo(low.sigma[j]!, 10);
    expect(got.report.allConverged).toBe(true);
  });

  it('is reproducible from its seed', async () => {
    const op = denseOperator(known.matrix);
    const first = await randomizedSvd(op, 3, { seed: 9, powerIterations: 0 });
    const again = await randomizedSvd(op, 3, { seed: 9, powerIterations: 0 });
    expect(Array.from(again.v)).toEqual(Array.from(first.v));
  });

  it('rejects k beyond min(m, n)', async () => {
    const op = denseOperator(randomMatrix(1, 5, 9));
    await expect(randomizedSvd(op, 6)).rejects.toBeInstanceOf(RprError);
    await expect(randomizedSvd(op, 6)).rejects.toThrow(/k must be an integer in \[1, 5\], got 6/);
  });
});
