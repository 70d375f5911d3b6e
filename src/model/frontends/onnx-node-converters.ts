/**
 * One converter per ONNX op: each reads its node's inputs (computed values and constants) and adds the
 * IR nodes with exactly ONNX's semantics, or stops with RPR_UNSUPPORTED_LAYER naming the node, its op
 * type and why.
 */
import { permute } from '../permute.js';
import type { ActivationFn, Op, Pair, ResizeCoordinates, WeightTensor } from '../ir.js';
import { sizeOf } from '../ir.js';
import type { Converter, Value } from './onnx-converter.js';
import { affine, chwToHwc, convOutShape, floats, perChannel, permuteRows, samePerm, weight, withSameLayout, zeroPadded } from './onnx-converter.js';
import type { OnnxGraphNode } from './onnx-graph.js';
import { attrFloat, attrInt, attrInts, attrString } from './onnx-graph.js';
import { matchingPadding, onnxAxes } from './onnx-windows.js';

/** The ops this frontend reads, for messages. */
const ONNX_OPS = [
  'Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'Relu', 'LeakyRelu', 'Clip', 'PRelu', 'Sigmoid', 'Tanh', 'Elu', 'Selu',
  'Softplus', 'Softsign', 'HardSigmoid', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool',
  'BatchNormalization', 'Add', 'Sub', 'Mul', 'Div', 'Concat', 'Flatten', 'Reshape', 'Pad', 'Resize', 'Upsample',
  'Dropout', 'Identity', 'Transpose', 'Softmax',
] as const;

const ELEMENTWISE: Readonly<Record<string, ActivationFn>> = {
  Relu: 'relu',
  Sigmoid: 'sigmoid',
  Tanh: 'tanh',
  Softplus: 'softplus',
  Softsign: 'softsign',
};

function conv(cv: Converter, node: OnnxGraphNode): Value {
  const x = cv.image(node);
  const [h, w, inC] = cv.shape(x) as [number, number, number];
  const wc = cv.constant(node, 1);
  const [outC, perGroup, kh, kw] = wc.dims as [number, number, number, number];
  const group = attrInt(node, 'group', 1);
  const bias = cv.optionalConstant(node, 2);
  const axes = onnxAxes(node, h, w, [kh, kw]);
  const padding = matchingPadding(axes);
  const input = padding ? x : zeroPadded(cv, node, x, axes);
  const common = {
    ...(bias ? { bias: weight(floats(bias), [outC]) } : {}),
    strides: [axes[0].stride, axes[1].stride] as Pair,
    dilations: [axes[0].dilation, axes[1].dilation] as Pair,
    padding: padding ?? 'valid',
  };
  const shape = convOutShape(axes, outC);
  if (group === 1) {
    if (perGroup !== inC) throw cv.fail(node, `its weights take ${perGroup} channels but its input has ${inC}`);
    const kernel = weight(permute(floats(wc), wc.dims, [2, 3, 1, 0]), [kh, kw, inC, outC]);
    return { kind: 'image', id: cv.add(node.name, node.opType, { kind: 'conv2d', kernel, ...common }, [input], shape) };
  }
  if (group === inC && perGroup === 1) {
    // [C·M, 1, kh, kw] → [kh, kw, C, M]: output channel c·M + m reads input channel c, as in the IR.
    const m = outC / inC;
    const kernel = weight(permute(floats(wc), [inC, m, kh, kw], [2, 3, 0, 1]), [kh, kw, inC, m]);
    return { kind: 'image', id: cv.add(node.name, node.opType, { kind: 'depthwiseConv2d', kernel, ...common }, [input], shape) };
  }
  throw cv.fail(node, `a grouped convolution with ${group} groups (only plain and depthwise convolutions)`);
}

