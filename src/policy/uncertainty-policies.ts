import { uncertaintyScore } from './uncertainty.js';
import type { Policy, UncertaintyName } from './types.js';

/** Classic uncertainty sampling from the logits: entropy, margin (1 − gap) or least confidence. */
export function uncertaintyPolicy(name: UncertaintyName): Policy {
  const measure = uncertaintyScore[name];
  return {
    name,
    needs: ['logits'],
    score: (result) => (result.logits === null || result.logits.length === 0 ? null : measure(result.logits)),
  };
}
