/**
 * Max-pools in the three graphs. The frozen pattern picks, in every window, the FIRST maximum in
 * row-major window order (TF's gradient rule; ties are common on flat backgrounds):
 *
 * - tiling pools (pool-tiling.ts): the windows are laid out contiguously and ArgMax (first occurrence)
 *   picks the winner; the pattern is its one-hot mask over the (padded) input, [C, oh·kh, ow·kw]. The
 *   adjoint is a nearest upsampling and one multiply, the frozen forward a multiply and a window sum.
 * - overlapping pools: MaxPool's Indices output, reduced to per-image indices into the flattened NCHW
 *   input; onnxruntime's CPU kernel keeps the first maximum in row-major window order (strict `>`), which
 *   the tests check against tf.grad. The adjoint is a scatter-add, the frozen forward a gather.
 */
import { sizeOf } from '../../ir.js';
import { graphDims } from './graph-layout.js';
import type { LinearPatterns } from './linear-patterns.js';
import type { EmitContext } from './linear-ops.js';
import { padSpatial, windowAttrs } from './linear-ops.js';
import type { PoolTiling } from './pool-tiling.js';
import { poolTiling, tiledDims } from './pool-tiling.js';

/** Pads (rows/columns) that take the input to the tiled extent; negative ones crop a 'valid' pool's leftover. */
function tilingPads(t: PoolTiling): [number, number, number, number] {
  return [t.top, t.oh * t.kh - t.inH - t.top, t.left, t.ow * t.kw - t.inW - t.left];
}

/** [.., C, oh, kh, ow, kw] ↔ [.., C, oh, ow, kh, kw] on a 6-d value. */
const SWAP_WINDOW_AXES = [0, 1, 2, 4, 3, 5];

function firstMaximumMask(ctx: EmitContext, t: PoolTiling, z: string, derivative: string | null): string {
  const { b } = ctx;
  const [top, bottom, left, right] = tilingPads(t);
  const padded = padSpatial(b, z, top, bottom, left, right, -Infinity);
  const windows = b.op('Transpose', [b.op('Reshape', [padded, b.int64s([-1, t.channels, t.oh, t.kh, t.ow, t.kw])])], { perm: SWAP_WINDOW_AXES });
  const flat = b.op('Reshape', [windows, b.int64s([-1, t.channels, t.oh, t.ow, t.kh * t.kw])]);
  const winner = b.op('ArgMax', [flat], { axis: 4, keepdims: 1, select_last_index: 0 });
  const positions = b.int64s(Array.from({ length: t.kh * t.kw }, (_, k) => k));
  const oneHot = b.op('Cast', [b.op('Equal', [winner, positions])], { to: 1 });
  const back = b.op('Transpose', [b.op('Reshape', [oneHot, b.int64s([-1, t.channels, t.oh, t.ow, t.kh, t.kw])])], { perm: SWAP_WINDOW_AXES });
  const mask = b.op('Reshape', [back, b.int64s([-1, ...tiledDims(t)])]);
  return derivative === null ? mask : b.op('Mul', [mask, padSpatial(b, derivative, top, bottom, left, right)]);
}

/** Switches from MaxPool's Indices, which count from the start of the batch: reduced per image. */
function indexSwitches(ctx: EmitContext, i: number, z: string): { y: string; pattern: string } {
  const { b, ir } = ctx;
  const p = ctx.prepared[i]!;
  const inSize = sizeOf(ir.nodes[ir.nodes[i]!.inputs[0]!]!.shape);
  const [y, indices] = b.opN('MaxPool', [z], 2, windowAttrs(p.gh!, p.gw!));
  const local = b.op('Mod', [indices!, b.int64s([inSize], [])]);
  return { y: y!, pattern: b.op('Cast', [b.op('Flatten', [local], { axis: 1 })], { to: 6 }) };
}

/** The pooled value (no pattern). */
export function maxPool(ctx: EmitContext, i: number, z: string): string {
  const { b } = ctx;
  const p = ctx.prepared[i]!;
  if (ctx.ir.nodes[i]!.op.kind === 'globalMaxPool') return b.op('Flatten', [b.op('GlobalMaxPool', [z])], { axis: 1 });
  return b.op('MaxPool', [z], windowAttrs(p.gh!, p.gw!));
}