function convTranspose(cv: Converter, node: OnnxGraphNode): Value {
  const x = cv.image(node);
  const [h, w] = cv.shape(x) as [number, number, number];
  const wc = cv.constant(node, 1);
  const [inC, outC, kh, kw] = wc.dims as [number, number, number, number];
  if (attrInt(node, 'group', 1) !== 1) throw cv.fail(node, 'a grouped transposed convolution');
  if ((attrInts(node, 'dilations') ?? [1, 1]).some((d) => d !== 1)) throw cv.fail(node, 'a dilated transposed convolution');
  if (attrInts(node, 'output_shape')) throw cv.fail(node, 'an explicit output_shape (re-export with pads and output_padding)');
  const strides = (attrInts(node, 'strides') ?? [1, 1]) as [number, number];
  const pads = attrInts(node, 'pads') ?? [0, 0, 0, 0];
  const extra = attrInts(node, 'output_padding') ?? [0, 0];
  if (attrString(node, 'auto_pad', 'NOTSET') !== 'NOTSET') throw cv.fail(node, 'auto_pad on a transposed convolution (re-export with explicit pads)');
  // The full ('valid') transposed convolution, then ONNX's pads cropped and output_padding added; the bias
  // goes last, since ONNX adds it to the output_padding rows too.
  const full = [(h - 1) * strides[0] + kh, (w - 1) * strides[1] + kw, outC];
  const kernel = weight(permute(floats(wc), wc.dims, [2, 3, 1, 0]), [kh, kw, outC, inC]);
  let id = cv.add(node.name, node.opType, { kind: 'conv2dTranspose', kernel, strides, padding: 'valid' }, [x], full);
  const top = pads[0]!;
  const left = pads[1]!;
  const bottom = pads[2]! - extra[0]!;
  const right = pads[3]! - extra[1]!;
  const shape = [full[0]! - top - bottom, full[1]! - left - right, outC];
  if (top !== 0 || left !== 0 || bottom !== 0 || right !== 0) {
    const crops: [Pair, Pair] = [[Math.max(top, 0), Math.max(bottom, 0)], [Math.max(left, 0), Math.max(right, 0)]];
    const cropped = [full[0]! - crops[0][0] - crops[0][1], full[1]! - crops[1][0] - crops[1][1], outC];
    if (crops.flat().some((c) => c > 0)) id = cv.add(`${node.name}/crop`, node.opType, { kind: 'crop', crops }, [id], cropped);
    const grow: [Pair, Pair] = [[Math.max(-top, 0), Math.max(-bottom, 0)], [Math.max(-left, 0), Math.max(-right, 0)]];
    if (grow.flat().some((c) => c > 0)) id = cv.add(`${node.name}/pad`, node.opType, { kind: 'zeroPad', pads: grow }, [id], shape);
  }
  const bias = cv.optionalConstant(node, 2);
  if (bias) id = cv.add(`${node.name}/bias`, node.opType, { kind: 'batchNorm', scale: new Float32Array(outC).fill(1), shift: floats(bias) }, [id], shape);
  return { kind: 'image', id };
}

/** Gemm / MatMul with a constant right operand: a dense layer on a feature vector. */
function dense(cv: Converter, node: OnnxGraphNode): Value {
  const v = cv.value(node);
  if (v.kind !== 'flat') throw cv.fail(node, 'a matrix product on an image (flatten it first)');
  const inF = cv.shape(v.id)[0]!;
  const b = cv.constant(node, 1);
  const gemm = node.opType === 'Gemm';
  if (gemm && attrInt(node, 'transA', 0) !== 0) throw cv.fail(node, 'transA = 1');
  if (b.dims.length !== 2) throw cv.fail(node, `its weight has dims [${b.dims.join(', ')}] (only a matrix)`);
  const transB = gemm && attrInt(node, 'transB', 0) === 1;
  const outF = transB ? b.dims[0]! : b.dims[1]!;
  if ((transB ? b.dims[1] : b.dims[0]) !== inF) throw cv.fail(node, `its weight has dims [${b.dims.join(', ')}] for ${inF} input features`);
  const alpha = gemm ? attrFloat(node, 'alpha', 1) : 1;
  let kernel = transB ? permute(floats(b), b.dims, [1, 0]) : floats(b);
  if (alpha !== 1) kernel = kernel.map((k) => k * alpha);
  kernel = permuteRows(kernel, outF, v.perm);
  const c = gemm ? cv.optionalConstant(node, 2) : null;
  let bias: WeightTensor | undefined;
  if (c) {
    const beta = attrFloat(node, 'beta', 1);
    if (c.values.length !== outF && c.values.length !== 1) throw cv.fail(node, `its bias has ${c.values.length} values for ${outF} outputs`);
    bias = weight(Float32Array.from({ length: outF }, (_, i) => beta * c.values[c.values.length === 1 ? 0 : i]!), [outF]);
  }
  const op: Op = { kind: 'dense', kernel: weight(kernel, [inF, outF]), ...(bias ? { bias } : {}) };
  return { kind: 'flat', id: cv.add(node.name, node.opType, op, [v.id], [outF]), perm: null };
}

