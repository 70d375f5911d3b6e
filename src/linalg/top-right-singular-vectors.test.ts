import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { countingOperator } from './counting-operator.js';
import { denseOperator, type DenseMatrix, type LinearOperator } from './operator.js';
import { stackOperators } from './stacked-operator.js';
import { geometricSpectrum, matrixWithSpectrum, randomMatrix } from './test-matrices.js';
import { topRightSingularVectors } from './top-right-singular-vectors.js';

function splitRows(a: DenseMatrix, sizes: number[]): DenseMatrix[] {
  let start = 0;
  return sizes.map((m) => {
    const part = { rows: m, cols: a.cols, data: a.data.slice(start * a.cols, (start + m) * a.cols) };
    start += m;
    return part;
  });
}

/** Eigenpairs of Σ AᵢᵀAᵢ by ml-matrix, descending: the independent reference. */
function gramEigen(parts: DenseMatrix[]): { values: number[]; vectors: Matrix } {
  const n = parts[0]!.cols;
  let g = Matrix.zeros(n, n);
  for (const p of parts) {
    const a = Matrix.from1DArray(p.rows, p.cols, p.data);
    g = g.add(a.transpose().mmul(a));
  }
  const evd = new EigenvalueDecomposition(g, { assumeSymmetric: true });
  const order = evd.realEigenvalues.map((_, i) => i).sort((x, y) => evd.realEigenvalues[y]! - evd.realEigenvalues[x]!);
  const vectors = new Matrix(n, n);
  order.forEach((src, j) => {
    for (let i = 0; i < n; i++) vectors.set(i, j, evd.eigenvectorMatrix.get(i, src));
  });
  return { values: order.map((i) => evd.realEigenvalues[i]!), vectors };
}

function expectMatchesGramEigen(parts: DenseMatrix[], v: Float64Array, sigma: Float64Array, k: number, tol: number) {
  const n = parts[0]!.cols;
  const ref = gramEigen(parts);
  for (let j = 0; j < k; j++) {
    expect(Math.abs(sigma[j]! ** 2 - ref.values[j]!)).toBeLessThan(tol * ref.values[0]!);
    let d = 0;
    for (let c = 0; c < n; c++) d += v[j * n + c]! * ref.vectors.get(c, j);
    expect(Math.abs(d)).toBeGreaterThan(1 - tol);
  }
}

describe('topRightSingularVectors', () => {
  it('exact path (wide): equals the eigenvectors of Σ AᵢᵀAᵢ', async () => {
    const parts = [randomMatrix(11, 4, 30), randomMatrix(12, 6, 30), randomMatrix(13, 3, 30)];
    const got = await topRightSingularVectors(stackOperators(parts.map(denseOperator)), 5);
    expect(got.method).toBe('exact');
    expect(got.rank).toBe(5);
    expect(got.v).toHaveLength(5 * 30);
    expect(got.report).toBeNull();
    expectMatchesGramEigen(parts, got.v, got.sigma, 5, 1e-10);
  });

  it('exact path (tall, Gram on the input side) in batches of rows', async () => {
    const parts = Array.from({ length: 6 }, (_, i) => randomMatrix(20 + i, 10, 25));
    const counted = parts.map((p) => countingOperator(denseOperator(p)));
    const got = await topRightSingularVectors(stackOperators(counted), 7, { batchRows: 16 });
    expect(got.method).toBe('exact');
    expect(counted.reduce((s, c) => s + c.counts.rmatvecs, 0)).toBe(60);
    expectMatchesGramEigen(parts, got.v, got.sigma, 7, 1e-10);
  });

  it('randomized path agrees on a decaying spectrum and reports convergence', async () => {
    const whole = matrixWithSpectrum(30, 90, 70, geometricSpectrum(70, 0.7)).matrix;
    const parts = splitRows(whole, [30, 25, 35]);
    const op: LinearOperator = stackOperators(parts.map(denseOperator));
    const got = await topRightSingularVectors(op, 6, { maxDenseEntries: 100, powerIterations: 3, seed: 5 });
    expect(got.method).toBe('randomized');
    expect(got.report?.allConverged).toBe(true);
    expectMatchesGramEigen(parts, got.v, got.sigma, 6, 1e-6);
  });

  it('returns only the vectors up to the numerical rank', async () => {
    const low = matrixWithSpectrum(50, 12, 40, [3, 1]).matrix;
    const got = await topRightSingularVectors(stackOperators(splitRows(low, [5, 7]).map(denseOperator)), 4);
    expect(got.rank).toBe(2);
    expect(got.v).toHaveLength(2 * 40);
    expect(got.sigma).toHaveLength(4);
  });

  it('names an unknown method', async () => {
    const op = denseOperator(randomMatrix(1, 3, 4));
    const bad = { method: 'svd' } as unknown as { method: 'exact' };
    await expect(topRightSingularVectors(op, 2, bad)).rejects.toMatchObject({ code: 'RPR_UNKNOWN_NAME' });
  });
});
