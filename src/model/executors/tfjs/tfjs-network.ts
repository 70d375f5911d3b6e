/**
 * The IR on TF.js: weights uploaded once, then three passes over the nodes — the real forward pass
 * (recording frozen patterns when asked), the frozen forward A[x]v (biases and shifts dropped, patterns
 * fixed), and the adjoint A[x]ᵀu, written node by node as explicit linear maps (the "adjoint CNN").
 */
import { errors } from '../../../errors/index.js';
import type { AxisGeometry } from '../../conv-geometry.js';
import { planeGeometry, transposedConvGeometry } from '../../conv-geometry.js';
import { bilinearWeights } from '../../bilinear-weights.js';
import type { IRNode, ModelIR, Op } from '../../ir.js';
import { sizeOf } from '../../ir.js';
import { tf } from '../../tf-runtime.js';
import { activate, derivative, preluAlpha } from './activations.js';
import {
  conv2dAdjoint,
  conv2dForward,
  depthwiseAdjoint,
  depthwiseForward,
  flipConvKernel,
  flipDepthwiseKernel,
  padOrCrop,
} from './conv-ops.js';
import { maxPoolSwitches } from './max-pool-switches.js';
import { Patterns, scaleGroups } from './patterns.js';

type T = tf.Tensor;
type T4 = tf.Tensor4D;

/** Tensors and geometry prepared once per node. */
interface Prepared {
  kernel?: T;
  flipped?: T;
  bias?: T;
  scale?: T;
  shift?: T;
  alpha?: T | null;
  gh?: AxisGeometry;
  gw?: AxisGeometry;
  /** avg-pool: number of valid inputs per window, [1, oh, ow, 1]. */
  counts?: T;
  /** upsample (bilinear): interpolation matrices [outH, H] and [outW, W]. */
  rh?: tf.Tensor2D;
  rw?: tf.Tensor2D;
}

/** Multiplies along spatial axis 1 (rows) or 2 (columns) of an NHWC batch by matrix r [out, in]. */
function alongAxis(x: T4, r: tf.Tensor2D, axis: 1 | 2): T4 {
  const [n, h, w, c] = x.shape;
  const perm = axis === 1 ? [1, 0, 2, 3] : [2, 0, 1, 3];
  const inSize = axis === 1 ? h : w;
  const moved = tf.reshape(tf.transpose(x, perm), [inSize, -1]);
  const out = r.shape[0];
  const y = tf.reshape(tf.matMul(r, moved), axis === 1 ? [out, n, w, c] : [out, n, h, c]);
  return tf.transpose(y, axis === 1 ? perm : [1, 2, 0, 3]) as T4;
}

function as4d(x: T): T4 {
  return x as T4;
}

export class TfjsNetwork {
  readonly #ir: ModelIR;
  readonly #prepared: Prepared[];

  constructor(ir: ModelIR) {
    this.#ir = ir;
    this.#prepared = ir.nodes.map((node) => this.#prepare(node));
  }

  get ir(): ModelIR {
    return this.#ir;
  }