function activation(cv: Converter, node: OnnxGraphNode, op: Op): Value {
  const v = cv.value(node);
  return withSameLayout(v, cv.add(node.name, node.opType, op, [v.id], cv.shape(v.id)));
}

function clip(cv: Converter, node: OnnxGraphNode): Value {
  const bound = (k: number, attr: string, fallback: number) => {
    if (cv.isConstant(node, k)) return cv.constant(node, k).values[0]!;
    if ((node.inputs[k] ?? '') !== '') throw cv.fail(node, `its bound '${node.inputs[k]}' is not a constant`);
    return attrFloat(node, attr, fallback);
  };
  const low = bound(1, 'min', -Infinity);
  const high = bound(2, 'max', Infinity);
  if (low !== 0) throw cv.fail(node, `Clip(min ${low}) (only min 0: ReLU, ReLU6 or a capped ReLU)`);
  if (high === 6) return activation(cv, node, { kind: 'activation', fn: 'relu6' });
  return activation(cv, node, high === Infinity ? { kind: 'activation', fn: 'relu' } : { kind: 'activation', fn: 'relu', maxValue: high });
}

function prelu(cv: Converter, node: OnnxGraphNode): Value {
  const v = cv.value(node);
  const slope = cv.constant(node, 1);
  const shape = cv.shape(v.id);
  if (v.kind === 'flat') {
    if (slope.values.length !== 1 && slope.values.length !== shape[0]) throw cv.fail(node, `slopes of dims [${slope.dims.join(', ')}] on ${shape[0]} features`);
    const data = slope.values.length === 1 ? new Float32Array(shape[0]!).fill(slope.values[0]!) : permuteRows(floats(slope), 1, v.perm);
    return activation(cv, node, { kind: 'activation', fn: 'prelu', alphaTensor: weight(data, [shape[0]!]) });
  }
  // Right-aligned against [N, C, H, W]: pad to [C, H, W], then reorder to the IR's [H, W, C].
  const dims = [...slope.dims];
  while (dims.length > 3 && dims[0] === 1) dims.shift();
  while (dims.length < 3) dims.unshift(1);
  if (dims.length !== 3) throw cv.fail(node, `slopes of dims [${slope.dims.join(', ')}]`);
  const alphaTensor = weight(permute(floats(slope), dims, [1, 2, 0]), [dims[1]!, dims[2]!, dims[0]!]);
  return activation(cv, node, { kind: 'activation', fn: 'prelu', alphaTensor });
}

/** Whether node id is a ReLU-like activation: outputs ≥ 0, and derivative 0 wherever the output is 0. */
function nonNegative(cv: Converter, id: number): boolean {
  const op = cv.nodes[id]!.op;
  return op.kind === 'activation' && (op.fn === 'relu6' || (op.fn === 'relu' && (op.threshold ?? 0) === 0));
}

