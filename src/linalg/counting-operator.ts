import { errors } from '../errors/index.js';
import type { LinearOperator } from './operator.js';

/** Products an algorithm asked of an operator: vectors (the cost that matters) and batched calls. */
export interface ProductCounts {
  /** Vectors multiplied by A (a batch of k counts k). */
  matvecs: number;
  /** Vectors multiplied by Aᵀ. */
  rmatvecs: number;
  /** Batched matvec calls. */
  matvecCalls: number;
  /** Batched rmatvec calls. */
  rmatvecCalls: number;
}

/** An operator that counts its products and checks that each result has the length the contract says. */
export interface CountingOperator extends LinearOperator {
  readonly counts: Readonly<ProductCounts>;
}

/**
 * Wraps `op` so that every algorithm reports the products it used, and so that an engine returning the
 * wrong number of values fails here with a named error instead of as NaNs three steps later.
 */
export function countingOperator(op: LinearOperator): CountingOperator {
  const counts: ProductCounts = { matvecs: 0, rmatvecs: 0, matvecCalls: 0, rmatvecCalls: 0 };
  const check = (kind: string, out: Float64Array, expected: number) => checkedProduct(`operator ${kind}`, out, expected, { kind });
  return {
    rows: op.rows,
    cols: op.cols,
    counts,
    async matvec(v, k) {
      counts.matvecs += k;
      counts.matvecCalls++;
      return check('matvec', await op.matvec(v, k), k * op.rows);
    },
    async rmatvec(u, k) {
      counts.rmatvecs += k;
      counts.rmatvecCalls++;
      return check('rmatvec', await op.rmatvec(u, k), k * op.cols);
    },
  };
}

/** `out` when it has the `expected` number of values; else an internal error naming `what` produced it. */
export function checkedProduct(what: string, out: Float64Array, expected: number, context: Readonly<Record<string, string>> = {}): Float64Array {
  if (out.length !== expected) {
    throw errors.internal(`${what} returned ${out.length} values, expected ${expected}`, { ...context, length: out.length, expected });
  }
  return out;
}
