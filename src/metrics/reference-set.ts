/**
 * The reference set (e.g. the labeled images) as scoring uses it: in reference mode, the basis of the
 * operator stacked over its images, kept in the cache so a re-run makes no network pass; with
 * centring, its mean image. The basis holds the images in memory while it is built, at most
 * `maxReferenceImages` of them (1 GiB of float32 pixels), so a larger set is cut to its first images
 * in source order, and the cut is reported, never silent.
 */
import { createHash } from 'node:crypto';
import type { BasisKey, CacheStore } from '../cache/index.js';
import { RprError } from '../errors/index.js';
import type { Executor } from '../model/executor.js';
import { sizeOf } from '../model/ir.js';
import { collectSamples, createPoolSource, preprocessingDigest, streamSamples } from '../pool/index.js';
import type { Preprocessing, Sample } from '../pool/types.js';
import type { BasisConvergence, ReferenceBasis, ReferenceBasisOptions } from './reference-basis.js';
import { basisDigest, buildReferenceBasis, convergenceWarning, maxReferenceImages, planReferenceBasis } from './reference-basis.js';

/** What was read of the reference set, for the run's summary. */
export interface ReferenceSetReport {
  /** The reference directory or manifest. */
  readonly source: string;
  /** Images used: those stacked into the basis (reference mode), or all usable ones (the centre alone). */
  readonly images: number;
  /**
   * Most images the basis takes for this model (those held in memory while it is built, 1 GiB of
   * pixels, or the caller's limit); null when no basis is built (per-sample mode).
   */
  readonly limit: number | null;
  /** The set held more usable images than `limit`: the basis uses the first `limit` in source order. */
  readonly truncated: boolean;
  /** Whether the basis came from the cache (no network pass); null when no basis is built. */
  readonly basisFromCache: boolean | null;
  /** How the basis was computed: exact, lanczos or randomized; null when no basis is built. */
  readonly method: ReferenceBasis['method'] | null;
  /** How an iterative basis converged (residuals, passes); null for an exact one or none. */
  readonly convergence: BasisConvergence | null;
}

export interface PreparedReference {
  /** The reference basis (reference mode), else null. */
  readonly basis: ReferenceBasis | null;
  /** The mean image of the images used, when centring; else null. */
  readonly center: Float32Array | null;
  readonly report: ReferenceSetReport;
  /** What the user should know (a cut set), one line each. */
  readonly warnings: readonly string[];
}

export interface PrepareReferenceOptions {
  readonly executor: Executor;
  /** The reference directory or manifest. */
  readonly spec: string;
  readonly preprocessing: Preprocessing;
  /** Rank of the basis to build (the largest k); null builds none (per-sample mode: the centre only). */
  readonly basisRank: number | null;
  /** Whether to compute the mean image. */
  readonly center: boolean;
  /** Most images the basis stacks. @defaultValue the most held in memory for this model (maxReferenceImages) */
  readonly limit?: number;
  /** How the basis is computed (scoring.svd and the randomized settings). */
  readonly basisOptions?: ReferenceBasisOptions;
  /** Where bases are kept between runs; null rebuilds every time. */
  readonly cache: CacheStore | null;
}

export async function prepareReference(options: PrepareReferenceOptions): Promise<PreparedReference> {
  const { executor, spec, preprocessing, basisRank } = options;
  if (basisRank === null) {
    // Per-sample mode needs no basis, so the centre is the mean of the whole set, however large.
    const { mean, images } = await meanImage(spec, pixelsOf(spec, preprocessing), sizeOf(executor.ir.inputShape));
    return {
      basis: null,
      center: mean,
      report: { source: spec, images, limit: null, truncated: false, basisFromCache: null, method: null, convergence: null },
      warnings: [],
    };
  }
  const limit = Math.min(options.limit ?? Infinity, maxReferenceImages(executor));
  const { samples, truncated } = await firstSamples(spec, preprocessing, limit);
  if (samples.length === 0) {
    throw new RprError('RPR_POOL_EMPTY', `the reference set ${spec} has no usable images; point --reference at a directory of images`);
  }
  const { settings } = planReferenceBasis(executor, samples.length, basisRank, options.basisOptions);
  const key: BasisKey = {
    modelDigest: executor.ir.digest,
    preprocessingDigest: preprocessingDigest(preprocessing),
    referenceDigest: createHash('sha256').update(samples.map((s) => s.id).join('\n')).digest('hex'),
    k: basisRank,
    settings,
  };
  const cached = options.cache?.getBasis(key);
  const basis = cached ? { ...cached, digest: basisDigest(cached.v) } : await buildReferenceBasis(executor, samples, basisRank, options.basisOptions);
  if (!cached) options.cache?.putBasis(key, basis);
  const center = options.center ? (await meanImage(spec, samples.map((s) => s.pixels), sizeOf(executor.ir.inputShape))).mean : null;
  const warnings = [
    ...(truncated
      ? [`the reference set ${spec} has more than ${limit} usable images, the most the reference basis takes here; it uses the first ${limit} in source order`]
      : []),
    ...[convergenceWarning(basis)].filter((w): w is string => w !== null),
  ];
  const report: ReferenceSetReport = {
    source: spec,
    images: samples.length,
    limit,
    truncated,
    basisFromCache: cached !== undefined,
    method: basis.method,
    convergence: basis.convergence,
  };
  return { basis, center, report, warnings };
}

/** The first `limit` usable images of a set, and whether there were more. */
async function firstSamples(spec: string, pre: Preprocessing, limit: number): Promise<{ samples: Sample[]; truncated: boolean }> {
  const { samples } = await collectSamples(await createPoolSource(spec), pre, limit + 1);
  return { samples: samples.slice(0, limit), truncated: samples.length > limit };
}

async function* pixelsOf(spec: string, pre: Preprocessing): AsyncIterable<Float32Array> {
  for await (const event of streamSamples(await createPoolSource(spec), pre)) {
    if (event.kind === 'sample') yield event.sample.pixels;
  }
}

/** The mean of a set's images, accumulated in float64. */
async function meanImage(spec: string, images: AsyncIterable<Float32Array> | Iterable<Float32Array>, n: number): Promise<{ mean: Float32Array; images: number }> {
  const sum = new Float64Array(n);
  let count = 0;
  for await (const pixels of images) {
    for (let i = 0; i < n; i++) sum[i] += pixels[i]!;
    count++;
  }
  if (count === 0) {
    throw new RprError('RPR_POOL_EMPTY', `the reference set ${spec} has no usable images, so it has no mean image to centre on; point --reference at a directory of images`);
  }
  return { mean: Float32Array.from(sum, (s) => s / count), images: count };
}
