/**
 * Output size and explicit padding of a strided, dilated convolution or pooling along one axis, with
 * TensorFlow's rules ('same' puts the odd padding pixel after). Shared by every executor, so the forward
 * pass, the frozen forward and the adjoint agree on where each output reads from.
 */
import type { Padding } from './ir.js';

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
