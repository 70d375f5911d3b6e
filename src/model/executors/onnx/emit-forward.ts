/**
 * The forward graph: NHWC images x [B, H, W, C] → the network output y [B, ...output shape] (NHWC when
 * it is an image). With `record`, it also outputs every frozen pattern (pattern-specs.ts), so one run
 * gives f(x) and everything the frozen forward and the adjoint need.
 */
import type { ModelIR } from '../../ir.js';
import { emitActivation, emitDerivative } from './emit-activation.js';
import { GraphBuilder } from './graph-builder.js';
import { channelAxis, toGraphOrder, toIrOrder } from './graph-layout.js';
import type { EmitContext } from './linear-ops.js';
import { linearNode } from './linear-ops.js';
import { maxPool, recordMaxPool } from './emit-max-pool.js';
import { patternSpecs } from './pattern-specs.js';
import type { PreparedNode } from './prepared-node.js';

export const FORWARD_INPUT = 'x';
export const FORWARD_OUTPUT = 'y';

export function emitForward(ir: ModelIR, prepared: readonly PreparedNode[], record: boolean): Uint8Array {
  const b = new GraphBuilder(record ? 'forward_recording' : 'forward');
  const ctx: EmitContext = { b, ir, prepared };
  const values: string[] = new Array<string>(ir.nodes.length);
  const x = b.input(FORWARD_INPUT, 'float32', ['batch', ...ir.inputShape]);
  values[0] = toGraphOrder(b, x, ir.inputShape);
  const patterns = new Map<number, string>();
  const specs = new Map(patternSpecs(ir).map((s) => [s.node, s]));
  for (let i = 1; i <= ir.output; i++) {
    const node = ir.nodes[i]!;
    const op = node.op;
    const inputs = node.inputs.map((j) => values[j]!);
    const z = inputs[0]!;
    const p = prepared[i]!;
    switch (op.kind) {
      case 'activation': {
        const slopes = p.slopes ? b.floats(`a${i}`, p.slopes, p.slopeDims!, `a${i}`) : null;
        const y = emitActivation(b, op, z, slopes);
        if (record && op.fn !== 'linear') patterns.set(i, emitDerivative(b, op, z, y, slopes));
        values[i] = y;
        break;
      }
      case 'softmax': {
        values[i] = b.op('Softmax', [z], { axis: channelAxis(node.shape) });
        if (record) patterns.set(i, values[i]!);
        break;
      }
      case 'maxPool':
      case 'globalMaxPool': {
        if (record) {
          const absorbed = specs.get(i)?.absorbs;
          const pooled = recordMaxPool(ctx, i, z, absorbed === undefined ? null : patterns.get(absorbed)!);
          patterns.set(i, pooled.pattern);
          values[i] = pooled.y;
        } else values[i] = maxPool(ctx, i, z);
        break;
      }
      default:
        values[i] = linearNode(ctx, i, inputs, true);
    }
  }
  b.output(toIrOrder(b, values[ir.output]!, ir.nodes[ir.output]!.shape), FORWARD_OUTPUT);
  if (record) for (const spec of specs.values()) b.output(patterns.get(spec.node)!, spec.name, spec.elem);
  return b.build();
}
