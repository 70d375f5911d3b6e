/**
 * ONNX's window geometry (Conv, ConvTranspose, pools: explicit pads or auto_pad, ceil_mode) against
 * the IR's TensorFlow 'same' / 'valid' rules. Two geometries give the same windows when they have the
 * same output size and the same padding before the input (padding after it only clips the last window).
 */
import { axisGeometry } from '../conv-geometry.js';
import type { Padding } from '../ir.js';
import type { OnnxGraphNode } from './onnx-graph.js';
import { attrInt, attrInts, attrString } from './onnx-graph.js';

export interface OnnxAxis {
  readonly inSize: number;
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
  readonly padBefore: number;
  readonly padAfter: number;
  readonly outSize: number;
}

/** The two spatial axes of a Conv/pool node on an input of [h, w]; `kernel` from the weights when given. */
export function onnxAxes(node: OnnxGraphNode, h: number, w: number, kernel?: readonly [number, number]): [OnnxAxis, OnnxAxis] {
  const k = kernel ?? (attrInts(node, 'kernel_shape') as [number, number]);
  const strides = attrInts(node, 'strides') ?? [1, 1];
  const dilations = attrInts(node, 'dilations') ?? [1, 1];
  const pads = attrInts(node, 'pads') ?? [0, 0, 0, 0];
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  const ceil = attrInt(node, 'ceil_mode', 0) === 1;
  const axis = (a: 0 | 1, inSize: number): OnnxAxis => {
    const kernelSize = k[a]!;
    const stride = strides[a]!;
    const dilation = dilations[a]!;
    const effective = (kernelSize - 1) * dilation + 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const outSize = Math.ceil(inSize / stride);
      const total = Math.max((outSize - 1) * stride + effective - inSize, 0);
      const padBefore = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      return { inSize, kernel: kernelSize, stride, dilation, padBefore, padAfter: total - padBefore, outSize };
    }
    const [padBefore, padAfter] = autoPad === 'VALID' ? [0, 0] : [pads[a]!, pads[a + 2]!];
    const span = inSize + padBefore + padAfter - effective;
    let outSize = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
    // A last window that would start in the padding after the input is dropped (ONNX and PyTorch).
    if (ceil && (outSize - 1) * stride >= inSize + padBefore) outSize--;
    return { inSize, kernel: kernelSize, stride, dilation, padBefore, padAfter, outSize };
  };
  return [axis(0, h), axis(1, w)];
}

/** The TF padding that gives exactly these windows on both axes, or null. */
export function matchingPadding(axes: readonly OnnxAxis[]): Padding | null {
  for (const padding of ['valid', 'same'] as const) {
    const same = axes.every((a) => {
      const g = axisGeometry(a.inSize, a.kernel, a.stride, a.dilation, padding);
      return g.outSize === a.outSize && g.padBefore === a.padBefore;
    });
    if (same) return padding;
  }
  return null;
}
