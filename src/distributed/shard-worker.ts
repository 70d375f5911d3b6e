/**
 * A distributed worker (`rpr-select worker`): takes shard jobs from the queue, scores each shard with
 * its own copy of the model and the job's scoring options, and returns the shard's shortlist. A job
 * for another model (or another preprocessing) is refused: the worker records why (refusals.ts) and
 * puts the job back, delayed, for a worker with the right model; the coordinator stops the round only
 * when no connected worker can score it. Scores of different models are never merged.
 *
 * A worker killed mid-shard stops renewing its job's lock; after `lockMs` BullMQ's stalled-job check
 * (run by every live worker) puts the job back in the queue and another worker scores the shard from
 * the start. Only the result of the attempt that completes the job reaches the coordinator.
 */
import { hostname } from 'node:os';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { ScoringSession } from '../metrics/index.js';
import type { EngineChoice } from '../model/load-model.js';
import type { BackendChoice } from '../model/tf-runtime.js';
import { preprocessingDigest } from '../pool/index.js';
import { errorMessage } from '../pool/error-message.js';
import { untilAborted } from '../util/until-aborted.js';
import { checkRedis, connectionOf } from './connect-redis.js';
import { fetchExcluded } from './excluded-ids.js';
import { DEFAULT_QUEUE, queueNamespace } from './queue-settings.js';
import { recordRefusal } from './refusals.js';
import type { RedisTarget } from './redis-target.js';
import { scoreShard } from './score-shard.js';
import { parseShardJob, type ShardJobData, type ShardResult, type ShardScoring, type WorkerIdentity } from './shard-job.js';

export interface ShardWorkerOptions {
  readonly redis: RedisTarget;
  /** @defaultValue 'rpr-select' */
  readonly queue?: string;
  /** Shards this process scores at once. @defaultValue 1 */
  readonly concurrency?: number;
  /** This worker's model: jobs for a model with another digest are refused. */
  readonly modelPath: string;
  /** @defaultValue 'auto' */
  readonly engine?: EngineChoice;
  /** @defaultValue 'auto' */
  readonly backend?: BackendChoice;
  /** Scoring threads per session (createScorer's `workers`). @defaultValue 1 */
  readonly threads?: number | 'auto';
  /** This worker's score cache; none when absent. */
  readonly cachePath?: string;
  /**
   * A job whose lock this worker has not renewed for this long (it died) goes back to the queue;
   * stalled jobs are looked for as often. @defaultValue 30000
   */
  readonly lockMs?: number;
  /** The id results and logs name this worker by. @defaultValue host:pid */
  readonly name?: string;
  /** Stops the worker: it finishes the shards it is scoring, then resolves. */
  readonly signal: AbortSignal;
  readonly onEvent?: (event: ShardWorkerEvent) => void;
  /** @defaultValue createScorer from the metrics module */
  readonly openSession?: (
    options: ShardScoring & { modelPath: string; engine: EngineChoice; backend: BackendChoice; workers: number | 'auto'; cachePath?: string },
  ) => Promise<ScoringSession>;
}

/** What a worker reports as it runs (the CLI prints them). */
export type ShardWorkerEvent =
  | { readonly kind: 'ready'; readonly worker: string; readonly queue: string }
  | { readonly kind: 'model'; readonly modelDigest: string; readonly backend: string }
  | { readonly kind: 'started'; readonly job: string; readonly shard: number; readonly entries: number }
  | { readonly kind: 'finished'; readonly job: string; readonly shard: number; readonly images: number; readonly seconds: number }
  | { readonly kind: 'refused'; readonly job: string; readonly shard: number; readonly reason: string }
  | { readonly kind: 'failed'; readonly job: string; readonly reason: string }
  | { readonly kind: 'connection'; readonly message: string }
  | { readonly kind: 'stopping'; readonly active: number };

/** What a worker did until it was stopped. */
export interface ShardWorkerSummary {
  readonly worker: string;
  readonly shards: number;
  readonly images: number;
  readonly seconds: number;
}

/** How often a running shard reports how far it got. */
const PROGRESS_INTERVAL_MS = 1000;
/** How long a refused job waits before any worker (this one included) may take it again. */
const REFUSED_JOB_DELAY_MS = 2000;
/** Times a job may stall (its worker died) before BullMQ fails it. */
const MAX_STALLS = 3;

