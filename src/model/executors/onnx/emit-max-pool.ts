/**
 * Max-pools in the three graphs. The pattern is the switches: for each pooled output, the index into
 * the image's flattened NCHW input that it copies, from MaxPool's Indices output. onnxruntime's CPU kernel
 * keeps the FIRST maximum in row-major window order (strict `>`), TF's gradient rule, which the tests
 * check against tf.grad on tie-prone images (flat backgrounds make ties common).
 *
 * When the pool absorbs the activation before it (pattern-specs.ts), the activation's derivative is
 * recorded at the switches, computed from the pooled output itself when the derivative is a function of
 * the activation's output (ReLU, leaky ReLU, sigmoid, tanh), so no full-resolution derivative is formed.
 *
 * Frozen forward: a gather through the switches. Adjoint: MaxUnpool when the windows tile the input (no
 * position is the switch of two windows; on onnxruntime 4× faster than a nearest upsampling times a
 * one-hot mask: 5 vs 20 ms on [640, 32, 7, 7] → 14×14), else a scatter-add.
 */
import type { Op } from '../../ir.js';
import { sizeOf } from '../../ir.js';
import { derivativeFromOutput, emitDerivative } from './emit-activation.js';
import { graphDims } from './graph-layout.js';
import type { LinearPatterns } from './linear-patterns.js';
import type { EmitContext } from './linear-ops.js';
import { windowAttrs } from './linear-ops.js';
import { absorbedActivation } from './pattern-specs.js';
import { windowsTile } from './pool-tiling.js';

type ActivationOp = Extract<Op, { kind: 'activation' }>;

/** An activation the recording graph has evaluated: its pre-activation z, output y, PReLU slopes. */
export interface RecordedActivation {
  readonly z: string;
  readonly y: string;
  readonly slopes: string | null;
}

function inputSize(ctx: EmitContext, i: number): number {
  return sizeOf(ctx.ir.nodes[ctx.ir.nodes[i]!.inputs[0]!]!.shape);
}

/** Kernel, strides and pads of the pool's windows (a global pool's window is the whole image). */
function poolAttrs(ctx: EmitContext, i: number) {
  const p = ctx.prepared[i]!;
  return windowAttrs(p.gh!, p.gw!);
}

/** [rows, 1] int64: row r's offset r·size into a flattened [rows, size] value; `rowCount` is int64 [1]. */
function rowStarts(ctx: EmitContext, rowCount: string, size: number): string {
  const { b } = ctx;
  const range = b.op('Range', [b.int64s([0], []), b.op('Squeeze', [rowCount]), b.int64s([1], [])]);
  return b.op('Unsqueeze', [b.op('Mul', [range, b.int64s([size], [])]), b.int64s([1])]);
}

/** The pooled value (no pattern). */
export function maxPool(ctx: EmitContext, i: number, z: string): string {
  const { b } = ctx;
  if (ctx.ir.nodes[i]!.op.kind === 'globalMaxPool') return b.op('Flatten', [b.op('GlobalMaxPool', [z])], { axis: 1 });
  return b.op('MaxPool', [z], poolAttrs(ctx, i));
}

/**
 * The pooled value and the patterns the recording graph outputs: the switches [N, K] (int64), and the
 * absorbed activation's derivative at them [N, K] when the pool absorbs one.
 */
