import { countingOperator } from './counting-operator.js';
import { denseOperator, type DenseMatrix } from './operator.js';
import { stackOperators } from './stacked-operator.js';
import { stackedRowsOf } from './stacked-rows.js';
import { denseTopRight, geometricSpectrum, matrixWithSpectrum, randomMatrix, subspaceDistance } from './test-matrices.js';
import { DEFAULT_TOP_RIGHT_BYTES, planTopRight, topRightSingularVectors } from './top-right-singular-vectors.js';

function concatRows(parts: DenseMatrix[]): DenseMatrix {
  const cols = parts[0]!.cols;
  const data = new Float64Array(parts.reduce((s, p) => s + p.data.length, 0));
  let off = 0;
  for (const p of parts) {
    data.set(p.data, off);
    off += p.data.length;
  }
  return { rows: data.length / cols, cols, data };
}

function splitRows(a: DenseMatrix, sizes: number[]): DenseMatrix[] {
  let start = 0;
  return sizes.map((m) => {
    const part = { rows: m, cols: a.cols, data: a.data.slice(start * a.cols, (start + m) * a.cols) };
    start += m;
    return part;
  });
}

/** σ to `tol`·σ₁ and the span of V_k to `tol` (‖V_kV_kᵀ − W_kW_kᵀ‖_F) against ml-matrix's dense SVD. */
function expectMatchesDense(a: DenseMatrix, got: { v: Float64Array; sigma: Float64Array; rank: number }, k: number, tol: number) {
  const dense = denseTopRight(a, k);
  expect(got.rank).toBe(k);
  for (let j = 0; j < k; j++) expect(Math.abs(got.sigma[j]! - dense.sigma[j]!)).toBeLessThan(tol * dense.sigma[0]!);
  expect(subspaceDistance(got.v, dense.v, k, a.cols)).toBeLessThan(tol);
}

