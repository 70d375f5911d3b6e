/**
 * Frontend: a TF.js GraphModel (a TensorFlow graph converted by tensorflowjs_converter) → the IR.
 * It walks the GraphDef from the single Placeholder to the single output along data edges and maps each
 * op to IR nodes, NHWC only. Fused ops are split so every nonlinearity has its own frozen pattern, and
 * the per-channel affine ops a converted Keras layer leaves behind (BiasAdd, folded batch norm as
 * Mul + AddV2) are merged back into their producer (graph-model-fold-affine.ts).
 *
 * Output shapes come from running the graph once, through TF.js's own executor, on a zero batch and
 * asking for every node on the path: no TF shape rule is re-implemented, and a flatten the converter
 * spelled as Shape → StridedSlice → Pack → Reshape is simply a reshape to the shape it produced.
 */
import { finalActivation } from './final-activation.js';
import { RprError } from '../../errors/index.js';
import type { ActivationFn, IRNode, ModelIR, Op, Pair, Padding, WeightTensor } from '../ir.js';
import { sizeOf } from '../ir.js';
import { irDigest } from '../ir-digest.js';
import { tf } from '../tf-runtime.js';
import type { tfconv } from '../tf-runtime.js';
import { foldAffine } from './graph-model-fold-affine.js';
import type { GraphNodeDef } from './graph-model-graphdef.js';
import { attrBool, attrInts, attrNumber, attrString, parseRef, readGraphDef, tensorInputs } from './graph-model-graphdef.js';
import type { ActivationOpName } from './graph-model-walk.js';
import {
  ACTIVATION_OPS,
  BINARY_OPS,
  FUSED_OPS,
  GraphWalk,
  IDENTITY_OPS,
  fusedSpec,
  isActivationOp,
  unsupported,
} from './graph-model-walk.js';
import type { FrontendOptions } from './layers-model-frontend.js';

/** Batch size of the shape-finding run when the model leaves it open: 2, so an op that mixes images shows. */
const PROBE_BATCH = 2;

/** FusedBatchNorm's epsilon when the attribute is absent, as TF.js's converter reads it, so both run the same network. */
const DEFAULT_BN_EPSILON = 0.001;

