import type { Rng } from '../util/rng.js';
import { axpy, dot } from './block-ops.js';

/**
 * Modified Gram–Schmidt on the rows of a row-major block, applied twice: one pass loses orthogonality
 * in proportion to the condition number of the rows, a second pass restores it to machine precision
 * ("twice is enough", Giraud et al. 2005). Every algorithm here keeps its bases as row blocks, so this
 * is the one place orthogonality is made.
 */

/**
 * Removes from row `j` of `block` (rows of length `len`) its components along rows 0..j−1, which must
 * be orthonormal or zero, in two passes. Returns the norm of what is left; the row is not normalized.
 */
export function orthogonalizeRow(block: Float64Array, j: number, len: number): number {
  const jo = j * len;
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < j; i++) {
      const io = i * len;
      const d = dot(block, io, block, jo, len);
      if (d !== 0) axpy(block, jo, block, io, len, -d);
    }
  }
  return rowNorm(block, j, len);
}

/** Euclidean norm of row `j`. */
export function rowNorm(block: Float64Array, j: number, len: number): number {
  return Math.sqrt(dot(block, j * len, block, j * len, len));
}

/** Multiplies row `j` by `factor` in place. */
export function scaleRow(block: Float64Array, j: number, len: number, factor: number): void {
  const jo = j * len;
  for (let c = 0; c < len; c++) block[jo + c] *= factor;
}

/**
 * Orthonormalizes rows 0..count−1 in place. A row that keeps less than `dropTol` of its norm after
 * orthogonalization is numerically dependent on the rows before it and is set to zero, so the block
 * stays a valid (partial) orthonormal basis. Returns how many rows are nonzero.
 */
export function orthonormalizeRows(block: Float64Array, count: number, len: number, dropTol = 1e-10): number {
  let kept = 0;
  for (let j = 0; j < count; j++) {
    const before = rowNorm(block, j, len);
    const after = before === 0 ? 0 : orthogonalizeRow(block, j, len);
    if (after > dropTol * before) {
      scaleRow(block, j, len, 1 / after);
      kept++;
    } else {
      block.fill(0, j * len, (j + 1) * len);
    }
  }
  return kept;
}

/**
 * Fills row j with a random unit vector orthogonal to rows 0..j−1, which must be orthonormal (requires
 * j < len): the restart of a Krylov method whose new vector fell into the span of the old ones.
 */
export function randomOrthogonalRow(block: Float64Array, j: number, len: number, rng: Rng): void {
  for (;;) {
    for (let c = j * len; c < (j + 1) * len; c++) block[c] = rng.normal();
    const left = orthogonalizeRow(block, j, len);
    if (left > 1e-8) {
      scaleRow(block, j, len, 1 / left);
      return;
    }
  }
}

/**
 * Orthonormalizes rows 0..count−1 in place like {@link orthonormalizeRows}, but a row that is
 * numerically dependent on the rows before it is replaced by a random unit vector orthogonal to them, so
 * the block keeps `count` orthonormal rows (requires count ≤ len): a subspace iteration keeps its width.
 */
export function orthonormalizeRowsFilling(block: Float64Array, count: number, len: number, rng: Rng, dropTol = 1e-10): void {
  for (let j = 0; j < count; j++) {
    const before = rowNorm(block, j, len);
    const after = before === 0 ? 0 : orthogonalizeRow(block, j, len);
    if (after > dropTol * before) scaleRow(block, j, len, 1 / after);
    else randomOrthogonalRow(block, j, len, rng);
  }
}
