/**
 * Frontend: a TF.js LayersModel (Sequential or functional, Keras layer classes) → the engine-neutral IR.
 * Layers with a fused activation (Conv2D(activation='relu')) become two IR nodes so that every
 * nonlinearity has its own frozen pattern. A layer that cannot be linearized stops with its name and class.
 */
import { RprError, errors } from '../../errors/index.js';
import type { ActivationFn, IRNode, ModelIR, Op, Pair, Padding, WeightTensor } from '../ir.js';
import { sizeOf } from '../ir.js';
import { irDigest } from '../ir-digest.js';
import { finalActivation } from './final-activation.js';

/** The slice of tfjs-layers' Layer this frontend reads; keeps TF.js types out of the IR. */
export interface LayerLike {
  readonly name: string;
  getClassName(): string;
  getConfig(): Record<string, unknown>;
  readonly weights: readonly { readonly originalName: string; read(): { shape: number[]; dataSync(): unknown } }[];
  readonly outputShape: unknown;
  readonly inputShape?: unknown;
  readonly inboundNodes: readonly { readonly inboundLayers: readonly LayerLike[] }[];
  /** Present on nested models. */
  readonly layers?: readonly LayerLike[];
}

export interface ModelLike {
  readonly name: string;
  getClassName(): string;
  readonly layers: readonly LayerLike[];
  readonly inputs: readonly { readonly shape: readonly (number | null)[] }[];
  readonly outputs: readonly unknown[];
  readonly outputLayers?: readonly LayerLike[];
  readonly inputLayers?: readonly LayerLike[];
}

export interface FrontendOptions {
  /** Keep a final softmax/sigmoid instead of working on logits. @defaultValue false */
  readonly keepFinalActivation?: boolean;
}

const IDENTITY_CLASSES = new Set([
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'ActivityRegularization',
  'Masking',
]);

const ACTIVATIONS: Record<string, ActivationFn | 'softmax'> = {
  linear: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  elu: 'elu',
  selu: 'selu',
  sigmoid: 'sigmoid',
  hardSigmoid: 'hardSigmoid',
  hard_sigmoid: 'hardSigmoid',
  tanh: 'tanh',
  swish: 'swish',
  silu: 'swish',
  softplus: 'softplus',
  softsign: 'softsign',
  gelu: 'gelu',
  softmax: 'softmax',
};

class IRBuilder {
  readonly nodes: IRNode[] = [];

  add(name: string, className: string, op: Op, inputs: readonly number[], shape: readonly number[]): number {
    this.nodes.push({ name, className, op, inputs, shape });
    return this.nodes.length - 1;
  }
}

function pair(value: unknown, fallback: number): Pair {
  if (value === undefined || value === null) return [fallback, fallback];
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2) return [Number(value[0]), Number(value[1])];
  if (Array.isArray(value) && value.length === 1) return [Number(value[0]), Number(value[0])];
  throw errors.internal(`cannot read a pair from ${JSON.stringify(value)}`);
}

function pairOfPairs(value: unknown): readonly [Pair, Pair] {
  if (typeof value === 'number') return [[value, value], [value, value]];
  if (Array.isArray(value) && value.length === 2) {
    const [a, b] = value as unknown[];
    const p = (v: unknown): Pair => (typeof v === 'number' ? [v, v] : pair(v, 0));
    return [p(a), p(b)];
  }
  throw errors.internal(`cannot read padding/cropping from ${JSON.stringify(value)}`);
}

function shapeWithoutBatch(layerName: string, className: string, raw: unknown): number[] {
  const shape = (Array.isArray(raw) && Array.isArray(raw[0]) ? raw[0] : raw) as (number | null)[];
  if (!Array.isArray(shape) || shape.slice(1).some((d) => typeof d !== 'number' || d <= 0)) {
    throw errors.unsupportedLayer(layerName, className, `its output shape ${JSON.stringify(raw)} is not fully known`);
  }
  return shape.slice(1) as number[];
}

function weightMap(layer: LayerLike): Map<string, WeightTensor> {
  const map = new Map<string, WeightTensor>();
  for (const w of layer.weights) {
    const t = w.read();
    const key = w.originalName.split('/').pop()!.replace(/:\d+$/, '');
    map.set(key, { shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) });
  }
  return map;
}

function requireWeight(layer: LayerLike, weights: Map<string, WeightTensor>, key: string): WeightTensor {
  const w = weights.get(key);
  if (!w) throw errors.unsupportedLayer(layer.name, layer.getClassName(), `weight '${key}' is missing`);
  return w;
}

