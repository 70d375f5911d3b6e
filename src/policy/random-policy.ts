import { seededUnit } from './seeded-hash.js';
import type { Policy } from './types.js';

/** Uniform random baseline: score = hash(seed, id), reproducible and independent of pool order. */
export function randomPolicy(seed: number): Policy {
  return { name: 'random', needs: [], score: (result) => seededUnit(seed, result.id) };
}
