/**
 * The scoring stage as one object: model, preprocessing, reference basis or centre, cache. `scorer(source)`
 * streams a pool and yields one ScoreEvent per image in pool order; cached images are neither decoded
 * nor run through the network.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { CacheScope, CachedScore, CacheStore } from '../cache/index.js';
import { openCacheStore } from '../cache/index.js';
import { RprError } from '../errors/index.js';
import type { EngineChoice, LoadedModel } from '../model/load-model.js';
import { loadModel } from '../model/load-model.js';
import type { BackendChoice } from '../model/tf-runtime.js';
import { createImageDecoder, defaultPreprocessing, preprocessingDigest, streamSamples } from '../pool/index.js';
import type { ImageDecoder } from '../pool/index.js';
import type { PoolSource, Preprocessing, Sample } from '../pool/types.js';
import type { PerSampleOptions } from './per-sample.js';
import { scorePerSample } from './per-sample.js';
import { checkBatchMemoryMB, perSampleBatchSize } from './batch-plan.js';
import type { ReferenceBasis } from './reference-basis.js';
import type { PreparedReference, ReferenceSetReport } from './reference-set.js';
import { prepareReference } from './reference-set.js';
import { rightProjectionRatios } from './ratios.js';
import { orderedBatches } from '../util/ordered-batches.js';
import type { Ordered } from '../util/ordered-batches.js';
import { ScoringWorkerPool } from './worker-pool.js';
import type { SvdMethod } from './svd-of-image.js';
import type { ScoreEvent, ScoreProgress, ScoreResult, Scorer } from './types.js';

export const SCORING_MODES = ['per-sample', 'reference'] as const;
export type ScoringMode = (typeof SCORING_MODES)[number];

export interface CreateScorerOptions {
  readonly modelPath: string;
  /** @defaultValue 'per-sample' */
  readonly mode?: ScoringMode;
  /** Ranks k of RPR_k. @defaultValue [1, 5, 10] */
  readonly ks?: readonly number[];
  /**
   * The SVD algorithm: of each A[x] in per-sample mode; of the stacked operator for the reference basis
   * in reference mode (ReferenceBasisOptions.method). @defaultValue 'auto'
   */
  readonly svd?: SvdMethod;
  /** Directory or manifest of reference images: the basis in reference mode, the centre with `center`. */
  readonly referenceDir?: string;
  /**
   * Most reference images the basis stacks: the first ones in source order; a larger set is cut, with a
   * warning. @defaultValue the most held in memory for this model (maxReferenceImages: 1 GiB of pixels)
   */
  readonly referenceLimit?: number;
  /** SQLite cache file; no cache when absent. */
  readonly cachePath?: string;
  /** Overrides of the preprocessing derived from the model's input and metadata.json. */
  readonly preprocessing?: Partial<Preprocessing>;
  /** @defaultValue 'auto' */
  readonly backend?: BackendChoice;
  /** Engine running the network: ONNX Runtime or TF.js; 'auto' takes ONNX Runtime when it loads. @defaultValue 'auto' */
  readonly engine?: EngineChoice;
  readonly squared?: boolean;
  readonly complement?: boolean;
  /**
   * Mean-centred RPR: project x − x̄ instead of x, x̄ the mean preprocessed image of the reference set
   * (`referenceDir`, required). In reference mode x̄ is the mean of the images that build the basis; in
   * per-sample mode, of the whole set. Not the pool's mean: a streamed pool has none before its end.
   * @defaultValue false
   */
  readonly center?: boolean;
  /** Keep a final softmax/sigmoid instead of working on logits. @defaultValue false */
  readonly keepFinalActivation?: boolean;
  /** Images decoded at once. */
  readonly decodeConcurrency?: number;
  /** Randomized SVD settings for large outputs. */
  readonly oversampling?: number;
  readonly powerIterations?: number;
  readonly seed?: number;
  /**
   * Worker threads for per-sample scoring, each with its own backend and a copy of the model (TF.js's
   * wasm backend uses one core). 1 scores on the calling thread; 'auto' takes one per core.
   * @defaultValue 1
   */
  readonly workers?: number | 'auto';
  /**
   * Most memory, in MB, the engines may hold for the batches being linearized, all scoring threads
   * together (each thread gets its share): sets how many images a batch takes (metrics/batch-plan.ts).
   * Scores do not depend on it.
   * @defaultValue 256
   */
  readonly batchMemoryMB?: number;
}

export interface ScorerStats {
  /** Images pushed through the network (forward and adjoint rows), since the scorer was created. */
  readonly networkPasses: number;
  /** Images whose bytes were decoded, since the scorer was created: a cache hit is not. */
  readonly imagesDecoded: number;
  readonly cacheHits: number;
  readonly cacheMisses: number;
}