function padding(layer: LayerLike, cfg: Record<string, unknown>): Padding {
  const p = cfg['padding'];
  if (p === 'same' || p === 'valid') return p;
  throw errors.unsupportedLayer(layer.name, layer.getClassName(), `padding '${String(p)}' (only 'same' and 'valid')`);
}

function requireChannelsLast(layer: LayerLike, cfg: Record<string, unknown>): void {
  const f = cfg['dataFormat'] ?? cfg['data_format'];
  if (f !== undefined && f !== null && f !== 'channelsLast' && f !== 'channels_last') {
    throw errors.unsupportedLayer(layer.name, layer.getClassName(), `data format ${String(f)} (only channels-last)`);
  }
}

function activationOp(layer: LayerLike, name: unknown): Op | null {
  const key = typeof name === 'string' ? name : 'linear';
  const fn = ACTIVATIONS[key];
  if (!fn) throw errors.unsupportedLayer(layer.name, layer.getClassName(), `activation '${key}'`);
  if (fn === 'linear') return null;
  if (fn === 'softmax') return { kind: 'softmax' };
  return { kind: 'activation', fn };
}

/** Adds `op` and, when the layer has a fused activation, a separate activation node after it. */
function addWithActivation(
  b: IRBuilder,
  layer: LayerLike,
  op: Op,
  inputs: readonly number[],
  shape: readonly number[],
  activation: unknown,
): number {
  const id = b.add(layer.name, layer.getClassName(), op, inputs, shape);
  const act = activationOp(layer, activation);
  return act ? b.add(`${layer.name}/activation`, layer.getClassName(), act, [id], shape) : id;
}

