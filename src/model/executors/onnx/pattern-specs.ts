/**
 * The frozen patterns of a network: one graph output of the recording forward pass, and one input of
 * the frozen-forward and adjoint graphs, each. Element-wise activations record their derivative, an inner
 * softmax its output (both in graph layout), a max-pool its switches: for each pooled output, the index
 * into the image's flattened NCHW input that it copies (emit-max-pool.ts).
 *
 * An activation whose only consumer is a max-pool has no pattern of its own: its derivative matters only
 * at the switches, so the pool records it there, per pooled output ('switchScale'). The linear graphs
 * then scale the low-resolution cotangent instead of multiplying a full-resolution one by a mask (ReLU →
 * MaxPool is the commonest pair in CNNs).
 */
import { sizeOf } from '../../ir.js';
import type { ModelIR } from '../../ir.js';
import type { ElemType } from './graph-builder.js';
import { graphDims } from './graph-layout.js';

export interface PatternSpec {
  readonly node: number;
  readonly kind: 'scale' | 'softmax' | 'switch' | 'switchScale';
  /** Graph input/output name. */
  readonly name: string;
  readonly elem: ElemType;
  /** Dims of one image's pattern. */
  readonly dims: readonly number[];
  /** switchScale: the activation node whose derivative it holds. */
  readonly absorbs?: number;
}

/** How many nodes read each node's output. */
export function consumerCounts(ir: ModelIR): number[] {
  const counts = new Array<number>(ir.nodes.length).fill(0);
  for (let i = 1; i <= ir.output; i++) for (const j of ir.nodes[i]!.inputs) counts[j]!++;
  return counts;
}

function isMaxPool(ir: ModelIR, i: number): boolean {
  const kind = ir.nodes[i]!.op.kind;
  return kind === 'maxPool' || kind === 'globalMaxPool';
}

/** The activation feeding max-pool i whose derivative the pool records, if any. */
export function absorbedActivation(ir: ModelIR, i: number, consumers: readonly number[] = consumerCounts(ir)): number | undefined {
  if (!isMaxPool(ir, i)) return undefined;
  const j = ir.nodes[i]!.inputs[0]!;
  const op = ir.nodes[j]!.op;
  return op.kind === 'activation' && op.fn !== 'linear' && consumers[j] === 1 ? j : undefined;
}

export function patternSpecs(ir: ModelIR): PatternSpec[] {
  const consumers = consumerCounts(ir);
  const absorbed = new Set<number>();
  for (let i = 1; i <= ir.output; i++) {
    const j = absorbedActivation(ir, i, consumers);
    if (j !== undefined) absorbed.add(j);
  }
  const specs: PatternSpec[] = [];
  for (let i = 1; i <= ir.output; i++) {
    if (absorbed.has(i)) continue;
    const node = ir.nodes[i]!;
    const name = `p${i}`;
    const kind = node.op.kind;
    if (kind === 'activation' && node.op.fn !== 'linear') {
      specs.push({ node: i, kind: 'scale', name, elem: 'float32', dims: graphDims(node.shape) });
    } else if (kind === 'softmax') {
      specs.push({ node: i, kind: 'softmax', name, elem: 'float32', dims: graphDims(node.shape) });
    } else if (isMaxPool(ir, i)) {
      const dims = [sizeOf(node.shape)];
      specs.push({ node: i, kind: 'switch', name, elem: 'int64', dims });
      const j = absorbedActivation(ir, i, consumers);
      if (j !== undefined) specs.push({ node: i, kind: 'switchScale', name: `${name}_scale`, elem: 'float32', dims, absorbs: j });
    }
  }
  return specs;
}
