/**
 * The linearization A[x] as two graphs over the patterns the recording forward pass output:
 *
 * - frozen forward: v [B, r, H, W, C] → A[x_b]v [B, r, ...output shape]  (biases kept only for c[x])
 * - adjoint:        u [B, r, ...output shape] → A[x_b]ᵀu [B, r, H, W, C]
 *
 * Each image brings r vectors (linear-patterns.ts). The adjoint is the "adjoint CNN" written node by
 * node: a conv's adjoint is a conv with the kernel reversed and its channels swapped, or a ConvTranspose
 * with the same weights, pads and output_padding, whichever onnxruntime runs faster (convAdjoint);
 * Gemm's is the transposed weight;
 * a max-pool's goes through its switches (emit-max-pool.ts), or fuses with a few-channel conv before it
 * (emit-pool-conv.ts).
 */
import { adjointPadding } from '../../conv-geometry.js';
import { errors } from '../../../errors/index.js';
import type { ModelIR } from '../../ir.js';
import { adjointMaxPool, frozenMaxPool } from './emit-max-pool.js';
import { fusedPoolConv, poolConvAdjoint } from './emit-pool-conv.js';
import { GraphBuilder } from './graph-builder.js';
import { permute } from '../../permute.js';
import { channelAxis, graphDims, reshapeBetween, toGraphOrder, toIrOrder } from './graph-layout.js';
import type { EmitContext } from './linear-ops.js';
import { bnScale, convAttrs, convTransposeAttrs, fewAdjointOutputs, linearNode, padSpatial, weightOf } from './linear-ops.js';
import { LinearPatterns } from './linear-patterns.js';
import type { PreparedNode } from './prepared-node.js';

export const FROZEN_INPUT = 'v';
export const FROZEN_OUTPUT = 'av';
export const ADJOINT_INPUT = 'u';
export const ADJOINT_OUTPUT = 'atu';

/** The softmax pattern s applied to rows x: s ⊙ x − s ⊙ Σ_c(s ⊙ x) (symmetric, so also its adjoint). */
function softmaxLinear(b: GraphBuilder, patterns: LinearPatterns, node: number, x: string, shape: readonly number[]): string {
  const dims = graphDims(shape);
  const axis = channelAxis(shape);
  const s = patterns.spec(node);
  const sx = patterns.scale(x, dims, s);
  const total = b.op('ReduceSum', [sx, b.int64s([axis])], { keepdims: 1 });
  const totalDims = dims.map((d, k) => (k === axis - 1 ? 1 : d));
  return b.op('Sub', [sx, patterns.scale(total, totalDims, s)]);
}

function begin(ir: ModelIR, name: string, input: string, inShape: readonly number[]) {
  const b = new GraphBuilder(name);
  const v = b.input(input, 'float32', ['batch', 'rows', ...inShape]);
  const patterns = new LinearPatterns(b, ir, b.op('Shape', [v], { start: 0, end: 2 }));
  const rows = toGraphOrder(b, b.op('Reshape', [v, b.int64s([-1, ...inShape])]), inShape);
  return { b, patterns, rows };
}

function finish(b: GraphBuilder, patterns: LinearPatterns, value: string, shape: readonly number[], name: string): Uint8Array {
  b.output(b.op('Reshape', [toIrOrder(b, value, shape), patterns.grouped(shape)]), name);
  return b.build();
}