export interface ScoringSession {
  readonly scorer: Scorer;
  readonly modelDigest: string;
  readonly backend: string;
  readonly mode: ScoringMode;
  readonly ks: readonly number[];
  readonly preprocessing: Preprocessing;
  readonly model: LoadedModel;
  readonly reference: ReferenceBasis | null;
  /** What was read of the reference set (reference mode or centring), else null. */
  readonly referenceSet: ReferenceSetReport | null;
  /** What the user should know about this session (a reference set cut to size), one line each. */
  readonly warnings: readonly string[];
  stats(): ScorerStats;
  close(): Promise<void>;
}

function checkKs(ks: readonly number[]): readonly number[] {
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new RprError('RPR_USAGE', `--k must be a list of positive integers, e.g. 1,5,10 (got ${ks.join(',') || 'nothing'})`, {
      k: ks.join(','),
    });
  }
  return [...new Set(ks)].sort((a, b) => a - b);
}

/** The preprocessing a model expects: its input size, metadata.json's scaling, then the overrides. */
export function modelPreprocessing(model: LoadedModel, overrides: Partial<Preprocessing> = {}): Preprocessing {
  const [h, w, c] = model.ir.inputShape as [number, number, number];
  if (c !== 1 && c !== 3) {
    throw new RprError('RPR_INPUT_SHAPE', `${model.path}: the model takes ${c} channels; rpr-select decodes images to 1 or 3`, {
      channels: c,
    });
  }
  const base = defaultPreprocessing([h, w, c]);
  const meta = model.metadata?.input ?? {};
  const pre: Preprocessing = {
    ...base,
    ...(meta.scale !== undefined ? { scale: meta.scale } : {}),
    ...(meta.mean ? { mean: meta.mean } : {}),
    ...(meta.std ? { std: meta.std } : {}),
    ...overrides,
  };
  if (pre.width !== w || pre.height !== h || pre.channels !== c) {
    throw new RprError(
      'RPR_INPUT_SHAPE',
      `preprocessing gives ${pre.height}×${pre.width}×${pre.channels} images but the model at ${model.path} takes ${h}×${w}×${c}`,
      { expected: `${h}x${w}x${c}` },
    );
  }
  return pre;
}

/** The reference set that reference mode and centring both need. */
function requireReference(mode: ScoringMode, referenceDir: string | undefined): string {
  if (referenceDir) return referenceDir;
  throw new RprError(
    'RPR_USAGE',
    mode === 'reference'
      ? 'reference mode needs a reference set: pass --reference DIR (e.g. the labeled images)'
      : 'centring subtracts the mean image of the reference set: pass --reference DIR (e.g. the labeled images), or drop --center',
  );
}

function digestOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

