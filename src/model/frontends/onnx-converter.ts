/**
 * The state of an ONNX → IR conversion: the IR nodes made so far, what each ONNX value is in the IR,
 * and the layout bookkeeping every op converter shares (onnx-node-converters.ts).
 */
import { RprError } from '../../errors/index.js';
import type { IRNode, Op, WeightTensor } from '../ir.js';
import type { OnnxConstant, OnnxGraph, OnnxGraphNode } from './onnx-graph.js';
import type { OnnxAxis } from './onnx-windows.js';

/**
 * What an ONNX value is in the IR: an image ([N, C, H, W] ↔ IR [H, W, C]) or a feature vector
 * ([N, F] ↔ IR [F]) whose ONNX feature f is IR feature perm[f] (null: the same order).
 */
export type Value = { readonly kind: 'image'; readonly id: number } | { readonly kind: 'flat'; readonly id: number; readonly perm: Int32Array | null };

export class Converter {
  readonly nodes: IRNode[] = [];
  readonly #values = new Map<string, Value>();
  readonly #graph: OnnxGraph;

  constructor(graph: OnnxGraph) {
    this.#graph = graph;
  }

  fail(node: OnnxGraphNode, why: string): RprError {
    return new RprError(
      'RPR_UNSUPPORTED_LAYER',
      `${this.#graph.path}: ONNX node '${node.name}' (op ${node.opType}) cannot be linearized: ${why}`,
      { layer: node.name, className: node.opType },
    );
  }

  add(name: string, className: string, op: Op, inputs: readonly number[], shape: readonly number[]): number {
    this.nodes.push({ name, className, op, inputs, shape });
    return this.nodes.length - 1;
  }

  set(name: string, value: Value): void {
    this.#values.set(name, value);
  }

  value(node: OnnxGraphNode, k = 0): Value {
    const name = node.inputs[k] ?? '';
    const v = this.#values.get(name);
    if (v) return v;
    if (this.#graph.constants.has(name)) throw this.fail(node, `its input ${k} ('${name}') is a constant where rpr-select expects the image's data`);
    throw this.fail(node, `its input ${k} ('${name}') is not computed from the image by any supported node`);
  }

  image(node: OnnxGraphNode, k = 0): number {
    const v = this.value(node, k);
    if (v.kind !== 'image') throw this.fail(node, `it expects an image [N, C, H, W] but input ${k} is a flattened feature vector`);
    return v.id;
  }

  constant(node: OnnxGraphNode, k: number): OnnxConstant {
    const c = this.#graph.constants.get(node.inputs[k] ?? '');
    if (!c) throw this.fail(node, `its input ${k} ('${node.inputs[k] ?? ''}') must be a constant (an initializer or a Constant node)`);
    return c;
  }

  optionalConstant(node: OnnxGraphNode, k: number): OnnxConstant | null {
    const name = node.inputs[k] ?? '';
    return name === '' ? null : this.constant(node, k);
  }

  isConstant(node: OnnxGraphNode, k: number): boolean {
    return this.#graph.constants.has(node.inputs[k] ?? '');
  }

  opset(): number {
    return this.#graph.opset;
  }

  /** The value of a graph output. */
  named(name: string): Value {
    const v = this.#values.get(name);
    if (!v) throw new RprError('RPR_MODEL_INVALID', `ONNX model '${this.#graph.path}': its output '${name}' is not computed from its input`, { path: this.#graph.path });
    return v;
  }

  shape(id: number): readonly number[] {
    return this.nodes[id]!.shape;
  }
}

export function floats(c: OnnxConstant): Float32Array {
  return Float32Array.from(c.values);
}

export function weight(data: Float32Array, shape: readonly number[]): WeightTensor {
  return { shape, data };
}

/** IR feature index of each ONNX feature of a C·H·W-flattened [C, H, W] map (the IR flattens H·W·C). */
export function chwToHwc(h: number, w: number, c: number): Int32Array {
  const perm = new Int32Array(h * w * c);
  for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) perm[(ch * h + y) * w + x] = (y * w + x) * c + ch;
  return perm;
}

/** Rows of a row-major [F, cols] matrix moved so that ONNX row f lands on IR row perm[f]. */
export function permuteRows(data: Float32Array, cols: number, perm: Int32Array | null): Float32Array {
  if (!perm) return data;
  const out = new Float32Array(data.length);
  perm.forEach((to, from) => out.set(data.subarray(from * cols, (from + 1) * cols), to * cols));
  return out;
}

/** A per-channel (image) or per-feature (vector) constant of a binary op, as IR-ordered values, or null if it is not one. */
export function perChannel(cv: Converter, v: Value, c: OnnxConstant): Float32Array | null {
  const shape = cv.shape(v.id);
  const n = shape[shape.length - 1]!;
  const size = c.values.length;
  if (size === 1) return new Float32Array(n).fill(c.values[0]!);
  if (size !== n) return null;
  if (v.kind === 'image') {
    // [C, 1, 1] or [1, C, 1, 1]: the channel axis is third from the end.
    const d = [...c.dims];
    while (d.length > 0 && d[0] === 1 && d.length > 3) d.shift();
    return d.length === 3 && d[0] === n && d[1] === 1 && d[2] === 1 ? floats(c) : null;
  }
  const last = c.dims[c.dims.length - 1];
  if (last !== n) return null;
  return permuteRows(floats(c), 1, v.perm);
}

export function affine(cv: Converter, node: OnnxGraphNode, v: Value, scale: Float32Array, shift: Float32Array): Value {
  return withSameLayout(v, cv.add(node.name, node.opType, { kind: 'batchNorm', scale, shift }, [v.id], cv.shape(v.id)));
}

export function withSameLayout(v: Value, id: number): Value {
  return v.kind === 'image' ? { kind: 'image', id } : { kind: 'flat', id, perm: v.perm };
}

export function samePerm(a: Int32Array | null, b: Int32Array | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function convOutShape(axes: readonly [OnnxAxis, OnnxAxis], channels: number): number[] {
  return [axes[0].outSize, axes[1].outSize, channels];
}

/** Explicit padding as a zeroPad node, for windows that TF's 'same'/'valid' cannot express. */
export function zeroPadded(cv: Converter, node: OnnxGraphNode, x: number, axes: readonly [OnnxAxis, OnnxAxis]): number {
  const [h, w, c] = cv.shape(x) as [number, number, number];
  const [ah, aw] = axes;
  if (ah.padBefore + ah.padAfter + aw.padBefore + aw.padAfter === 0) return x;
  return cv.add(`${node.name}/pad`, node.opType, { kind: 'zeroPad', pads: [[ah.padBefore, ah.padAfter], [aw.padBefore, aw.padAfter]] }, [x], [
    h + ah.padBefore + ah.padAfter,
    w + aw.padBefore + aw.padAfter,
    c,
  ]);
}
