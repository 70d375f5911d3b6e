import { createHash } from 'node:crypto';

/** Everything a shard's result depends on, besides the images themselves. */
export interface RoundKeyParts {
  /** The number the round will get in the ledger: the next round gets a new key. */
  readonly round: number;
  readonly configDigest: string;
  readonly modelDigest: string;
  readonly preprocessingDigest: string | null;
  readonly pool: string;
  readonly shardSize: number;
  readonly capacity: number;
  readonly excludedDigest: string;
}

/**
 * The key of a round's jobs. A coordinator that crashed and runs again with the same ledger, config and
 * pool computes the same key and so finds the jobs it had enqueued; anything that changes the shards'
 * results changes the key.
 */
export function roundKey(parts: RoundKeyParts): string {
  const canonical = JSON.stringify([
    parts.round,
    parts.configDigest,
    parts.modelDigest,
    parts.preprocessingDigest,
    parts.pool,
    parts.shardSize,
    parts.capacity,
    parts.excludedDigest,
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 24);
}
