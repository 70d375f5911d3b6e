import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import type { WeightTensor } from '../model/ir.js';
import { layerSpectrum } from './kernel-spectrum.js';
import { convOperatorSpectrum, layerOperatorSpectrum } from './operator-spectrum.js';
import { conv2dOp, denseOp, depthwiseOp, randomTensor, transposeOp, weightNode } from './test-fixtures.js';

/** Pixel-space index of (row, col, channel) in an H × W × C image, row-major HWC. */
const idx = (r: number, c: number, ch: number, w: number, channels: number) => (r * w + c) * channels + ch;
const mod = (a: number, n: number) => ((a % n) + n) % n;

/**
 * The circular correlation y[p,q,o] = Σ K(i,j,c,o) · x[p+i·dh, q+j·dw, c] (indices modulo H, W) as an
 * explicit (H·W·out) × (H·W·in) matrix. `tap` reads the kernel in conv2d terms.
 */
function circularConvMatrix(
  h: number,
  w: number,
  kh: number,
  kw: number,
  inC: number,
  out: number,
  tap: (i: number, j: number, c: number, o: number) => number,
  dil: readonly [number, number] = [1, 1],
): Matrix {
  const m = Matrix.zeros(h * w * out, h * w * inC);
  for (let p = 0; p < h; p++) {
    for (let q = 0; q < w; q++) {
      for (let o = 0; o < out; o++) {
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            for (let c = 0; c < inC; c++) {
              const col = idx(mod(p + i * dil[0], h), mod(q + j * dil[1], w), c, w, inC);
              const row = idx(p, q, o, w, out);
              m.set(row, col, m.get(row, col) + tap(i, j, c, o));
            }
          }
        }
      }
    }
  }
  return m;
}

function denseSingularValues(m: Matrix): number[] {
  const svd = new SingularValueDecomposition(m, { computeLeftSingularVectors: false, computeRightSingularVectors: false, autoTranspose: true });
  return [...svd.diagonal].sort((a, b) => b - a);
}

function expectSpectraEqual(actual: readonly number[], expected: readonly number[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-9 * Math.max(1, expected[0]!)));
}

const at = (k: WeightTensor) => (i: number, j: number, c: number, o: number) => {
  const [, kw, inC, out] = k.shape as [number, number, number, number];
  return k.data[((i * kw + j) * inC + c) * out + o]!;
};

describe('convOperatorSpectrum', () => {
  it('equals the singular values of the explicit circular-conv matrix (5×5, in 2, out 3, 3×3 kernel)', () => {
    const k = randomTensor([3, 3, 2, 3], 11);
    const expected = denseSingularValues(circularConvMatrix(5, 5, 3, 3, 2, 3, at(k)));
    const actual = convOperatorSpectrum(k, 5, 5);
    expect(actual).toHaveLength(25 * 2);
    expectSpectraEqual(actual, expected);
  });

  it('handles non-square inputs, dilation and kernels that wrap around the input', () => {
    const k = randomTensor([3, 2, 3, 2], 12);
    const expected = denseSingularValues(circularConvMatrix(4, 3, 3, 2, 3, 2, at(k), [2, 2]));
    expectSpectraEqual(convOperatorSpectrum(k, 4, 3, [2, 2]), expected);
  });

  it('keeps the Frobenius identity Σσ² = H·W·‖K‖² and the bound σ_max ≤ sqrt(kh·kw)·σ_max(W̄)', () => {
    const k = randomTensor([3, 3, 4, 5], 13);
    const s = convOperatorSpectrum(k, 6, 6);
    const frob = k.data.reduce((a, x) => a + x * x, 0);
    expect(Math.abs(s.reduce((a, x) => a + x * x, 0) / (36 * frob) - 1)).toBeLessThan(1e-9);
    const unfoldedMax = layerSpectrum(weightNode('c', conv2dOp(k))).singularValues[0]!;
    expect(s[0]!).toBeLessThanOrEqual(3 * unfoldedMax * (1 + 1e-12));
  });
});

describe('layerOperatorSpectrum', () => {
  it('depthwise: equals the explicit circular depthwise matrix', () => {
    const k = randomTensor([3, 3, 2, 2], 14);
    const tap = (i: number, j: number, c: number, o: number) =>
      Math.floor(o / 2) === c ? k.data[((i * 3 + j) * 2 + c) * 2 + (o % 2)]! : 0;
    const expected = denseSingularValues(circularConvMatrix(4, 4, 3, 3, 2, 4, tap));
    expectSpectraEqual(layerOperatorSpectrum(weightNode('dw', depthwiseOp(k)), 4, 4), expected.slice(0, 4 * 4 * 2));
  });

  it('conv2dTranspose: equals the explicit scatter-form transposed convolution', () => {
    // Kernel [kh, kw, out, in]: input pixel (p, q) adds K[i,j,:,c]·x[p,q,c] to output pixel (p+i, q+j).
    const [kh, kw, out, inC, h, w] = [2, 3, 3, 2, 4, 5];
    const k = randomTensor([kh, kw, out, inC], 15);
    const m = Matrix.zeros(h * w * out, h * w * inC);
    for (let p = 0; p < h; p++) {
      for (let q = 0; q < w; q++) {
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            for (let o = 0; o < out; o++) {
              for (let c = 0; c < inC; c++) {
                const row = idx(mod(p + i, h), mod(q + j, w), o, w, out);
                const col = idx(p, q, c, w, inC);
                m.set(row, col, m.get(row, col) + k.data[((i * kw + j) * out + o) * inC + c]!);
              }
            }
          }
        }
      }
    }
    expectSpectraEqual(layerOperatorSpectrum(weightNode('t', transposeOp(k)), h, w), denseSingularValues(m));
  });

  it('refuses strided and non-conv layers with an RprError naming the layer', () => {
    const strided = weightNode('s2', conv2dOp(randomTensor([3, 3, 1, 1], 16), [2, 2]));
    expect(() => layerOperatorSpectrum(strided, 4, 4)).toThrow(expect.objectContaining({ code: 'RPR_USAGE' }));
    expect(() => layerOperatorSpectrum(strided, 4, 4)).toThrow(/'s2'/);
    const dense = weightNode('fc', denseOp(randomTensor([2, 2], 17)));
    expect(() => layerOperatorSpectrum(dense, 4, 4)).toThrow(expect.objectContaining({ code: 'RPR_USAGE' }));
    expect(() => convOperatorSpectrum(randomTensor([1, 1, 1, 1], 18), 0, 3)).toThrow(expect.objectContaining({ code: 'RPR_USAGE' }));
  });
});
