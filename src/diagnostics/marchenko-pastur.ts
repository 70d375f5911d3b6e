/**
 * The Marchenko–Pastur law for the ESD of esd.ts (λ = σ_W²/N, ratio y = M/N = 1/Q ≤ 1, scale s²):
 *   ρ(x) = sqrt((λ+ − x)(x − λ−)) / (2π s² y x) on [λ−, λ+],  λ± = s²(1 ± sqrt(y))² = s²(1 ± 1/√Q)².
 *
 * The fit estimates s² from the bulk, not from the edge: s² = median(bulk) / median(MP(y, 1)), where the
 * bulk is every eigenvalue except the spikes found so far, iterated until the spike count is stable.
 * The median moves by at most a few ranks per spike, so planted low-rank signal and heavy tails barely
 * bias it (DeepDataProfiler instead pins λ+ to λ_max, which overestimates s² whenever a tail exists; that
 * value is reported too, as `sigma2MaxPinned`, for comparison).
 *
 * Two counts are reported. `eigenvaluesAboveLambdaPlus` is the plain count above the fitted edge λ+ (what
 * the ESD plot shows: the bars right of the dashed edge). `spikes` counts only those above λ+ plus a Tracy–Widom
 * margin, because the largest eigenvalues of a pure random matrix of finite size fluctuate around λ+ on
 * the Tracy–Widom scale and often land past it. For an M × N Gaussian matrix, the largest eigenvalue of
 * W Wᵀ is ≈ μ + t·σ_TW with μ = (√(N−1) + √M)², σ_TW = (√(N−1) + √M)(1/√(N−1) + 1/√M)^{1/3}
 * (Johnstone 2001, Ann. Statist. 29(2), Thm 1.1), t a TW₁ quantile; default t = 2.0234, its 99th
 * percentile. So the threshold is s²·(μ + t·σ_TW)/N, slightly above λ+ and shrinking towards it as N grows.
 */
import { RprError } from '../errors/index.js';
import type { Esd } from './esd.js';

/** 99th percentile of the Tracy–Widom (β = 1) law (Johnstone 2001, Table 1). */
export const TRACY_WIDOM_99 = 2.0234;

export interface MpFit {
  /** Scale s² (the per-weight variance of an equivalent random matrix), estimated from the bulk. */
  readonly sigma2: number;
  /** s² that would put λ+ at the largest eigenvalue (DeepDataProfiler's choice). */
  readonly sigma2MaxPinned: number;
  readonly q: number;
  readonly lambdaMinus: number;
  readonly lambdaPlus: number;
  /** λ+ plus the Tracy–Widom margin: eigenvalues above it are spikes. */
  readonly spikeThreshold: number;
  /** Eigenvalues above `spikeThreshold` (λ+ plus the Tracy–Widom margin): learned structure, not noise. */
  readonly spikes: number;
  /** Eigenvalues above λ+ itself, margin or not (≥ `spikes`). */
  readonly eigenvaluesAboveLambdaPlus: number;
  /** Number of eigenvalues in the bulk (all minus spikes). */
  readonly bulkSize: number;
  readonly method: 'bulk-median';
}

export interface MpFitOptions {
  /**
   * Margin above λ+ in Tracy–Widom scale units.
   * @defaultValue TRACY_WIDOM_99 (2.0234)
   */
  readonly tracyWidomMargin?: number;
}

function edges(q: number, sigma2: number): { lo: number; hi: number; y: number } {
  const y = 1 / q;
  const r = Math.sqrt(y);
  return { lo: sigma2 * (1 - r) ** 2, hi: sigma2 * (1 + r) ** 2, y };
}

function checkRatio(q: number): void {
  if (!(q >= 1) || !Number.isFinite(q)) {
    throw new RprError('RPR_USAGE', `Marchenko–Pastur: aspect ratio Q = ${q} must be a finite number ≥ 1`, { q });
  }
}

/** MP density at x for aspect ratio Q = N/M ≥ 1 and scale s²; 0 outside the support. */
export function mpDensity(x: number, q: number, sigma2: number): number {
  checkRatio(q);
  const { lo, hi, y } = edges(q, sigma2);
  if (!(x > lo && x < hi) || x <= 0) return 0;
  return Math.sqrt((hi - x) * (x - lo)) / (2 * Math.PI * sigma2 * y * x);
}

const GRID = 4096;

/**
 * Cumulative table of the MP law of scale 1 in the angle t, x(t) = λ− + (λ+ − λ−)·sin²t, t ∈ [0, π/2]:
 * the substitution removes the square-root endpoints (and the 1/√x pole at Q = 1), leaving the smooth
 * integrand w²·sin²t·cos²t/(π y x(t)), integrated by Simpson's rule on panel pairs.
 */