/** A[x]v, or the affine frozen network A[x]v + c[x] with `affine`. */
export function emitFrozen(ir: ModelIR, prepared: readonly PreparedNode[], affine: boolean): Uint8Array {
  const { b, patterns, rows } = begin(ir, affine ? 'frozen_affine' : 'frozen', FROZEN_INPUT, ir.inputShape);
  const ctx: EmitContext = { b, ir, prepared };
  const values: string[] = new Array<string>(ir.nodes.length);
  values[0] = rows;
  for (let i = 1; i <= ir.output; i++) {
    const node = ir.nodes[i]!;
    const inputs = node.inputs.map((j) => values[j]!);
    const x = inputs[0]!;
    switch (node.op.kind) {
      case 'activation':
        values[i] = patterns.has(i) ? patterns.scale(x, graphDims(node.shape), patterns.spec(i)) : x;
        break;
      case 'softmax':
        values[i] = softmaxLinear(b, patterns, i, x, node.shape);
        break;
      case 'maxPool':
      case 'globalMaxPool':
        values[i] = frozenMaxPool(ctx, patterns, i, x);
        break;
      default:
        values[i] = linearNode(ctx, i, inputs, affine);
    }
  }
  return finish(b, patterns, values[ir.output]!, ir.nodes[ir.output]!.shape, FROZEN_OUTPUT);
}

/**
 * The adjoint of a conv. Stride 1: a correlation with the flipped kernel, on the blocked NCHWc kernels
 * (depthwise: 24 vs 63 ms on [640, 32, 14, 14]), unless it has few output channels. Strided: ConvTranspose,
 * which beats a flipped conv on a zero-inserted gradient 2.5–6× (95 vs 255 ms on 32 → 16 channels, 14 → 28).
 */
function convAdjoint(ctx: EmitContext, i: number, g: string): string {
  const { b } = ctx;
  const p = ctx.prepared[i]!;
  const gh = p.gh!;
  const gw = p.gw!;
  const strided = gh.stride !== 1 || gw.stride !== 1;
  if (strided || fewAdjointOutputs(p)) return b.op('ConvTranspose', [g, weightOf(ctx, i)], convTransposeAttrs(gh, gw, p.group!));
  const ph = adjointPadding(gh);
  const pw = adjointPadding(gw);
  const kernel = b.floats(`f${i}`, p.flipped!, p.flippedDims!, `f${i}`);
  const attrs = { kernel_shape: [gh.kernel, gw.kernel], dilations: [gh.dilation, gw.dilation], group: p.group! };
  if (Math.min(ph.before, ph.after, pw.before, pw.after) >= 0) {
    return b.op('Conv', [g, kernel], { ...attrs, pads: [ph.before, pw.before, ph.after, pw.after] });
  }
  return b.op('Conv', [padSpatial(b, g, ph.before, ph.after, pw.before, pw.after), kernel], attrs);
}

