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
import { Queue, QueueEvents, type Job } from 'bullmq';
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
import { DEFAULT_QUEUE, queueNamespace, SHARD_JOB, SHARD_JOB_OPTIONS, shardJobId } from './queue-settings.js';
import type { RedisTarget } from './redis-target.js';
import { roundKey } from './round-key.js';
import { parseShardResult, SHARD_PROTOCOL, type Shard, type ShardJobData, type ShardResult, type ShardScoring } from './shard-job.js';
import { ThroughputTable, type WorkerThroughput } from './worker-throughput.js';

export interface CoordinatorOptions {
  readonly redis: RedisTarget;
  /** @defaultValue 'rpr-select' */
  readonly queue?: string;
  /** Pool entries per shard. @defaultValue DEFAULT_SHARD_SIZE */
  readonly shardSize?: number;
  /** Told when the last shard finishes, and at most every `progressIntervalMs` while waiting. */
  readonly onProgress?: (progress: DistributedProgress) => void;
  /** @defaultValue 5000 */
  readonly progressIntervalMs?: number;
  /** How often the states of unfinished jobs are read again, in case an event was missed. @defaultValue 5000 */
  readonly sweepIntervalMs?: number;
  /** Told once every shard is enqueued (or found from an earlier run). */
  readonly onEnqueued?: (enqueued: { readonly round: string; readonly shards: number; readonly reused: number }) => void;
  /** Told things a user should act on (no worker is connected). */
  readonly onNotice?: (message: string) => void;
}

export interface DistributedProgress {
  readonly shardsDone: number;
  /** null until the whole pool is listed. */
  readonly shardsTotal: number | null;
  /** Pool entries scored in this run, finished shards and running ones. */
  readonly images: number;
  /** images / seconds since the jobs were enqueued: the rate across all workers. */
  readonly imagesPerSecond: number;
  /** Workers that finished a shard so far. */
  readonly workers: number;
}

/** The `distributed` object of `select --json`. */
export interface DistributedReport {
  /** The Redis URL without its password. */
  readonly redis: string;
  readonly queue: string;
  /** The round key the job ids are made of. */
  readonly round: string;
  readonly shardSize: number;
  readonly shards: number;
  /** Shards finished before this run started (by workers of a coordinator that was stopped). */
  readonly reusedShards: number;
  /** Pool entries the workers went through, all shards. */
  readonly images: number;
  /** From the first job enqueued to the last shard merged. */
  readonly seconds: number;
  /** Entries scored in this run per second of `seconds`, across workers. */
  readonly imagesPerSecond: number;
  readonly workers: readonly WorkerThroughput[];
}

/** Shards listed and enqueued at a time. */
const ENQUEUE_BATCH = 64;
/** Without a finished shard for this long, the coordinator checks that a worker is connected at all. */
const NO_WORKER_NOTICE_MS = 10_000;

export class Coordinator {
  readonly #options: CoordinatorOptions;
  readonly #queue: string;
  readonly #shardSize: number;
  #report: DistributedReport | null = null;
  #leftovers: { readonly ids: readonly string[]; readonly snapshot: string | null } | null = null;

