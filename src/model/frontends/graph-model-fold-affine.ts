/**
 * A converted graph spells one Keras layer as several ops: Conv2D then BiasAdd, a folded batch norm as
 * Mul then AddV2, input normalization as Sub then RealDiv. The frontend first maps every per-channel
 * affine op to its own batchNorm node; this pass merges each one into the node it reads when nothing
 * else reads that node: a pure shift into a conv/dense bias, a scale-and-shift into a preceding
 * batchNorm. Scales are never pushed into kernels, so conv weights stay those of the model file.
 * It then drops nodes the output does not read and renumbers the rest, keeping topological order.
 */
import type { IRNode, Op } from '../ir.js';

type BatchNormOp = Extract<Op, { kind: 'batchNorm' }>;

const BIASED_KINDS: ReadonlySet<Op['kind']> = new Set(['conv2d', 'depthwiseConv2d', 'conv2dTranspose', 'dense']);

function merged(producer: IRNode, bn: IRNode, op: Op): IRNode {
  return { ...producer, className: `${producer.className}+${bn.className}`, op };
}

/** The producer with `bn` applied after it, or null when `bn` cannot be folded into it. */
function fold(producer: IRNode, bn: IRNode, op: BatchNormOp): IRNode | null {
  const p = producer.op;
  if (p.kind === 'batchNorm') {
    const scale = p.scale.map((a, c) => a * op.scale[c]!);
    const shift = p.shift.map((b, c) => b * op.scale[c]! + op.shift[c]!);
    return merged(producer, bn, { kind: 'batchNorm', scale, shift });
  }
  if (BIASED_KINDS.has(p.kind) && op.scale.every((s) => s === 1)) {
    const withBias = p as Extract<Op, { kind: 'conv2d' | 'depthwiseConv2d' | 'conv2dTranspose' | 'dense' }>;
    const old = withBias.bias?.data;
    const data = op.shift.map((t, c) => t + (old ? old[c]! : 0));
    return merged(producer, bn, { ...withBias, bias: { shape: [data.length], data } });
  }
  return null;
}

export function foldAffine(nodes: readonly IRNode[], output: number): { nodes: IRNode[]; output: number } {
  const current = [...nodes];
  const into = nodes.map((_, i) => i);
  const uses = new Array<number>(nodes.length).fill(0);
  for (const node of nodes) for (const j of node.inputs) uses[j]!++;
  uses[output]!++;

  for (let i = 0; i < current.length; i++) {
    const node = current[i]!;
    if (node.op.kind !== 'batchNorm' || node.inputs.length !== 1) continue;
    const p = into[node.inputs[0]!]!;
    if (uses[p] !== 1) continue;
    const folded = fold(current[p]!, node, node.op);
    if (!folded) continue;
    current[p] = folded;
    into[i] = p;
    uses[p] = uses[i]!;
  }

  const out = into[output]!;
  const keep = new Array<boolean>(current.length).fill(false);
  const stack = [out];
  while (stack.length > 0) {
    const i = stack.pop()!;
    if (keep[i]) continue;
    keep[i] = true;
    for (const j of current[i]!.inputs) stack.push(into[j]!);
  }
  const renumber = new Map<number, number>();
  const result: IRNode[] = [];
  current.forEach((node, i) => {
    if (!keep[i] || into[i] !== i) return;
    renumber.set(i, result.length);
    result.push({ ...node, inputs: node.inputs.map((j) => renumber.get(into[j]!)!) });
  });
  return { nodes: result, output: renumber.get(out)! };
}
