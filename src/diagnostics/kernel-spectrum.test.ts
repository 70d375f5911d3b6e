import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { WeightTensor } from '../model/ir.js';
import { layerSpectra, layerSpectrum, layerSvd } from './kernel-spectrum.js';
import { conv2dOp, denseOp, depthwiseOp, modelOf, randomTensor, transposeOp, weightNode } from './test-fixtures.js';
import { rprThrown } from '../../test/helpers/rpr-rejection.js';

/** Independent reference: singular values as square roots of the eigenvalues of the smaller Gram matrix. */
function referenceSingularValues(rows: number[][]): number[] {
  const a = new Matrix(rows);
  const gram = a.rows <= a.columns ? a.mmul(a.transpose()) : a.transpose().mmul(a);
  const eig = new EigenvalueDecomposition(gram, { assumeSymmetric: true });
  return eig.realEigenvalues.map((l) => Math.sqrt(Math.max(0, l))).sort((x, y) => y - x);
}

function at4(k: WeightTensor, a: number, b: number, c: number, d: number): number {
  const [, s1, s2, s3] = k.shape as [number, number, number, number];
  return k.data[((a * s1 + b) * s2 + c) * s3 + d]!;
}

function expectClose(actual: readonly number[], expected: readonly number[], tol = 1e-9): void {
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(1, expected[0] ?? 1);
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(tol * scale));
}

describe('layerSpectrum', () => {
  it('conv2d: singular values of the out × (in·kh·kw) reshape, whatever the column order', () => {
    const k = randomTensor([3, 3, 4, 6], 1);
    // Built with (in, kh, kw) column order, the brief's order, not the implementation's (kh, kw, in).
    const rows: number[][] = [];
    for (let o = 0; o < 6; o++) {
      const row: number[] = [];
      for (let c = 0; c < 4; c++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) row.push(at4(k, i, j, c, o));
      rows.push(row);
    }
    const s = layerSpectrum(weightNode('c', conv2dOp(k), 'Conv2D'));
    expect(s.matrixShape).toEqual([6, 36]);
    expect(s.kernelShape).toEqual([3, 3, 4, 6]);
    expect(s.className).toBe('Conv2D');
    expectClose(s.singularValues, referenceSingularValues(rows));
  });

  it('conv2d with more filters than patch entries has min(rows, cols) values', () => {
    const k = randomTensor([1, 1, 3, 8], 2);
    const rows = Array.from({ length: 8 }, (_, o) => [0, 1, 2].map((c) => at4(k, 0, 0, c, o)));
    const s = layerSpectrum(weightNode('c', conv2dOp(k)));
    expect(s.singularValues).toHaveLength(3);
    expectClose(s.singularValues, referenceSingularValues(rows));
  });

  it('dense: the singular values of the stored [in, out] matrix', () => {
    const k = randomTensor([7, 5], 3);
    const rows = Array.from({ length: 7 }, (_, i) => Array.from({ length: 5 }, (_, o) => k.data[i * 5 + o]!));
    const s = layerSpectrum(weightNode('d', denseOp(k)));
    expect(s.matrixShape).toEqual([5, 7]);
    expectClose(s.singularValues, referenceSingularValues(rows));
  });

  it('depthwise: the spectrum of the equivalent block-diagonal conv2d kernel', () => {
    const [kh, kw, inC, mult] = [3, 3, 4, 2];
    const k = randomTensor([kh, kw, inC, mult], 4);
    // The equivalent conv2d: output channel c·mult+q reads only input channel c.
    const rows: number[][] = [];
    for (let c = 0; c < inC; c++) {
      for (let q = 0; q < mult; q++) {
        const row: number[] = [];
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) for (let cc = 0; cc < inC; cc++) row.push(cc === c ? at4(k, i, j, c, q) : 0);
        }
        rows.push(row);
      }
    }
    const s = layerSpectrum(weightNode('dw', depthwiseOp(k)));
    expect(s.blocks).toBe(inC);
    expect(s.matrixShape).toEqual([mult, kh * kw]);
    expectClose(s.singularValues, referenceSingularValues(rows).slice(0, inC * mult));
  });

  it('conv2dTranspose [kh,kw,out,in]: out × (kh·kw·in), entry K[i,j,o,c]', () => {
    const k = randomTensor([3, 3, 5, 4], 5);
    const rows = Array.from({ length: 5 }, (_, o) => {
      const row: number[] = [];
      for (let c = 0; c < 4; c++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) row.push(at4(k, i, j, o, c));
      return row;
    });
    const s = layerSpectrum(weightNode('t', transposeOp(k)));
    expect(s.matrixShape).toEqual([5, 36]);
    expectClose(s.singularValues, referenceSingularValues(rows));
  });

  it('a 1×1 conv and a dense layer with the same diagonal weights agree (DeepDataProfiler fixture)', () => {
    const diag = [3, -1, 0.5, 2, 7, -4, 0.25, 1, 6, 5];
    const conv = new Float32Array(100);
    diag.forEach((d, i) => (conv[i * 10 + i] = d));
    const a = layerSpectrum(weightNode('c', conv2dOp({ shape: [1, 1, 10, 10], data: conv })));
    const b = layerSpectrum(weightNode('d', denseOp({ shape: [10, 10], data: conv })));
    const expected = diag.map(Math.abs).sort((x, y) => y - x);
    expectClose(a.singularValues, expected, 1e-7);
    expectClose(b.singularValues, expected, 1e-7);
  });

  it('rejects a kernel whose data does not fill its shape, and non-finite weights', () => {
    const short = weightNode('bad', conv2dOp({ shape: [3, 3, 2, 2], data: new Float32Array(35) }));
    const thrown = rprThrown(() => layerSpectrum(short));
    expect(thrown.code).toBe('RPR_MODEL_INVALID');
    expect(thrown.message).toContain("'bad'");

    const nan = new Float32Array(4).fill(1);
    nan[2] = NaN;
    expect(() => layerSpectrum(weightNode('nan', denseOp({ shape: [2, 2], data: nan })))).toThrow(
      expect.objectContaining({ code: 'RPR_NUMERIC' }),
    );
  });
});