  constructor(options: CoordinatorOptions) {
    this.#options = options;
    this.#queue = options.queue ?? DEFAULT_QUEUE;
    this.#shardSize = options.shardSize ?? DEFAULT_SHARD_SIZE;
    if (!Number.isInteger(this.#shardSize) || this.#shardSize < 1) {
      throw new RprError('RPR_USAGE', `--shard-size must be a positive integer (got ${this.#shardSize})`, { flag: 'shard-size' });
    }
  }

  /** selectRound's remoteRanking: checks Redis once the model is loaded, then ranks from the shards. */
  readonly ranking: RemoteRanking = async (context) => {
    await checkRedis(this.#options.redis, this.#queue);
    return (ranker, setup) => this.#rank(context, ranker, setup);
  };

  /** What the last round did across workers; null before a round was ranked. */
  report(): DistributedReport | null {
    return this.#report;
  }

  /** Removes the round's jobs and selected-ids snapshot from Redis; call once the round is in the ledger. */
  async finish(): Promise<void> {
    const leftovers = this.#leftovers;
    if (leftovers === null) return;
    const queue = new Queue(this.#queue, { connection: connectionOf(this.#options.redis) });
    queue.on('error', () => undefined);
    try {
      for (let i = 0; i < leftovers.ids.length; i += ENQUEUE_BATCH) {
        await Promise.all(leftovers.ids.slice(i, i + ENQUEUE_BATCH).map((id) => queue.remove(id)));
      }
      if (leftovers.snapshot !== null) await (await queue.getBackend().client).del(leftovers.snapshot);
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
      this.#options.onEnqueued?.({ round: key, shards: wait.summary().shards, reused: wait.summary().reusedShards });
      const ranking = await wait.finished(setup.signal);
      this.#report = { redis: redis.display, queue: this.#queue, round: key, shardSize: this.#shardSize, ...wait.summary() };
      this.#leftovers = { ids: wait.jobIds(), snapshot: excluded.key };
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

/** Tracks one round's jobs until every shard's result is merged. */
class ShardWait {
  readonly #queue: Queue;
  readonly #job: Omit<ShardJobData, 'shard'>;
  readonly #merger: ShardMerger;
  readonly #options: CoordinatorOptions;
  readonly #throughput = new ThroughputTable();
  /** Unfinished jobs → their shard. */
  readonly #pending = new Map<string, number>();
  readonly #inspecting = new Set<string>();
  /** Running jobs → entries done, from the workers' progress reports. */
  readonly #running = new Map<string, number>();
  readonly #ids: string[] = [];
  readonly #started = performance.now();
  #listed = 0;
  #listingDone = false;
  #done = 0;
  #reused = 0;
  #images = 0;
  #imagesThisRun = 0;
  #failure: unknown = null;
  #wake: (() => void) | null = null;

  /** The coordinator's own engine/backend: a worker on another may score differently in the last digits. */
  readonly #backend: string;
  readonly #otherBackends = new Set<string>();

  constructor(queue: Queue, job: Omit<ShardJobData, 'shard'>, merger: ShardMerger, options: CoordinatorOptions, backend: string) {
    this.#queue = queue;
    this.#job = job;
    this.#merger = merger;
    this.#options = options;
    this.#backend = backend;
  }

  /**
   * Enqueues shards whose job does not exist yet; a job an earlier run left is reused (finished),
   * waited for (waiting or running) or retried (failed).
   */
  async enqueue(shards: readonly Shard[]): Promise<void> {
    if (shards.length === 0) return;
    const ids = shards.map((shard) => shardJobId(this.#job.round, shard.index));
    ids.forEach((id, i) => {
      this.#pending.set(id, shards[i]!.index);
      this.#ids.push(id);
    });
    this.#listed += shards.length;
    const states = await Promise.all(ids.map((id) => this.#queue.getJobState(id)));
    const fresh = shards.filter((_, i) => states[i] === 'unknown');
    await this.#queue.addBulk(
      fresh.map((shard) => ({ name: SHARD_JOB, data: { ...this.#job, shard }, opts: { ...SHARD_JOB_OPTIONS, jobId: shardJobId(this.#job.round, shard.index) } })),
    );
    for (const [i, state] of states.entries()) {
      if (state !== 'failed' && state !== 'completed') continue;
      const job = await this.#queue.getJob(ids[i]!);
      if (job === undefined) continue;
      if (state === 'failed') await job.retry('failed');
      else this.#complete(job, true);
    }
  }

  /** Reads a job's state after an event (or a sweep) and takes its result when it is finished. */
  inspect(jobId: string): void {
    if (!this.#pending.has(jobId) || this.#inspecting.has(jobId)) return;
    this.#inspecting.add(jobId);
    void this.#read(jobId)
      .catch((error: unknown) => {
        this.#failure ??= error;
      })
      .finally(() => {
        this.#inspecting.delete(jobId);
        this.#wake?.();
      });
  }

  /** Every shard is enqueued. */
  listed(): void {
    this.#listingDone = true;
    this.#wake?.();
  }

  progress(jobId: string, data: unknown): void {
    const done = (data as { done?: unknown } | null)?.done;
    if (!this.#pending.has(jobId) || typeof done !== 'number') return;
    this.#running.set(jobId, done);
    this.#report(false);
  }

  /** Resolves with the merged ranking once every listed shard is merged; throws when a shard failed. */
  async finished(signal: AbortSignal | undefined): Promise<PoolRanking> {
    const sweepMs = this.#options.sweepIntervalMs ?? 5000;
    let noticed = false;
    while (!(this.#listingDone && this.#merger.merged === this.#listed)) {
      if (this.#failure !== null) throw this.#failure;
      signal?.throwIfAborted();
      await this.#sleep(sweepMs, signal);
      if (this.#failure !== null) throw this.#failure;
      for (const id of [...this.#pending.keys()]) this.inspect(id);
      if (!noticed && this.#done === 0 && performance.now() - this.#started > NO_WORKER_NOTICE_MS) {
        noticed = true;
        const workers = await this.#queue.getWorkersCount().catch(() => null);
        if (workers === 0) {
          this.#options.onNotice?.(`no worker is connected to queue '${this.#queue.name}'; start some: rpr-select worker --redis URL`);
        }
      }
      this.#report(false);
    }
    this.#report(true);
    return this.#merger.ranking();
  }

  summary(): Omit<DistributedReport, 'redis' | 'queue' | 'round' | 'shardSize'> {
    const seconds = (performance.now() - this.#started) / 1000;
    return {
      shards: this.#listed,
      reusedShards: this.#reused,
      images: this.#images,
      seconds,
      imagesPerSecond: this.#imagesThisRun / Math.max(seconds, 1e-3),
      workers: this.#throughput.rows(),
    };
  }

  jobIds(): readonly string[] {
    return this.#ids;
  }

  async #read(jobId: string): Promise<void> {
    // State first: a job read before it finished would lack the result its state then promises.
    const state = await this.#queue.getJobState(jobId);
    if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return;
    const job = state === 'unknown' ? undefined : await this.#queue.getJob(jobId);
    if (state === 'completed' && job !== undefined) this.#complete(job, false);
    else throw this.#shardFailed(jobId, job?.failedReason ?? 'its job is gone from Redis');
  }

  #complete(job: Job, reused: boolean): void {
    const shard = this.#pending.get(job.id ?? '');
    if (shard === undefined) return;
    let result: ShardResult;
    try {
      result = parseShardResult(job.returnvalue);
    } catch (error) {
      throw this.#shardFailed(job.id!, errorMessage(error));
    }
    if (result.shard !== shard) throw this.#shardFailed(job.id!, `it returned the result of shard ${result.shard}`);
    this.#pending.delete(job.id!);
    this.#running.delete(job.id!);
    this.#done++;
    this.#images += result.total;
    if (reused) this.#reused++;
    else this.#imagesThisRun += result.total;
    this.#throughput.add(result);
    this.#merger.add(result);
    if (result.worker.backend !== this.#backend && !this.#otherBackends.has(result.worker.backend)) {
      this.#otherBackends.add(result.worker.backend);
      this.#options.onNotice?.(
        `worker ${result.worker.id} scores on ${result.worker.backend}, this machine on ${this.#backend}: scores may differ in the last digits, and a near-tie may select differently than a local round; give the workers the same --engine and --backend`,
      );
    }
    this.#wake?.();
  }

  #shardFailed(jobId: string, reason: string): RprError {
    const shard = this.#pending.get(jobId);
    return new RprError(
      'RPR_DISTRIBUTED',
      `shard ${shard} (job ${jobId}) failed: ${reason}; fix that and run select again (finished shards are kept)`,
      { shard, job: jobId },
    );
  }

  #lastReport = -Infinity;

  #report(final: boolean): void {
    const onProgress = this.#options.onProgress;
    if (onProgress === undefined) return;
    const now = performance.now();
    if (!final && now - this.#lastReport < (this.#options.progressIntervalMs ?? 5000)) return;
    this.#lastReport = now;
    let running = 0;
    for (const done of this.#running.values()) running += done;
    const images = this.#imagesThisRun + running;
    onProgress({
      shardsDone: this.#done,
      shardsTotal: this.#listingDone ? this.#listed : null,
      images,
      imagesPerSecond: images / Math.max((now - this.#started) / 1000, 1e-3),
      workers: this.#throughput.workers,
    });
  }

  /** Sleeps up to `ms`, waking early when a shard finishes or fails. */
  #sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.#wake = done;
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
    });
  }
}
