import { requireInteger, requireOperatorShape } from './check-args.js';
import { countingOperator } from './counting-operator.js';
import type { DenseMatrix, LinearOperator } from './operator.js';

/** Options for {@link denseFromOperator}. */
export interface DenseFromOperatorOptions {
  /**
   * Identity rows per rmatvec call. One call is fastest on an engine that batches; a smaller batch
   * bounds the memory of the identity block and of the engine's batch for operators with many rows.
   * @defaultValue op.rows (a single batched call)
   */
  batchRows?: number;
}

/**
 * The m × n matrix of an operator, row-major, built as Aᵀ applied to the rows of the m × m identity:
 * row i of A is Aᵀeᵢ. m adjoint products (VJPs), the cheap side for a classifier's few logits.
 */
export async function denseFromOperator(
  op: LinearOperator,
  options: DenseFromOperatorOptions = {},
): Promise<DenseMatrix> {
  const data = new Float64Array(op.rows * op.cols);
  await eachRowBlock(op, options, (block, start) => data.set(block, start * op.cols));
  return { rows: op.rows, cols: op.cols, data };
}

/**
 * Builds A's rows `batchRows` at a time (Aᵀ applied to identity rows) and hands each block, count ×
 * cols, with the index of its first row, to `visit`: A streamed, never held whole.
 */
export async function eachRowBlock(
  op: LinearOperator,
  options: DenseFromOperatorOptions,
  visit: (block: Float64Array, start: number, count: number) => void,
): Promise<void> {
  requireOperatorShape('denseFromOperator', op);
  const checked = countingOperator(op);
  const { rows } = op;
  const batch = options.batchRows ?? rows;
  requireInteger('denseFromOperator', 'batchRows', batch, 1, Number.MAX_SAFE_INTEGER);
  for (let start = 0; start < rows; start += batch) {
    const count = Math.min(batch, rows - start);
    const eye = new Float64Array(count * rows);
    for (let i = 0; i < count; i++) eye[i * rows + start + i] = 1;
    visit(await checked.rmatvec(eye, count), start, count);
  }
}