export async function runShardWorker(options: ShardWorkerOptions): Promise<ShardWorkerSummary> {
  const queueName = options.queue ?? DEFAULT_QUEUE;
  await checkRedis(options.redis, queueName);
  const id = options.name ?? `${hostname()}:${process.pid}`;
  const emit = options.onEvent ?? (() => undefined);
  const sessions = new SessionCache(options, emit);
  const excluded = new ExcludedCache();
  const summary = { worker: id, shards: 0, images: 0, seconds: 0 };
  const lockMs = options.lockMs ?? 30_000;
  // Counted here, not from the worker's events: a refused job ends in neither 'completed' nor 'failed'.
  let active = 0;

  const processShard = async (job: Job, token?: string, jobSignal?: AbortSignal): Promise<ShardResult> => {
    active++;
    try {
      return await scoreJob(job, token, jobSignal);
    } finally {
      active--;
    }
  };

  const scoreJob = async (job: Job, token: string | undefined, jobSignal: AbortSignal | undefined): Promise<ShardResult> => {
    const data = readJob(job);
    const session = await sessions.get(data.scoring);
    const refusal = refusalOf(data, session, id, options.modelPath);
    if (refusal !== null) {
      emit({ kind: 'refused', job: job.id ?? '', shard: data.shard.index, reason: refusal });
      await recordRefusal(await worker.getBackend().client, queueNamespace(queueName), data.round, id, refusal);
      // Back to the queue without using up an attempt; a worker with the right model takes it meanwhile.
      await job.moveToDelayed(Date.now() + REFUSED_JOB_DELAY_MS, token);
      throw new DelayedError();
    }
    const ids = await excluded.get(worker, data);
    emit({ kind: 'started', job: job.id ?? '', shard: data.shard.index, entries: data.shard.entries.length });
    let reported = 0;
    const result = await scoreShard({
      job: data,
      scorer: session.scorer,
      excluded: ids,
      worker: { id, host: hostname(), pid: process.pid, backend: session.backend } satisfies WorkerIdentity,
      ...(jobSignal === undefined ? {} : { signal: jobSignal }),
      onProgress: (p) => {
        const now = performance.now();
        if (now - reported < PROGRESS_INTERVAL_MS) return;
        reported = now;
        void job.updateProgress({ done: p.done + p.skipped }).catch(() => undefined);
      },
    });
    summary.shards++;
    summary.images += result.total;
    summary.seconds += result.seconds;
    emit({ kind: 'finished', job: job.id ?? '', shard: data.shard.index, images: result.total, seconds: result.seconds });
    return result;
  };

  const worker: Worker = new Worker(queueName, processShard, {
    connection: connectionOf(options.redis),
    concurrency: options.concurrency ?? 1,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    maxStalledCount: MAX_STALLS,
    name: id,
  });
  let lastConnectionMessage = '';
  worker.on('error', (error: unknown) => {
    const message = errorMessage(error);
    if (message !== lastConnectionMessage) emit({ kind: 'connection', message });
    lastConnectionMessage = message;
  });
  worker.on('failed', (job: Job | undefined, error: Error) => {
    if (job !== undefined) emit({ kind: 'failed', job: job.id ?? '', reason: errorMessage(error) });
  });
  try {
    await worker.waitUntilReady();
    emit({ kind: 'ready', worker: id, queue: queueName });
    await untilAborted(options.signal);
    emit({ kind: 'stopping', active });
  } finally {
    await worker.close();
    await sessions.close();
  }
  return summary;
}

function readJob(job: Job): ShardJobData {
  try {
    return parseShardJob(job.data);
  } catch (error) {
    throw new UnrecoverableError(`job ${job.id}: ${errorMessage(error)}`);
  }
}

/** Why this worker must not score the job (its model or preprocessing differs), or null. */
function refusalOf(data: ShardJobData, session: ScoringSession, worker: string, modelPath: string): string | null {
  const short = (digest: string) => digest.slice(0, 12);
  if (session.modelDigest !== data.modelDigest) {
    return (
      `worker ${worker} has the model ${modelPath} (digest ${short(session.modelDigest)}), but round ${data.round} scores with ` +
      `${data.modelPath} (digest ${short(data.modelDigest)}); start the worker with --model pointing at a copy of that model`
    );
  }
  const own = preprocessingDigest(session.preprocessing);
  if (data.preprocessingDigest !== null && own !== data.preprocessingDigest) {
    return (
      `worker ${worker} preprocesses images for ${modelPath} differently (digest ${short(own)}) from round ${data.round} ` +
      `(digest ${short(data.preprocessingDigest)}); give the worker the same metadata.json and preprocessing settings`
    );
  }
  return null;
}

/** One scoring session per distinct set of scoring options, loaded on first use and kept until the worker stops. */
class SessionCache {
  readonly #options: ShardWorkerOptions;
  readonly #emit: (event: ShardWorkerEvent) => void;
  readonly #sessions = new Map<string, Promise<ScoringSession>>();

  constructor(options: ShardWorkerOptions, emit: (event: ShardWorkerEvent) => void) {
    this.#options = options;
    this.#emit = emit;
  }

  get(scoring: ShardScoring): Promise<ScoringSession> {
    const key = JSON.stringify(scoring);
    let session = this.#sessions.get(key);
    if (session === undefined) {
      session = this.#open(scoring);
      this.#sessions.set(key, session);
      // A session that failed to open is tried again by the next job.
      session.catch(() => this.#sessions.delete(key));
    }
    return session;
  }

  async close(): Promise<void> {
    const sessions = await Promise.allSettled(this.#sessions.values());
    for (const s of sessions) if (s.status === 'fulfilled') await s.value.close();
  }

  async #open(scoring: ShardScoring): Promise<ScoringSession> {
    const options = this.#options;
    const open = options.openSession ?? (await import('../metrics/index.js')).createScorer;
    const session = await open({
      ...scoring,
      modelPath: options.modelPath,
      engine: options.engine ?? 'auto',
      backend: options.backend ?? 'auto',
      workers: options.threads ?? 1,
      ...(options.cachePath === undefined ? {} : { cachePath: options.cachePath }),
    });
    this.#emit({ kind: 'model', modelDigest: session.modelDigest, backend: session.backend });
    return session;
  }
}

/** The selected-ids snapshot of the current round, read from Redis once. */
class ExcludedCache {
  #digest: string | null = null;
  #ids: Promise<ReadonlySet<string>> = Promise.resolve(new Set());

  get(worker: Worker, data: ShardJobData): Promise<ReadonlySet<string>> {
    if (data.excluded.digest !== this.#digest) {
      this.#digest = data.excluded.digest;
      this.#ids = (async () => fetchExcluded(await worker.getBackend().client, data.excluded))();
      this.#ids.catch(() => {
        this.#digest = null;
      });
    }
    return this.#ids;
  }
}
