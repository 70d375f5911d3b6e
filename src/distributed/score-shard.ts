import type { ScoreProgress, ScoreResult, Scorer } from '../metrics/index.js';
import { createPolicy, Ranker } from '../policy/index.js';
import { imageCost, rankScored, type SeenRecorder } from '../rounds/index.js';
import { SHARD_PROTOCOL, SHARD_SKIPS_KEPT, type ShardJobData, type ShardResult, type WorkerIdentity } from './shard-job.js';
import { shardSource } from './shard-source.js';

export interface ScoreShardOptions {
  readonly job: ShardJobData;
  /** Built from the job's scoring options with this worker's model. */
  readonly scorer: Scorer;
  /** The ids of the job's selected-ids snapshot. */
  readonly excluded: ReadonlySet<string>;
  readonly worker: WorkerIdentity;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ScoreProgress) => void;
}

/** The ledger lives with the coordinator: a worker records nothing. */
const NOT_RECORDED: SeenRecorder = { scored: () => undefined, failed: () => undefined };

/**
 * Scores one shard exactly as a local round scores its pool (same ranking code, same exclusions, same
 * costs) and keeps only the shard's best `job.capacity` candidates: whatever a local round would
 * shortlist from this shard is among them, so merging the shards' lists loses nothing.
 */
export async function scoreShard(options: ScoreShardOptions): Promise<ShardResult> {
  const { job } = options;
  const startedAt = Date.now();
  const started = performance.now();
  const ranker = new Ranker(createPolicy(job.policy.name, job.policy.options), job.capacity);
  const ranking = await rankScored(options.scorer, shardSource(job.shard), ranker, {
    excluded: options.excluded,
    cost: imageCost(job.cost.unit, job.cost.rule),
    record: NOT_RECORDED,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });
  return {
    protocol: SHARD_PROTOCOL,
    shard: job.shard.index,
    candidates: ranker.shortlist().map((c) => ({ result: portable(c.result), cost: c.cost })),
    total: ranking.total,
    alreadySelected: ranking.alreadySelected,
    skippedTotal: ranking.skipped.length,
    skipped: ranking.skipped.slice(0, SHARD_SKIPS_KEPT),
    worker: options.worker,
    startedAt,
    seconds: (performance.now() - started) / 1000,
  };
}

/** What the coordinator's ranking, batch choice and ledger read of a result; singular values stay behind. */
function portable(result: ScoreResult): ScoreResult {
  return {
    id: result.id,
    uri: result.uri,
    rpr: result.rpr,
    sigma: null,
    predicted: result.predicted,
    logits: result.logits === null ? null : [...result.logits],
    coords: result.coords === null ? null : [...result.coords],
  };
}
