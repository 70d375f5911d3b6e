/**
 * The exact singular values of a conv layer as a linear operator on an H × W input with circular
 * boundary and stride 1 (Sedghi, Gupta & Long, ICLR 2019): the operator is block-circulant, the 2-D DFT
 * block-diagonalizes it, and its spectrum is the union over the H·W frequencies (u, v) of the singular
 * values of the out × in complex matrix P(u,v) = Σ_{i,j} K[i,j,:,:]ᵀ · exp(−2πi(u·i/H + v·j/W)) — the
 * DFT of the kernel zero-padded to H × W (taps at dilated offsets, wrapped modulo the input size).
 *
 * The DFT is evaluated directly over the kernel's few non-zero taps, which is the plain DFT of the
 * zero-padded kernel without touching its zeros. A complex m × n matrix A + iB is handled through its
 * real form [[A, −B], [B, A]], whose singular values are those of A + iB, each twice.
 *
 * The real padding ('same' zeros, 'valid') makes the true layer differ from the circular operator at
 * the border; the circular spectrum is the standard stand-in. Its largest value is the layer's
 * Lipschitz constant on periodic inputs, bounded by sqrt(kh·kw)·σ_max(W̄).
 */
import { RprError } from '../errors/index.js';
import type { IRNode, Pair, WeightTensor } from '../model/ir.js';
import { singularValuesOf } from './dense-svd.js';
import { checkedKernel } from './kernel-unfold.js';

/**
 * For each frequency (u, v), the factor exp(−2πi(u·i·dh/H + v·j·dw/W)) of every kernel tap (i, j),
 * tap-major: re[t], im[t] with t = i·kw + j. Offsets wrap modulo the input size, as the zero-padded
 * kernel's DFT does when the kernel is larger than the input.
 */
type TapFactors = (u: number, v: number) => { re: Float64Array; im: Float64Array };

function tapFactors(kh: number, kw: number, height: number, width: number, dilations: Pair): TapFactors {
  const angle = (k: number, n: number) => (2 * Math.PI * k) / n;
  const re = new Float64Array(kh * kw);
  const im = new Float64Array(kh * kw);
  return (u, v) => {
    for (let i = 0; i < kh; i++) {
      const a = angle((u * ((i * dilations[0]) % height)) % height, height);
      for (let j = 0; j < kw; j++) {
        const t = angle((v * ((j * dilations[1]) % width)) % width, width) + a;
        re[i * kw + j] = Math.cos(t);
        im[i * kw + j] = -Math.sin(t);
      }
    }
    return { re, im };
  };
}

function checkSize(height: number, width: number): void {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new RprError(
      'RPR_USAGE',
      `operator spectrum: input size ${height} × ${width} must be positive integers`,
      { height, width },
    );
  }
}

/**
 * Singular values (descending, H·W·min(in, out) of them) of the circular stride-1 convolution with
 * kernel [kh, kw, in, out] on an H × W × in input.
 */
export function convOperatorSpectrum(
  kernel: WeightTensor,
  height: number,
  width: number,
  dilations: Pair = [1, 1],
): number[] {
  checkSize(height, width);
  const [kh, kw, inC, out] = kernel.shape as [number, number, number, number];
  const factors = tapFactors(kh, kw, height, width, dilations);
  const rows = 2 * out;
  const cols = 2 * inC;
  const real = new Float64Array(rows * cols);
  const values: number[] = [];
  for (let u = 0; u < height; u++) {
    for (let v = 0; v < width; v++) {
      real.fill(0);
      const f = factors(u, v);
      for (let t = 0; t < kh * kw; t++) {
        const c = f.re[t]!;
        const s = f.im[t]!;
        const base = t * inC * out;
        for (let ci = 0; ci < inC; ci++) {
          for (let o = 0; o < out; o++) {
            const k = kernel.data[base + ci * out + o]!;
            const re = k * c;
            const im = k * s;
            real[o * cols + ci] += re;
            real[(o + out) * cols + ci + inC] += re;
            real[o * cols + ci + inC] -= im;
            real[(o + out) * cols + ci] += im;
          }
        }
      }
      const doubled = singularValuesOf(rows, cols, real);
      for (let t = 0; t < doubled.length; t += 2) values.push(doubled[t]!);
    }
  }
  return values.sort((x, y) => y - x);
}

/**
 * Depthwise layers are block-diagonal per frequency: channel c's block is the mult × 1 column of
 * DFT'd taps, whose one singular value is its norm. So the spectrum has H·W·in values.
 */
function depthwiseOperatorSpectrum(kernel: WeightTensor, height: number, width: number, dilations: Pair): number[] {
  checkSize(height, width);
  const [kh, kw, inC, mult] = kernel.shape as [number, number, number, number];
  const factors = tapFactors(kh, kw, height, width, dilations);
  const re = new Float64Array(mult);
  const im = new Float64Array(mult);
  const values: number[] = [];
  for (let u = 0; u < height; u++) {
    for (let v = 0; v < width; v++) {
      const f = factors(u, v);
      for (let ch = 0; ch < inC; ch++) {
        re.fill(0);
        im.fill(0);
        for (let t = 0; t < kh * kw; t++) {
          for (let q = 0; q < mult; q++) {
            const k = kernel.data[(t * inC + ch) * mult + q]!;
            re[q] += k * f.re[t]!;
            im[q] += k * f.im[t]!;
          }
        }
        let norm2 = 0;
        for (let q = 0; q < mult; q++) norm2 += re[q]! * re[q]! + im[q]! * im[q]!;
        values.push(Math.sqrt(norm2));
      }
    }
  }
  return values.sort((x, y) => y - x);
}

/**
 * The circular operator spectrum of a stride-1 conv2d, depthwiseConv2d or conv2dTranspose node on an
 * H × W input (for a transposed conv: the size of its input). A transposed conv with kernel
 * [kh,kw,out,in] is the adjoint of the conv2d with that kernel read as [kh,kw,in',out'] = [.., out, in],
 * and an operator and its adjoint share their singular values.
 */
export function layerOperatorSpectrum(node: IRNode, height: number, width: number): number[] {
  const op = node.op;
  if (op.kind !== 'conv2d' && op.kind !== 'depthwiseConv2d' && op.kind !== 'conv2dTranspose') {
    throw new RprError(
      'RPR_USAGE',
      `layer '${node.name}' (${node.className}) is not a convolution; the operator spectrum applies to conv layers only`,
      { layer: node.name },
    );
  }
  if (op.strides[0] !== 1 || op.strides[1] !== 1) {
    throw new RprError(
      'RPR_USAGE',
      `layer '${node.name}' (${node.className}) has strides [${op.strides.join(', ')}]; the exact operator spectrum is defined for stride 1 only`,
      { layer: node.name },
    );
  }
  const { kernel } = checkedKernel(node);
  if (op.kind === 'depthwiseConv2d') return depthwiseOperatorSpectrum(kernel, height, width, op.dilations);
  return convOperatorSpectrum(kernel, height, width, op.kind === 'conv2d' ? op.dilations : [1, 1]);
}
