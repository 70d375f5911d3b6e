/**
 * The exact per-sample path as one graph: images x [B, H, W, C] and probes p [B, H, W, C] →
 *
 * - y [B, ...output shape], the real network output;
 * - gram [B, m, m] = A[x_b]·A[x_b]ᵀ and products [B, m] = A[x_b]·p_b, in float64.
 *
 * The recording forward pass feeds its patterns straight to the adjoint of the m unit cotangents of
 * every image, and the Jacobians [B, m, n] are reduced in the graph, so neither the patterns nor the
 * Jacobians cross into JavaScript. The reduction is cast to double first: a float32 Gram matrix loses
 * the small singular values (its rounding, ~√n·2⁻²⁴·σ₁², is σⱼ² for σⱼ ≈ 10⁻³·σ₁ at n = 784).
 * The Jacobians stay in graph layout (NCHW flattening): a Gram matrix does not depend on the order of
 * the columns, and the probes are put in the same order.
 */
import type { ModelIR } from '../../ir.js';
import { sizeOf } from '../../ir.js';
import { FORWARD_INPUT, FORWARD_OUTPUT, forwardValues } from './emit-forward.js';
import { adjointValues } from './emit-linearized.js';
import { GraphBuilder } from './graph-builder.js';
import { toGraphOrder, toIrOrder } from './graph-layout.js';
import { LinearPatterns } from './linear-patterns.js';
import { DataType } from '../../onnx-proto.js';
import type { PreparedNode } from './prepared-node.js';

export const GRAM_PROBES = 'p';
export const GRAM_OUTPUT = 'gram';
export const PRODUCTS_OUTPUT = 'ap';

export function emitGram(ir: ModelIR, prepared: readonly PreparedNode[]): Uint8Array {
  const b = new GraphBuilder('gram');
  const ctx = { b, ir, prepared };
  const inShape = ir.inputShape;
  const outShape = ir.nodes[ir.output]!.shape;
  const m = ir.outputSize;
  const n = sizeOf(inShape);
  const x = b.input(FORWARD_INPUT, 'float32', ['batch', ...inShape]);
  const probes = b.input(GRAM_PROBES, 'float32', ['batch', ...inShape]);

  const forward = forwardValues(ctx, toGraphOrder(b, x, inShape), true);
  b.output(toIrOrder(b, forward.output, outShape), FORWARD_OUTPUT);

  const batch = b.op('Shape', [x], { start: 0, end: 1 });
  const patterns = new LinearPatterns(b, ir, b.op('Concat', [batch, b.int64s([m])], { axis: 0 }), forward.patterns);
  const identity = new Float32Array(m * m);
  for (let i = 0; i < m; i++) identity[i * m + i] = 1;
  const units = b.op('Expand', [b.floats('eye', identity, [1, m, m], 'eye'), b.op('Concat', [batch, b.int64s([m, m])], { axis: 0 })]);
  const rows = toGraphOrder(b, b.op('Reshape', [units, b.int64s([-1, ...outShape])]), outShape);

  const jacobians = b.op('Cast', [b.op('Reshape', [adjointValues(ctx, patterns, rows), b.int64s([-1, m, n])])], { to: DataType.double });
  const p = b.op('Cast', [b.op('Reshape', [toGraphOrder(b, probes, inShape), b.int64s([-1, n, 1])])], { to: DataType.double });
  b.output(b.op('MatMul', [jacobians, b.op('Transpose', [jacobians], { perm: [0, 2, 1] })]), GRAM_OUTPUT, 'float64');
  b.output(b.op('Reshape', [b.op('MatMul', [jacobians, p]), b.int64s([-1, m])]), PRODUCTS_OUTPUT, 'float64');
  return b.build();
}