describe('topRightSingularVectors', () => {
  it('exact, Gram on the input side (SᵀS streamed part by part): equals a dense SVD of the stacked matrix', async () => {
    const parts = Array.from({ length: 6 }, (_, i) => randomMatrix(20 + i, 10, 25));
    const counted = parts.map((p) => countingOperator(denseOperator(p)));
    const got = await topRightSingularVectors(stackedRowsOf(stackOperators(counted), 16), 7);
    expect(got.method).toBe('exact');
    expect(got.report).toBeNull();
    // Building S's rows once costs one adjoint product per row; the eigensolver needs no more.
    expect(counted.reduce((s, c) => s + c.counts.rmatvecs + c.counts.matvecs, 0)).toBe(60);
    expectMatchesDense(concatRows(parts), got, 7, 1e-10);
  });

  it('exact, Gram on the output side (SSᵀ, S held) for a wide stack', async () => {
    const parts = [randomMatrix(11, 4, 300), randomMatrix(12, 6, 300), randomMatrix(13, 3, 300)];
    const s = stackedRowsOf(stackOperators(parts.map(denseOperator)));
    expect(planTopRight(s.rows, s.cols, 5)).toMatchObject({ method: 'exact', gram: 'rows' });
    const got = await topRightSingularVectors(s, 5);
    expectMatchesDense(concatRows(parts), got, 5, 1e-10);
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 5; j++) {
        let d = 0;
        for (let c = 0; c < 300; c++) d += got.v[i * 300 + c]! * got.v[j * 300 + c]!;
        expect(Math.abs(d - (i === j ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
  });

  it('lanczos, forced on a small problem with a flat spectrum, agrees with the dense SVD and reports convergence', async () => {
    // A flat top (σ₁₀/σ₁₁ ≈ 1.03) is where subspace iteration is slow and Lanczos is not.
    const sigma = Array.from({ length: 60 }, (_, i) => 2 - i / 40);
    const whole = matrixWithSpectrum(30, 90, 70, sigma).matrix;
    const got = await topRightSingularVectors(stackedRowsOf(stackOperators(splitRows(whole, [30, 25, 35]).map(denseOperator))), 10, {
      method: 'lanczos',
      tol: 1e-10,
    });
    expect(got.method).toBe('lanczos');
    expect(got.report?.allConverged).toBe(true);
    expect(Math.max(...got.report!.residuals)).toBeLessThanOrEqual(1e-10);
    // Stated tolerance: σ to 1e-8·σ₁, the subspace to 1e-6 (the residual over the relative gap).
    expectMatchesDense(whole, got, 10, 1e-6);
  });

  it('randomized agrees on a decaying spectrum, and says when it did not converge', async () => {
    const whole = matrixWithSpectrum(30, 90, 70, geometricSpectrum(70, 0.7)).matrix;
    const s = stackedRowsOf(stackOperators(splitRows(whole, [30, 25, 35]).map(denseOperator)));
    const got = await topRightSingularVectors(s, 6, { method: 'randomized', powerIterations: 3, seed: 5 });
    expect(got.method).toBe('randomized');
    expect(got.report?.allConverged).toBe(true);
    expect(got.report?.passes).toBe(4);
    expectMatchesDense(whole, got, 6, 1e-6);
    const rough = await topRightSingularVectors(s, 6, { method: 'randomized', powerIterations: 0, oversampling: 0, tol: 1e-12 });
    expect(rough.report?.allConverged).toBe(false);
  });

  it('returns only the vectors up to the numerical rank, on every path', async () => {
    const low = matrixWithSpectrum(50, 12, 40, [3, 1]).matrix;
    for (const method of ['exact', 'lanczos', 'randomized'] as const) {
      const got = await topRightSingularVectors(stackedRowsOf(stackOperators(splitRows(low, [5, 7]).map(denseOperator))), 4, { method });
      expect({ method, rank: got.rank, v: got.v.length }).toEqual({ method, rank: 2, v: 2 * 40 });
      expect(got.sigma).toHaveLength(4);
    }
  });

  it('plans from the sizes: exact while the Gram matrix is small and fits, lanczos beyond, refused when forced past the budget', async () => {
    expect(planTopRight(10_000, 784, 10)).toMatchObject({ method: 'exact', gram: 'columns', bytes: 16 * 784 * 784 });
    expect(planTopRight(500, 12_288, 10)).toMatchObject({ method: 'exact', gram: 'rows' });
    expect(planTopRight(10_000, 12_288, 10)).toMatchObject({ method: 'lanczos', gram: null, maxPasses: 40 });
    expect(planTopRight(10_000, 784, 10, { maxGramOrder: 500 }).method).toBe('lanczos');
    expect(planTopRight(10_000, 784, 10, { memoryBytes: 1e6 }).method).toBe('lanczos');
    // The Lanczos basis is cut to the budget: (passes + 2) blocks of b = 10 vectors of 150,528 values.
    const big = planTopRight(1_000_000, 224 * 224 * 3, 10);
    expect(big.maxPasses).toBe(Math.floor(DEFAULT_TOP_RIGHT_BYTES / (8 * 10 * 224 * 224 * 3)) - 2);
    expect(big.bytes).toBeLessThanOrEqual(DEFAULT_TOP_RIGHT_BYTES);
    const s = stackedRowsOf(denseOperator(randomMatrix(1, 40, 30)));
    await expect(topRightSingularVectors(s, 2, { method: 'exact', memoryBytes: 1000 })).rejects.toMatchObject({
      code: 'RPR_USAGE',
      message: expect.stringContaining("use method 'lanczos' or 'randomized'"),
    });
  });

  it('names an unknown method', async () => {
    const s = stackedRowsOf(denseOperator(randomMatrix(1, 3, 4)));
    const bad = { method: 'svd' } as unknown as { method: 'exact' };
    await expect(topRightSingularVectors(s, 2, bad)).rejects.toMatchObject({ code: 'RPR_UNKNOWN_NAME' });
  });
});