function pool(cv: Converter, node: OnnxGraphNode): Value {
  const x = cv.image(node);
  const [h, w, c] = cv.shape(x) as [number, number, number];
  if ((attrInts(node, 'dilations') ?? [1, 1]).some((d) => d !== 1)) throw cv.fail(node, 'a dilated pooling window');
  const axes = onnxAxes(node, h, w);
  const poolSize: Pair = [axes[0].kernel, axes[1].kernel];
  const strides: Pair = [axes[0].stride, axes[1].stride];
  const shape = convOutShape(axes, c);
  const max = node.opType === 'MaxPool';
  if (max && node.outputs.length > 1 && node.outputs[1] !== '') throw cv.fail(node, 'its Indices output is used');
  const padded = axes.some((a) => a.padBefore + a.padAfter > 0);
  const floorMode = attrInt(node, 'ceil_mode', 0) === 0;
  // Padding that counts in the average is zero padding. So is a max-pool's, on a ReLU's output: the
  // values are ≥ 0, and where a padded zero wins a window its real positions are zeros too, whose ReLU
  // derivative is 0, so the Jacobian is the same (PyTorch's ResNet stem, 3×3/2 pads 1 on even sizes).
  const zeroPadding = max ? padded && floorMode && nonNegative(cv, x) && matchingPadding(axes) === null : attrInt(node, 'count_include_pad', 0) === 1 && padded && floorMode;
  if (zeroPadding) {
    const op: Op = { kind: max ? 'maxPool' : 'avgPool', pool: poolSize, strides, padding: 'valid' };
    return { kind: 'image', id: cv.add(node.name, node.opType, op, [zeroPadded(cv, node, x, axes)], shape) };
  }
  const padding = matchingPadding(axes);
  if (!padding) {
    const pads = axes.map((a) => `${a.padBefore}/${a.padAfter}`).join(', ');
    throw cv.fail(node, `pads (${pads}) and ceil_mode ${attrInt(node, 'ceil_mode', 0)} give windows TensorFlow's 'same'/'valid' rules cannot express`);
  }
  const op: Op = { kind: max ? 'maxPool' : 'avgPool', pool: poolSize, strides, padding };
  return { kind: 'image', id: cv.add(node.name, node.opType, op, [x], shape) };
}

/** Global pools: the IR's give [C]; a [1, 1, C] reshape keeps the value an image, as in ONNX. */
function globalPool(cv: Converter, node: OnnxGraphNode): Value {
  const x = cv.image(node);
  const c = cv.shape(x)[2]!;
  const pooled = cv.add(node.name, node.opType, { kind: node.opType === 'GlobalMaxPool' ? 'globalMaxPool' : 'globalAvgPool' }, [x], [c]);
  return { kind: 'image', id: cv.add(`${node.name}/keepdims`, node.opType, { kind: 'reshape' }, [pooled], [1, 1, c]) };
}

function batchNorm(cv: Converter, node: OnnxGraphNode): Value {
  const v = cv.value(node);
  const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((k) => cv.constant(node, k).values);
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const n = gamma!.length;
  const scale = Float32Array.from({ length: n }, (_, i) => gamma![i]! / Math.sqrt(variance![i]! + eps));
  const shift = Float32Array.from({ length: n }, (_, i) => beta![i]! - mean![i]! * scale[i]!);
  const channels = cv.shape(v.id)[cv.shape(v.id).length - 1]!;
  if (n !== channels) throw cv.fail(node, `${n} statistics for ${channels} channels`);
  const order = v.kind === 'flat' ? v.perm : null;
  return affine(cv, node, v, permuteRows(scale, 1, order), permuteRows(shift, 1, order));
}

/** Add/Sub/Mul/Div: of two computed values (Add only), or with a per-channel constant (an affine map). */
function binary(cv: Converter, node: OnnxGraphNode): Value {
  const constantAt = [0, 1].find((k) => cv.isConstant(node, k));
  if (constantAt === undefined) {
    if (node.opType !== 'Add') throw cv.fail(node, `${node.opType} of two values computed from the image (not linear in the image)`);
    const a = cv.value(node, 0);
    const b = cv.value(node, 1);
    if (a.kind !== b.kind || (a.kind === 'flat' && b.kind === 'flat' && !samePerm(a.perm, b.perm))) throw cv.fail(node, 'its operands are laid out differently');
    if (cv.shape(a.id).join() !== cv.shape(b.id).join()) throw cv.fail(node, `it broadcasts [${cv.shape(a.id).join(', ')}] against [${cv.shape(b.id).join(', ')}]`);
    return withSameLayout(a, cv.add(node.name, node.opType, { kind: 'add' }, [a.id, b.id], cv.shape(a.id)));
  }
  const v = cv.value(node, 1 - constantAt);
  const c = perChannel(cv, v, cv.constant(node, constantAt));
  if (!c) throw cv.fail(node, `its constant has dims [${cv.constant(node, constantAt).dims.join(', ')}] (only a scalar or one value per channel)`);
  const n = c.length;
  const ones = new Float32Array(n).fill(1);
  const zeros = new Float32Array(n);
  switch (node.opType) {
    case 'Add':
      return affine(cv, node, v, ones, c);
    case 'Sub':
      return constantAt === 1 ? affine(cv, node, v, ones, c.map((x) => -x)) : affine(cv, node, v, ones.map(() => -1), c);
    case 'Mul':
      return affine(cv, node, v, c, zeros);
    default:
      if (constantAt === 0) throw cv.fail(node, 'a constant divided by the image (not linear)');
      return affine(cv, node, v, c.map((x) => 1 / x), zeros);
  }
}

