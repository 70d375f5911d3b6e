/**
 * Linear convolution building blocks on NHWC batches. The adjoint of a strided, padded, dilated
 * convolution is written as a forward stride-1 'valid' convolution with the kernel flipped in space
 * (and its channels swapped), on the output gradient with zeros inserted between samples: on the wasm
 * backend conv2dTranspose is several times slower than conv2d, and depthwise convolutions have no
 * gradient kernel at all.
 */
import type { AxisGeometry } from '../../conv-geometry.js';
import { adjointPadding } from '../../conv-geometry.js';
import { tf } from '../../tf-runtime.js';

type T = tf.Tensor;
type T4 = tf.Tensor4D;

/** Pads (positive) or crops (negative) the two spatial axes. */
export function padOrCrop(x: T4, top: number, bottom: number, left: number, right: number): T4 {
  let y = x;
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    y = tf.pad(y, [
      [0, 0],
      [Math.max(top, 0), Math.max(bottom, 0)],
      [Math.max(left, 0), Math.max(right, 0)],
      [0, 0],
    ]);
  }
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [n, h, w, c] = y.shape;
    const t = Math.max(-top, 0);
    const l = Math.max(-left, 0);
    y = tf.slice(y, [0, t, l, 0], [n, h - t - Math.max(-bottom, 0), w - l - Math.max(-right, 0), c]);
  }
  return y;
}

/** Inserts (stride − 1) zeros between samples along both spatial axes. */
function insertZeros(g: T4, sh: number, sw: number): T4 {
  if (sh === 1 && sw === 1) return g;
  const [n, h, w, c] = g.shape;
  const spread = tf.pad(tf.reshape(g, [n, h, 1, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  const dense = tf.reshape(spread, [n, h * sh, w * sw, c]);
  return tf.slice(dense, [0, 0, 0, 0], [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c]) as T4;
}

/** The output gradient spread and padded so that a 'valid' correlation with the flipped kernel is the adjoint. */
export function adjointInput(g: T4, gh: AxisGeometry, gw: AxisGeometry): T4 {
  const z = insertZeros(g, gh.stride, gw.stride);
  const ph = adjointPadding(gh);
  const pw = adjointPadding(gw);
  return padOrCrop(z, ph.before, ph.after, pw.before, pw.after);
}

/** Explicitly padded input for a forward conv/pool with the given geometry, as 'valid'. */
export function forwardInput(x: T4, gh: AxisGeometry, gw: AxisGeometry): T4 {
  return padOrCrop(x, gh.padBefore, gh.padAfter, gw.padBefore, gw.padAfter);
}

/** conv2d without bias: [kh, kw, I, O] kernel. */
export function conv2dForward(x: T4, kernel: T, gh: AxisGeometry, gw: AxisGeometry): T4 {
  return tf.conv2d(forwardInput(x, gh, gw), kernel as tf.Tensor4D, [gh.stride, gw.stride], 'valid', 'NHWC', [
    gh.dilation,
    gw.dilation,
  ]);
}

/** Adjoint of conv2dForward; `flipped` is the kernel reversed in space with in/out swapped: [kh, kw, O, I]. */
export function conv2dAdjoint(g: T4, flipped: T, gh: AxisGeometry, gw: AxisGeometry): T4 {
  return tf.conv2d(adjointInput(g, gh, gw), flipped as tf.Tensor4D, 1, 'valid', 'NHWC', [gh.dilation, gw.dilation]);
}

/** Depthwise conv without bias: [kh, kw, C, M] kernel, C·M output channels (channel c·M + m). */
export function depthwiseForward(x: T4, kernel: T, gh: AxisGeometry, gw: AxisGeometry): T4 {
  return tf.depthwiseConv2d(forwardInput(x, gh, gw), kernel as tf.Tensor4D, [gh.stride, gw.stride], 'valid', 'NHWC', [
    gh.dilation,
    gw.dilation,
  ]);
}

/**
 * Adjoint of depthwiseForward; `flipped` is the kernel reversed in space and reshaped to [kh, kw, C·M, 1],
 * so each output channel is correlated on its own, then the M channels of each input channel are summed.
 */
export function depthwiseAdjoint(g: T4, flipped: T, multiplier: number, gh: AxisGeometry, gw: AxisGeometry): T4 {
  const y = tf.depthwiseConv2d(adjointInput(g, gh, gw), flipped as tf.Tensor4D, 1, 'valid', 'NHWC', [
    gh.dilation,
    gw.dilation,
  ]);
  if (multiplier === 1) return y;
  const [n, h, w, cm] = y.shape;
  return tf.sum(tf.reshape(y, [n, h, w, cm / multiplier, multiplier]), 4) as T4;
}

/** Flips a conv kernel [kh, kw, I, O] in space and swaps its channels: [kh, kw, O, I]. */
export function flipConvKernel(kernel: T): T {
  return tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]);
}

/** Flips a depthwise kernel [kh, kw, C, M] in space, as [kh, kw, C·M, 1]. */
export function flipDepthwiseKernel(kernel: T): T {
  const [kh, kw, c, m] = kernel.shape as [number, number, number, number];
  return tf.reshape(tf.reverse(kernel, [0, 1]), [kh, kw, c * m, 1]);
}
