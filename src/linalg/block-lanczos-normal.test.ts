import { blockLanczosNormal } from './block-lanczos-normal.js';
import { countingOperator } from './counting-operator.js';
import { normalOfOperator, type NormalOperator } from './normal-operator.js';
import { denseOperator, type DenseMatrix } from './operator.js';
import { denseTopRight, geometricSpectrum, matrixWithSpectrum, randomMatrix, subspaceDistance } from './test-matrices.js';

/** ‖AᵀA v − σ² v‖/σ₁² for each returned vector, computed densely. */
function denseNormalResiduals(a: DenseMatrix, v: Float64Array, sigma: Float64Array, rank: number): number[] {
  const { rows, cols, data } = a;
  return Array.from({ length: rank }, (_, j) => {
    const av = new Float64Array(rows);
    for (let i = 0; i < rows; i++) for (let c = 0; c < cols; c++) av[i] += data[i * cols + c]! * v[j * cols + c]!;
    let acc = 0;
    for (let c = 0; c < cols; c++) {
      let atav = 0;
      for (let i = 0; i < rows; i++) atav += data[i * cols + c]! * av[i]!;
      acc += (atav - sigma[j]! ** 2 * v[j * cols + c]!) ** 2;
    }
    return Math.sqrt(acc) / sigma[0]! ** 2;
  });
}

describe('blockLanczosNormal', () => {
  const known = matrixWithSpectrum(41, 120, 80, geometricSpectrum(80, 0.9));

  it('finds the top σ and right subspace of S from SᵀS products, with residuals that match a dense computation', async () => {
    const op = countingOperator(denseOperator(known.matrix));
    const got = await blockLanczosNormal(normalOfOperator(op), 6, { blockSize: 6, tol: 1e-9 });
    const dense = denseTopRight(known.matrix, 6);
    expect(got.rank).toBe(6);
    for (let j = 0; j < 6; j++) expect(Math.abs(got.sigma[j]! - known.sigma[j]!)).toBeLessThan(1e-8);
    expect(subspaceDistance(got.v, dense.v, 6, 80)).toBeLessThan(1e-6);
    const residuals = denseNormalResiduals(known.matrix, got.v, got.sigma, 6);
    residuals.forEach((r, j) => expect(Math.abs(got.report.residuals[j]! - r)).toBeLessThan(1e-12));
    expect(got.report.allConverged).toBe(true);
    expect(Math.max(...residuals)).toBeLessThanOrEqual(1e-9);
    // One pass = one product with SᵀS of one block: b matvecs and b rmatvecs.
    expect(op.counts).toEqual({ matvecs: 6 * got.report.passes, rmatvecs: 6 * got.report.passes, matvecCalls: got.report.passes, rmatvecCalls: got.report.passes });
    expect(got.report.products).toEqual(op.counts);
  });

  it('finds a three-fold top singular value’s whole subspace with a block of 4', async () => {
    const tied = matrixWithSpectrum(42, 60, 50, [3, 3, 3, 1, 0.9, 0.8, 0.5]);
    const got = await blockLanczosNormal(normalOfOperator(denseOperator(tied.matrix)), 3, { blockSize: 4, tol: 1e-12 });
    expect(Array.from(got.sigma, (s) => Number(s.toFixed(10)))).toEqual([3, 3, 3]);
    expect(subspaceDistance(got.v, denseTopRight(tied.matrix, 3).v, 3, 50)).toBeLessThan(1e-8);
  });

  it('goes on past an invariant subspace (rank 3 < block 5) and returns the rank-3 basis', async () => {
    const low = matrixWithSpectrum(43, 30, 40, [5, 2, 1]);
    const got = await blockLanczosNormal(normalOfOperator(denseOperator(low.matrix)), 4, { blockSize: 5, tol: 1e-12 });
    expect(got.rank).toBe(3);
    expect(got.report.allConverged).toBe(true);
    expect(subspaceDistance(got.v, denseTopRight(low.matrix, 3).v, 3, 40)).toBeLessThan(1e-10);
  });

  it('with tol 0 runs until the basis spans Rⁿ, where the answer is exact', async () => {
    const a = randomMatrix(44, 50, 23);
    const got = await blockLanczosNormal(normalOfOperator(denseOperator(a)), 5, { blockSize: 5, tol: 0, maxPasses: 100 });
    expect(got.report.passes).toBe(5);
    expect(Math.max(...got.report.residuals)).toBeLessThan(1e-13);
    const dense = denseTopRight(a, 5);
    for (let j = 0; j < 5; j++) expect(Math.abs(got.sigma[j]! - dense.sigma[j]!)).toBeLessThan(1e-12 * dense.sigma[0]!);
    expect(subspaceDistance(got.v, dense.v, 5, 23)).toBeLessThan(1e-10);
  });

  it('checking convergence only as the basis grows by a factor gives the same answer, with at most that much overshoot', async () => {
    const op = normalOfOperator(denseOperator(known.matrix));
    const every = await blockLanczosNormal(op, 6, { blockSize: 6, tol: 1e-12 });
    const sparse = await blockLanczosNormal(op, 6, { blockSize: 6, tol: 1e-12, checkGrowth: 1.5 });
    expect(sparse.report.allConverged).toBe(true);
    expect(sparse.report.passes).toBeGreaterThanOrEqual(every.report.passes);
    expect(sparse.report.passes).toBeLessThanOrEqual(Math.ceil(every.report.passes * 1.5) + 1);
    expect(subspaceDistance(sparse.v, every.v, 6, 80)).toBeLessThan(1e-8);
    await expect(blockLanczosNormal(op, 6, { checkGrowth: 0.5 })).rejects.toMatchObject({ code: 'RPR_USAGE', message: expect.stringContaining('checkGrowth') });
  });

  it('stops at maxPasses unconverged and says so', async () => {
    const got = await blockLanczosNormal(normalOfOperator(denseOperator(known.matrix)), 6, { blockSize: 6, tol: 1e-14, maxPasses: 2 });
    expect(got.report.passes).toBe(2);
    expect(got.report.allConverged).toBe(false);
    expect(got.report.converged).toHaveLength(6);
  });

  it('is RPR_NUMERIC when a product holds NaN, and checks its options', async () => {
    const broken: NormalOperator = { rows: 10, cols: 8, apply: async (_v, k) => new Float64Array(k * 8).fill(Number.NaN) };
    await expect(blockLanczosNormal(broken, 2)).rejects.toMatchObject({ code: 'RPR_NUMERIC', message: expect.stringContaining('pass 1') });
    const op = normalOfOperator(denseOperator(randomMatrix(1, 10, 8)));
    await expect(blockLanczosNormal(op, 9)).rejects.toMatchObject({ code: 'RPR_USAGE', message: expect.stringContaining('k must be') });
    await expect(blockLanczosNormal(op, 2, { blockSize: 9 })).rejects.toMatchObject({ code: 'RPR_USAGE', message: expect.stringContaining('blockSize') });
  });
});