interface Constant {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

interface Context {
  readonly walk: GraphWalk;
  readonly weights: tfconv.GraphModel['weights'];
  /** Output shape of every data node, batch left out. */
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  /** IR node holding each graph node's value. */
  readonly ids: Map<string, number>;
  readonly nodes: IRNode[];
}

function add(ctx: Context, node: GraphNodeDef, op: Op, inputs: readonly number[], shape: readonly number[], suffix?: string): number {
  ctx.nodes.push({ name: suffix ? `${node.name}/${suffix}` : node.name, className: node.op, op, inputs, shape });
  return ctx.nodes.length - 1;
}

function ref(node: GraphNodeDef, k: number): string {
  const r = tensorInputs(node)[k];
  if (r === undefined) throw unsupported(node, `it has no input ${k}`);
  return r.name;
}

function inputId(ctx: Context, node: GraphNodeDef, k = 0): number {
  return ctx.ids.get(ref(node, k))!;
}

function shapeOf(ctx: Context, name: string): readonly number[] {
  return ctx.shapes.get(name)!;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function show(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** The value of input k, which must be a Const (possibly behind Identity ops) with weights in the model. */
function constant(ctx: Context, node: GraphNodeDef, k: number): Constant {
  let source = ctx.walk.node(ref(node, k), node.name);
  while (IDENTITY_OPS.has(source.op)) source = ctx.walk.node(ref(source, 0), source.name);
  if (source.op !== 'Const') {
    throw unsupported(node, `its operand '${ref(node, k)}' is computed by a ${source.op} op, not a constant`);
  }
  const t = ctx.weights[source.name]?.[0];
  if (t === undefined) throw unsupported(node, `its constant '${source.name}' has no value in the weights manifest`);
  return { name: source.name, shape: [...t.shape], data: Float32Array.from(t.dataSync()) };
}

function weight(c: Constant): WeightTensor {
  return { shape: c.shape, data: c.data };
}

/** A constant broadcast over the last axis only (a scalar, [C], [1, 1, C]…), as C values. */
function perChannel(ctx: Context, node: GraphNodeDef, k: number, channels: number): Float32Array {
  const c = constant(ctx, node, k);
  const ok = c.shape.every((d, i) => d === 1 || (i === c.shape.length - 1 && d === channels));
  if (!ok || (c.data.length !== 1 && c.data.length !== channels)) {
    throw unsupported(
      node,
      `its constant '${c.name}' has shape ${show(c.shape)}; only a scalar or a per-channel vector of ${channels} over the last axis`,
    );
  }
  return c.data.length === channels ? c.data : new Float32Array(channels).fill(c.data[0]!);
}

/** [1, h, w, 1] → [h, w]. */
function spatial(node: GraphNodeDef, key: string): Pair {
  const v = attrInts(node, key) ?? [1, 1, 1, 1];
  if (v.length !== 4 || v[0] !== 1 || v[3] !== 1) throw unsupported(node, `${key} ${show(v)} (only [1, h, w, 1])`);
  return [v[1]!, v[2]!];
}

function padding(node: GraphNodeDef): Padding {
  const p = attrString(node, 'padding');
  if (p === 'SAME') return 'same';
  if (p === 'VALID') return 'valid';
  throw unsupported(node, `padding ${p ?? '(missing)'} (only SAME and VALID)`);
}

function activationOp(ctx: Context, node: GraphNodeDef, name: ActivationOpName, alphaInput: number, alphaAttr: string): Op {
  const fn: ActivationFn = ACTIVATION_OPS[name];
  if (fn === 'leakyRelu') return { kind: 'activation', fn, alpha: attrNumber(node, alphaAttr) ?? 0.2 };
  if (fn !== 'prelu') return { kind: 'activation', fn };
  const alpha = constant(ctx, node, alphaInput);
  // The executor broadcasts the slopes against [batch, ...shape]; a leading batch axis of 1 must go.
  const rank = shapeOf(ctx, node.name).length;
  const shape = [...alpha.shape];
  while (shape.length > rank && shape[0] === 1) shape.shift();
  return { kind: 'activation', fn, alphaTensor: { shape, data: alpha.data } };
}

type ProductOp = Extract<Op, { kind: 'conv2d' | 'depthwiseConv2d' | 'conv2dTranspose' | 'dense' }>;

/** Adds a conv/matmul node and, for the fused forms, its bias and a separate activation node. */
function addProduct(ctx: Context, node: GraphNodeDef, op: ProductOp): number {
  const shape = shapeOf(ctx, node.name);
  const fused = FUSED_OPS.has(node.op) ? fusedSpec(node) : { bias: false, activation: null };
  const withBias: ProductOp = fused.bias ? { ...op, bias: { shape: [shape.at(-1)!], data: perChannel(ctx, node, 2, shape.at(-1)!) } } : op;
  const id = add(ctx, node, withBias, [inputId(ctx, node)], shape);
  if (fused.activation === null) return id;
  const act = activationOp(ctx, node, fused.activation, fused.bias ? 3 : 2, 'leakyrelu_alpha');
  return add(ctx, node, act, [id], shape, 'activation');
}

function convOp(ctx: Context, node: GraphNodeDef, kind: 'conv2d' | 'depthwiseConv2d'): ProductOp {
  return {
    kind,
    kernel: weight(constant(ctx, node, 1)),
    strides: spatial(node, 'strides'),
    dilations: spatial(node, 'dilations'),
    padding: padding(node),
  };
}

function transposedConvOp(ctx: Context, node: GraphNodeDef): ProductOp {
  const dilations = spatial(node, 'dilations');
  if (dilations[0] !== 1 || dilations[1] !== 1) throw unsupported(node, 'dilated transposed convolution');
  return { kind: 'conv2dTranspose', kernel: weight(constant(ctx, node, 1)), strides: spatial(node, 'strides'), padding: padding(node) };
}

function denseOp(ctx: Context, node: GraphNodeDef): ProductOp {
  const w = constant(ctx, node, 1);
  if (!attrBool(node, 'transpose_b')) return { kind: 'dense', kernel: weight(w) };
  const [out, inF] = w.shape as [number, number];
  const data = new Float32Array(w.data.length);
  for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) data[i * out + o] = w.data[o * inF + i]!;
  return { kind: 'dense', kernel: { shape: [inF, out], data } };
}

function batchNorm(ctx: Context, node: GraphNodeDef, input: number, scale: Float32Array, shift: Float32Array): number {
  return add(ctx, node, { kind: 'batchNorm', scale, shift }, [input], shapeOf(ctx, node.name));
}

/** BiasAdd/Add/AddV2/Sub/Mul/RealDiv: a join of two branches, or a per-channel affine map. */
function binary(ctx: Context, node: GraphNodeDef): number {
  const shape = shapeOf(ctx, node.name);
  const fed = tensorInputs(node).map((r) => ctx.walk.fed(r.name));
  if (fed.every(Boolean)) {
    if (node.op !== 'Add' && node.op !== 'AddV2') {
      throw unsupported(node, `both operands depend on the input (only Add, AddV2 and AddN may join two branches)`);
    }
    return join(ctx, node);
  }
  const k = fed.indexOf(true);
  const dataShape = shapeOf(ctx, ref(node, k));
  if (!sameShape(dataShape, shape)) throw unsupported(node, `it broadcasts its input ${show(dataShape)} to ${show(shape)}`);
  const channels = shape.at(-1) ?? 1;
  const c = perChannel(ctx, node, 1 - k, channels);
  const ones = new Float32Array(channels).fill(1);
  const zeros = new Float32Array(channels);
  const input = inputId(ctx, node, k);
  switch (node.op) {
    case 'Mul':
      return batchNorm(ctx, node, input, c, zeros);
    case 'RealDiv':
      if (k !== 0) throw unsupported(node, 'it divides a constant by the input (not linear)');
      return batchNorm(ctx, node, input, c.map((v) => 1 / v), zeros);
    case 'Sub':
      return k === 0 ? batchNorm(ctx, node, input, ones, c.map((v) => -v)) : batchNorm(ctx, node, input, ones.map((v) => -v), c);
    default:
      return batchNorm(ctx, node, input, ones, c);
  }
}

/** Add/AddV2/AddN of branches of one shape. */
function join(ctx: Context, node: GraphNodeDef): number {
  const shape = shapeOf(ctx, node.name);
  const refs = tensorInputs(node);
  for (const r of refs) {
    if (!ctx.walk.fed(r.name)) throw unsupported(node, `its operand '${r.name}' does not depend on the input`);
    const s = shapeOf(ctx, r.name);
    if (!sameShape(s, shape)) throw unsupported(node, `it broadcasts operand '${r.name}' ${show(s)} to ${show(shape)}`);
  }
  return add(ctx, node, { kind: 'add' }, refs.map((_, k) => inputId(ctx, node, k)), shape);
}

function fusedBatchNorm(ctx: Context, node: GraphNodeDef): number {
  const channels = shapeOf(ctx, node.name).at(-1)!;
  const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((k) => perChannel(ctx, node, k, channels)) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const eps = attrNumber(node, 'epsilon') ?? DEFAULT_BN_EPSILON;
  const scale = gamma.map((g, c) => g / Math.sqrt(variance[c]! + eps));
  const shift = beta.map((b, c) => b - mean[c]! * scale[c]!);
  return batchNorm(ctx, node, inputId(ctx, node), scale, shift);
}

function pool(ctx: Context, node: GraphNodeDef): number {
  const kind = node.op === 'MaxPool' ? 'maxPool' : 'avgPool';
  const op: Op = { kind, pool: spatial(node, 'ksize'), strides: spatial(node, 'strides'), padding: padding(node) };
  return add(ctx, node, op, [inputId(ctx, node)], shapeOf(ctx, node.name));
}

/** Mean/Max over H and W; keep_dims adds a reshape to [1, 1, C]. */
function globalPool(ctx: Context, node: GraphNodeDef): number {
  const inShape = shapeOf(ctx, ref(node, 0));
  const axes = Array.from(constant(ctx, node, 1).data, (a) => (a < 0 ? a + inShape.length + 1 : a)).sort((a, b) => a - b);
  if (inShape.length !== 3 || axes.length !== 2 || axes[0] !== 1 || axes[1] !== 2) {
    throw unsupported(node, `a reduction over axes ${show(axes)} of a ${inShape.length + 1}-d tensor (only over H and W, axes [1, 2], of NHWC)`);
  }
  const kind = node.op === 'Max' ? 'globalMaxPool' : 'globalAvgPool';
  const id = add(ctx, node, { kind }, [inputId(ctx, node)], [inShape[2]!]);
  if (!attrBool(node, 'keep_dims')) return id;
  return add(ctx, node, { kind: 'reshape' }, [id], shapeOf(ctx, node.name), 'keep_dims');
}

function concat(ctx: Context, node: GraphNodeDef): number {
  const shape = shapeOf(ctx, node.name);
  const refs = tensorInputs(node);
  const axis = constant(ctx, node, refs.length - 1).data[0]!;
  if (axis !== -1 && axis !== shape.length) {
    throw unsupported(node, `concatenation over axis ${axis} of a ${shape.length + 1}-d tensor (only the last axis)`);
  }
  return add(ctx, node, { kind: 'concat' }, refs.slice(0, -1).map((_, k) => inputId(ctx, node, k)), shape);
}

function zeroPad(ctx: Context, node: GraphNodeDef): number {
  const p = constant(ctx, node, 1);
  const d = Array.from(p.data);
  if (p.shape[0] !== 4 || d.length !== 8 || d[0] !== 0 || d[1] !== 0 || d[6] !== 0 || d[7] !== 0) {
    throw unsupported(node, `paddings ${JSON.stringify(d)} of shape ${show(p.shape)} (only on H and W of an NHWC tensor)`);
  }
  if (node.op === 'PadV2' && constant(ctx, node, 2).data[0] !== 0) throw unsupported(node, 'a non-zero padding value');
  const op: Op = { kind: 'zeroPad', pads: [[d[2]!, d[3]!], [d[4]!, d[5]!]] };
  return add(ctx, node, op, [inputId(ctx, node)], shapeOf(ctx, node.name));
}

function upsample(ctx: Context, node: GraphNodeDef): number {
  const [h, w] = shapeOf(ctx, ref(node, 0)) as [number, number];
  const shape = shapeOf(ctx, node.name);
  const [outH, outW] = shape as [number, number];
  if (outH % h !== 0 || outW % w !== 0) {
    throw unsupported(node, `resizing ${h}×${w} to ${outH}×${outW} (only integer scale factors)`);
  }
  const size: Pair = [outH / h, outW / w];
  if (node.op !== 'ResizeBilinear') return add(ctx, node, { kind: 'upsample', size, interpolation: 'nearest' }, [inputId(ctx, node)], shape);
  // TF's sampling rules are ONNX's: half_pixel_centers is half_pixel, align_corners is align_corners; the
  // IR's default (left out, so such models keep their digest) is asymmetric.
  const coordinates = attrBool(node, 'align_corners') ? 'align_corners' : attrBool(node, 'half_pixel_centers') ? 'half_pixel' : null;
  const op: Op = { kind: 'upsample', size, interpolation: 'bilinear', ...(coordinates ? { coordinates } : {}) };
  return add(ctx, node, op, [inputId(ctx, node)], shape);
}

/** The IR node holding the value of `node`, after adding what it needs. */
function convertNode(ctx: Context, node: GraphNodeDef): number {
  const shape = shapeOf(ctx, node.name);
  if (IDENTITY_OPS.has(node.op)) return inputId(ctx, node);
  if (BINARY_OPS.has(node.op)) return binary(ctx, node);
  if (isActivationOp(node.op)) return add(ctx, node, activationOp(ctx, node, node.op, 1, 'alpha'), [inputId(ctx, node)], shape);
  switch (node.op) {
    case 'Conv2D':
    case '_FusedConv2D':
      return addProduct(ctx, node, convOp(ctx, node, 'conv2d'));
    case 'DepthwiseConv2dNative':
    case 'FusedDepthwiseConv2dNative':
      return addProduct(ctx, node, convOp(ctx, node, 'depthwiseConv2d'));
    case 'Conv2DBackpropInput':
      return add(ctx, node, transposedConvOp(ctx, node), [inputId(ctx, node, 2)], shape);
    case 'MatMul':
    case '_FusedMatMul':
      return addProduct(ctx, node, denseOp(ctx, node));
    case 'AddN':
      return join(ctx, node);
    case 'FusedBatchNorm':
    case 'FusedBatchNormV3':
      return fusedBatchNorm(ctx, node);
    case 'Softmax':
      return add(ctx, node, { kind: 'softmax' }, [inputId(ctx, node)], shape);
    case 'MaxPool':
    case 'AvgPool':
      return pool(ctx, node);
    case 'Mean':
    case 'Max':
      return globalPool(ctx, node);
    case 'Reshape':
    case 'Squeeze':
      return add(ctx, node, { kind: 'reshape' }, [inputId(ctx, node)], shape);
    case 'ConcatV2':
      return concat(ctx, node);
    case 'Pad':
    case 'PadV2':
      return zeroPad(ctx, node);
    case 'ResizeNearestNeighbor':
    case 'ResizeBilinear':
      return upsample(ctx, node);
    default:
      throw unsupported(node);
  }
}

/** Output shapes of `nodes` (batch left out), from one run of the converter's executor on zeros. */
function probeShapes(
  model: tfconv.GraphModel,
  inputShape: readonly number[],
  batch: number,
  nodes: readonly GraphNodeDef[],
): Map<string, readonly number[]> {
  const shapes = new Map<string, readonly number[]>();
  if (nodes.length === 0) return shapes;
  const x = tf.zeros([batch, ...inputShape]);
  let outputs: tf.Tensor[];
  try {
    const result = model.execute(x, nodes.map((n) => n.name));
    outputs = Array.isArray(result) ? result : [result];
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n', 1)[0];
    throw new RprError('RPR_MODEL_INVALID', `TF.js cannot run the graph model on a zero input to find its shapes: ${message}`);
  } finally {
    x.dispose();
  }
  nodes.forEach((node, i) => {
    const shape = outputs[i]!.shape;
    if (shape[0] !== batch) {
      throw unsupported(node, `its output ${show(shape)} does not keep the batch of ${batch} images as its first axis`);
    }
    shapes.set(node.name, shape.slice(1));
  });
  tf.dispose(outputs);
  return shapes;
}


/**
 * The IR of a loaded GraphModel. Async because the GraphDef is read back through `GraphModel.save`.
 *
 * @throws RprError RPR_USAGE when the model has several inputs or outputs, RPR_INPUT_SHAPE when its input
 *   is not a float32 image of known size, RPR_UNSUPPORTED_LAYER naming the node and op that cannot be
 *   linearized, RPR_MODEL_INVALID when the graph is inconsistent or TF.js cannot run it.
 */
export async function graphModelToIR(model: tfconv.GraphModel, options: FrontendOptions = {}): Promise<ModelIR> {
  if (model.inputs.length !== 1) throw new RprError('RPR_USAGE', `the model has ${model.inputs.length} inputs; rpr-select needs exactly one`);
  if (model.outputs.length !== 1) throw new RprError('RPR_USAGE', `the model has ${model.outputs.length} outputs; rpr-select needs exactly one`);
  const input = model.inputs[0]!;
  const raw = input.shape ?? [];
  const inputShape = raw.slice(1);
  if (input.dtype !== 'float32' || raw.length !== 4 || inputShape.some((d) => !(d > 0))) {
    throw new RprError(
      'RPR_INPUT_SHAPE',
      `the model's input '${input.name}' (${input.dtype} ${JSON.stringify(raw)}) is not a float32 image [batch, height, width, channels] of known size`,
      { shape: JSON.stringify(raw) },
    );
  }
  const inputName = parseRef(input.name).name;
  const outputRef = parseRef(model.outputs[0]!.name);
  if (outputRef.index !== 0) throw new RprError('RPR_USAGE', `the model's output '${model.outputs[0]!.name}' is not output 0 of its node`);

  const walk = new GraphWalk(await readGraphDef(model), inputName);
  const outputNode = walk.node(outputRef.name);
  if (!walk.fed(outputNode.name)) throw new RprError('RPR_USAGE', `the model's output '${outputNode.name}' does not depend on its input`);
  const order = walk.order(outputNode.name);

  const batch = raw[0]! > 0 ? raw[0]! : PROBE_BATCH;
  const shapes = probeShapes(model, inputShape, batch, order);
  shapes.set(inputName, inputShape);
  const ctx: Context = { walk, weights: model.weights, shapes, ids: new Map([[inputName, 0]]), nodes: [] };
  ctx.nodes.push({ name: inputName, className: walk.node(inputName).op, op: { kind: 'input' }, inputs: [], shape: inputShape });
  for (const node of order) ctx.ids.set(node.name, convertNode(ctx, node));

  let output = ctx.ids.get(outputNode.name)!;
  let dropped: 'softmax' | 'sigmoid' | null = null;
  const fin = finalActivation(ctx.nodes[output]!.op);
  if (fin && !options.keepFinalActivation) {
    dropped = fin;
    output = ctx.nodes[output]!.inputs[0]!;
  }
  const folded = foldAffine(ctx.nodes, output);
  return {
    nodes: folded.nodes,
    input: 0,
    output: folded.output,
    inputShape,
    outputSize: sizeOf(folded.nodes[folded.output]!.shape),
    droppedFinalActivation: dropped,
    digest: irDigest(folded.nodes, folded.output),
  };
}
