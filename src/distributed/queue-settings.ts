import type { JobsOptions } from 'bullmq';

/** The queue coordinators and workers meet on unless told otherwise. */
export const DEFAULT_QUEUE = 'rpr-select';

/** The job name of a shard (one kind of job per queue). */
export const SHARD_JOB = 'shard';

/** How long finished jobs stay in Redis: a coordinator restarted within this time reuses them. */
const KEEP_SECONDS = 7 * 24 * 3600;

/**
 * Retries cover a worker's transient failures (a file server hiccup); a worker killed mid-shard is
 * not a failure but a stalled job, which BullMQ hands to another worker. Finished jobs are kept, so a
 * coordinator that restarts finds their results; it removes them once its round is in the ledger.
 */
export const SHARD_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: KEEP_SECONDS },
  removeOnFail: { age: KEEP_SECONDS },
};

/** A shard's job id: the same round and shard always get the same id, so a re-run finds the job. */
export function shardJobId(round: string, shard: number): string {
  return `round-${round}-shard-${shard}`;
}

/** Where a queue's own keys (the selected-ids snapshots) live, beside BullMQ's. */
export function queueNamespace(queue: string): string {
  return `rpr-select:${queue}`;
}
