import { rprAt } from './rpr-policies.js';
import { normalizedUncertainty } from './uncertainty.js';
import type { HybridOptions, Policy } from './types.js';

export const DEFAULT_HYBRID: HybridOptions = { rprWeight: 0.5, uncertaintyWeight: 0.5, uncertainty: 'entropy' };

/**
 * Normalized-score fusion of (1 − RPR_k) and an uncertainty, each already on [0, 1] by its a-priori
 * range: score = (w_r·(1 − RPR_k) + w_u·u) / (w_r + w_u). Rank fusion would need global ranks, which
 * a streamed pool never has; fixed-range normalization gives the same result streamed or batched.
 */
export function hybridPolicy(k: number | null, options: HybridOptions = DEFAULT_HYBRID): Policy {
  const total = options.rprWeight + options.uncertaintyWeight;
  return {
    name: 'hybrid',
    needs: ['rpr', 'logits'],
    score: (result) => {
      const rpr = rprAt(result, k);
      if (rpr === null || result.logits === null || result.logits.length === 0) return null;
      const uncertainty = normalizedUncertainty(options.uncertainty, result.logits);
      return (options.rprWeight * (1 - rpr) + options.uncertaintyWeight * uncertainty) / total;
    },
  };
}
