/**
 * Two-sample Mann–Whitney U test with the normal approximation, tie-corrected variance and continuity
 * correction (two-sided), and Holm–Bonferroni adjustment of a family of p-values.
 *   U_a = R_a − n_a(n_a + 1)/2 (R_a: sum of the mid-ranks of sample a in the pooled sample),
 *   E[U] = n_a·n_b/2,  Var[U] = n_a·n_b/12 · ((n + 1) − Σ(t³ − t)/(n(n − 1))) over tie groups of size t,
 *   z = sign(U − E)·max(0, |U − E| − 1/2)/sd,  p = erfc(|z|/√2).
 * Effect size: A = U_a/(n_a·n_b) = P(a > b) + P(a = b)/2 (Vargha & Delaney's A, the common-language
 * effect size); 0.5 means no shift.
 */

export interface MannWhitneyResult {
  readonly u: number;
  readonly z: number;
  /** Two-sided p-value. */
  readonly p: number;
  /** P(a > b) + P(a = b)/2. */
  readonly a: number;
}

/**
 * Complementary error function to ~1e-14 relative accuracy: the Maclaurin series of erf below 2.5
 * (where erfc ≥ 4e-4, so 1 − erf loses nothing that matters), above it the continued fraction
 * erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) by the modified Lentz method.
 */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 100 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const a = n / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

/** Standard normal CDF Φ(z). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  const na = a.length;
  const nb = b.length;
  const n = na + nb;
  const pooled = [...a.map((v) => ({ v, fromA: true })), ...b.map((v) => ({ v, fromA: false }))].sort((x, y) => x.v - y.v);
  let rankSumA = 0;
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && pooled[j + 1]!.v === pooled[i]!.v) j++;
    const midRank = (i + j) / 2 + 1;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    for (let k = i; k <= j; k++) if (pooled[k]!.fromA) rankSumA += midRank;
    i = j + 1;
  }
  const u = rankSumA - (na * (na + 1)) / 2;
  const mean = (na * nb) / 2;
  const variance = n > 1 ? ((na * nb) / 12) * (n + 1 - tieTerm / (n * (n - 1))) : 0;
  const a01 = na > 0 && nb > 0 ? u / (na * nb) : 0.5;
  if (!(variance > 0)) return { u, z: 0, p: 1, a: a01 };
  const z = (Math.sign(u - mean) * Math.max(0, Math.abs(u - mean) - 0.5)) / Math.sqrt(variance);
  return { u, z, p: Math.min(1, erfc(Math.abs(z) / Math.SQRT2)), a: a01 };
}

/** Holm–Bonferroni adjusted p-values, in the input order (null entries are skipped and stay null). */
export function holmAdjust(pValues: readonly (number | null)[]): (number | null)[] {
  const present = pValues.map((p, i) => ({ p, i })).filter((e): e is { p: number; i: number } => e.p !== null);
  present.sort((x, y) => x.p - y.p);
  const m = present.length;
  const adjusted: (number | null)[] = pValues.map(() => null);
  let running = 0;
  present.forEach((e, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * e.p));
    adjusted[e.i] = running;
  });
  return adjusted;
}