function cumulativeTable(q: number): { cdf: Float64Array; lo: number; hi: number } {
  const { lo, hi, y } = edges(q, 1);
  const w = hi - lo;
  const h = Math.PI / 2 / GRID;
  const g = (t: number): number => {
    const s = Math.sin(t);
    const c = Math.cos(t);
    const x = lo + w * s * s;
    return x > 0 ? (w * w * s * s * c * c) / (Math.PI * y * x) : (w * c * c) / (Math.PI * y);
  };
  const cdf = new Float64Array(GRID + 1);
  for (let k = 0; k < GRID; k++) {
    const a = k * h;
    cdf[k + 1] = cdf[k]! + (h / 6) * (g(a) + 4 * g(a + h / 2) + g(a + h));
  }
  const total = cdf[GRID]!;
  for (let k = 0; k <= GRID; k++) cdf[k] = cdf[k]! / total;
  return { cdf, lo, hi };
}

const tables = new Map<number, ReturnType<typeof cumulativeTable>>();
function tableFor(q: number): ReturnType<typeof cumulativeTable> {
  checkRatio(q);
  let t = tables.get(q);
  if (!t) {
    t = cumulativeTable(q);
    if (tables.size > 256) tables.clear();
    tables.set(q, t);
  }
  return t;
}

/** MP cumulative distribution function P(λ ≤ x). */
export function mpCdf(x: number, q: number, sigma2: number): number {
  const { cdf, lo, hi } = tableFor(q);
  const u = x / sigma2;
  if (u <= lo) return 0;
  if (u >= hi) return 1;
  const pos = (Math.asin(Math.sqrt((u - lo) / (hi - lo))) / (Math.PI / 2)) * GRID;
  const k = Math.min(GRID - 1, Math.floor(pos));
  return cdf[k]! + (pos - k) * (cdf[k + 1]! - cdf[k]!);
}

/** The x with P(λ ≤ x) = p, for p in [0, 1]. */
export function mpQuantile(p: number, q: number, sigma2: number): number {
  const { cdf, lo, hi } = tableFor(q);
  let a = 0;
  let b = GRID;
  while (b - a > 1) {
    const mid = (a + b) >> 1;
    if (cdf[mid]! < p) a = mid;
    else b = mid;
  }
  const span = cdf[b]! - cdf[a]!;
  const pos = a + (span > 0 ? (p - cdf[a]!) / span : 0);
  const s = Math.sin((pos / GRID) * (Math.PI / 2));
  return sigma2 * (lo + (hi - lo) * s * s);
}

function medianOfAscending(v: readonly number[], count: number): number {
  const mid = (count - 1) / 2;
  return (v[Math.floor(mid)]! + v[Math.ceil(mid)]!) / 2;
}

/** Fits the MP law to an ESD by bulk-median matching, and counts the spikes above its edge. */
export function fitMarchenkoPastur(esd: Esd, options: MpFitOptions = {}): MpFit {
  const total = esd.eigenvalues.length;
  if (total === 0) throw new RprError('RPR_USAGE', 'Marchenko–Pastur fit: the ESD has no eigenvalues', {});
  const margin = options.tracyWidomMargin ?? TRACY_WIDOM_99;
  const ascending = [...esd.eigenvalues].sort((a, b) => a - b);
  const unitMedian = mpQuantile(0.5, esd.q, 1);
  const rn = Math.sqrt(Math.max(esd.n - 1, 1));
  const rm = Math.sqrt(esd.m);
  const edgeFactor = ((rn + rm) ** 2 + margin * (rn + rm) * Math.cbrt(1 / rn + 1 / rm)) / esd.n;
  const spikesAbove = (threshold: number) => Math.min(total - 1, ascending.filter((l) => l > threshold).length);
  let bulk = total;
  let sigma2 = 0;
  for (let iteration = 0; iteration < 50; iteration++) {
    sigma2 = medianOfAscending(ascending, bulk) / unitMedian;
    const next = total - spikesAbove(sigma2 * edgeFactor);
    if (next === bulk) break;
    bulk = next;
  }
  const spikes = spikesAbove(sigma2 * edgeFactor);
  const { lo, hi } = edges(esd.q, sigma2);
  return {
    sigma2,
    sigma2MaxPinned: ascending[total - 1]! / (1 + 1 / Math.sqrt(esd.q)) ** 2,
    q: esd.q,
    lambdaMinus: lo,
    lambdaPlus: hi,
    spikeThreshold: sigma2 * edgeFactor,
    spikes,
    eigenvaluesAboveLambdaPlus: ascending.filter((l) => l > hi).length,
    bulkSize: total - spikes,
    method: 'bulk-median',
  };
}

/** The fitted density on `points` evenly spaced x over its support, for plotting. */
export function mpCurve(fit: MpFit, points = 200): { x: number; density: number }[] {
  const curve: { x: number; density: number }[] = [];
  if (!(fit.sigma2 > 0)) return curve;
  for (let i = 0; i <= points; i++) {
    const x = fit.lambdaMinus + ((fit.lambdaPlus - fit.lambdaMinus) * i) / points;
    curve.push({ x, density: mpDensity(x, fit.q, fit.sigma2) });
  }
  return curve;
}
