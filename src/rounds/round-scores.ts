import type { ScoreResult } from '../metrics/types.js';
import { entropy, leastConfidence, probabilityMargin } from '../policy/index.js';

/**
 * Every score known for an image, by name, as the queue and the ledger record it: `rpr@k` for each k,
 * and when logits exist `entropy` (nats), `margin` (p₍₁₎ − p₍₂₎) and `least-confidence` (1 − p_max).
 */
export function scoresOf(result: ScoreResult): Record<string, number> {
  const scores: Record<string, number> = {};
  for (const [k, value] of Object.entries(result.rpr ?? {})) scores[`rpr@${k}`] = value;
  if (result.logits !== null && result.logits.length > 0) {
    scores.entropy = entropy(result.logits);
    scores.margin = probabilityMargin(result.logits);
    scores['least-confidence'] = leastConfidence(result.logits);
  }
  return scores;
}
