import { createHash } from 'node:crypto';

/**
 * A uniform number in [0, 1) determined by (seed, id) alone: the random policy's score. Because it
 * depends on nothing else, the selection is reproducible and independent of pool order and sharding.
 */
export function seededUnit(seed: number, id: string): number {
  const digest = createHash('sha256').update(`${seed}\u0000${id}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}
