import { resolve } from 'node:path';
import { RprError } from '../errors/index.js';
import { createHttpDispatcher, fetchBytes, mapOrdered, type PoolEntry, type PoolSource } from '../pool/index.js';
import { readImageFile } from '../pool/read-image-file.js';
import type { Shard, ShardEntry } from './shard-job.js';

/** Entries loaded at once, as a manifest pool does; output keeps the shard's order. */
const LOAD_CONCURRENCY = 8;

/**
 * A shard as a pool source, on the worker: its paths read from the shared file system, its URLs
 * fetched, its unusable entries passed on as skipped; bytes come out in shard order.
 */
export function shardSource(shard: Shard): PoolSource {
  return {
    description: `shard ${shard.index} (${shard.entries.length} entries under ${shard.base})`,
    async *entries(signal?: AbortSignal): AsyncGenerator<PoolEntry, void, undefined> {
      const dispatcher = createHttpDispatcher();
      try {
        yield* mapOrdered(listed(shard.entries), (entry) => load(entry, shard.base, dispatcher, signal), {
          concurrency: LOAD_CONCURRENCY,
          ...(signal === undefined ? {} : { signal }),
        });
      } finally {
        await dispatcher.destroy();
      }
    },
  };
}

async function* listed(entries: readonly ShardEntry[]): AsyncGenerator<ShardEntry, void, undefined> {
  yield* entries;
}

async function load(entry: ShardEntry, base: string, dispatcher: ReturnType<typeof createHttpDispatcher>, signal: AbortSignal | undefined): Promise<PoolEntry> {
  if (typeof entry !== 'string') return { kind: 'skipped', uri: entry.uri, reason: entry.reason };
  if (!/^https?:\/\//i.test(entry)) return readImageFile(resolve(base, entry));
  try {
    return { kind: 'image', uri: entry, bytes: await fetchBytes(entry, { dispatcher }, signal) };
  } catch (error) {
    if (!(error instanceof RprError && error.code === 'RPR_FETCH')) throw error;
    return { kind: 'skipped', uri: entry, reason: error.message };
  }
}