/**
 * The pooled value and the pattern the recording graph outputs; `derivative` is the pattern of the
 * activation the pool's mask absorbs (pattern-specs.ts), if any.
 */
export function recordMaxPool(ctx: EmitContext, i: number, z: string, derivative: string | null): { y: string; pattern: string } {
  const t = poolTiling(ctx.ir, i);
  if (t) return { y: maxPool(ctx, i, z), pattern: firstMaximumMask(ctx, t, z, derivative) };
  return indexSwitches(ctx, i, z);
}

/** Each image's switches repeated for its r rows: [N, K]. */
function rowSwitches(ctx: EmitContext, patterns: LinearPatterns, i: number): string {
  const { b } = ctx;
  const k = patterns.spec(i).dims[0]!;
  return b.op('Reshape', [b.op('Expand', [patterns.view(i), patterns.grouped([k])]), b.int64s([-1, k])]);
}

/** The frozen max-pool: each output copies its switch. */
export function frozenMaxPool(ctx: EmitContext, patterns: LinearPatterns, i: number, x: string): string {
  const { b, ir } = ctx;
  const outDims = graphDims(ir.nodes[i]!.shape);
  const t = poolTiling(ir, i);
  if (!t) {
    const picked = b.op('GatherElements', [b.op('Flatten', [x], { axis: 1 }), rowSwitches(ctx, patterns, i)], { axis: 1 });
    return b.op('Reshape', [picked, b.int64s([-1, ...outDims])]);
  }
  const [top, bottom, left, right] = tilingPads(t);
  const masked = patterns.scale(padSpatial(b, x, top, bottom, left, right), tiledDims(t), i);
  const windows = b.op('Reshape', [masked, b.int64s([-1, t.channels, t.oh, t.kh, t.ow, t.kw])]);
  return b.op('Reshape', [b.op('ReduceSum', [windows, b.int64s([3, 5])], { keepdims: 0 }), b.int64s([-1, ...outDims])]);
}

/** The adjoint: each output's cotangent goes back to its switch. */
export function adjointMaxPool(ctx: EmitContext, patterns: LinearPatterns, i: number, g: string): string {
  const { b, ir } = ctx;
  const inShape = ir.nodes[ir.nodes[i]!.inputs[0]!]!.shape;
  const t = poolTiling(ir, i);
  if (!t) {
    const flat = b.op('Flatten', [g], { axis: 1 });
    const rowCount = b.op('Shape', [flat], { start: 0, end: 1 });
    const zeros = b.op('ConstantOfShape', [b.op('Concat', [rowCount, b.int64s([sizeOf(inShape)])], { axis: 0 })]);
    const routed = b.op('ScatterElements', [zeros, rowSwitches(ctx, patterns, i), flat], { axis: 1, reduction: 'add' });
    return b.op('Reshape', [routed, b.int64s([-1, ...graphDims(inShape)])]);
  }
  // Nearest upsampling, as a depthwise ConvTranspose of ones with stride = window (on onnxruntime 2× faster
  // than Resize, 10 vs 19 ms on [640, 32, 7, 7]), then one multiply with a single broadcast axis (2× faster
  // than one multiply broadcasting g over the window and the mask over the rows).
  const ones = b.floats('ones', new Float32Array(t.channels * t.kh * t.kw).fill(1), [t.channels, 1, t.kh, t.kw], `ones${t.channels}x${t.kh}x${t.kw}`);
  const cells = b.op('Reshape', [g, b.int64s([-1, t.channels, t.oh, t.ow])]);
  const up = b.op('ConvTranspose', [cells, ones], { kernel_shape: [t.kh, t.kw], strides: [t.kh, t.kw], group: t.channels });
  const [top, bottom, left, right] = tilingPads(t);
  return padSpatial(b, patterns.scale(up, tiledDims(t), i), -top, -bottom, -left, -right);
}
