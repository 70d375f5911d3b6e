/**
 * Which nodes of a GraphDef carry the image from the model input to its output. Only data edges are
 * followed: a Reshape's target shape, a Conv2DBackpropInput's output_shape or a resize's size is a
 * parameter even when the converter computed it from the input's Shape, and each op says which of its
 * inputs are data (binary ops: the operands that depend on the input; the rest must be constants).
 * Ops with no rule stop here with their node name and op, before TF.js runs anything.
 */
import { RprError, errors } from '../../errors/index.js';
import type { GraphNodeDef } from './graph-model-graphdef.js';
import { attrBool, attrString, attrStrings, tensorInputs } from './graph-model-graphdef.js';

export const IDENTITY_OPS: ReadonlySet<string> = new Set(['Identity', 'StopGradient']);

/** TensorFlow element-wise activation ops and the IR activation each one is. */
export const ACTIVATION_OPS = {
  Relu: 'relu',
  Relu6: 'relu6',
  Elu: 'elu',
  Selu: 'selu',
  LeakyRelu: 'leakyRelu',
  Sigmoid: 'sigmoid',
  Tanh: 'tanh',
  Softplus: 'softplus',
  Prelu: 'prelu',
} as const;
export type ActivationOpName = keyof typeof ACTIVATION_OPS;

export function isActivationOp(op: string): op is ActivationOpName {
  return Object.hasOwn(ACTIVATION_OPS, op);
}

/** Ops whose only data input is input 0 (any others are constants or shape parameters). */
const FIRST_INPUT_OPS: ReadonlySet<string> = new Set([
  ...IDENTITY_OPS,
  ...Object.keys(ACTIVATION_OPS),
  'Conv2D',
  '_FusedConv2D',
  'DepthwiseConv2dNative',
  'FusedDepthwiseConv2dNative',
  'MatMul',
  '_FusedMatMul',
  'FusedBatchNorm',
  'FusedBatchNormV3',
  'Softmax',
  'MaxPool',
  'AvgPool',
  'Mean',
  'Max',
  'Reshape',
  'Squeeze',
  'Pad',
  'PadV2',
  'ResizeNearestNeighbor',
  'ResizeBilinear',
]);

/** Binary ops with at most one constant operand. */
export const BINARY_OPS: ReadonlySet<string> = new Set(['BiasAdd', 'Add', 'AddV2', 'Sub', 'Mul', 'RealDiv']);

export const FUSED_OPS: ReadonlySet<string> = new Set(['_FusedConv2D', 'FusedDepthwiseConv2dNative', '_FusedMatMul']);

export function unsupported(node: GraphNodeDef, why?: string): RprError {
  return errors.unsupportedLayer(node.name, node.op, why);
}

/** What a fused conv/matmul applies after its product: a bias, then optionally an activation. */
export interface FusedSpec {
  readonly bias: boolean;
  readonly activation: ActivationOpName | null;
}

export function fusedSpec(node: GraphNodeDef): FusedSpec {
  const ops = attrStrings(node, 'fused_ops');
  if (ops.length === 0) return { bias: false, activation: null };
  const listed = `fused ops [${ops.join(', ')}]`;
  if (ops[0] !== 'BiasAdd' || ops.length > 2) {
    throw unsupported(node, `${listed} (only BiasAdd, then optionally one activation)`);
  }
  if (ops.length === 1) return { bias: true, activation: null };
  // TF spells fused activations like the standalone ops; the converter matches them case-insensitively.
  const activation = Object.keys(ACTIVATION_OPS).find((name) => name.toLowerCase() === ops[1]!.toLowerCase());
  if (activation === undefined) throw unsupported(node, `${listed}: no rule for activation ${ops[1]}`);
  return { bias: true, activation: activation as ActivationOpName };
}

