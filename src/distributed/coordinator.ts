/**
 * The coordinator of a distributed round (`select --distributed`): it lists the pool into shards,
 * enqueues one BullMQ job per shard, waits for the workers' shortlists and merges them into the
 * round's ranker. Everything else (the policy's batch choice, the budget, the ledger, the sink) is the
 * local round's code, so a distributed round selects what a local round selects.
 *
 * Job ids are derived from the round key and the shard index: a coordinator that is killed and run
 * again finds the jobs it had enqueued, takes the finished shards' results from Redis and waits only
 * for the rest.
 */
import { Queue, QueueEvents } from 'bullmq';
import { RprError } from '../errors/index.js';
import type { Ranker } from '../policy/index.js';
import { errorMessage } from '../pool/error-message.js';
import {
  configuredPolicyOptions,
  configuredScorerOptions,
  type PoolRanking,
  type RankSetup,
  type RemoteRanking,
  type RemoteRankingContext,
} from '../rounds/index.js';
import { checkRedis, connectionOf } from './connect-redis.js';
import { publishExcluded } from './excluded-ids.js';
import { DEFAULT_SHARD_SIZE, listShards } from './list-shards.js';
import { ShardMerger } from './merge-shards.js';
import { DEFAULT_QUEUE, queueNamespace } from './queue-settings.js';
import { refusalsKey } from './refusals.js';
import type { RedisTarget } from './redis-target.js';
import { roundKey } from './round-key.js';
import { SHARD_PROTOCOL, type Shard, type ShardJobData, type ShardScoring } from './shard-job.js';
import { ShardWait, type ShardWaitOptions, type ShardWaitSummary } from './shard-wait.js';

export interface CoordinatorOptions extends ShardWaitOptions {
  readonly redis: RedisTarget;
  /** @defaultValue 'rpr-select' */
  readonly queue?: string;
  /** Pool entries per shard. @defaultValue DEFAULT_SHARD_SIZE */
  readonly shardSize?: number;
  /** Told once every shard is enqueued (or found from an earlier run). */
  readonly onEnqueued?: (enqueued: { readonly round: string; readonly shards: number; readonly reused: number }) => void;
}

/** The `distributed` object of `select --json`. */
export interface DistributedReport extends ShardWaitSummary {
  /** The Redis URL without its password. */
  readonly redis: string;
  readonly queue: string;
  /** The round key the job ids are made of. */
  readonly round: string;
  readonly shardSize: number;
}

/** Shards listed and enqueued at a time. */
const ENQUEUE_BATCH = 64;

export class Coordinator {
  readonly #options: CoordinatorOptions;
  readonly #queue: string;
  readonly #shardSize: number;
  #report: DistributedReport | null = null;
  #leftovers: { readonly ids: readonly string[]; readonly keys: readonly string[] } | null = null;

  constructor(options: CoordinatorOptions) {
    this.#options = options;
    this.#queue = options.queue ?? DEFAULT_QUEUE;
    this.#shardSize = options.shardSize ?? DEFAULT_SHARD_SIZE;
  }

  /**
   * Checks that Redis answers: call it before the round touches the ledger or loads the model, so an
   * unreachable Redis fails at once and leaves nothing behind.
   */
  async connect(): Promise<void> {
    await checkRedis(this.#options.redis, this.#queue);
  }

  /** selectRound's remoteRanking: ranks the round from the workers' shards. */
  readonly ranking: RemoteRanking = async (context) => (ranker, setup) => this.#rank(context, ranker, setup);

  /** What the last round did across workers; null before a round was ranked. */
  report(): DistributedReport | null {
    return this.#report;
  }

  /** Removes the round's jobs, selected-ids snapshot and refusals from Redis; call once the round is in the ledger. */
  async finish(): Promise<void> {
    const leftovers = this.#leftovers;
    if (leftovers === null) return;
    const queue = new Queue(this.#queue, { connection: connectionOf(this.#options.redis) });
    queue.on('error', () => undefined);
    try {
      for (let i = 0; i < leftovers.ids.length; i += ENQUEUE_BATCH) {
        await Promise.all(leftovers.ids.slice(i, i + ENQUEUE_BATCH).map((id) => queue.remove(id)));
      }
      await (await queue.getBackend().client).del(...leftovers.keys);
      this.#leftovers = null;
    } finally {
      await queue.close();
    }
  }

  async #rank(context: RemoteRankingContext, ranker: Ranker, setup: RankSetup): Promise<PoolRanking> {
    const { redis } = this.#options;
    const connection = connectionOf(redis);
    const queue = new Queue(this.#queue, { connection });
    const events = new QueueEvents(this.#queue, { connection });
    // BullMQ reconnects by itself; an error event left without a listener would end the process.
    queue.on('error', () => undefined);
    events.on('error', () => undefined);
    try {
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
      const excluded = await publishExcluded(await queue.getBackend().client, queueNamespace(this.#queue), setup.excluded);
      const { session, config } = context;
      const key = roundKey({
        round: setup.round,
        configDigest: context.configDigest,
        modelDigest: session.modelDigest,
        preprocessingDigest: session.preprocessingDigest ?? null,
        pool: context.poolSpec,
        shardSize: this.#shardSize,
        capacity: setup.capacity,
        excludedDigest: excluded.digest,
      });
      const { modelPath, workers: _threads, cachePath: _cache, ...scoring } = configuredScorerOptions(config);
      const job: Omit<ShardJobData, 'shard'> = {
        protocol: SHARD_PROTOCOL,
        round: key,
        modelPath,
        modelDigest: session.modelDigest,
        preprocessingDigest: session.preprocessingDigest ?? null,
        scoring: scoring satisfies ShardScoring,
        policy: { name: config.policy.name, options: configuredPolicyOptions(config) },
        cost: { unit: config.budget.unit, rule: config.budget.cost },
        capacity: setup.capacity,
        excluded,
      };
      const wait = new ShardWait(queue, job, new ShardMerger(ranker, setup.record), this.#options, session.backend);
      events.on('completed', ({ jobId }) => wait.inspect(jobId));
      events.on('failed', ({ jobId }) => wait.inspect(jobId));
      events.on('progress', ({ jobId, data }) => wait.progress(jobId, data));
      let batch: Shard[] = [];
      for await (const shard of listShards(context.poolSpec, this.#shardSize, setup.signal)) {
        batch.push(shard);
        if (batch.length === ENQUEUE_BATCH) await wait.enqueue(batch.splice(0));
      }
      await wait.enqueue(batch);
      wait.listed();
      const enqueued = wait.summary();
      this.#options.onEnqueued?.({ round: key, shards: enqueued.shards, reused: enqueued.reusedShards });
      const ranking = await wait.finished(setup.signal);
      this.#report = { redis: redis.display, queue: this.#queue, round: key, shardSize: this.#shardSize, ...wait.summary() };
      const namespace = queueNamespace(this.#queue);
      this.#leftovers = { ids: wait.jobIds(), keys: [refusalsKey(namespace, key), ...(excluded.key === null ? [] : [excluded.key])] };
      return ranking;
    } catch (error) {
      if (error instanceof RprError || (error instanceof Error && error.name === 'AbortError')) throw error;
      throw new RprError('RPR_DISTRIBUTED', `distributed round failed talking to Redis at ${redis.display}: ${errorMessage(error)}`, { redis: redis.display }, { cause: error });
    } finally {
      await events.close().catch(() => undefined);
      await queue.close().catch(() => undefined);
    }
  }
}
