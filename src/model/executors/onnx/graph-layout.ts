/**
 * Layouts inside the emitted graphs. The IR is NHWC; ONNX Runtime's CPU kernels are NCHW. Inside every
 * graph an image-shaped value (IR rank 3, [H, W, C]) is held as [N, C, H, W]; any other value keeps its
 * IR shape [N, ...shape]. Only the graph's own inputs and outputs are NHWC, so callers never see NCHW.
 */
import type { GraphBuilder } from './graph-builder.js';

/** Whether an IR shape (batch left out) is an image held as NCHW inside graphs. */
export function isImage(shape: readonly number[]): boolean {
  return shape.length === 3;
}

/** The dims (batch left out) a value of this IR shape has inside a graph. */
export function graphDims(shape: readonly number[]): number[] {
  return isImage(shape) ? [shape[2]!, shape[0]!, shape[1]!] : [...shape];
}

/** The axis of the IR's last (channel) axis inside a graph, batch included. */
export function channelAxis(shape: readonly number[]): number {
  return isImage(shape) ? 1 : shape.length;
}

/** Dims of a per-channel constant that broadcasts over a graph value of this IR shape (batch left out). */
export function perChannelDims(shape: readonly number[]): number[] {
  const c = shape[shape.length - 1]!;
  return isImage(shape) ? [c, 1, 1] : [c];
}

/** A graph value of IR shape `shape` in the IR's own NHWC order ([N, ...shape]). */
export function toIrOrder(b: GraphBuilder, value: string, shape: readonly number[]): string {
  return isImage(shape) ? b.op('Transpose', [value], { perm: [0, 2, 3, 1] }) : value;
}

/** A value in IR order ([N, ...shape]) in its graph layout. */
export function toGraphOrder(b: GraphBuilder, value: string, shape: readonly number[]): string {
  return isImage(shape) ? b.op('Transpose', [value], { perm: [0, 3, 1, 2] }) : value;
}

/** Reshapes a graph value between IR shapes, through IR order so the flattened element order is the IR's. */
export function reshapeBetween(b: GraphBuilder, value: string, from: readonly number[], to: readonly number[]): string {
  const flat = b.op('Reshape', [toIrOrder(b, value, from), b.int64s([-1, ...to])]);
  return toGraphOrder(b, flat, to);
}