function convertLayer(b: IRBuilder, layer: LayerLike, inputs: readonly number[]): number {
  const cls = layer.getClassName();
  const cfg = layer.getConfig();
  const shape = shapeWithoutBatch(layer.name, cls, layer.outputShape);
  const w = () => weightMap(layer);
  const one = (): number => {
    if (inputs.length !== 1) throw errors.unsupportedLayer(layer.name, cls, `expected one input, got ${inputs.length}`);
    return inputs[0]!;
  };

  if (IDENTITY_CLASSES.has(cls)) return b.add(layer.name, cls, { kind: 'identity' }, [one()], shape);

  switch (cls) {
    case 'Conv2D':
    case 'DepthwiseConv2D': {
      requireChannelsLast(layer, cfg);
      const ws = w();
      const depthwise = cls === 'DepthwiseConv2D';
      const op: Op = {
        kind: depthwise ? 'depthwiseConv2d' : 'conv2d',
        kernel: requireWeight(layer, ws, depthwise ? 'depthwise_kernel' : 'kernel'),
        ...(ws.has('bias') ? { bias: ws.get('bias')! } : {}),
        strides: pair(cfg['strides'], 1),
        dilations: pair(cfg['dilationRate'], 1),
        padding: padding(layer, cfg),
      };
      return addWithActivation(b, layer, op, [one()], shape, cfg['activation']);
    }
    case 'SeparableConv2D': {
      requireChannelsLast(layer, cfg);
      const ws = w();
      const depthwise = requireWeight(layer, ws, 'depthwise_kernel');
      const strides = pair(cfg['strides'], 1);
      const midChannels = depthwise.shape[2]! * depthwise.shape[3]!;
      const midShape = [shape[0]!, shape[1]!, midChannels];
      const mid = b.add(
        `${layer.name}/depthwise`,
        cls,
        {
          kind: 'depthwiseConv2d',
          kernel: depthwise,
          strides,
          dilations: pair(cfg['dilationRate'], 1),
          padding: padding(layer, cfg),
        },
        [one()],
        midShape,
      );
      const op: Op = {
        kind: 'conv2d',
        kernel: requireWeight(layer, ws, 'pointwise_kernel'),
        ...(ws.has('bias') ? { bias: ws.get('bias')! } : {}),
        strides: [1, 1],
        dilations: [1, 1],
        padding: 'valid',
      };
      return addWithActivation(b, layer, op, [mid], shape, cfg['activation']);
    }
    case 'Conv2DTranspose': {
      requireChannelsLast(layer, cfg);
      const dil = pair(cfg['dilationRate'], 1);
      if (dil[0] !== 1 || dil[1] !== 1) throw errors.unsupportedLayer(layer.name, cls, 'dilated transposed convolution');
      const ws = w();
      const op: Op = {
        kind: 'conv2dTranspose',
        kernel: requireWeight(layer, ws, 'kernel'),
        ...(ws.has('bias') ? { bias: ws.get('bias')! } : {}),
        strides: pair(cfg['strides'], 1),
        padding: padding(layer, cfg),
      };
      return addWithActivation(b, layer, op, [one()], shape, cfg['activation']);
    }
    case 'Dense': {
      const ws = w();
      const op: Op = {
        kind: 'dense',
        kernel: requireWeight(layer, ws, 'kernel'),
        ...(ws.has('bias') ? { bias: ws.get('bias')! } : {}),
      };
      return addWithActivation(b, layer, op, [one()], shape, cfg['activation']);
    }
    case 'Activation': {
      const act = activationOp(layer, cfg['activation']);
      return b.add(layer.name, cls, act ?? { kind: 'identity' }, [one()], shape);
    }
    case 'ReLU': {
      const maxValue = cfg['maxValue'];
      const op: Op =
        typeof maxValue === 'number'
          ? maxValue === 6
            ? { kind: 'activation', fn: 'relu6' }
            : { kind: 'activation', fn: 'relu', maxValue }
          : { kind: 'activation', fn: 'relu' };
      return b.add(layer.name, cls, op, [one()], shape);
    }
    case 'LeakyReLU':
      return b.add(layer.name, cls, { kind: 'activation', fn: 'leakyRelu', alpha: Number(cfg['alpha'] ?? 0.3) }, [one()], shape);
    case 'ELU':
      return b.add(layer.name, cls, { kind: 'activation', fn: 'elu', alpha: Number(cfg['alpha'] ?? 1) }, [one()], shape);
    case 'ThresholdedReLU':
      return b.add(
        layer.name,
        cls,
        { kind: 'activation', fn: 'relu', threshold: Number(cfg['theta'] ?? 1) },
        [one()],
        shape,
      );
    case 'PReLU': {
      const alpha = requireWeight(layer, w(), 'alpha');
      return b.add(layer.name, cls, { kind: 'activation', fn: 'prelu', alphaTensor: alpha }, [one()], shape);
    }
    case 'Softmax': {
      const axis = cfg['axis'];
      if (axis !== undefined && axis !== -1 && axis !== shape.length) {
        throw errors.unsupportedLayer(layer.name, cls, `softmax over axis ${String(axis)} (only the last axis)`);
      }
      return b.add(layer.name, cls, { kind: 'softmax' }, [one()], shape);
    }
    case 'BatchNormalization': {
      const axis = cfg['axis'];
      const rank = shape.length;
      const axisOk = axis === undefined || axis === -1 || axis === rank || (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === rank));
      if (!axisOk) throw errors.unsupportedLayer(layer.name, cls, `normalization over axis ${JSON.stringify(axis)} (only the last axis)`);
      const ws = w();
      const eps = Number(cfg['epsilon'] ?? 1e-3);
      const mean = requireWeight(layer, ws, 'moving_mean').data;
      const variance = requireWeight(layer, ws, 'moving_variance').data;
      const gamma = ws.get('gamma')?.data;
      const beta = ws.get('beta')?.data;
      const c = mean.length;
      const scale = new Float32Array(c);
      const shift = new Float32Array(c);
      for (let i = 0; i < c; i++) {
        scale[i] = (gamma ? gamma[i]! : 1) / Math.sqrt(variance[i]! + eps);
        shift[i] = (beta ? beta[i]! : 0) - mean[i]! * scale[i]!;
      }
      return b.add(layer.name, cls, { kind: 'batchNorm', scale, shift }, [one()], shape);
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      requireChannelsLast(layer, cfg);
      const pool = pair(cfg['poolSize'], 2);
      const strides = cfg['strides'] === null || cfg['strides'] === undefined ? pool : pair(cfg['strides'], 1);
      const kind = cls === 'MaxPooling2D' ? 'maxPool' : 'avgPool';
      return b.add(layer.name, cls, { kind, pool, strides, padding: padding(layer, cfg) }, [one()], shape);
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D': {
      requireChannelsLast(layer, cfg);
      if (cfg['keepdims'] === true || cfg['keepDims'] === true) throw errors.unsupportedLayer(layer.name, cls, 'keepdims=true');
      const kind = cls === 'GlobalMaxPooling2D' ? 'globalMaxPool' : 'globalAvgPool';
      return b.add(layer.name, cls, { kind }, [one()], shape);
    }
    case 'Flatten':
    case 'Reshape':
      return b.add(layer.name, cls, { kind: 'reshape' }, [one()], shape);
    case 'ZeroPadding2D':
      requireChannelsLast(layer, cfg);
      return b.add(layer.name, cls, { kind: 'zeroPad', pads: pairOfPairs(cfg['padding']) }, [one()], shape);
    case 'Cropping2D':
      requireChannelsLast(layer, cfg);
      return b.add(layer.name, cls, { kind: 'crop', crops: pairOfPairs(cfg['cropping']) }, [one()], shape);
    case 'UpSampling2D': {
      requireChannelsLast(layer, cfg);
      const interpolation = cfg['interpolation'] === 'bilinear' ? 'bilinear' : 'nearest';
      return b.add(layer.name, cls, { kind: 'upsample', size: pair(cfg['size'], 2), interpolation }, [one()], shape);
    }
    case 'Add': {
      if (inputs.length < 2) throw errors.unsupportedLayer(layer.name, cls, 'fewer than two inputs');
      return b.add(layer.name, cls, { kind: 'add' }, inputs, shape);
    }
    case 'Concatenate': {
      const axis = cfg['axis'];
      if (axis !== undefined && axis !== -1 && axis !== shape.length) {
        throw errors.unsupportedLayer(layer.name, cls, `concatenation over axis ${String(axis)} (only the last axis)`);
      }
      return b.add(layer.name, cls, { kind: 'concat' }, inputs, shape);
    }
    default:
      throw errors.unsupportedLayer(layer.name, cls);
  }
}