  #inShape(node: IRNode): readonly number[] {
    return this.#ir.nodes[node.inputs[0]!]!.shape;
  }

  #prepare(node: IRNode): Prepared {
    const op = node.op;
    const weight = (w: { shape: readonly number[]; data: Float32Array }) => tf.tensor(w.data, [...w.shape]);
    switch (op.kind) {
      case 'conv2d':
      case 'depthwiseConv2d': {
        const kernel = weight(op.kernel);
        return {
          kernel,
          // The adjoint's kernel, flipped in space; each layout ([kh, kw, in, out], [kh, kw, in, multiplier]) has its own flip.
          flipped: op.kind === 'conv2d' ? flipConvKernel(kernel) : flipDepthwiseKernel(kernel),
          ...(op.bias ? { bias: weight(op.bias) } : {}),
          ...planeGeometry(this.#inShape(node), op.kernel.shape, op.strides, op.dilations, op.padding),
        };
      }
      case 'conv2dTranspose': {
        // The layer is the adjoint of a conv from its output size back to its input size.
        const geometry = transposedConvGeometry(node, this.#inShape(node), op.kernel.shape, op.strides, op.padding);
        const kernel = weight(op.kernel);
        return { kernel, flipped: flipConvKernel(kernel), ...(op.bias ? { bias: weight(op.bias) } : {}), ...geometry };
      }
      case 'dense':
        return { kernel: weight(op.kernel), ...(op.bias ? { bias: weight(op.bias) } : {}) };
      case 'activation':
        return { alpha: preluAlpha(op) };
      case 'batchNorm':
        return { scale: tf.tensor1d(op.scale), shift: tf.tensor1d(op.shift) };
      case 'maxPool':
      case 'avgPool': {
        const [h, w] = this.#inShape(node) as [number, number];
        const { gh, gw } = planeGeometry(this.#inShape(node), op.pool, op.strides, [1, 1], op.padding);
        if (op.kind === 'maxPool') return { gh, gw };
        const ones = tf.ones([1, h, w, 1]) as T4;
        const counts = depthwiseForward(ones, tf.ones([op.pool[0], op.pool[1], 1, 1]), gh, gw);
        const channels = this.#inShape(node)[2]!;
        return { gh, gw, counts, kernel: tf.ones([op.pool[0], op.pool[1], channels, 1]) };
      }
      case 'globalMaxPool': {
        const inShape = this.#inShape(node);
        return planeGeometry(inShape, inShape, [1, 1], [1, 1], 'valid');
      }
      case 'upsample': {
        if (op.interpolation === 'nearest') return {};
        const [h, w] = this.#inShape(node) as [number, number];
        const [oh, ow] = [h * op.size[0], w * op.size[1]];
        return { rh: tf.tensor2d(bilinearWeights(h, oh, op.coordinates), [oh, h]), rw: tf.tensor2d(bilinearWeights(w, ow, op.coordinates), [ow, w]) };
      }
      default:
        return {};
    }
  }

  /** Real forward pass (biases, activations). With `record`, returns the frozen patterns too. */
  async forward(x: T, record: boolean): Promise<{ output: T; patterns: Patterns | null }> {
    const nodes = this.#ir.nodes;
    const count = x.shape[0]!;
    const patterns = record ? new Patterns(count) : null;
    const uses = this.#useCounts();
    const values: (T | null)[] = new Array(nodes.length).fill(null);
    values[0] = x;
    for (let i = 1; i <= this.#ir.output; i++) {
      const node = nodes[i]!;
      const inputs = node.inputs.map((j) => values[j]!);
      values[i] = await this.#forwardNode(i, node, inputs, patterns);
      for (const j of node.inputs) {
        if (--uses[j]! === 0 && j !== 0) {
          values[j]!.dispose();
          values[j] = null;
        }
      }
    }
    return { output: values[this.#ir.output]!, patterns };
  }

  #useCounts(): number[] {
    const uses = new Array<number>(this.#ir.nodes.length).fill(0);
    for (let i = 1; i <= this.#ir.output; i++) for (const j of this.#ir.nodes[i]!.inputs) uses[j]!++;
    uses[this.#ir.output]!++;
    return uses;
  }

  async #forwardNode(i: number, node: IRNode, inputs: T[], patterns: Patterns | null): Promise<T> {
    const op = node.op;
    const p = this.#prepared[i]!;
    const z = inputs[0]!;
    switch (op.kind) {
      case 'activation': {
        if (patterns) patterns.set(i, { kind: 'scale', d: derivative(op, z, p.alpha ?? null) });
        return activate(op, z, p.alpha ?? null);
      }
      case 'softmax': {
        const s = tf.softmax(z);
        if (patterns) patterns.set(i, { kind: 'softmax', s: tf.keep(tf.clone(s)) });
        return s;
      }
      case 'batchNorm':
        return tf.tidy(() => tf.add(tf.mul(z, p.scale!), p.shift!));
      case 'maxPool':
      case 'globalMaxPool': {
        if (!patterns) {
          return tf.tidy(() =>
            op.kind === 'maxPool' ? tf.maxPool(as4d(z), [...op.pool], [...op.strides], op.padding) : tf.max(z, [1, 2]),
          );
        }
        const data = (await z.data()) as Float32Array;
        const channels = z.shape[3]!;
        const base = maxPoolSwitches(data, z.shape[0]!, channels, p.gh!, p.gw!);
        const inSize = sizeOf(z.shape.slice(1));
        patterns.set(i, { kind: 'switch', base, inSize, outSize: sizeOf(node.shape), byGroup: new Map() });
        return tf.tidy(() => this.#linear(i, node, inputs, patterns, 1));
      }
      default:
        return tf.tidy(() => {
          const y = this.#linear(i, node, inputs, patterns, 1);
          // A pass-through returns its input, which the caller may dispose: give it its own handle.
          return p.bias ? tf.add(y, p.bias) : y === z ? tf.clone(y) : y;
        });
    }
  }

  /**
   * A[x]v for B·r vectors (r per image). With `affine`, biases and BN shifts are kept: the frozen-pattern
   * network z ↦ A[x]z + c[x], whose value at 0 is c[x]. Caller owns the result.
   */
  frozen(v: T, patterns: Patterns, r: number, affine = false): T {
    return tf.tidy(() => {
      const nodes = this.#ir.nodes;
      const values: T[] = new Array(nodes.length);
      values[0] = v;
      for (let i = 1; i <= this.#ir.output; i++) {
        const node = nodes[i]!;
        const y = this.#linear(i, node, node.inputs.map((j) => values[j]!), patterns, r);
        const p = this.#prepared[i]!;
        values[i] = affine && p.bias ? tf.add(y, p.bias) : affine && p.shift ? tf.add(y, p.shift) : y;
      }
      return values[this.#ir.output]!;
    });
  }

  /** The linear part of node i at its frozen pattern (no bias, no BN shift). */
  #linear(i: number, node: IRNode, inputs: T[], patterns: Patterns | null, r: number): T {
    const op: Op = node.op;
    const p = this.#prepared[i]!;
    const x = inputs[0]!;
    const n = x.shape[0]!;
    switch (op.kind) {
      case 'input':
      case 'identity':
        return x;
      case 'conv2d':
        return conv2dForward(as4d(x), p.kernel!, p.gh!, p.gw!);
      case 'depthwiseConv2d':
        return depthwiseForward(as4d(x), p.kernel!, p.gh!, p.gw!);
      case 'conv2dTranspose':
        return conv2dAdjoint(as4d(x), p.flipped!, p.gh!, p.gw!);
      case 'dense': {
        const inF = op.kernel.shape[0]!;
        return tf.reshape(tf.matMul(tf.reshape(x, [-1, inF]), p.kernel as tf.Tensor2D), [n, ...node.shape]);
      }
      case 'activation': {
        const pat = patterns!.get(i);
        return scaleGroups(x, (pat as { d: T }).d, r);
      }
      case 'softmax': {
        const s = (patterns!.get(i) as { s: T }).s;
        const sv = scaleGroups(x, s, r);
        return tf.sub(sv, scaleGroups(tf.sum(sv, -1, true), s, r));
      }
      case 'batchNorm':
        return tf.mul(x, p.scale!);
      case 'maxPool':
      case 'globalMaxPool': {
        const idx = patterns!.switchIndices(i, r);
        return tf.reshape(tf.gather(tf.reshape(x, [-1]), idx), [n, ...node.shape]);
      }
      case 'avgPool':
        return tf.div(depthwiseForward(as4d(x), p.kernel!, p.gh!, p.gw!), p.counts!);
      case 'globalAvgPool':
        return tf.mean(x, [1, 2]);
      case 'reshape':
        return tf.reshape(x, [n, ...node.shape]);
      case 'zeroPad':
        return padOrCrop(as4d(x), op.pads[0][0], op.pads[0][1], op.pads[1][0], op.pads[1][1]);
      case 'crop':
        return padOrCrop(as4d(x), -op.crops[0][0], -op.crops[0][1], -op.crops[1][0], -op.crops[1][1]);
      case 'upsample': {
        if (op.interpolation === 'bilinear') return alongAxis(alongAxis(as4d(x), p.rh!, 1), p.rw!, 2);
        const [h, w, c] = x.shape.slice(1) as [number, number, number];
        const [sh, sw] = op.size;
        const spread = tf.mul(tf.reshape(x, [n, h, 1, w, 1, c]), tf.ones([1, 1, sh, 1, sw, 1]));
        return tf.reshape(spread, [n, h * sh, w * sw, c]);
      }
      case 'add':
        return inputs.length === 2 ? tf.add(inputs[0]!, inputs[1]!) : tf.addN(inputs);
      case 'concat':
        return tf.concat(inputs, -1);
      default:
        throw errors.internal(`no linear rule for op ${(op as Op).kind}`);
    }
  }

  /**
   * A[x]ᵀu for B·r cotangents (r per image), shaped like the output. Caller owns the result. Each node's
   * cotangent and temporaries are freed as soon as the node is done: the wasm heap never shrinks, and
   * holding every node's B·r cotangents to the end took ~1.5× the sum of the activation sizes per row.
   */
  adjoint(u: T, patterns: Patterns, r: number): T {
    return tf.tidy(() => {
      const nodes = this.#ir.nodes;
      const grads: (T | null)[] = new Array(nodes.length).fill(null);
      grads[this.#ir.output] = u;
      for (let i = this.#ir.output; i >= 1; i--) {
        const g = grads[i];
        if (!g) continue;
        grads[i] = null;
        const node = nodes[i]!;
        // A part that is g itself (identity, add) gets its own handle on the same data, so g can go.
        const parts = tf.tidy(() => this.#adjointNode(i, node, g, patterns, r).map((t) => (t === g ? tf.clone(t) : t)));
        if (g !== u) g.dispose();
        node.inputs.forEach((j, k) => {
          const prev = grads[j];
          const part = parts[k]!;
          if (!prev) {
            grads[j] = part;
            return;
          }
          grads[j] = tf.add(prev, part);
          prev.dispose();
          part.dispose();
        });
      }
      return grads[0] ?? tf.zeros([u.shape[0]!, ...this.#ir.inputShape]);
    });
  }

  #adjointNode(i: number, node: IRNode, g: T, patterns: Patterns, r: number): T[] {
    const op: Op = node.op;
    const p = this.#prepared[i]!;
    const n = g.shape[0]!;
    const inShape = (k = 0) => this.#ir.nodes[node.inputs[k]!]!.shape;
    switch (op.kind) {
      case 'identity':
        return [g];
      case 'conv2d':
        return [conv2dAdjoint(as4d(g), p.flipped!, p.gh!, p.gw!)];
      case 'depthwiseConv2d':
        return [depthwiseAdjoint(as4d(g), p.flipped!, op.kernel.shape[3]!, p.gh!, p.gw!)];
      case 'conv2dTranspose':
        return [conv2dForward(as4d(g), p.kernel!, p.gh!, p.gw!)];
      case 'dense': {
        const outF = op.kernel.shape[1]!;
        const back = tf.matMul(tf.reshape(g, [-1, outF]), p.kernel as tf.Tensor2D, false, true);
        return [tf.reshape(back, [n, ...inShape()])];
      }
      case 'activation':
      case 'softmax':
        // Both patterns are symmetric maps: the adjoint is the same product.
        return [this.#linear(i, node, [g], patterns, r)];
      case 'batchNorm':
        return [tf.mul(g, p.scale!)];
      case 'maxPool':
      case 'globalMaxPool': {
        const idx = patterns.switchIndices(i, r);
        const size = n * sizeOf(inShape());
        const scattered = tf.scatterND(tf.reshape(idx, [-1, 1]), tf.reshape(g, [-1]), [size]);
        return [tf.reshape(scattered, [n, ...inShape()])];
      }
      case 'avgPool':
        return [depthwiseAdjoint(as4d(tf.div(g, p.counts!)), p.kernel!, 1, p.gh!, p.gw!)];
      case 'globalAvgPool': {
        const [h, w, c] = inShape() as [number, number, number];
        return [tf.mul(tf.reshape(g, [n, 1, 1, c]), tf.fill([1, h, w, 1], 1 / (h * w)))];
      }
      case 'reshape':
        return [tf.reshape(g, [n, ...inShape()])];
      case 'zeroPad':
        return [padOrCrop(as4d(g), -op.pads[0][0], -op.pads[0][1], -op.pads[1][0], -op.pads[1][1])];
      case 'crop':
        return [padOrCrop(as4d(g), op.crops[0][0], op.crops[0][1], op.crops[1][0], op.crops[1][1])];
      case 'upsample': {
        if (op.interpolation === 'bilinear') {
          return [alongAxis(alongAxis(as4d(g), tf.transpose(p.rh!), 1), tf.transpose(p.rw!), 2)];
        }
        const [h, w, c] = inShape() as [number, number, number];
        const [sh, sw] = op.size;
        return [tf.sum(tf.reshape(g, [n, h, sh, w, sw, c]), [2, 4])];
      }
      case 'add':
        return node.inputs.map(() => g);
      case 'concat': {
        const sizes = node.inputs.map((_, k) => inShape(k)[inShape(k).length - 1]!);
        return tf.split(g, sizes, -1);
      }
      default:
        throw errors.internal(`no adjoint rule for op ${(op as Op).kind}`);
    }
  }

  dispose(): void {
    for (const p of this.#prepared) {
      for (const t of [p.kernel, p.flipped, p.bias, p.scale, p.shift, p.alpha, p.counts, p.rh, p.rw]) t?.dispose();
    }
  }
}
