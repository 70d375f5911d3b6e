import { countingOperator } from './counting-operator.js';
import { normalOfOperator } from './normal-operator.js';
import { denseOperator } from './operator.js';
import { randomizedNormal } from './randomized-normal.js';
import { denseTopRight, geometricSpectrum, matrixWithSpectrum, subspaceDistance } from './test-matrices.js';

describe('randomizedNormal', () => {
  const known = matrixWithSpectrum(51, 200, 150, geometricSpectrum(150, 0.7));

  it('finds the top σ and subspace with q power iterations: q + 1 products of k + p vectors', async () => {
    const op = countingOperator(denseOperator(known.matrix));
    const got = await randomizedNormal(normalOfOperator(op), 6, { oversampling: 6, powerIterations: 4, seed: 2 });
    expect(op.counts.matvecs).toBe(12 * 5);
    expect(got.report.passes).toBe(5);
    for (let j = 0; j < 6; j++) expect(Math.abs(got.sigma[j]! - known.sigma[j]!)).toBeLessThan(1e-9);
    expect(subspaceDistance(got.v, denseTopRight(known.matrix, 6).v, 6, 150)).toBeLessThan(1e-6);
    expect(got.report.allConverged).toBe(true);
  });

  it('measures its residuals: more power iterations, smaller residuals, and converged flags by the tolerance', async () => {
    const op = normalOfOperator(denseOperator(known.matrix));
    const few = await randomizedNormal(op, 6, { oversampling: 2, powerIterations: 1, tol: 1e-6 });
    const more = await randomizedNormal(op, 6, { oversampling: 2, powerIterations: 6, tol: 1e-6 });
    expect(Math.max(...more.report.residuals)).toBeLessThan(Math.max(...few.report.residuals));
    for (const r of [few, more]) r.report.residuals.forEach((x, j) => expect(r.report.converged[j]).toBe(x <= 1e-6));
    expect(few.report.allConverged).toBe(false);
  });
});
