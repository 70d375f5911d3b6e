import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { rightCoordinates, svdFromGram } from './gram-svd.js';
import type { DenseMatrix } from './operator.js';
import { matrixWithSpectrum, randomMatrix, roundToFloat32 } from './test-matrices.js';
import { createRng } from '../util/rng.js';
import { rprThrown } from '../../test/helpers/rpr-rejection.js';

/** A·Aᵀ, written out from the definition. */
function gramOf(a: DenseMatrix): Float64Array {
  const { rows: m, cols: n, data } = a;
  const g = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) for (let c = 0; c < n; c++) g[i * m + j] += data[i * n + c]! * data[j * n + c]!;
  return g;
}

function times(a: DenseMatrix, x: Float64Array): Float64Array {
  return Float64Array.from({ length: a.rows }, (_, i) => {
    let s = 0;
    for (let c = 0; c < a.cols; c++) s += a.data[i * a.cols + c]! * x[c]!;
    return s;
  });
}

function randomVector(seed: number, n: number): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length: n }, () => rng.normal());
}

/** σ, U (up to each column's sign) and ⟨vⱼ, x⟩ (with the same sign) against ml-matrix's SVD of A itself. */
function expectMatchesDenseSvd(a: DenseMatrix, x: Float64Array, tol: number): void {
  const { rows: m, cols: n } = a;
  const got = svdFromGram(gramOf(a), m, n);
  const coords = rightCoordinates(got, times(a, x));
  const ref = new SingularValueDecomposition(Matrix.from1DArray(m, n, a.data), { autoTranspose: true });
  const scale = ref.diagonal[0]!;
  for (let j = 0; j < got.rank; j++) {
    expect(Math.abs(got.sigma[j]! - ref.diagonal[j]!)).toBeLessThan(tol * scale);
    let du = 0;
    for (let i = 0; i < m; i++) du += got.u[i * got.rank + j]! * ref.leftSingularVectors.get(i, j);
    expect(Math.abs(du)).toBeGreaterThan(1 - tol);
    let vx = 0;
    for (let c = 0; c < n; c++) vx += ref.rightSingularVectors.get(c, j) * x[c]!;
    expect(Math.abs(coords[j]! - Math.sign(du) * vx)).toBeLessThan(tol * Math.sqrt(n) * Math.max(1, Math.abs(vx)));
  }
}

describe('svdFromGram', () => {
  it.each([
    ['10×784', 10, 784],
    ['3×3', 3, 3],
    ['30×64', 30, 64],
  ])('%s: σ, U and the right coordinates match ml-matrix SVD of A', (_name, m, n) => {
    const a = randomMatrix(m * 100 + n, m, n);
    expect(svdFromGram(gramOf(a), m, n).rank).toBe(m);
    expectMatchesDenseSvd(a, randomVector(5, n), 1e-9);
  });

  it('cuts float32 rounding noise at the rank tolerance, as thinSvd does', () => {
    const spectrum = [1, 0.5, 0.1, 1e-2, 1e-3, 1e-9, 1e-10, 1e-11, 1e-12, 1e-13];
    const a = roundToFloat32(matrixWithSpectrum(11, 10, 784, spectrum).matrix);
    const got = svdFromGram(gramOf(a), 10, 784);
    expect(got.rank).toBe(5);
    expect(got.sigma).toHaveLength(10);
    expect(got.u).toHaveLength(10 * 5);
    expectMatchesDenseSvd(a, randomVector(6, 784), 1e-9);
  });

  it('reproduces ‖P_k x‖ of a known SVD: the coordinates of x on the known right vectors', () => {
    const known = matrixWithSpectrum(3, 6, 50, [4, 2, 1, 0.5, 0.25, 0.125]);
    const x = randomVector(9, 50);
    const coords = rightCoordinates(svdFromGram(gramOf(known.matrix), 6, 50), times(known.matrix, x));
    let got = 0;
    let truth = 0;
    for (let j = 0; j < 6; j++) {
      let vx = 0;
      for (let c = 0; c < 50; c++) vx += known.v[c * 6 + j]! * x[c]!;
      got += coords[j]! ** 2;
      truth += vx * vx;
      expect(Math.abs(Math.sqrt(got) - Math.sqrt(truth))).toBeLessThan(1e-12 * Math.sqrt(truth));
    }
  });

  it('gives a tall matrix (m > n) its n singular values and exact coordinates', () => {
    const a = randomMatrix(12, 6, 3);
    const x = randomVector(12, 3);
    const got = svdFromGram(gramOf(a), 6, 3);
    expect(got.sigma).toHaveLength(3);
    expect(got.rank).toBe(3);
    expectMatchesDenseSvd(a, x, 1e-9);
    // Full rank n: the right vectors span R³, so the coordinates keep all of x.
    const coords = rightCoordinates(got, times(a, x));
    expect(Math.hypot(...coords)).toBeCloseTo(Math.hypot(...x), 12);
  });

  it('decomposes a single row: σ = ‖a‖, u = 1, ⟨v, x⟩ = ⟨a, x⟩/‖a‖', () => {
    const a = randomMatrix(4, 1, 20);
    const x = randomVector(4, 20);
    const got = svdFromGram(gramOf(a), 1, 20);
    const norm = Math.hypot(...a.data);
    expect(got.sigma[0]).toBeCloseTo(norm, 13);
    expect(Array.from(got.u)).toEqual([1]);
    expect(rightCoordinates(got, times(a, x))[0]).toBeCloseTo(times(a, x)[0]! / norm, 13);
  });

  it('returns rank 0 and no coordinates for a zero matrix', () => {
    const got = svdFromGram(new Float64Array(16), 4, 9);
    expect(got.rank).toBe(0);
    expect(Array.from(got.sigma)).toEqual([0, 0, 0, 0]);
    expect(rightCoordinates(got, new Float64Array(4))).toHaveLength(0);
  });

  it('reads A·x at an offset (one batch of several images)', () => {
    const a = randomMatrix(8, 3, 12);
    const ax = times(a, randomVector(8, 12));
    const got = svdFromGram(gramOf(a), 3, 12);
    const padded = Float64Array.from([7, 7, ...ax]);
    expect(Array.from(rightCoordinates(got, padded, 2))).toEqual(Array.from(rightCoordinates(got, ax)));
  });

  it('signs each left vector so its largest-magnitude entry is positive', () => {
    const got = svdFromGram(gramOf(randomMatrix(3, 6, 40)), 6, 40);
    for (let j = 0; j < got.rank; j++) {
      const col = Array.from({ length: 6 }, (_, i) => got.u[i * got.rank + j]!);
      expect(col.reduce((x, y) => (Math.abs(y) > Math.abs(x) ? y : x))).toBeGreaterThan(0);
    }
  });

  it('rejects a NaN row with RPR_NUMERIC and a bad shape with RPR_USAGE', () => {
    const g = gramOf(randomMatrix(1, 3, 5));
    g[4] = Number.NaN;
    const caught = rprThrown(() => svdFromGram(g, 3, 5));
    expect(caught.code).toBe('RPR_NUMERIC');
    expect(caught.message).toMatch(/row 1/);

    const shape = rprThrown(() => svdFromGram(new Float64Array(8), 3, 2));
    expect(shape.code).toBe('RPR_USAGE');
  });
});
