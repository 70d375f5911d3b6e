/**
 * The frozen patterns of a network: one graph output of the recording forward pass, and one input of
 * the frozen-forward and adjoint graphs, per nonlinear node. Element-wise activations record their
 * derivative, an inner softmax its output (both in graph layout), a max-pool its switches: a one-hot
 * mask over the input when its windows tile it, else for each pooled output the index into the image's
 * flattened NCHW input that it copies (emit-max-pool.ts).
 *
 * An activation whose only consumer is a tiling max-pool has no pattern of its own: the pool's mask is
 * multiplied by the activation's derivative once per image in the recording graph, which saves the
 * linear graphs a full-resolution multiply per vector (ReLU → MaxPool, the commonest pair in CNNs).
 */
import { sizeOf } from '../../ir.js';
import type { ModelIR } from '../../ir.js';
import type { ElemType } from './graph-builder.js';
import { graphDims } from './graph-layout.js';
import { poolTiling, tiledDims } from './pool-tiling.js';

export interface PatternSpec {
  readonly node: number;
  readonly kind: 'scale' | 'softmax' | 'window' | 'switch';
  /** Graph input/output name. */
  readonly name: string;
  readonly elem: ElemType;
  /** Dims of one image's pattern. */
  readonly dims: readonly number[];
  /** A 'window' pattern that includes the derivative of this activation node, which has no pattern. */
  readonly absorbs?: number;
}

function absorption(ir: ModelIR, pool: number, absorbed: ReadonlyMap<number, number>): { absorbs?: number } {
  const j = ir.nodes[pool]!.inputs[0]!;
  return absorbed.get(j) === pool ? { absorbs: j } : {};
}

function consumerCounts(ir: ModelIR): number[] {
  const counts = new Array<number>(ir.nodes.length).fill(0);
  for (let i = 1; i <= ir.output; i++) for (const j of ir.nodes[i]!.inputs) counts[j]!++;
  return counts;
}

/** The activation feeding tiling max-pool i that the pool's mask can absorb, if any. */
function absorbable(ir: ModelIR, i: number, consumers: readonly number[]): number | undefined {
  const j = ir.nodes[i]!.inputs[0]!;
  const op = ir.nodes[j]!.op;
  return op.kind === 'activation' && op.fn !== 'linear' && consumers[j] === 1 ? j : undefined;
}

export function patternSpecs(ir: ModelIR): PatternSpec[] {
  const consumers = consumerCounts(ir);
  const absorbed = new Map<number, number>();
  for (let i = 1; i <= ir.output; i++) {
    const j = poolTiling(ir, i) ? absorbable(ir, i, consumers) : undefined;
    if (j !== undefined) absorbed.set(j, i);
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
    } else if (kind === 'maxPool' || kind === 'globalMaxPool') {
      const tiling = poolTiling(ir, i);
      specs.push(
        tiling
          ? { node: i, kind: 'window', name, elem: 'float32', dims: tiledDims(tiling), ...absorption(ir, i, absorbed) }
          : { node: i, kind: 'switch', name, elem: 'int32', dims: [sizeOf(node.shape)] },
      );
    }
  }
  return specs;
}
