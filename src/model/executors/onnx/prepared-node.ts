/**
 * Each IR node's weights in ONNX's layouts and its geometry, computed once per network and shared by
 * every graph emitted for it (forward, recording, frozen forward, adjoint).
 */
import type { AxisGeometry } from '../../conv-geometry.js';
import { planeGeometry, transposedConvGeometry } from '../../conv-geometry.js';
import type { IRNode, ModelIR } from '../../ir.js';
import { bilinearWeights } from '../../bilinear-weights.js';
import { permute } from '../../permute.js';
import { isImage, perChannelDims } from './graph-layout.js';

export interface PreparedNode {
  /** Conv-like kernels as ONNX Conv weights [O, I/group, kh, kw]. */
  readonly weight?: Float32Array;
  readonly weightDims?: readonly number[];
  /** The adjoint's kernel as an ONNX Conv weight of `group` groups: spatially reversed, in/out channels swapped. */
  readonly flipped?: Float32Array;
  readonly flippedDims?: readonly number[];
  /** Dense kernel [in, out] and its transpose [out, in] (non-image inputs). */
  readonly dense?: { readonly kernel: Float32Array; readonly transposed: Float32Array; readonly inF: number; readonly outF: number };
  readonly bias?: Float32Array;
  /** Dims of a per-channel constant (bias, BN scale/shift) broadcast over this node's graph value. */
  readonly channelDims?: readonly number[];
  readonly group?: number;
  readonly gh?: AxisGeometry;
  readonly gw?: AxisGeometry;
  /** 1 / number of valid inputs of each avg-pool window, [1, 1, oh, ow]. */
  readonly inverseCounts?: Float32Array;
  /** PReLU slopes in the node's graph layout, broadcasting over [N, ...graph dims]. */
  readonly slopes?: Float32Array;
  readonly slopeDims?: readonly number[];
  /** Bilinear upsampling: row matrix [outH, H] and column matrix transposed [W, outW]. */
  readonly rows?: Float32Array;
  readonly columnsT?: Float32Array;
}

/** Reverses the two trailing (spatial) axes of [A, B, kh, kw] and swaps A and B: the adjoint correlation's kernel. */
function flipKernel(data: Float32Array, dims: readonly [number, number, number, number]): Float32Array {
  const [a, bb, kh, kw] = dims;
  const out = new Float32Array(data.length);
  for (let i = 0; i < a; i++)
    for (let j = 0; j < bb; j++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) out[((j * a + i) * kh + (kh - 1 - y)) * kw + (kw - 1 - x)] = data[((i * bb + j) * kh + y) * kw + x]!;
  return out;
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  return permute(data, [rows, cols], [1, 0]);
}

function inverseWindowCounts(gh: AxisGeometry, gw: AxisGeometry): Float32Array {
  const valid = (g: AxisGeometry, o: number) => {
    let n = 0;
    for (let d = 0; d < g.kernel; d++) {
      const i = o * g.stride - g.padBefore + d * g.dilation;
      if (i >= 0 && i < g.inSize) n++;
    }
    return n;
  };
  const out = new Float32Array(gh.outSize * gw.outSize);
  for (let y = 0; y < gh.outSize; y++) for (let x = 0; x < gw.outSize; x++) out[y * gw.outSize + x] = 1 / (valid(gh, y) * valid(gw, x));
  return out;
}

/** PReLU slopes (broadcast against the IR shape, leading axes may be missing) in graph layout. */
function slopesInGraphLayout(node: IRNode, data: Float32Array, shape: readonly number[]): { data: Float32Array; dims: number[] } {
  const full = [...new Array<number>(node.shape.length - shape.length).fill(1), ...shape];
  if (!isImage(node.shape)) return { data, dims: full };
  return { data: permute(data, full, [2, 0, 1]), dims: [full[2]!, full[0]!, full[1]!] };
}