export async function createScorer(options: CreateScorerOptions): Promise<ScoringSession> {
  const mode = options.mode ?? 'per-sample';
  if (!(SCORING_MODES as readonly string[]).includes(mode)) {
    throw new RprError('RPR_UNKNOWN_NAME', `unknown scoring mode '${mode}'; valid modes: ${SCORING_MODES.join(', ')}`);
  }
  const ks = checkKs(options.ks ?? [1, 5, 10]);
  const referenceDir = mode === 'reference' || options.center ? requireReference(mode, options.referenceDir) : null;
  const { referenceLimit } = options;
  const batchMemoryMB = checkBatchMemoryMB(options.batchMemoryMB);
  if (referenceLimit !== undefined && !(Number.isInteger(referenceLimit) && referenceLimit >= 1)) {
    throw new RprError('RPR_USAGE', `referenceLimit must be a positive integer (got ${referenceLimit})`, { option: 'referenceLimit' });
  }
  const model = await loadModel(options.modelPath, {
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.engine ? { engine: options.engine } : {}),
    keepFinalActivation: options.keepFinalActivation ?? false,
  });
  const executor = model.executor;
  const preprocessing = modelPreprocessing(model, options.preprocessing);
  const cache: CacheStore | null = options.cachePath ? openCacheStore(options.cachePath) : null;
  let prepared: PreparedReference | null = null;
  try {
    if (referenceDir !== null) {
      prepared = await prepareReference({
        executor,
        spec: referenceDir,
        preprocessing,
        basisRank: mode === 'reference' ? Math.max(...ks) : null,
        center: options.center ?? false,
        cache,
        ...(referenceLimit !== undefined ? { limit: referenceLimit } : {}),
        basisOptions: {
          method: options.svd ?? 'auto',
          ...(options.oversampling !== undefined ? { oversampling: options.oversampling } : {}),
          ...(options.powerIterations !== undefined ? { powerIterations: options.powerIterations } : {}),
          ...(options.seed !== undefined ? { seed: options.seed } : {}),
        },
      });
    }
  } catch (error) {
    cache?.close();
    executor.dispose();
    throw error;
  }
  const reference = prepared?.basis ?? null;
  const center = prepared?.center ?? null;

  const ratioOptions: PerSampleOptions = {
    ks,
    svd: options.svd ?? 'auto',
    squared: options.squared ?? false,
    complement: options.complement ?? false,
    center,
    ...(options.oversampling !== undefined ? { oversampling: options.oversampling } : {}),
    ...(options.powerIterations !== undefined ? { powerIterations: options.powerIterations } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  };

  const scope: CacheScope = {
    modelDigest: model.ir.digest,
    preprocessingDigest: preprocessingDigest(preprocessing),
    mode,
    ranks: ks.join(','),
    optionsDigest: digestOf({
      svd: ratioOptions.svd,
      squared: ratioOptions.squared,
      complement: ratioOptions.complement,
      oversampling: ratioOptions.oversampling ?? null,
      powerIterations: ratioOptions.powerIterations ?? null,
      seed: ratioOptions.seed ?? null,
      reference: reference?.digest ?? null,
      center: center ? createHash('sha256').update(new Uint8Array(center.buffer, center.byteOffset, center.byteLength)).digest('hex') : null,
    }),
  };

  const requested = options.workers === 'auto' ? availableParallelism() : (options.workers ?? 1);
  const workers = mode === 'per-sample' ? Math.max(1, Math.floor(requested)) : 1;
  const threadOptions: PerSampleOptions = { ...ratioOptions, batchMemoryMB: batchMemoryMB / workers };
  const batchSize = reference ? 256 : perSampleBatchSize(executor, threadOptions);
  const pool =
    workers > 1
      ? await ScoringWorkerPool.start(workers, {
          modelPath: options.modelPath,
          backend: options.backend ?? 'auto',
          // The engine this thread resolved 'auto' to: every thread scores on the same one.
          engine: model.engine,
          keepFinalActivation: options.keepFinalActivation ?? false,
          options: threadOptions,
        })
      : null;

  const computeBatch = async (batch: readonly Sample[]): Promise<ScoreResult[]> => {
    if (reference) {
      const basis = reference;
      return batch.map((s) => {
        const r = rightProjectionRatios(basis.v, basis.rank, s.pixels, ks, ratioOptions);
        const base = { id: s.id, uri: s.uri, sigma: null, predicted: null, logits: null };
        return r.ok ? { ...base, rpr: r.ratios, coords: r.coords } : { ...base, rpr: null, coords: null, error: r.error };
      });
    }
    return pool ? pool.score(batch) : scorePerSample(executor, batch, threadOptions);
  };

  /** Misses only: hits never reach here (the stream answers them from the cache before decoding). */
  const scoreFresh = async (batch: readonly Sample[]): Promise<ScoreEvent[]> => {
    const fresh = await computeBatch(batch);
    if (cache && fresh.length > 0) cache.putMany(scope, fresh);
    return fresh.map((result) => ({ kind: 'score', result }));
  };

  const decodeBytes = createImageDecoder(preprocessing);
  let imagesDecoded = 0;
  const decoder: ImageDecoder = (bytes) => {
    imagesDecoded++;
    return decodeBytes(bytes);
  };

  const scorer: Scorer = (source: PoolSource, run = {}) => ({
    async *[Symbol.asyncIterator](): AsyncIterator<ScoreEvent> {
      const started = Date.now();
      let done = 0;
      let skipped = 0;
      const report = () => {
        const seconds = Math.max((Date.now() - started) / 1000, 1e-3);
        const progress: ScoreProgress = { done, skipped, total: null, imagesPerSecond: done / seconds };
        run.onProgress?.(progress);
      };
      // The cache is asked right after hashing, 256 ids at a time: a hit is never decoded.
      const stream = streamSamples<CachedScore>(source, preprocessing, {
        decoder,
        ...(cache ? { lookup: (ids: readonly string[]) => cache.getMany(scope, ids) } : {}),
        ...(options.decodeConcurrency ? { concurrency: options.decodeConcurrency } : {}),
        ...(run.signal ? { signal: run.signal } : {}),
      });
      async function* items(): AsyncGenerator<Ordered<Sample, ScoreEvent>> {
        for await (const event of stream) {
          if (event.kind === 'sample') yield { work: event.sample };
          else if (event.kind === 'known') yield { ready: { kind: 'score', result: { ...event.value, id: event.id, uri: event.uri } } };
          else yield { ready: event };
        }
      }
      // Up to two batches per worker in flight; events are yielded in pool order.
      const maxInFlight = pool ? pool.size * 2 : 1;
      for await (const event of orderedBatches(items(), scoreFresh, { batchSize, maxInFlight })) {
        if (event.kind === 'score') done++;
        else skipped++;
        yield event;
        if ((done + skipped) % batchSize === 0) report();
      }
      report();
    },
  });

  return {
    scorer,
    modelDigest: model.ir.digest,
    backend: model.backend,
    mode,
    ks,
    preprocessing,
    model,
    reference,
    referenceSet: prepared?.report ?? null,
    warnings: prepared?.warnings ?? [],
    stats() {
      const c = cache?.stats();
      return {
        networkPasses: executor.passes + (pool?.passes ?? 0),
        imagesDecoded,
        cacheHits: c?.hits ?? 0,
        cacheMisses: c?.misses ?? 0,
      };
    },
    async close() {
      await pool?.close();
      cache?.close();
      executor.dispose();
    },
  };
}
