/** Builds ScoreResults for policy tests: only the fields a test sets differ from an unscored default. */
import type { ScoreResult } from '../metrics/types.js';

export function scoreResult(id: string, fields: Partial<ScoreResult> = {}): ScoreResult {
  return {
    id,
    uri: `mem://${id}`,
    rpr: { '10': 0.5 },
    sigma: null,
    predicted: null,
    logits: null,
    coords: null,
    ...fields,
  };
}
