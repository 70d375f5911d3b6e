/**
 * Output size and explicit padding of a strided, dilated convolution or pooling along one axis, with
 * TensorFlow's rules ('same' puts the odd padding pixel after). Shared by every executor, so the forward
 * pass, the frozen forward and the adjoint agree on where each output reads from.
 */
import { errors } from '../errors/index.js';
import type { IRNode, Padding, Pair } from './ir.js';

export interface AxisGeometry {
  readonly inSize: number;
  readonly outSize: number;
  readonly padBefore: number;
  readonly padAfter: number;
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
}

export function axisGeometry(inSize: number, kernel: number, stride: number, dilation: number, padding: Padding): AxisGeometry {
  const effective = (kernel - 1) * dilation + 1;
  if (padding === 'valid') {
    const outSize = Math.max(0, Math.floor((inSize - effective) / stride) + 1);
    return { inSize, outSize, padBefore: 0, padAfter: 0, kernel, stride, dilation };
  }
  const outSize = Math.ceil(inSize / stride);
  const total = Math.max((outSize - 1) * stride + effective - inSize, 0);
  const padBefore = Math.floor(total / 2);
  return { inSize, outSize, padBefore, padAfter: total - padBefore, kernel, stride, dilation };
}

/** Both spatial axes of a window (a kernel, a pool) over an [H, W, …] input, `window` read as [h, w, …]. */
export interface PlaneGeometry {
  readonly gh: AxisGeometry;
  readonly gw: AxisGeometry;
}

export function planeGeometry(inShape: readonly number[], window: readonly number[], strides: Pair, dilations: Pair, padding: Padding): PlaneGeometry {
  return {
    gh: axisGeometry(inShape[0]!, window[0]!, strides[0], dilations[0], padding),
    gw: axisGeometry(inShape[1]!, window[1]!, strides[1], dilations[1], padding),
  };
}

/**
 * A conv2dTranspose node is the adjoint of a conv of its kernel from the node's output size back to its
 * input size: that conv's geometry. An input size that conv does not produce (output padding) is refused.
 */
export function transposedConvGeometry(node: IRNode, inShape: readonly number[], kernelShape: readonly number[], strides: Pair, padding: Padding): PlaneGeometry {
  const g = planeGeometry(node.shape, kernelShape, strides, [1, 1], padding);
  if (g.gh.outSize !== inShape[0] || g.gw.outSize !== inShape[1]) {
    throw errors.unsupportedLayer(node.name, node.className, 'output padding (its output size is not the standard one)');
  }
  return g;
}

/**
 * Padding that turns the adjoint of a convolution into a stride-1 'valid' correlation with the flipped
 * kernel, applied to the output gradient after inserting (stride − 1) zeros between its samples.
 * Negative values mean cropping.
 */
export function adjointPadding(g: AxisGeometry): { readonly before: number; readonly after: number } {
  const span = (g.kernel - 1) * g.dilation;
  return {
    before: span - g.padBefore,
    after: g.inSize - 1 + g.padBefore - (g.outSize - 1) * g.stride,
  };
}