/** Walks a (possibly nested) model's layers in topological order and adds each to the builder. */
function convertGraph(b: IRBuilder, model: ModelLike | LayerLike, inputId: number): number {
  const layers = model.layers ?? [];
  const isSequential = model.getClassName() === 'Sequential';
  const outOf = new Map<LayerLike, number>();
  let last = inputId;
  for (const layer of layers) {
    const cls = layer.getClassName();
    if (cls === 'InputLayer') {
      outOf.set(layer, inputId);
      continue;
    }
    let inputs: number[];
    if (isSequential) {
      inputs = [last];
    } else {
      const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
      inputs = inbound.map((l) => {
        const id = outOf.get(l);
        if (id === undefined) throw errors.unsupportedLayer(layer.name, cls, `its input '${l.name}' comes from outside the model`);
        return id;
      });
      if (layer.inboundNodes.length > 1) {
        throw errors.unsupportedLayer(layer.name, cls, 'a layer applied more than once (shared layers)');
      }
    }
    const id =
      cls === 'Sequential' || cls === 'Functional' || cls === 'Model'
        ? convertNested(b, layer, inputs)
        : convertLayer(b, layer, inputs);
    outOf.set(layer, id);
    last = id;
  }
  if (!isSequential && 'outputLayers' in model && model.outputLayers) {
    const outs = model.outputLayers;
    if (outs.length !== 1) throw errors.usage(`the model has ${outs.length} outputs; rpr-select needs exactly one`);
    last = outOf.get(outs[0]!) ?? last;
  }
  return last;
}

function convertNested(b: IRBuilder, layer: LayerLike, inputs: number[]): number {
  if (inputs.length !== 1) throw errors.unsupportedLayer(layer.name, layer.getClassName(), 'a nested model with several inputs');
  return convertGraph(b, layer, inputs[0]!);
}

export function layersModelToIR(model: ModelLike, options: FrontendOptions = {}): ModelIR {
  if (model.inputs.length !== 1) throw errors.usage(`the model has ${model.inputs.length} inputs; rpr-select needs exactly one`);
  if (model.outputs.length !== 1) throw errors.usage(`the model has ${model.outputs.length} outputs; rpr-select needs exactly one`);
  const rawInput = model.inputs[0]!.shape;
  const inputShape = rawInput.slice(1);
  if (inputShape.length !== 3 || inputShape.some((d) => typeof d !== 'number' || d <= 0)) {
    throw new RprError(
      'RPR_INPUT_SHAPE',
      `the model's input shape ${JSON.stringify(rawInput)} is not an image [batch, height, width, channels] of known size`,
      { shape: JSON.stringify(rawInput) },
    );
  }
  const b = new IRBuilder();
  b.add('input', 'InputLayer', { kind: 'input' }, [], inputShape as number[]);
  let output = convertGraph(b, model, 0);
  let dropped: 'softmax' | 'sigmoid' | null = null;
  const fin = finalActivation(b.nodes[output]!.op);
  if (fin && !options.keepFinalActivation) {
    dropped = fin;
    output = b.nodes[output]!.inputs[0]!;
  }
  const nodes = b.nodes.slice(0, output + 1);
  return {
    nodes,
    input: 0,
    output,
    inputShape: inputShape as number[],
    outputSize: sizeOf(nodes[output]!.shape),
    droppedFinalActivation: dropped,
    digest: irDigest(nodes, output),
  };
}
