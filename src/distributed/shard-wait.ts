/**
 * The coordinator's wait for one round's shard jobs: it enqueues them (reusing the jobs an earlier run
 * of the same round left), follows their completion through BullMQ's queue events (with a periodic
 * sweep of job states, in case an event was missed), hands each result to the merger exactly once, and
 * reports progress and per-worker throughput.
 */
import type { Job, Queue } from 'bullmq';
import { RprError } from '../errors/index.js';
import { errorMessage } from '../pool/error-message.js';
import type { PoolRanking } from '../rounds/index.js';
import type { ShardMerger } from './merge-shards.js';
import { queueNamespace, SHARD_JOB, SHARD_JOB_OPTIONS, shardJobId } from './queue-settings.js';
import { connectedWorkerNames, readRefusals } from './refusals.js';
import { parseShardResult, type Shard, type ShardJobData, type ShardResult } from './shard-job.js';
import { ThroughputTable, type WorkerThroughput } from './worker-throughput.js';

export interface ShardWaitOptions {
  /** Told when the last shard finishes, and at most every `progressIntervalMs` while waiting. */
  readonly onProgress?: (progress: DistributedProgress) => void;
  /** @defaultValue 5000 */
  readonly progressIntervalMs?: number;
  /** How often the states of unfinished jobs are read again, in case an event was missed. @defaultValue 5000 */
  readonly sweepIntervalMs?: number;
  /** Told things a user should act on (no worker is connected, workers on another engine). */
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

export interface ShardWaitSummary {
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

/** Without a finished shard for this long, the coordinator checks that a worker is connected at all. */
const NO_WORKER_NOTICE_MS = 10_000;

/** Tracks one round's jobs until every shard's result is merged. */
export class ShardWait {
  readonly #queue: Queue;
  readonly #job: Omit<ShardJobData, 'shard'>;
  readonly #merger: ShardMerger;
  readonly #options: ShardWaitOptions;
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
  #lastReport = -Infinity;
  /** The coordinator's own engine/backend: a worker on another may score differently in the last digits. */
  readonly #backend: string;
  readonly #otherBackends = new Set<string>();
  /** Workers whose refusal of this round was told to the user. */
  readonly #refusing = new Set<string>();

  constructor(queue: Queue, job: Omit<ShardJobData, 'shard'>, merger: ShardMerger, options: ShardWaitOptions, backend: string) {
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
      await this.#checkRefusals();
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

  summary(): ShardWaitSummary {
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

  /**
   * Tells the user of each worker that refused the round (its shards went back to the queue), and fails
   * once every connected worker has refused: nobody is left to score the shards.
   */
  async #checkRefusals(): Promise<void> {
    const refusals = await readRefusals(await this.#queue.getBackend().client, queueNamespace(this.#queue.name), this.#job.round);
    if (refusals.size === 0) return;
    for (const [worker, reason] of refusals) {
      if (this.#refusing.has(worker)) continue;
      this.#refusing.add(worker);
      this.#options.onNotice?.(`${reason}; its shards go to the other workers`);
    }
    const connected = connectedWorkerNames(await this.#queue.getWorkers());
    if (connected.size === 0 || ![...connected].every((worker) => refusals.has(worker))) return;
    const reasons = [...refusals].filter(([worker]) => connected.has(worker)).map(([, reason]) => reason);
    throw new RprError('RPR_DISTRIBUTED', `no worker connected to queue '${this.#queue.name}' can score this round: ${reasons.join('; ')}`, {
      workers: [...connected].join(', '),
    });
  }

  #shardFailed(jobId: string, reason: string): RprError {
    const shard = this.#pending.get(jobId);
    return new RprError(
      'RPR_DISTRIBUTED',
      `shard ${shard} (job ${jobId}) failed: ${reason}; fix that and run select again (finished shards are kept)`,
      { shard, job: jobId },
    );
  }

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
