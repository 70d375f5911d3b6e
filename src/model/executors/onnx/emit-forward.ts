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
import type { RecordedActivation } from './emit-max-pool.js';
import { maxPool, recordMaxPool } from './emit-max-pool.js';
import type { PatternSpec } from './pattern-specs.js';
import { patternSpecs } from './pattern-specs.js';
import type { PreparedNode } from './prepared-node.js';

export const FORWARD_INPUT = 'x';
export const FORWARD_OUTPUT = 'y';

/** The network's output in graph layout, and with `record` every pattern's value by its spec name. */
export interface ForwardValues {
  readonly output: string;
  readonly patterns: ReadonlyMap<string, string>;
}

/** The forward pass of images `x` (graph layout) emitted into ctx.b. */
export function forwardValues(ctx: EmitContext, x: string, record: boolean): ForwardValues {
  const { b, ir, prepared } = ctx;
  const values: string[] = new Array<string>(ir.nodes.length);
  values[0] = x;
  // Pattern values by graph output name; activations evaluated, for the pool that absorbs one.
  const patterns = new Map<string, string>();
  const specs = record ? patternSpecs(ir) : [];
  const owned = new Set(specs.filter((s) => s.kind === 'scale').map((s) => s.node));
  const activations = new Map<number, RecordedActivation>();
  const nameOf = (i: number, kind: PatternSpec['kind']) => specs.find((s) => s.node === i && s.kind === kind)?.name;
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
        activations.set(i, { z, y, slopes });
        if (owned.has(i)) patterns.set(nameOf(i, 'scale')!, emitDerivative(b, op, z, y, slopes));
        values[i] = y;
        break;
      }
      case 'softmax': {
        values[i] = b.op('Softmax', [z], { axis: channelAxis(node.shape) });
        if (record) patterns.set(nameOf(i, 'softmax')!, values[i]!);
        break;
      }
      case 'maxPool':
      case 'globalMaxPool': {
        if (!record) {
          values[i] = maxPool(ctx, i, z);
          break;
        }
        const absorbs = specs.find((s) => s.node === i && s.kind === 'switchScale')?.absorbs;
        const pooled = recordMaxPool(ctx, i, z, absorbs === undefined ? null : activations.get(absorbs)!);
        patterns.set(nameOf(i, 'switch')!, pooled.switches);
        if (pooled.scale) patterns.set(nameOf(i, 'switchScale')!, pooled.scale);
        values[i] = pooled.y;
        break;
      }
      default:
        values[i] = linearNode(ctx, i, inputs, true);
    }
  }
  return { output: values[ir.output]!, patterns };
}

export function emitForward(ir: ModelIR, prepared: readonly PreparedNode[], record: boolean): Uint8Array {
  const b = new GraphBuilder(record ? 'forward_recording' : 'forward');
  const x = b.input(FORWARD_INPUT, 'float32', ['batch', ...ir.inputShape]);
  const { output, patterns } = forwardValues({ b, ir, prepared }, toGraphOrder(b, x, ir.inputShape), record);
  b.output(toIrOrder(b, output, ir.nodes[ir.output]!.shape), FORWARD_OUTPUT);
  for (const spec of record ? patternSpecs(ir) : []) b.output(patterns.get(spec.name)!, spec.name, spec.elem);
  return b.build();
}