export function recordMaxPool(ctx: EmitContext, i: number, z: string, absorbed: RecordedActivation | null): { y: string; switches: string; scale: string | null } {
  const { b, ir } = ctx;
  const [pooled, indices] = b.opN('MaxPool', [z], 2, poolAttrs(ctx, i));
  // ONNX's Indices count from the start of the batch: subtract each image's start (cheaper than Mod).
  const flat = b.op('Flatten', [indices!], { axis: 1 });
  const switches = b.op('Sub', [flat, rowStarts(ctx, b.op('Shape', [flat], { start: 0, end: 1 }), inputSize(ctx, i))]);
  const flatPooled = b.op('Flatten', [pooled!], { axis: 1 });
  const y = ir.nodes[i]!.op.kind === 'globalMaxPool' ? flatPooled : pooled!;
  const j = absorbedActivation(ir, i);
  if (j === undefined || !absorbed) return { y, switches, scale: null };
  const act = ir.nodes[j]!.op as ActivationOp;
  const scale = derivativeFromOutput(act)
    ? emitDerivative(b, act, flatPooled, flatPooled, absorbed.slopes)
    : b.op('GatherElements', [b.op('Flatten', [emitDerivative(b, act, absorbed.z, absorbed.y, absorbed.slopes)], { axis: 1 }), switches], { axis: 1 });
  return { y, switches, scale };
}

/** Each image's switches repeated for its r rows: [N, K]. */
function rowSwitches(ctx: EmitContext, patterns: LinearPatterns, i: number): string {
  const { b } = ctx;
  const spec = patterns.spec(i);
  const k = spec.dims[0]!;
  return b.op('Reshape', [b.op('Expand', [patterns.view(spec), patterns.grouped([k])]), b.int64s([-1, k])]);
}

/** Rows [N, K] of pooled values or cotangents times the recorded derivative at the switches, if any. */
function scaled(patterns: LinearPatterns, i: number, rows: string): string {
  const spec = patterns.switchScale(i);
  return spec ? patterns.scale(rows, spec.dims, spec) : rows;
}

/** The frozen max-pool: each output copies its switch (times the absorbed derivative there). */
export function frozenMaxPool(ctx: EmitContext, patterns: LinearPatterns, i: number, x: string): string {
  const { b, ir } = ctx;
  const picked = b.op('GatherElements', [b.op('Flatten', [x], { axis: 1 }), rowSwitches(ctx, patterns, i)], { axis: 1 });
  return b.op('Reshape', [scaled(patterns, i, picked), b.int64s([-1, ...graphDims(ir.nodes[i]!.shape)])]);
}

/** The adjoint: each output's cotangent goes back to its switch. */
export function adjointMaxPool(ctx: EmitContext, patterns: LinearPatterns, i: number, g: string): string {
  const { b, ir } = ctx;
  const inDims = graphDims(ir.nodes[ir.nodes[i]!.inputs[0]!]!.shape);
  const rows = scaled(patterns, i, b.op('Flatten', [g], { axis: 1 }));
  const rowCount = b.op('Shape', [rows], { start: 0, end: 1 });
  if (!windowsTile(ir, i)) {
    const zeros = b.op('ConstantOfShape', [b.op('Concat', [rowCount, b.int64s([sizeOf(inDims)])], { axis: 0 })]);
    const routed = b.op('ScatterElements', [zeros, rowSwitches(ctx, patterns, i), rows], { axis: 1, reduction: 'add' });
    return b.op('Reshape', [routed, b.int64s([-1, ...inDims])]);
  }
  // MaxUnpool's indices address the whole [N, C, H, W] output: offset each row's switches by its start.
  const starts = b.op('Reshape', [rowStarts(ctx, rowCount, sizeOf(inDims)), patterns.grouped([1])]);
  const indices = b.op('Add', [patterns.view(patterns.spec(i)), starts]);
  const outDims = graphDims(ir.nodes[i]!.shape);
  const cells = outDims.length === 3 ? outDims : [outDims[0]!, 1, 1];
  const outputShape = b.op('Concat', [rowCount, b.int64s(inDims)], { axis: 0 });
  return b.op('MaxUnpool', [b.op('Reshape', [rows, b.int64s([-1, ...cells])]), b.op('Reshape', [indices, b.int64s([-1, ...cells])]), outputShape], {
    kernel_shape: poolAttrs(ctx, i).kernel_shape,
    strides: poolAttrs(ctx, i).strides,
  });
}
