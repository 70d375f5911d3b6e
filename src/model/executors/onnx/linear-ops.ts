/**
 * The linear nodes of the IR as ONNX nodes, shared by the forward graph (with biases and BN shifts)
 * and the frozen forward A[x]v (without, or with them for the offset c[x]). Nonlinear nodes
 * (activations, softmax, max-pools) are the callers' business: they differ between the two.
 */
import { errors } from '../../../errors/index.js';
import type { AxisGeometry } from '../../conv-geometry.js';
import type { ModelIR } from '../../ir.js';
import type { GraphBuilder } from './graph-builder.js';
import { channelAxis, reshapeBetween } from './graph-layout.js';
import type { PreparedNode } from './prepared-node.js';

export interface EmitContext {
  readonly b: GraphBuilder;
  readonly ir: ModelIR;
  readonly prepared: readonly PreparedNode[];
}

/** Conv/pool attributes of a geometry: ONNX pads are [top, left, bottom, right]. */
export function windowAttrs(gh: AxisGeometry, gw: AxisGeometry) {
  return {
    kernel_shape: [gh.kernel, gw.kernel],
    strides: [gh.stride, gw.stride],
    pads: [gh.padBefore, gw.padBefore, gh.padAfter, gw.padAfter],
  };
}

export function convAttrs(gh: AxisGeometry, gw: AxisGeometry, group: number) {
  return { ...windowAttrs(gh, gw), dilations: [gh.dilation, gw.dilation], group };
}

/**
 * ConvTranspose attributes that make it the exact adjoint of a Conv with this geometry: the same pads,
 * and output_padding for the input rows the conv never read (a 'valid' conv's leftover), always < stride.
 */
export function convTransposeAttrs(gh: AxisGeometry, gw: AxisGeometry, group: number) {
  const extra = (g: AxisGeometry) => g.inSize - ((g.outSize - 1) * g.stride + (g.kernel - 1) * g.dilation + 1 - g.padBefore - g.padAfter);
  return { ...convAttrs(gh, gw, group), output_padding: [extra(gh), extra(gw)] };
}

/**
 * Below this many output channels a plain conv's adjoint runs as ConvTranspose: onnxruntime's blocked
 * NCHWc conv pads the output channels to its block (16 with AVX-512), so 16 → 1 channels cost as much as
 * 16 → 16. Measured on [640, 16, 28, 28] → 1, 3, 8 channels: ConvTranspose 16, 30, 69 ms; Conv 49, 59, 55 ms.
 */
const MIN_BLOCKED_OUTPUT_CHANNELS = 8;

/** Whether a plain conv's adjoint has too few output channels (its input channels) for the blocked kernels. */
export function fewAdjointOutputs(p: PreparedNode): boolean {
  return p.group === 1 && p.flippedDims![0]! < MIN_BLOCKED_OUTPUT_CHANNELS;
}

export function weightOf(ctx: EmitContext, i: number): string {
  const p = ctx.prepared[i]!;
  return ctx.b.floats(`w${i}`, p.weight!, p.weightDims!, `w${i}`);
}

function biasOf(ctx: EmitContext, i: number, forConv: boolean): string {
  const p = ctx.prepared[i]!;
  return ctx.b.floats(`b${i}`, p.bias!, forConv ? [p.bias!.length] : p.channelDims!, `b${i}:${forConv}`);
}

function perChannel(ctx: EmitContext, i: number, key: 'scale' | 'shift'): string {
  const op = ctx.ir.nodes[i]!.op as { scale: Float32Array; shift: Float32Array };
  return ctx.b.floats(`${key}${i}`, op[key], ctx.prepared[i]!.channelDims!, `${key}${i}`);
}

export function bnScale(ctx: EmitContext, i: number): string {
  return perChannel(ctx, i, 'scale');
}

