import { RprError } from '../errors/index.js';
import { createRng } from '../util/rng.js';
import { projectionNorms } from './projection.js';
import { randomOrthonormalColumns } from './test-matrices.js';
import { transposeBlock } from './block-ops.js';

function randomVector(seed: number, n: number): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length: n }, () => rng.normal());
}

function norm(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s);
}

describe('projectionNorms', () => {
  const n = 50;
  const r = 12;
  const v = transposeBlock(randomOrthonormalColumns(5, n, r), n, r);
  const x = randomVector(9, n);

  it('gives coordinates ⟨vⱼ, x⟩ and norms equal to ‖V_k V_kᵀ x‖ computed densely', () => {
    const ks = [1, 3, 7, 12];
    const { norms, coords } = projectionNorms(v, r, x, ks);
    for (let j = 0; j < r; j++) {
      let d = 0;
      for (let c = 0; c < n; c++) d += v[j * n + c]! * x[c]!;
      expect(coords[j]).toBeCloseTo(d, 12);
    }
    ks.forEach((k, i) => {
      const projected = new Float64Array(n);
      for (let j = 0; j < k; j++) for (let c = 0; c < n; c++) projected[c] += coords[j]! * v[j * n + c]!;
      expect(norms[i]).toBeCloseTo(norm(projected), 12);
    });
  });

  it('is non-decreasing in k, at most ‖x‖, and clamps k beyond the rank', () => {
    const ks = Array.from({ length: 16 }, (_, k) => k);
    const { norms } = projectionNorms(v, r, x, ks);
    expect(norms[0]).toBe(0);
    for (let i = 1; i < ks.length; i++) expect(norms[i]!).toBeGreaterThanOrEqual(norms[i - 1]!);
    expect(norms[15]!).toBeLessThanOrEqual(norm(x));
    expect(norms[15]).toBe(norms[12]);
  });

  it('recovers ‖x‖ exactly on a complete orthonormal basis, for a float32 input', () => {
    const full = transposeBlock(randomOrthonormalColumns(6, 20, 20), 20, 20);
    const x32 = Float32Array.from(randomVector(2, 20));
    const { norms } = projectionNorms(full, 20, x32, [20, 5]);
    expect(norms[0]).toBeCloseTo(norm(x32), 12);
    expect(norms[1]!).toBeLessThan(norms[0]!);
  });

  it('handles rank 0 and rejects mismatched shapes or bad ranks', () => {
    expect(Array.from(projectionNorms(new Float64Array(0), 0, x, [1, 5]).norms)).toEqual([0, 0]);
    expect(() => projectionNorms(v, r, x.subarray(1), [1])).toThrow(RprError);
    expect(() => projectionNorms(v, r, x, [2.5])).toThrow(/k must be an integer/);
  });
});