function concat(cv: Converter, node: OnnxGraphNode): Value {
  const values = node.inputs.map((_, k) => cv.value(node, k));
  const axis = attrInt(node, 'axis', 1);
  if (axis !== 1 && axis !== (values[0]!.kind === 'image' ? -3 : -1)) throw cv.fail(node, `concatenation along axis ${axis} (only the channel axis 1)`);
  const ids = values.map((v) => v.id);
  if (values.every((v) => v.kind === 'image')) {
    const shapes = ids.map((id) => cv.shape(id));
    if (shapes.some((s) => s[0] !== shapes[0]![0] || s[1] !== shapes[0]![1])) throw cv.fail(node, 'its images differ in size');
    const shape = [shapes[0]![0]!, shapes[0]![1]!, shapes.reduce((a, s) => a + s[2]!, 0)];
    return { kind: 'image', id: cv.add(node.name, node.opType, { kind: 'concat' }, ids, shape) };
  }
  if (values.some((v) => v.kind !== 'flat')) throw cv.fail(node, 'it joins images and feature vectors');
  const sizes = ids.map((id) => cv.shape(id)[0]!);
  const total = sizes.reduce((a, b) => a + b, 0);
  const anyPerm = values.some((v) => v.kind === 'flat' && v.perm);
  let perm: Int32Array | null = null;
  if (anyPerm) {
    perm = new Int32Array(total);
    let offset = 0;
    values.forEach((v, k) => {
      const p = v.kind === 'flat' ? v.perm : null;
      for (let f = 0; f < sizes[k]!; f++) perm![offset + f] = offset + (p ? p[f]! : f);
      offset += sizes[k]!;
    });
  }
  return { kind: 'flat', id: cv.add(node.name, node.opType, { kind: 'concat' }, ids, [total]), perm };
}

/** Flatten (axis 1) and Reshape to [N, features]: an image becomes a C·H·W-ordered vector. */
function flatten(cv: Converter, node: OnnxGraphNode): Value {
  const v = cv.value(node);
  if (v.kind === 'flat') return v;
  const [h, w, c] = cv.shape(v.id) as [number, number, number];
  const id = cv.add(node.name, node.opType, { kind: 'reshape' }, [v.id], [h * w * c]);
  return { kind: 'flat', id, perm: h * w === 1 ? null : chwToHwc(h, w, c) };
}

function reshape(cv: Converter, node: OnnxGraphNode, batch: number | string): Value {
  const v = cv.value(node);
  const target = Array.from(cv.constant(node, 1).values);
  const size = sizeOf(cv.shape(v.id));
  const batchLike = (d: number) => d === 0 || d === -1 || d === batch;
  const flat = target.length === 2 && batchLike(target[0]!) && (target[1] === -1 || target[1] === size);
  if (flat) return flatten(cv, node);
  throw cv.fail(node, `a reshape to [${target.join(', ')}] (only flattening to [N, ${size}])`);
}

