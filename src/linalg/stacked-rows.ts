import { eachRowBlock } from './dense-from-operator.js';
import { normalOfOperator, type NormalOperator } from './normal-operator.js';
import type { LinearOperator } from './operator.js';

/**
 * A tall operator S = [A₁; …; A_N] (a network linearized at each image of a reference set) as the
 * top-right-singular-vector solvers read it: its rows part by part, in order, never all at once, and
 * its normal products SᵀS·V, each one pass over the parts.
 */
export interface StackedRows extends NormalOperator {
  /**
   * Calls `visit` with S's rows in order, one part at a time: `count` rows × cols, row-major. A part is
   * valid only during its call (its memory may be reused or freed after).
   */
  eachPart(visit: (part: Float32Array | Float64Array, count: number) => void): Promise<void>;
}

/**
 * Any operator as StackedRows: its rows built `batchRows` at a time by adjoint products with identity
 * rows, its normal product a matvec then an rmatvec.
 * @param batchRows - identity rows per rmatvec call. @defaultValue 256
 */
export function stackedRowsOf(op: LinearOperator, batchRows = 256): StackedRows {
  return {
    ...normalOfOperator(op),
    eachPart: (visit) => eachRowBlock(op, { batchRows: Math.min(batchRows, op.rows) }, (block, _start, count) => visit(block, count)),
  };
}
