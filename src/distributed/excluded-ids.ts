/**
 * The ids selected in earlier rounds, shipped to the workers once per round instead of once per job:
 * the coordinator stores one snapshot in Redis under a key named by its digest, each job carries the
 * key and digest, and a worker reads the snapshot once, so it passes over those images exactly as a
 * local round does (and its shortlist needs no margin for them). 64 bytes per id: a million ids are
 * a 65 MB string, well within Redis's 512 MB limit.
 */
import { createHash } from 'node:crypto';
import type { ExcludedRef } from './shard-job.js';

/** The Redis commands the snapshot needs (BullMQ's client has them). */
export interface SnapshotStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options?: { EX?: number }): Promise<unknown>;
  del(...keys: string[]): Promise<number>;
}

/** How long a snapshot outlives its round's coordinator: as long as the round's jobs are kept. */
export const SNAPSHOT_TTL_SECONDS = 7 * 24 * 3600;

/** The snapshot of `ids` as stored: sorted, one per line, with its digest. */
export function excludedSnapshot(ids: ReadonlySet<string>): { readonly text: string; readonly digest: string } {
  const text = [...ids].sort().join('\n');
  return { text, digest: sha256(text) };
}

/** Stores the snapshot (idempotent: same ids, same key) and returns what jobs carry. */
export async function publishExcluded(store: SnapshotStore, namespace: string, ids: ReadonlySet<string>): Promise<ExcludedRef> {
  const { text, digest } = excludedSnapshot(ids);
  if (ids.size === 0) return { count: 0, digest, key: null };
  const key = `${namespace}:excluded:${digest}`;
  await store.set(key, text, { EX: SNAPSHOT_TTL_SECONDS });
  return { count: ids.size, digest, key };
}

/** Reads a snapshot back; an Error naming the key when it is gone (expired) or does not match its digest. */
export async function fetchExcluded(store: SnapshotStore, ref: ExcludedRef): Promise<ReadonlySet<string>> {
  if (ref.key === null) return new Set();
  const text = await store.get(ref.key);
  if (text === null) throw new Error(`the selected-ids snapshot ${ref.key} is gone from Redis (expired?); run select again to store it`);
  if (sha256(text) !== ref.digest) throw new Error(`the selected-ids snapshot ${ref.key} does not match its digest`);
  const ids = new Set(text.split('\n'));
  if (ids.size !== ref.count) throw new Error(`the selected-ids snapshot ${ref.key} holds ${ids.size} ids, the job says ${ref.count}`);
  return ids;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