function pad(cv: Converter, node: OnnxGraphNode): Value {
  const x = cv.image(node);
  const [h, w, c] = cv.shape(x) as [number, number, number];
  const mode = attrString(node, 'mode', 'constant');
  if (mode !== 'constant') throw cv.fail(node, `${mode} padding (only constant zero padding)`);
  const pads = cv.isConstant(node, 1) ? Array.from(cv.constant(node, 1).values) : attrInts(node, 'pads');
  const value = cv.optionalConstant(node, 2)?.values[0] ?? attrFloat(node, 'value', 0);
  if (value !== 0) throw cv.fail(node, `padding with ${value} (only zeros)`);
  if (!pads || pads.length !== 8 || pads[0] !== 0 || pads[1] !== 0 || pads[4] !== 0 || pads[5] !== 0) {
    throw cv.fail(node, `pads [${(pads ?? []).join(', ')}] (only the two spatial axes of an [N, C, H, W] image)`);
  }
  if ((node.inputs[3] ?? '') !== '') throw cv.fail(node, 'an axes input');
  const [top, left, bottom, right] = [pads[2]!, pads[3]!, pads[6]!, pads[7]!];
  const shape = [h + top + bottom, w + left + right, c];
  if ([top, left, bottom, right].every((p) => p >= 0)) {
    return { kind: 'image', id: cv.add(node.name, node.opType, { kind: 'zeroPad', pads: [[top, bottom], [left, right]] }, [x], shape) };
  }
  if ([top, left, bottom, right].every((p) => p <= 0)) {
    return { kind: 'image', id: cv.add(node.name, node.opType, { kind: 'crop', crops: [[-top, -bottom], [-left, -right]] }, [x], shape) };
  }
  throw cv.fail(node, 'pads that crop on some sides and pad on others');
}

const LINEAR_COORDINATES: readonly ResizeCoordinates[] = ['asymmetric', 'half_pixel', 'pytorch_half_pixel', 'align_corners'];

/**
 * Resize / Upsample by integer factors: nearest (repeat), or linear with ONNX's coordinate rule (PyTorch's
 * bilinear F.interpolate is half_pixel or pytorch_half_pixel, align_corners=True is align_corners).
 */
function resize(cv: Converter, node: OnnxGraphNode): Value {
  const x = cv.image(node);
  const [h, w, c] = cv.shape(x) as [number, number, number];
  const mode = attrString(node, 'mode', 'nearest');
  let scales: number[] | null = null;
  if (node.opType === 'Upsample') scales = cv.isConstant(node, 1) ? Array.from(cv.constant(node, 1).values) : (node.attrs.get('scales')?.floats ?? null);
  else {
    const s = cv.optionalConstant(node, 2);
    const sizes = cv.optionalConstant(node, 3);
    if (s && s.values.length > 0) scales = Array.from(s.values);
    else if (sizes) {
      const policy = attrString(node, 'keep_aspect_ratio_policy', 'stretch');
      if (policy !== 'stretch') throw cv.fail(node, `output sizes with keep_aspect_ratio_policy ${policy} (only stretch)`);
      scales = [1, 1, sizes.values[2]! / h, sizes.values[3]! / w];
    }
  }
  if (!scales || scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1) throw cv.fail(node, `scales [${(scales ?? []).join(', ')}] (only the two spatial axes)`);
  const size: Pair = [scales[2]!, scales[3]!];
  if (!size.every((s) => Number.isInteger(s) && s >= 1)) throw cv.fail(node, `non-integer scale factors [${size.join(', ')}]`);
  const transform = attrString(node, 'coordinate_transformation_mode', node.opType === 'Upsample' ? 'asymmetric' : 'half_pixel');
  const shape = [h * size[0], w * size[1], c];
  if (mode === 'nearest') {
    const rounding = attrString(node, 'nearest_mode', 'round_prefer_floor');
    // With integer factors these all repeat each pixel, as the IR's nearest upsampling does.
    const repeats = (transform === 'asymmetric' && rounding === 'floor') || (['half_pixel', 'pytorch_half_pixel'].includes(transform) && rounding.startsWith('round_prefer'));
    if (!repeats && node.opType === 'Resize') throw cv.fail(node, `nearest resizing with ${transform} coordinates and ${rounding} rounding`);
    return { kind: 'image', id: cv.add(node.name, node.opType, { kind: 'upsample', size, interpolation: 'nearest' }, [x], shape) };
  }
  if (mode !== 'linear' && mode !== 'bilinear') throw cv.fail(node, `${mode} interpolation`);
  const coordinates = LINEAR_COORDINATES.find((t) => t === transform);
  if (!coordinates) throw cv.fail(node, `linear resizing with ${transform} coordinates (only ${LINEAR_COORDINATES.join(', ')})`);
  // 'asymmetric' is the IR's default: left out, so the digest of such models does not change.
  const op: Op = { kind: 'upsample', size, interpolation: 'bilinear', ...(coordinates === 'asymmetric' ? {} : { coordinates }) };
  return { kind: 'image', id: cv.add(node.name, node.opType, op, [x], shape) };
}

