/**
 * The weight layers' kernels as matrices whose rows are output channels (Praggastis et al. 2022,
 * DeepDataProfiler): each output pixel of a stride-1 layer is W̄ applied to the input patch under it,
 * so W̄'s left singular vectors live in output-channel space and its right ones in patch space.
 *
 * Column order is (kh, kw, in), TF.js's NHWC im2col order, so right singular vectors read back as
 * kh × kw × in patterns; singular values do not depend on the column order.
 *
 * - conv2d [kh,kw,in,out]: W̄ is out × (kh·kw·in), W̄[o, (i,j,c)] = K[i,j,c,o].
 * - dense [in,out]: W̄ is out × in (the transpose of the stored matrix, so U is in output space).
 * - conv2dTranspose [kh,kw,out,in]: at stride 1 it is a conv2d with the spatially flipped kernel,
 *   whose unfolding is out × (kh·kw·in), W̄[o, (i,j,c)] = K[i,j,o,c] (the flip only permutes columns).
 *   At larger strides this is still the matrix applied at each output pixel, summed over taps.
 * - depthwiseConv2d [kh,kw,in,mult]: output channel c·mult+q reads input channel c only, so the
 *   equivalent conv2d unfolding is block diagonal. We keep the `in` blocks (mult × kh·kw each)
 *   apart: the layer's spectrum is the union of theirs, identical to the block-diagonal matrix's, at a
 *   fraction of the cost; the ESD normalization uses the block shape.
 */
import { errors, RprError } from '../errors/index.js';
import type { IRNode, WeightTensor } from '../model/ir.js';

export type WeightLayerKind = 'conv2d' | 'depthwiseConv2d' | 'conv2dTranspose' | 'dense';

const WEIGHT_KINDS: readonly string[] = ['conv2d', 'depthwiseConv2d', 'conv2dTranspose', 'dense'];

/** One diagonal block of the unfolded kernel: `rows` output channels starting at `rowOffset`. */
export interface KernelBlock {
  readonly rowOffset: number;
  readonly rows: number;
  readonly cols: number;
  /** Row-major rows × cols, float64. */
  readonly data: Float64Array;
}

export interface UnfoldedKernel {
  readonly kind: WeightLayerKind;
  /** The kernel's stored shape (TF layout). */
  readonly kernelShape: readonly number[];
  /** Output channels of the layer (rows of the whole unfolded matrix). */
  readonly outChannels: number;
  readonly blocks: readonly KernelBlock[];
}

/** Whether a node carries a kernel this module unfolds. */
export function isWeightLayer(node: IRNode): boolean {
  return WEIGHT_KINDS.includes(node.op.kind);
}

export interface LayerKernel {
  readonly kind: WeightLayerKind;
  readonly kernel: WeightTensor;
}

function kernelOf(node: IRNode): LayerKernel {
  const op = node.op;
  switch (op.kind) {
    case 'conv2d':
    case 'depthwiseConv2d':
    case 'conv2dTranspose':
    case 'dense':
      return { kind: op.kind, kernel: op.kernel };
    default:
      throw errors.internal(`layer '${node.name}' (${op.kind}) has no kernel to unfold`, { layer: node.name });
  }
}

/** Checks the kernel's rank, that its data fills its shape, and that every weight is finite. */
function checkKernel(node: IRNode, kind: WeightLayerKind, kernel: WeightTensor): void {
  const rank = kind === 'dense' ? 2 : 4;
  const shape = kernel.shape;
  if (shape.length !== rank || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new RprError(
      'RPR_MODEL_INVALID',
      `layer '${node.name}' (${node.className}): ${kind} kernel shape [${shape.join(', ')}] is not a rank-${rank} shape of positive sizes; re-export the model`,
      { layer: node.name, shape: shape.join('x') },
    );
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (kernel.data.length !== size) {
    throw new RprError(
      'RPR_MODEL_INVALID',
      `layer '${node.name}' (${node.className}): kernel has ${kernel.data.length} values but shape [${shape.join(', ')}] needs ${size}; the weights file is truncated or mismatched`,
      { layer: node.name, values: kernel.data.length, expected: size },
    );
  }
  for (let i = 0; i < size; i++) {
    if (!Number.isFinite(kernel.data[i]!)) {
      throw new RprError(
        'RPR_NUMERIC',
        `layer '${node.name}' (${node.className}): kernel value #${i} is ${kernel.data[i]}; the model's weights are not finite`,
        { layer: node.name, index: i },
      );
    }
  }
}

/** W̄[o, p] = K[p·out + o]: the layout shared by conv2d ([kh,kw,in,out]) and dense ([in,out]). */
function unfoldLastAxisOut(kernel: WeightTensor): KernelBlock {
  const out = kernel.shape[kernel.shape.length - 1]!;
  const cols = kernel.data.length / out;
  const data = new Float64Array(out * cols);
  for (let p = 0; p < cols; p++) {
    for (let o = 0; o < out; o++) data[o * cols + p] = kernel.data[p * out + o]!;
  }
  return { rowOffset: 0, rows: out, cols, data };
}

function unfoldTranspose(kernel: WeightTensor): KernelBlock {
  const [kh, kw, out, inC] = kernel.shape as [number, number, number, number];
  const cols = kh * kw * inC;
  const data = new Float64Array(out * cols);
  for (let t = 0; t < kh * kw; t++) {
    for (let o = 0; o < out; o++) {
      for (let c = 0; c < inC; c++) data[o * cols + t * inC + c] = kernel.data[(t * out + o) * inC + c]!;
    }
  }
  return { rowOffset: 0, rows: out, cols, data };
}

function unfoldDepthwise(kernel: WeightTensor): KernelBlock[] {
  const [kh, kw, inC, mult] = kernel.shape as [number, number, number, number];
  const taps = kh * kw;
  const blocks: KernelBlock[] = [];
  for (let c = 0; c < inC; c++) {
    const data = new Float64Array(mult * taps);
    for (let t = 0; t < taps; t++) {
      for (let q = 0; q < mult; q++) data[q * taps + t] = kernel.data[(t * inC + c) * mult + q]!;
    }
    blocks.push({ rowOffset: c * mult, rows: mult, cols: taps, data });
  }
  return blocks;
}

/** A weight layer's kernel after checking its rank, its length and that every value is finite. */
export function checkedKernel(node: IRNode): LayerKernel {
  const found = kernelOf(node);
  checkKernel(node, found.kind, found.kernel);
  return found;
}

/** The layer's kernel as output-channel-by-patch matrix blocks (see the module comment). */
export function unfoldKernel(node: IRNode): UnfoldedKernel {
  const { kind, kernel } = checkedKernel(node);
  const kernelShape = [...kernel.shape];
  switch (kind) {
    case 'conv2d':
    case 'dense':
      return { kind, kernelShape, outChannels: kernelShape[kernelShape.length - 1]!, blocks: [unfoldLastAxisOut(kernel)] };
    case 'conv2dTranspose':
      return { kind, kernelShape, outChannels: kernelShape[2]!, blocks: [unfoldTranspose(kernel)] };
    case 'depthwiseConv2d':
      return { kind, kernelShape, outChannels: kernelShape[2]! * kernelShape[3]!, blocks: unfoldDepthwise(kernel) };
  }
}