/** Pads the two spatial axes of an NCHW value with `value`; negative amounts crop. */
export function padSpatial(b: GraphBuilder, x: string, top: number, bottom: number, left: number, right: number, value = 0): string {
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return x;
  const inputs = [x, b.int64s([0, 0, top, left, 0, 0, bottom, right])];
  if (value !== 0) inputs.push(b.floats('pad', Float32Array.of(value), [], `pad:${value}`));
  return b.op('Pad', inputs);
}

/**
 * Node i applied to graph values `inputs` (batch N): its linear part, plus biases and BN shifts when
 * `affine`. Throws for the nonlinear kinds.
 */
export function linearNode(ctx: EmitContext, i: number, inputs: readonly string[], affine: boolean): string {
  const { b, ir } = ctx;
  const node = ir.nodes[i]!;
  const op = node.op;
  const p = ctx.prepared[i]!;
  const x = inputs[0]!;
  const inShape = ir.nodes[node.inputs[0]!]?.shape ?? [];
  const withBias = (y: string) => (affine && p.bias ? b.op('Add', [y, biasOf(ctx, i, false)]) : y);
  const convInputs = () => (affine && p.bias ? [x, weightOf(ctx, i), biasOf(ctx, i, true)] : [x, weightOf(ctx, i)]);
  switch (op.kind) {
    case 'identity':
      return x;
    case 'conv2d':
    case 'depthwiseConv2d':
      return b.op('Conv', convInputs(), convAttrs(p.gh!, p.gw!, p.group!));
    case 'conv2dTranspose':
      return b.op('ConvTranspose', convInputs(), convTransposeAttrs(p.gh!, p.gw!, 1));
    case 'dense': {
      if (!p.dense) return b.op('Conv', convInputs(), { kernel_shape: [1, 1] });
      const kernel = b.floats(`w${i}`, p.dense.kernel, [p.dense.inF, p.dense.outF], `w${i}`);
      if (inShape.length === 1) {
        return b.op('Gemm', affine && p.bias ? [x, kernel, biasOf(ctx, i, false)] : [x, kernel]);
      }
      return withBias(b.op('MatMul', [x, kernel]));
    }
    case 'batchNorm': {
      const scaled = b.op('Mul', [x, bnScale(ctx, i)]);
      return affine ? b.op('Add', [scaled, perChannel(ctx, i, 'shift')]) : scaled;
    }
    case 'avgPool':
      return b.op('AveragePool', [x], { ...windowAttrs(p.gh!, p.gw!), count_include_pad: 0 });
    case 'globalAvgPool':
      return b.op('Flatten', [b.op('GlobalAveragePool', [x])], { axis: 1 });
    case 'reshape':
      return reshapeBetween(b, x, inShape, node.shape);
    case 'zeroPad':
      return padSpatial(b, x, op.pads[0][0], op.pads[0][1], op.pads[1][0], op.pads[1][1]);
    case 'crop':
      return padSpatial(b, x, -op.crops[0][0], -op.crops[0][1], -op.crops[1][0], -op.crops[1][1]);
    case 'upsample': {
      if (op.interpolation === 'bilinear') {
        const [h, w] = inShape as [number, number];
        const [oh, ow] = [node.shape[0]!, node.shape[1]!];
        const cols = b.op('MatMul', [x, b.floats(`rw${i}`, p.columnsT!, [w, ow], `rw${i}`)]);
        return b.op('MatMul', [b.floats(`rh${i}`, p.rows!, [oh, h], `rh${i}`), cols]);
      }
      return b.op('Resize', [x, '', b.floats('scales', Float32Array.of(1, 1, op.size[0], op.size[1]), [4], `scales${op.size.join('x')}`)], {
        mode: 'nearest',
        coordinate_transformation_mode: 'asymmetric',
        nearest_mode: 'floor',
      });
    }
    case 'add':
      return inputs.length === 2 ? b.op('Add', [inputs[0]!, inputs[1]!]) : b.op('Sum', inputs);
    case 'concat':
      return b.op('Concat', inputs, { axis: channelAxis(node.shape) });
    default:
      throw errors.internal(`node ${node.name} (${op.kind}) is not linear`);
  }
}
