import { RprError } from '../errors/index.js';
import type { BasisKey, CacheKey, CacheScope, CacheStats, CacheStore, CachedBasis, CachedScore, IdentifiedScore } from './cache-store.js';
import { checkCachedBasis, checkCachedScore, copyCachedBasis, copyCachedScore } from './cached-score.js';

/** A cache held in a Map, for tests and one-off runs; gone when the process ends. */
export class MemoryCacheStore implements CacheStore {
  readonly location = 'memory';
  #entries = new Map<string, CachedScore>();
  #bases = new Map<string, CachedBasis>();
  #hits = 0;
  #misses = 0;
  #writes = 0;
  #closed = false;

  get(key: CacheKey): CachedScore | undefined {
    return this.getMany(key, [key.sampleId]).get(key.sampleId);
  }

  getMany(scope: CacheScope, sampleIds: readonly string[]): Map<string, CachedScore> {
    this.#checkOpen();
    const found = new Map<string, CachedScore>();
    for (const id of new Set(sampleIds)) {
      const value = this.#entries.get(entryKey(scope, id));
      if (value === undefined) this.#misses++;
      else {
        this.#hits++;
        found.set(id, copyCachedScore(value));
      }
    }
    return found;
  }

  put(key: CacheKey, value: CachedScore): void {
    this.putMany(key, [{ ...value, id: key.sampleId }]);
  }

  putMany(scope: CacheScope, scores: readonly IdentifiedScore[]): void {
    this.#checkOpen();
    for (const score of scores) checkCachedScore(this.location, score.id, score);
    for (const score of scores) this.#entries.set(entryKey(scope, score.id), copyCachedScore(score));
    this.#writes += scores.length;
  }

  getBasis(key: BasisKey): CachedBasis | undefined {
    this.#checkOpen();
    const basis = this.#bases.get(basisKey(key));
    return basis && copyCachedBasis(basis);
  }

  putBasis(key: BasisKey, basis: CachedBasis): void {
    this.#checkOpen();
    checkCachedBasis(this.location, key, basis);
    this.#bases.set(basisKey(key), copyCachedBasis(basis));
  }

  stats(): CacheStats {
    return { hits: this.#hits, misses: this.#misses, writes: this.#writes };
  }

  close(): void {
    this.#closed = true;
    this.#entries.clear();
    this.#bases.clear();
  }

  #checkOpen(): void {
    if (this.#closed) throw new RprError('RPR_CACHE', 'cache memory: used after close()', { path: this.location });
  }
}

function entryKey(scope: CacheScope, sampleId: string): string {
  const { modelDigest, preprocessingDigest, mode, ranks, optionsDigest } = scope;
  return JSON.stringify([modelDigest, preprocessingDigest, mode, ranks, optionsDigest, sampleId]);
}

function basisKey(key: BasisKey): string {
  return JSON.stringify([key.modelDigest, key.preprocessingDigest, key.referenceDigest, key.k, key.settings]);
}
