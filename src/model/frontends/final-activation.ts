import type { Op } from '../ir.js';

/**
 * The activation a classifier ends with, which frontends drop by default so that A[x] is taken on the
 * logits (reference/rpr-lpr.md §5.1): softmax and sigmoid saturate, and their Jacobian hides the network.
 */
export function finalActivation(op: Op): 'softmax' | 'sigmoid' | null {
  if (op.kind === 'softmax') return 'softmax';
  if (op.kind === 'activation' && op.fn === 'sigmoid') return 'sigmoid';
  return null;
}
