/**
 * Relative tolerance below which a singular value counts as zero: the float32 machine epsilon (2⁻²³),
 * because the operators come from networks evaluated in float32, so smaller singular values are noise.
 */
export const DEFAULT_RANK_EPS = 1.1920928955078125e-7;

/**
 * How many leading values of a descending `sigma` exceed max(m, n)·eps·σ_max (the LAPACK/NumPy
 * convention, with eps set by the data's precision rather than the arithmetic's). Zero for a zero matrix.
 */
export function numericalRank(sigma: ArrayLike<number>, m: number, n: number, eps: number): number {
  const top = sigma.length > 0 ? sigma[0]! : 0;
  if (!(top > 0)) return 0;
  const tol = Math.max(m, n) * eps * top;
  let r = 0;
  while (r < sigma.length && sigma[r]! > tol) r++;
  return r;
}