function prepare(ir: ModelIR, node: IRNode): PreparedNode {
  const op = node.op;
  const inShape = node.inputs.length > 0 ? ir.nodes[node.inputs[0]!]!.shape : [];
  const channelDims = perChannelDims(node.shape);
  const bias = 'bias' in op && op.bias ? { bias: op.bias.data, channelDims } : {};
  switch (op.kind) {
    case 'conv2d': {
      const [kh, kw, i, o] = op.kernel.shape as [number, number, number, number];
      const weight = permute(op.kernel.data, op.kernel.shape, [3, 2, 0, 1]);
      return {
        weight,
        weightDims: [o, i, kh, kw],
        flipped: flipKernel(weight, [o, i, kh, kw]),
        flippedDims: [i, o, kh, kw],
        group: 1,
        ...planeGeometry(inShape, op.kernel.shape, op.strides, op.dilations, op.padding),
        ...bias,
      };
    }
    case 'depthwiseConv2d': {
      // [kh, kw, C, M] → [C·M, 1, kh, kw]: output channel c·M + m reads input channel c.
      // Its adjoint, per group c: the M channels c·M + m in, channel c out: [C, M, kh, kw] reversed.
      const [kh, kw, c, m] = op.kernel.shape as [number, number, number, number];
      const weight = permute(op.kernel.data, op.kernel.shape, [2, 3, 0, 1]);
      return {
        weight,
        weightDims: [c * m, 1, kh, kw],
        flipped: flipKernel(weight, [c * m, 1, kh, kw]),
        flippedDims: [c, m, kh, kw],
        group: c,
        ...planeGeometry(inShape, op.kernel.shape, op.strides, op.dilations, op.padding),
        ...bias,
      };
    }
    case 'conv2dTranspose': {
      // The layer is the adjoint of a conv from its output size back to its input size; [kh, kw, out, in]
      // read as that conv's kernel [kh, kw, I, O] is, in ONNX's Conv layout, [O = in, I = out, kh, kw].
      const [kh, kw, o, i] = op.kernel.shape as [number, number, number, number];
      const { gh, gw } = transposedConvGeometry(node, inShape, op.kernel.shape, op.strides, op.padding);
      return { weight: permute(op.kernel.data, op.kernel.shape, [3, 2, 0, 1]), weightDims: [i, o, kh, kw], group: 1, gh, gw, ...bias };
    }
    case 'dense': {
      const [inF, outF] = op.kernel.shape as [number, number];
      const transposed = transpose2d(op.kernel.data, inF, outF);
      if (isImage(inShape)) return { weight: transposed, weightDims: [outF, inF, 1, 1], group: 1, ...bias };
      return { dense: { kernel: op.kernel.data, transposed, inF, outF }, ...bias };
    }
    case 'activation': {
      if (!op.alphaTensor) return {};
      const s = slopesInGraphLayout(node, op.alphaTensor.data, op.alphaTensor.shape);
      return { slopes: s.data, slopeDims: s.dims };
    }
    case 'batchNorm':
      return { channelDims };
    case 'maxPool':
    case 'avgPool': {
      const { gh, gw } = planeGeometry(inShape, op.pool, op.strides, [1, 1], op.padding);
      return op.kind === 'maxPool' ? { gh, gw } : { gh, gw, inverseCounts: inverseWindowCounts(gh, gw) };
    }
    case 'globalMaxPool':
      return planeGeometry(inShape, inShape, [1, 1], [1, 1], 'valid');
    case 'upsample': {
      if (op.interpolation === 'nearest') return {};
      const [h, w] = inShape as [number, number];
      const [oh, ow] = [h * op.size[0], w * op.size[1]];
      return { rows: bilinearWeights(h, oh, op.coordinates), columnsT: transpose2d(bilinearWeights(w, ow, op.coordinates), ow, w) };
    }
    default:
      return {};
  }
}

export function prepareNodes(ir: ModelIR): PreparedNode[] {
  return ir.nodes.map((node) => prepare(ir, node));
}
