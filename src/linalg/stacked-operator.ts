import { errors } from '../errors/index.js';
import { requireOperatorShape } from './check-args.js';
import { countingOperator } from './counting-operator.js';
import type { LinearOperator } from './operator.js';

/**
 * S = [A₁; …; A_R]: the operators stacked on top of each other (rows Σ mᵢ, the common cols). S·v
 * concatenates the Aᵢ·v; Sᵀ·u = Σ Aᵢᵀ·uᵢ over the slices uᵢ of u. Its right singular vectors are the
 * eigenvectors of SᵀS = Σ AᵢᵀAᵢ: the input directions a whole reference set responds to.
 *
 * In rmatvec, a part whose slice of a vector is all zero is not called for that vector, so building S
 * densely from the identity costs Σ mᵢ adjoint products, not R·Σ mᵢ. Parts are called one after
 * another, never concurrently: they usually share one engine and its memory.
 */
export function stackOperators(parts: readonly LinearOperator[]): LinearOperator {
  if (parts.length === 0) {
    throw errors.usage('stackOperators: needs at least one operator, got an empty list');
  }
  const cols = parts[0]!.cols;
  const offsets: number[] = [];
  let rows = 0;
  const checked = parts.map((part, i) => {
    requireOperatorShape(`stackOperators (operator ${i})`, part);
    if (part.cols !== cols) {
      throw errors.usage(
        `stackOperators: operator ${i} has ${part.cols} columns, operator 0 has ${cols}; all must share the input size`,
        { index: i, cols: part.cols, expected: cols },
      );
    }
    offsets.push(rows);
    rows += part.rows;
    return countingOperator(part);
  });

  return {
    rows,
    cols,
    async matvec(v, k) {
      const out = new Float64Array(k * rows);
      for (let p = 0; p < checked.length; p++) {
        const part = checked[p]!;
        const mp = part.rows;
        const res = await part.matvec(v, k);
        for (let j = 0; j < k; j++) out.set(res.subarray(j * mp, (j + 1) * mp), j * rows + offsets[p]!);
      }
      return out;
    },
    async rmatvec(u, k) {
      const out = new Float64Array(k * cols);
      for (let p = 0; p < checked.length; p++) {
        const part = checked[p]!;
        const mp = part.rows;
        const off = offsets[p]!;
        const active: number[] = [];
        for (let j = 0; j < k; j++) {
          const base = j * rows + off;
          for (let i = 0; i < mp; i++) {
            if (u[base + i] !== 0) {
              active.push(j);
              break;
            }
          }
        }
        if (active.length === 0) continue;
        const slice = new Float64Array(active.length * mp);
        active.forEach((j, t) => slice.set(u.subarray(j * rows + off, j * rows + off + mp), t * mp));
        const res = await part.rmatvec(slice, active.length);
        active.forEach((j, t) => {
          const oo = j * cols;
          const ro = t * cols;
          for (let c = 0; c < cols; c++) out[oo + c] += res[ro + c]!;
        });
      }
      return out;
    },
  };
}