function softmax(cv: Converter, node: OnnxGraphNode): Value {
  const v = cv.value(node);
  const axis = attrInt(node, 'axis', cv.opset() >= 13 ? -1 : 1);
  const channelAxis = v.kind === 'image' ? axis === 1 || axis === -3 : axis === 1 || axis === -1;
  if (!channelAxis) throw cv.fail(node, `softmax along axis ${axis} (only the channel/feature axis)`);
  if (v.kind === 'image' && cv.opset() < 13) throw cv.fail(node, 'an opset < 13 softmax on an image (it normalizes over C·H·W)');
  if (v.kind === 'flat' && v.perm) throw cv.fail(node, 'a softmax over a flattened feature map');
  return activation(cv, node, { kind: 'softmax' });
}

export function convertNode(cv: Converter, node: OnnxGraphNode, batch: number | string): Value {
  const op = node.opType;
  const fn = ELEMENTWISE[op];
  if (fn) return activation(cv, node, { kind: 'activation', fn });
  switch (op) {
    case 'Conv':
      return conv(cv, node);
    case 'ConvTranspose':
      return convTranspose(cv, node);
    case 'Gemm':
    case 'MatMul':
      return dense(cv, node);
    case 'LeakyRelu':
      return activation(cv, node, { kind: 'activation', fn: 'leakyRelu', alpha: attrFloat(node, 'alpha', 0.01) });
    case 'Elu':
      return activation(cv, node, { kind: 'activation', fn: 'elu', alpha: attrFloat(node, 'alpha', 1) });
    case 'Selu': {
      const defaults = Math.abs(attrFloat(node, 'alpha', 1.6732632) - 1.6732632) < 1e-6 && Math.abs(attrFloat(node, 'gamma', 1.0507010) - 1.0507010) < 1e-6;
      if (!defaults) throw cv.fail(node, 'Selu with non-standard alpha/gamma');
      return activation(cv, node, { kind: 'activation', fn: 'selu' });
    }
    case 'HardSigmoid': {
      if (attrFloat(node, 'alpha', 0.2) !== 0.2 || attrFloat(node, 'beta', 0.5) !== 0.5) throw cv.fail(node, 'HardSigmoid with alpha/beta other than 0.2/0.5');
      return activation(cv, node, { kind: 'activation', fn: 'hardSigmoid' });
    }
    case 'Clip':
      return clip(cv, node);
    case 'PRelu':
      return prelu(cv, node);
    case 'MaxPool':
    case 'AveragePool':
      return pool(cv, node);
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return globalPool(cv, node);
    case 'BatchNormalization':
      return batchNorm(cv, node);
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div':
      return binary(cv, node);
    case 'Concat':
      return concat(cv, node);
    case 'Flatten':
      if (attrInt(node, 'axis', 1) !== 1) throw cv.fail(node, `flattening from axis ${attrInt(node, 'axis', 1)} (only 1)`);
      return flatten(cv, node);
    case 'Reshape':
      return reshape(cv, node, batch);
    case 'Pad':
      return pad(cv, node);
    case 'Resize':
    case 'Upsample':
      return resize(cv, node);
    case 'Dropout':
      // Inference is the identity; a constant training_mode = true would drop at random on every run.
      if (cv.isConstant(node, 2) && cv.constant(node, 2).values[0] !== 0) throw cv.fail(node, 'Dropout in training mode (export the model in eval mode)');
      return cv.value(node);
    case 'Identity':
      return cv.value(node);
    case 'Softmax':
      return softmax(cv, node);
    case 'Transpose':
      throw cv.fail(node, 'a transpose (only the NHWC → NCHW one right after the input)');
    default:
      throw cv.fail(node, `op ${op} is not supported; supported ops: ${ONNX_OPS.join(', ')}`);
  }
}
