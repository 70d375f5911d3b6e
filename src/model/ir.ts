/**
 * The engine-neutral description of a network that rpr-select linearizes: nodes in topological order,
 * their weights as plain typed arrays, NHWC layout, batch dimension left out of every shape.
 * Frontends (TF.js LayersModel, later ONNX) produce it; executors (TF.js, later ONNX Runtime) run its
 * forward pass, its frozen-pattern linearization A[x] and the adjoint A[x]ᵀ. No engine types appear here.
 */

/** A weight tensor: row-major data and its shape (TF conventions: conv kernels are [kh, kw, in, out]). */
export interface WeightTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export type Padding = 'same' | 'valid';
export type Pair = readonly [number, number];

/** Element-wise activations; their frozen pattern at x is the derivative at the pre-activation. */
export type ActivationFn =
  | 'linear'
  | 'relu'
  | 'relu6'
  | 'leakyRelu'
  | 'prelu'
  | 'elu'
  | 'selu'
  | 'sigmoid'
  | 'hardSigmoid'
  | 'tanh'
  | 'swish'
  | 'softplus'
  | 'softsign'
  | 'gelu';

/**
 * ONNX Resize's coordinate_transformation_mode for linear interpolation. PyTorch exports
 * F.interpolate(mode='bilinear') as 'pytorch_half_pixel' (or 'half_pixel'), and with
 * align_corners=True as 'align_corners'; TF's half_pixel_centers is 'half_pixel'.
 */
export type ResizeCoordinates = 'asymmetric' | 'half_pixel' | 'pytorch_half_pixel' | 'align_corners';

export type Op =
  | { readonly kind: 'input' }
  | {
      readonly kind: 'conv2d';
      /** [kh, kw, in, out] */
      readonly kernel: WeightTensor;
      readonly bias?: WeightTensor;
      readonly strides: Pair;
      readonly dilations: Pair;
      readonly padding: Padding;
    }
  | {
      readonly kind: 'depthwiseConv2d';
      /** [kh, kw, in, multiplier] */
      readonly kernel: WeightTensor;
      readonly bias?: WeightTensor;
      readonly strides: Pair;
      readonly dilations: Pair;
      readonly padding: Padding;
    }
  | {
      /** The adjoint of a conv2d of the same kernel/strides/padding whose input has this node's output size. */
      readonly kind: 'conv2dTranspose';
      /** [kh, kw, out, in] (TF's layout for conv2d_transpose filters) */
      readonly kernel: WeightTensor;
      readonly bias?: WeightTensor;
      readonly strides: Pair;
      readonly padding: Padding;
    }
  | {
      /** Applied on the last axis; [in, out]. */
      readonly kind: 'dense';
      readonly kernel: WeightTensor;
      readonly bias?: WeightTensor;
    }
  | {
      readonly kind: 'activation';
      readonly fn: ActivationFn;
      /** leakyRelu / elu slope; relu's negative slope when a ReLU layer sets one. */
      readonly alpha?: number;
      /** relu's cap (ReLU6 = 6) and ReLU's threshold, when a ReLU layer sets them. */
      readonly maxValue?: number;
      readonly threshold?: number;
      /** prelu's learned slopes, broadcast over the node's shape. */
      readonly alphaTensor?: WeightTensor;
    }
  | {
      /** Softmax over the last axis inside the network (its Jacobian is not element-wise). */
      readonly kind: 'softmax';
    }
  | {
      /** Inference-mode batch norm folded to y = x·scale + shift, per channel of the last axis. */
      readonly kind: 'batchNorm';
      readonly scale: Float32Array;
      readonly shift: Float32Array;
    }
  | { readonly kind: 'maxPool'; readonly pool: Pair; readonly strides: Pair; readonly padding: Padding }
  | { readonly kind: 'avgPool'; readonly pool: Pair; readonly strides: Pair; readonly padding: Padding }
  | { readonly kind: 'globalAvgPool' }
  | { readonly kind: 'globalMaxPool' }
  | { readonly kind: 'reshape' }
  | { readonly kind: 'zeroPad'; readonly pads: readonly [Pair, Pair] }
  | { readonly kind: 'crop'; readonly crops: readonly [Pair, Pair] }
  | {
      /** Upsampling by integer factors `size` (rows, columns). */
      readonly kind: 'upsample';
      readonly size: Pair;
      readonly interpolation: 'nearest' | 'bilinear';
      /**
       * Bilinear only: where an output pixel samples the input (bilinear-weights.ts).
       * @defaultValue 'asymmetric' (TF's resizeBilinear without half-pixel centres; Keras's UpSampling2D in TF.js)
       */
      readonly coordinates?: ResizeCoordinates;
    }
  | { readonly kind: 'add' }
  | { readonly kind: 'concat' }
  | { readonly kind: 'identity' };

export type OpKind = Op['kind'];

export interface IRNode {
  /** The layer's name in the model file, for messages. */
  readonly name: string;
  /** The layer's class in the model file (Conv2D, Dense…), for messages and diagnostics. */
  readonly className: string;
  readonly op: Op;
  /** Indices of the nodes feeding this one, earlier in `nodes`. */
  readonly inputs: readonly number[];
  /** Output shape without the batch dimension. */
  readonly shape: readonly number[];
}

export interface ModelIR {
  readonly nodes: readonly IRNode[];
  /** Index of the input node (always 0). */
  readonly input: number;
  /** Index of the output node (the logits when a final softmax/sigmoid was dropped). */
  readonly output: number;
  /** [H, W, C] */
  readonly inputShape: readonly number[];
  /** Number of outputs m (product of the output node's shape). */
  readonly outputSize: number;
  /** Whether a final softmax/sigmoid was dropped to work on logits. */
  readonly droppedFinalActivation: 'softmax' | 'sigmoid' | null;
  /** sha256 over the topology and weights: part of every cache key. */
  readonly digest: string;
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Floats one image's activations take when every node's output is held at once: the sum of the nodes'
 * output sizes, input included. What linearizing costs per cotangent row is measured against it
 * (metrics/batch-plan.ts).
 */
export function activationSize(ir: ModelIR): number {
  return ir.nodes.reduce((total, node) => total + sizeOf(node.shape), 0);
}

/**
 * Whether the network's output is one vector of class scores, so that its argmax is a class index:
 * every dimension but the last is 1 and the last has more than one entry ([C], [1, 1, C]). An image
 * output ([H, W, C] of a segmentation network) or a single unit is not.
 */
export function outputIsClassVector(ir: ModelIR): boolean {
  const shape = ir.nodes[ir.output]!.shape;
  const classes = shape[shape.length - 1] ?? 1;
  return classes > 1 && sizeOf(shape) === classes;
}
