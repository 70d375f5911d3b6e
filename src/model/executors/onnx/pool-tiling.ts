/**
 * Whether a max-pool's windows tile its input (stride = window, as in nearly every CNN, and every global
 * max-pool): then no input position is the switch of two windows, and the adjoint can place each
 * cotangent with MaxUnpool instead of a scatter-add.
 */
import type { ModelIR } from '../../ir.js';

export function windowsTile(ir: ModelIR, i: number): boolean {
  const op = ir.nodes[i]!.op;
  if (op.kind === 'globalMaxPool') return true;
  return op.kind === 'maxPool' && op.strides[0] === op.pool[0] && op.strides[1] === op.pool[1];
}
