/**
 * Uncertainty of a classifier's prediction from its logits. Softmax and entropy are computed through
 * log-sum-exp with the maximum subtracted, so logits of any magnitude (±1e4) stay finite.
 */
import type { UncertaintyName } from './types.js';

export function logSumExp(logits: readonly number[]): number {
  let max = -Infinity;
  for (const z of logits) if (z > max) max = z;
  if (!Number.isFinite(max)) return max;
  let sum = 0;
  for (const z of logits) sum += Math.exp(z - max);
  return max + Math.log(sum);
}

export function softmax(logits: readonly number[]): number[] {
  const lse = logSumExp(logits);
  return logits.map((z) => Math.exp(z - lse));
}

/** Shannon entropy of softmax(logits) in nats: H = lse(z) − Σ pᵢ zᵢ (no log of a tiny p). */
export function entropy(logits: readonly number[]): number {
  const lse = logSumExp(logits);
  let expected = 0;
  for (const z of logits) expected += Math.exp(z - lse) * z;
  return Math.max(0, lse - expected);
}

/** p₍₁₎ − p₍₂₎: the gap between the two most probable classes (1 for a single class). */
export function probabilityMargin(logits: readonly number[]): number {
  const p = softmax(logits);
  let first = 0;
  let second = 0;
  for (const q of p) {
    if (q > first) {
      second = first;
      first = q;
    } else if (q > second) {
      second = q;
    }
  }
  return first - second;
}

/** 1 − max pᵢ. */
export function leastConfidence(logits: readonly number[]): number {
  let max = -Infinity;
  for (const z of logits) if (z > max) max = z;
  return 1 - Math.exp(max - logSumExp(logits));
}

/** Each uncertainty as a "higher = more uncertain" score. */
export const uncertaintyScore: Readonly<Record<UncertaintyName, (logits: readonly number[]) => number>> = {
  entropy,
  margin: (logits) => 1 - probabilityMargin(logits),
  'least-confidence': leastConfidence,
};

/**
 * Each uncertainty mapped onto [0, 1] by its a-priori range for C classes (entropy / ln C,
 * 1 − margin, (1 − p_max)·C/(C − 1)), so it can be fused with RPR one image at a time.
 */
export function normalizedUncertainty(name: UncertaintyName, logits: readonly number[]): number {
  const classes = logits.length;
  if (classes < 2) return 0;
  const raw = uncertaintyScore[name](logits);
  if (name === 'entropy') return raw / Math.log(classes);
  if (name === 'least-confidence') return (raw * classes) / (classes - 1);
  return raw;
}
