import type { CacheStore } from './cache-store.js';
import { MemoryCacheStore } from './memory-cache-store.js';
import { SqliteCacheStore, type SqliteCacheStoreOptions } from './sqlite-cache-store.js';

/** `memory` (or `:memory:`) keeps the cache in this process; anything else is a SQLite file path. */
export function openCacheStore(location: string, options: SqliteCacheStoreOptions = {}): CacheStore {
  if (location === 'memory' || location === ':memory:') return new MemoryCacheStore();
  return new SqliteCacheStore(location, options);
}