describe('layerSvd', () => {
  it('left singular vectors are unit, orthogonal, and W̄ᵀu has norm σ (depthwise vectors stay in their block)', () => {
    const k = randomTensor([3, 3, 3, 2], 6);
    const { singularValues, leftSingularVectors } = layerSvd(weightNode('dw', depthwiseOp(k)));
    expect(leftSingularVectors).toHaveLength(6);
    leftSingularVectors.forEach((u, a) => {
      expect(u).toHaveLength(6);
      const support = [...u.keys()].filter((o) => Math.abs(u[o]!) > 1e-12).map((o) => Math.floor(o / 2));
      expect(new Set(support).size).toBe(1);
      leftSingularVectors.forEach((v, b) => {
        const dot = u.reduce((s, x, i) => s + x * v[i]!, 0);
        expect(Math.abs(dot - (a === b ? 1 : 0))).toBeLessThan(1e-9);
      });
      // ‖W̄ᵀu‖² over the full (block-diagonal) unfolding, built here from the kernel.
      let norm2 = 0;
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) {
          for (let c = 0; c < 3; c++) {
            let s = 0;
            for (let q = 0; q < 2; q++) s += at4(k, i, j, c, q) * u[c * 2 + q]!;
            norm2 += s * s;
          }
        }
      }
      expect(Math.abs(Math.sqrt(norm2) - singularValues[a]!)).toBeLessThan(1e-9);
    });
  });
});

describe('layerSpectra', () => {
  it('visits every weight layer in node order and skips the rest', () => {
    const ir = modelOf([
      weightNode('conv', conv2dOp(randomTensor([3, 3, 1, 4], 7))),
      { name: 'relu', className: 'Activation', op: { kind: 'activation', fn: 'relu' }, inputs: [1], shape: [] },
      weightNode('dw', depthwiseOp(randomTensor([3, 3, 4, 1], 8))),
      { name: 'flat', className: 'Flatten', op: { kind: 'reshape' }, inputs: [3], shape: [] },
      weightNode('up', transposeOp(randomTensor([2, 2, 3, 4], 9))),
      weightNode('fc', denseOp(randomTensor([12, 10], 10))),
    ]);
    expect(layerSpectra(ir).map((s) => [s.name, s.kind, s.singularValues.length])).toEqual([
      ['conv', 'conv2d', 4],
      ['dw', 'depthwiseConv2d', 4],
      ['up', 'conv2dTranspose', 3],
      ['fc', 'dense', 10],
    ]);
  });
});
