/**
 * RPR and LPR from singular vectors: the share of x (or of a label y) that lies in the span of the
 * top-k right (left) singular vectors. Options cover the readings the paper leaves open
 * (reference/rpr-lpr.md §5.3): squared (energy), complement (the nullspace part), centring.
 */
import { leadingNorms, projectionNorms } from '../linalg/index.js';

export interface RatioOptions {
  /** Report ‖P_k x‖²/‖x‖² (energy) instead of the norm ratio. @defaultValue false */
  readonly squared?: boolean;
  /** Report the part outside the span, ‖x − P_k x‖/‖x‖ (squared: 1 − energy). @defaultValue false */
  readonly complement?: boolean;
}

export type RatioResult =
  | { readonly ok: true; readonly ratios: Record<string, number>; readonly coords: number[] }
  | { readonly ok: false; readonly error: string };

/** ‖x‖ below this is treated as a zero image: its direction, and so its RPR, is undefined. */
const ZERO_NORM = 1e-12;

function finish(fraction: number, options: RatioOptions): number {
  const f = Math.min(1, Math.max(0, fraction));
  const energy = f * f;
  if (options.complement) return options.squared ? 1 - energy : Math.sqrt(Math.max(0, 1 - energy));
  return options.squared ? energy : f;
}

/** The input a right projection ratio measures (x, or x − c) and its norm, or why it has none. */
export type ProjectedInput = { readonly ok: true; readonly x: Float32Array; readonly norm: number } | { readonly ok: false; readonly error: string };

/**
 * x, or x − c with a centre c (mean-centred RPR). An all-zero image has no score even when centred: it
 * is a blank or broken input, not a direction; neither has an image equal to the centre.
 * @param center subtracted from x (the mean image of the reference set), or null.
 */
export function projectedInput(x: Float32Array, center: Float32Array | null): ProjectedInput {
  const raw = norm(x);
  if (!(raw > ZERO_NORM)) {
    return { ok: false, error: 'zero image: ‖x‖ = 0, so the RPR is undefined (the image is not selected)' };
  }
  if (!center) return { ok: true, x, norm: raw };
  const centred = Float32Array.from(x, (xi, i) => xi - center[i]!);
  const size = norm(centred);
  if (!(size > ZERO_NORM)) {
    return { ok: false, error: 'image equals the centre (the mean reference image): ‖x − x̄‖ = 0, so the centred RPR is undefined (the image is not selected)' };
  }
  return { ok: true, x: centred, norm: size };
}

/**
 * RPR_k(x) = ‖V_kᵀx‖/‖x‖ for every k in ks; with a centre c, of x − c instead (projectedInput).
 * @param v Vᵀ, rank × n row-major (orthonormal rows, leading first).
 * @param center subtracted from x first (the mean image of the reference set), or null.
 */
export function rightProjectionRatios(
  v: Float64Array,
  rank: number,
  x: Float32Array,
  ks: readonly number[],
  options: RatioOptions & { readonly center?: Float32Array | null } = {},
): RatioResult {
  const input = projectedInput(x, options.center ?? null);
  if (!input.ok) return input;
  return ratiosFromCoordinates(projectionNorms(v, rank, input.x, []).coords, input.norm, ks, options);
}

/**
 * RPR_k from the coordinates V_rᵀx̃ of the projected input x̃ on the right singular vectors (leading
 * first) and ‖x̃‖: all the exact path has, as it never forms V (linalg/gram-svd.ts).
 */
export function ratiosFromCoordinates(coords: Float64Array, size: number, ks: readonly number[], options: RatioOptions = {}): Extract<RatioResult, { ok: true }> {
  const norms = leadingNorms(coords, ks);
  const ratios: Record<string, number> = {};
  ks.forEach((k, i) => {
    ratios[String(k)] = finish(norms[i]! / size, options);
  });
  return { ok: true, ratios, coords: Array.from(coords, (c) => c / size) };
}

function norm(x: ArrayLike<number>): number {
  let sq = 0;
  for (let i = 0; i < x.length; i++) sq += x[i]! * x[i]!;
  return Math.sqrt(sq);
}

/**
 * LPR_k(y) = ‖U_kᵀy‖/‖y‖ for a label y (one-hot, or a mask) and every k in ks.
 * @param u U, m × rank row-major (column j = the j-th left singular vector).
 */
export function leftProjectionRatios(
  u: Float64Array,
  rank: number,
  y: ArrayLike<number>,
  ks: readonly number[],
  options: RatioOptions = {},
): RatioResult {
  const m = y.length;
  const size = norm(y);
  if (!(size > ZERO_NORM)) return { ok: false, error: 'zero label: ‖y‖ = 0, so the LPR is undefined' };
  const cumulative = new Float64Array(rank + 1);
  for (let j = 0; j < rank; j++) {
    let c = 0;
    for (let i = 0; i < m; i++) c += u[i * rank + j]! * y[i]!;
    cumulative[j + 1] = cumulative[j]! + c * c;
  }
  const ratios: Record<string, number> = {};
  for (const k of ks) ratios[String(k)] = finish(Math.sqrt(cumulative[Math.min(k, rank)]!) / size, options);
  return { ok: true, ratios, coords: [] };
}
