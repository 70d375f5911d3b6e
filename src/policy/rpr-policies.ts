import type { ScoreResult } from '../metrics/types.js';
import type { Policy } from './types.js';

/** RPR_k of a result; with k null, the largest k it carries. Null when absent or not finite. */
export function rprAt(result: ScoreResult, k: number | null): number | null {
  if (result.rpr === null) return null;
  let key: string | null = k === null ? null : String(k);
  if (key === null) {
    let largest = -Infinity;
    for (const name of Object.keys(result.rpr)) {
      const value = Number(name);
      if (value > largest) {
        largest = value;
        key = name;
      }
    }
  }
  const value = key === null ? undefined : result.rpr[key];
  return value === undefined || !Number.isFinite(value) ? null : value;
}

/** Lowest RPR first: the score is 1 − RPR_k, the fraction of ‖x‖ outside the top-k right subspace. */
export function lowestRprPolicy(k: number | null): Policy {
  return {
    name: 'lowest-rpr',
    needs: ['rpr'],
    score: (result) => {
      const rpr = rprAt(result, k);
      return rpr === null ? null : 1 - rpr;
    },
    reported: (result) => rprAt(result, k),
  };
}

/** Highest RPR first: the score is RPR_k itself. */
export function highestRprPolicy(k: number | null): Policy {
  return { name: 'highest-rpr', needs: ['rpr'], score: (result) => rprAt(result, k) };
}
