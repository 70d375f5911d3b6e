export type { BasisKey, CacheKey, CacheScope, CacheStats, CacheStore, CachedBasis, CachedScore, IdentifiedScore } from './cache-store.js';
export { MemoryCacheStore } from './memory-cache-store.js';
export { SqliteCacheStore } from './sqlite-cache-store.js';
export type { SqliteCacheStoreOptions } from './sqlite-cache-store.js';
export { openCacheStore } from './open-cache-store.js';
