import { errors } from '../errors/index.js';
import { dot } from './block-ops.js';
import { requireInteger } from './check-args.js';

/** ‖V_kᵀx‖ for each requested k, and the coordinates they come from. */
export interface ProjectionNorms {
  /** norms[i] = ‖V_kᵀx‖ for k = ks[i], using the first min(k, r) right vectors. */
  readonly norms: Float64Array;
  /** V_rᵀx: coordinate j is ⟨vⱼ, x⟩, accumulated in float64. */
  readonly coords: Float64Array;
}

/**
 * Norms of the projections of x onto the leading right singular vectors, for a list of ranks in one
 * pass over V: the coordinates ⟨vⱼ, x⟩ once, then cumulative sums of their squares. Because the rows of
 * V are orthonormal, ‖V_kᵀx‖ = ‖V_k·V_kᵀ·x‖ is non-decreasing in k and at most ‖x‖. A k beyond the
 * rank r uses all r vectors: the directions past the rank carry no signal.
 *
 * @param v - Vᵀ, r × n row-major, row j = the j-th right singular vector.
 * @param r - Number of rows of v.
 * @param x - The input, length n (the same preprocessed tensor the network saw).
 * @param ks - Ranks, each an integer ≥ 0, in any order.
 */
export function projectionNorms(
  v: Float64Array,
  r: number,
  x: Float32Array | Float64Array,
  ks: readonly number[],
): ProjectionNorms {
  const n = x.length;
  requireInteger('projectionNorms', 'r', r, 0, Number.MAX_SAFE_INTEGER);
  if (v.length !== r * n) {
    throw errors.usage(
      `projectionNorms: v has ${v.length} values, expected r·n = ${r}·${n} for an input of length ${n}`,
      { length: v.length, r, n },
    );
  }
  const coords = new Float64Array(r);
  for (let j = 0; j < r; j++) coords[j] = dot(v, j * n, x, 0, n);
  return { norms: leadingNorms(coords, ks), coords };
}

/**
 * ‖(c₁, …, c_k)‖ for each k in ks: the norms of the projections onto the leading k orthonormal
 * directions, from the coordinates cⱼ of a vector on them. A k past coords.length uses all of them.
 */
export function leadingNorms(coords: Float64Array, ks: readonly number[]): Float64Array {
  for (const k of ks) requireInteger('leadingNorms', 'k', k, 0, Number.MAX_SAFE_INTEGER);
  const r = coords.length;
  const cumulative = new Float64Array(r + 1);
  for (let j = 0; j < r; j++) cumulative[j + 1] = cumulative[j]! + coords[j]! * coords[j]!;
  return Float64Array.from(ks, (k) => Math.sqrt(cumulative[Math.min(k, r)]!));
}
