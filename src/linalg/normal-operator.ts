import { errors } from '../errors/index.js';
import { dot } from './block-ops.js';
import { requireOperatorShape } from './check-args.js';
import { checkedProduct, type ProductCounts } from './counting-operator.js';
import type { LinearOperator } from './operator.js';

/**
 * M = SᵀS of an operator S (rows × cols) that is known only by products with M: the eigenvectors of M
 * are S's right singular vectors and its eigenvalues σ². The reference basis works on this form: one
 * product M·V = Σᵢ Aᵢᵀ(Aᵢ·V) linearizes each reference image once, where S·V and Sᵀ·U separately
 * would linearize it twice and hold the rows × k block S·V in between.
 */
export interface NormalOperator {
  /** S's rows: they set the numerical-rank tolerance, max(rows, cols)·eps·σ₁. */
  readonly rows: number;
  /** S's columns: M is cols × cols. */
  readonly cols: number;
  /** M·vᵢ for k vectors: `v` and the result are k × cols, row-major. */
  apply(v: Float64Array, k: number): Promise<Float64Array>;
}

/** AᵀA of an operator: a matvec then an rmatvec. */
export function normalOfOperator(op: LinearOperator): NormalOperator {
  requireOperatorShape('normalOfOperator', op);
  return {
    rows: op.rows,
    cols: op.cols,
    async apply(v, k) {
      return op.rmatvec(await op.matvec(v, k), k);
    },
  };
}

/**
 * An explicit Gram matrix G = SᵀS (cols × cols, symmetric, row-major) as a normal operator; `rows` is
 * S's row count, for the rank tolerance.
 */
export function denseNormal(gram: Float64Array, rows: number, cols: number): NormalOperator {
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(cols) || cols < 1 || gram.length !== cols * cols) {
    throw errors.usage(`denseNormal: expected the cols × cols Gram matrix of a positive rows × cols matrix, got ${rows} × ${cols} and ${gram.length} values`, {
      rows,
      cols,
      length: gram.length,
    });
  }
  return {
    rows,
    cols,
    async apply(v, k) {
      const out = new Float64Array(k * cols);
      // G is symmetric: (G·v)_p = ⟨row p of G, v⟩, a contiguous dot product.
      for (let j = 0; j < k; j++) for (let p = 0; p < cols; p++) out[j * cols + p] = dot(gram, p * cols, v, j * cols, cols);
      return out;
    },
  };
}

/** A normal operator that counts its products and checks each result's length. */
export interface CountingNormal extends NormalOperator {
  /** One product with M is one product with S and one with Sᵀ: both counts grow by the vectors applied. */
  readonly counts: Readonly<ProductCounts>;
}

/** Wraps `op` so that a solver reports the products it used and a wrong-sized result fails by name. */
export function countingNormal(op: NormalOperator): CountingNormal {
  const counts: ProductCounts = { matvecs: 0, rmatvecs: 0, matvecCalls: 0, rmatvecCalls: 0 };
  return {
    rows: op.rows,
    cols: op.cols,
    counts,
    async apply(v, k) {
      counts.matvecs += k;
      counts.rmatvecs += k;
      counts.matvecCalls++;
      counts.rmatvecCalls++;
      return checkedProduct('normal operator', await op.apply(v, k), k * op.cols);
    },
  };
}

