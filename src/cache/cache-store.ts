import type { ReferenceBasis } from '../metrics/reference-basis.js';
import type { ScoreResult } from '../metrics/types.js';

/**
 * Everything a cached score depends on. Any part changing is a miss: a retrained model, another
 * preprocessing, other bytes, another scoring mode, other ranks, other scoring options.
 */
export interface CacheKey {
  readonly modelDigest: string;
  readonly preprocessingDigest: string;
  /** sha256 hex of the image bytes. */
  readonly sampleId: string;
  /** Scoring mode, e.g. 'per-sample' or 'reference'. */
  readonly mode: string;
  /** The ranks scored, canonical, e.g. "1,5,10". */
  readonly ranks: string;
  /** Digest of the remaining scoring options (squared, complement, centring, SVD settings…). */
  readonly optionsDigest: string;
}

/** The key parts a batch of samples shares. */
export type CacheScope = Omit<CacheKey, 'sampleId'>;

/** The part of a ScoreResult worth caching: all of it but the id (the key) and the uri (where it is). */
export type CachedScore = Pick<ScoreResult, 'rpr' | 'sigma' | 'predicted' | 'logits' | 'coords' | 'error'>;

/** A score with its sample id, as `putMany` takes them; a ScoreResult is one. */
export type IdentifiedScore = CachedScore & { readonly id: string };

/**
 * Everything a reference basis (reference mode: the top right singular vectors of the operator stacked
 * over a reference set) depends on. Scoring options (squared, complement, centring) act after the
 * projection and are part of the score keys, not of this one.
 */
export interface BasisKey {
  readonly modelDigest: string;
  readonly preprocessingDigest: string;
  /** Digest of the reference set's sample ids, in the order they were stacked. */
  readonly referenceDigest: string;
  /** The rank asked for (the largest k). */
  readonly k: number;
  /**
   * The resolved method and the settings that change its result (ReferenceBasisPlan.settings, canonical
   * JSON): an exact basis and a Lanczos one, or two seeds, are different bases.
   */
  readonly settings: string;
}

/** A reference basis as stored: all of it but its digest (a function of `v`). */
export type CachedBasis = Pick<ReferenceBasis, 'v' | 'rank' | 'sigma' | 'images' | 'method' | 'convergence'>;

export interface CacheStats {
  /** Lookups that found a score (each id of a `getMany` counts once). */
  readonly hits: number;
  readonly misses: number;
  /** Scores written. */
  readonly writes: number;
}

/**
 * The SVD/score cache: a re-run on an unchanged pool recomputes nothing, and a re-run in reference mode
 * rebuilds no basis. Values come back exactly as stored (every float bit, NaN and −0 included).
 * Failures are RPR_CACHE errors naming the store. Synchronous, because both stores are in-process; a
 * networked store would need an async twin.
 */
export interface CacheStore {
  /** Where the cache lives, for messages. */
  readonly location: string;
  get(key: CacheKey): CachedScore | undefined;
  /** Batched lookup: the hits, by sample id; ids not in the result are misses. */
  getMany(scope: CacheScope, sampleIds: readonly string[]): Map<string, CachedScore>;
  put(key: CacheKey, value: CachedScore): void;
  /** Writes all the scores or none of them (one transaction). */
  putMany(scope: CacheScope, scores: readonly IdentifiedScore[]): void;
  /** The reference basis stored under this key, every float bit as stored; not counted in `stats`. */
  getBasis(key: BasisKey): CachedBasis | undefined;
  /** Stores a reference basis, replacing any under the same key. */
  putBasis(key: BasisKey, basis: CachedBasis): void;
  stats(): CacheStats;
  close(): void;
}