/** The adjoint of node i: the cotangent of each of its inputs, given the cotangent g of its output. */
function adjointNode(ctx: EmitContext, patterns: LinearPatterns, i: number, g: string): string[] {
  const { b, ir } = ctx;
  const node = ir.nodes[i]!;
  const op = node.op;
  const p = ctx.prepared[i]!;
  const inShape = (k = 0) => ir.nodes[node.inputs[k]!]!.shape;
  switch (op.kind) {
    case 'identity':
      return [g];
    case 'conv2d':
    case 'depthwiseConv2d':
      return [convAdjoint(ctx, i, g)];
    case 'conv2dTranspose':
      return [b.op('Conv', [g, weightOf(ctx, i)], convAttrs(p.gh!, p.gw!, 1))];
    case 'dense': {
      if (!p.dense) return [b.op('ConvTranspose', [g, weightOf(ctx, i)], { kernel_shape: [1, 1] })];
      return [b.op('MatMul', [g, b.floats(`wt${i}`, p.dense.transposed, [p.dense.outF, p.dense.inF], `wt${i}`)])];
    }
    case 'activation':
      return [patterns.has(i) ? patterns.scale(g, graphDims(node.shape), patterns.spec(i)) : g];
    case 'softmax':
      return [softmaxLinear(b, patterns, i, g, node.shape)];
    case 'batchNorm':
      return [b.op('Mul', [g, bnScale(ctx, i)])];
    case 'maxPool':
    case 'globalMaxPool':
      return [adjointMaxPool(ctx, patterns, i, g)];
    case 'avgPool': {
      const c = inShape()[2]!;
      const [kh, kw] = op.pool;
      const perWindow = b.op('Mul', [g, b.floats(`ic${i}`, p.inverseCounts!, [1, 1, p.gh!.outSize, p.gw!.outSize], `ic${i}`)]);
      const ones = b.floats(`ones${i}`, new Float32Array(c * kh * kw).fill(1), [c, 1, kh, kw], `ones${c}x${kh}x${kw}`);
      return [b.op('ConvTranspose', [perWindow, ones], convTransposeAttrs(p.gh!, p.gw!, c))];
    }
    case 'globalAvgPool': {
      const [h, w, c] = inShape() as [number, number, number];
      const spread = b.floats(`gap${i}`, new Float32Array(h * w).fill(1 / (h * w)), [1, 1, h, w], `gap${h}x${w}`);
      return [b.op('Mul', [b.op('Reshape', [g, b.int64s([-1, c, 1, 1])]), spread])];
    }
    case 'reshape':
      return [reshapeBetween(b, g, node.shape, inShape())];
    case 'zeroPad':
      return [padSpatial(b, g, -op.pads[0][0], -op.pads[0][1], -op.pads[1][0], -op.pads[1][1])];
    case 'crop':
      return [padSpatial(b, g, op.crops[0][0], op.crops[0][1], op.crops[1][0], op.crops[1][1])];
    case 'upsample': {
      const [h, w, c] = inShape() as [number, number, number];
      const [oh, ow] = [node.shape[0]!, node.shape[1]!];
      if (op.interpolation === 'bilinear') {
        const cols = b.op('MatMul', [g, b.floats(`rwt${i}`, permute(p.columnsT!, [w, ow], [1, 0]), [ow, w], `rwt${i}`)]);
        return [b.op('MatMul', [b.floats(`rht${i}`, permute(p.rows!, [oh, h], [1, 0]), [h, oh], `rht${i}`), cols])];
      }
      const blocks = b.op('Reshape', [g, b.int64s([-1, c, h, op.size[0], w, op.size[1]])]);
      return [b.op('ReduceSum', [blocks, b.int64s([3, 5])], { keepdims: 0 })];
    }
    case 'add':
      return node.inputs.map(() => g);
    case 'concat': {
      const sizes = node.inputs.map((_, k) => inShape(k)[inShape(k).length - 1]!);
      return b.opN('Split', [g, b.int64s(sizes)], sizes.length, { axis: channelAxis(node.shape) });
    }
    default:
      throw errors.internal(`no ONNX adjoint rule for op ${op.kind}`);
  }
}

export function emitAdjoint(ir: ModelIR, prepared: readonly PreparedNode[]): Uint8Array {
  const { b, patterns, rows } = begin(ir, 'adjoint', ADJOINT_INPUT, ir.nodes[ir.output]!.shape);
  return finish(b, patterns, adjointValues({ b, ir, prepared }, patterns, rows), ir.inputShape, ADJOINT_OUTPUT);
}

/** Aᵀ applied to cotangent rows (graph layout of the output), emitted into ctx.b: rows in the input's graph layout. */
export function adjointValues(ctx: EmitContext, patterns: LinearPatterns, rows: string): string {
  const { b, ir } = ctx;
  const grads: (string | undefined)[] = new Array<string | undefined>(ir.nodes.length);
  grads[ir.output] = rows;
  const accumulate = (j: number, part: string) => {
    const prev = grads[j];
    grads[j] = prev === undefined ? part : b.op('Add', [prev, part]);
  };
  for (let i = ir.output; i >= 1; i--) {
    const g = grads[i];
    if (g === undefined) continue;
    const node = ir.nodes[i]!;
    // A fused max-pool hands its cotangent straight to the input of the conv before it: the conv (and the
    // activation between) get none, so the loop passes over them.
    const fused = fusedPoolConv(ctx, i);
    if (fused) accumulate(ir.nodes[fused.conv]!.inputs[0]!, poolConvAdjoint(ctx, patterns, fused, g));
    else adjointNode(ctx, patterns, i, g).forEach((part, k) => accumulate(node.inputs[k]!, part));
  }
  if (grads[0] === undefined) throw errors.internal('the network output does not depend on its input');
  return grads[0];
}