/** Attribute checks that need no shapes, so a model TF.js could run but we cannot is refused early. */
function checkAttributes(node: GraphNodeDef): void {
  const format = attrString(node, 'data_format');
  if (format !== undefined && format !== 'NHWC') {
    throw unsupported(node, `data_format ${format} (only NHWC; export the model channels-last)`);
  }
  const padding = attrString(node, 'padding');
  if (padding !== undefined && padding !== 'SAME' && padding !== 'VALID') {
    throw unsupported(node, `padding ${padding} (only SAME and VALID)`);
  }
  if (FUSED_OPS.has(node.op)) fusedSpec(node);
  switch (node.op) {
    case 'MatMul':
    case '_FusedMatMul':
      if (attrBool(node, 'transpose_a')) throw unsupported(node, 'transpose_a (the batch must stay the first axis)');
      break;
    case 'FusedBatchNorm':
    case 'FusedBatchNormV3':
      if (attrBool(node, 'is_training')) throw unsupported(node, 'is_training=true (only inference-mode batch norm)');
      break;
    case 'ResizeNearestNeighbor':
      // With integer factors, nearest-neighbour sampling picks the same pixels with or without half-pixel
      // centres (Keras 2 UpSampling2D sets them); with aligned corners it does not repeat pixels evenly.
      if (attrBool(node, 'align_corners')) throw unsupported(node, 'align_corners=true (only align_corners=false)');
      break;
    case 'ResizeBilinear':
      if (attrBool(node, 'align_corners') && attrBool(node, 'half_pixel_centers')) {
        throw unsupported(node, 'align_corners and half_pixel_centers both set (TensorFlow refuses that too)');
      }
      break;
    default:
      break;
  }
}

export class GraphWalk {
  readonly #byName: ReadonlyMap<string, GraphNodeDef>;
  readonly #input: string;
  readonly #fed = new Map<string, boolean>();

  constructor(nodes: readonly GraphNodeDef[], input: string) {
    this.#byName = new Map(nodes.map((n) => [n.name, n]));
    this.#input = input;
  }

  node(name: string, readBy?: string): GraphNodeDef {
    const node = this.#byName.get(name);
    if (!node) {
      throw new RprError(
        'RPR_MODEL_INVALID',
        readBy === undefined
          ? `the graph model has no node '${name}'`
          : `the graph model's node '${readBy}' reads '${name}', which is not in the graph`,
        { layer: name },
      );
    }
    return node;
  }

  /** Whether the node's value depends on the model input. */
  fed(name: string): boolean {
    const known = this.#fed.get(name);
    if (known !== undefined) return known;
    // Provisionally false, so a cycle (graph control flow) ends the recursion.
    this.#fed.set(name, false);
    const value = name === this.#input || tensorInputs(this.node(name)).some((r) => this.fed(r.name));
    this.#fed.set(name, value);
    return value;
  }

  /** Indices (into tensorInputs) of the inputs that carry data. */
  dataInputs(node: GraphNodeDef): number[] {
    const refs = tensorInputs(node);
    if (FIRST_INPUT_OPS.has(node.op)) return [0];
    if (BINARY_OPS.has(node.op)) return refs.flatMap((r, k) => (this.fed(r.name) ? [k] : []));
    switch (node.op) {
      case 'AddN':
        return refs.map((_, k) => k);
      case 'ConcatV2':
        return refs.slice(0, -1).map((_, k) => k);
      case 'Conv2DBackpropInput':
        return [2];
      default:
        throw unsupported(node);
    }
  }

  /** The data nodes from the input (excluded) to `output`, every node after the nodes it reads. */
  order(output: string): GraphNodeDef[] {
    const order: GraphNodeDef[] = [];
    const seen = new Set<string>([this.#input]);
    const visit = (node: GraphNodeDef): void => {
      seen.add(node.name);
      checkAttributes(node);
      const refs = tensorInputs(node);
      for (const k of this.dataInputs(node)) {
        const ref = refs[k];
        if (ref === undefined) throw unsupported(node, `it has no input ${k}`);
        if (!this.fed(ref.name)) throw unsupported(node, `its input '${ref.name}' does not depend on the model input`);
        if (ref.index !== 0) throw unsupported(node, `it reads output ${ref.index} of '${ref.name}' (only output 0)`);
        if (!seen.has(ref.name)) visit(this.node(ref.name, node.name));
      }
      order.push(node);
    };
    if (output !== this.#input) visit(this.node(output));
    return order;
  }
}
