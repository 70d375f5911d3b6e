import { createHash } from 'node:crypto';
import { excludedSnapshot, fetchExcluded, publishExcluded, type SnapshotStore } from './excluded-ids.js';

/** A map standing in for Redis's GET/SET/DEL. */
function memoryStore(): SnapshotStore & { readonly data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    get: async (key) => data.get(key) ?? null,
    set: async (key, value) => void data.set(key, value),
    del: async (...keys) => keys.filter((key) => data.delete(key)).length,
  };
}

describe('the selected-ids snapshot', () => {
  const ids = new Set(['c'.repeat(64), 'a'.repeat(64), 'b'.repeat(64)]);

  it('round-trips through the store under a key named by the sha256 of its sorted lines', async () => {
    const store = memoryStore();
    const ref = await publishExcluded(store, 'rpr-select:q', ids);
    const text = ['a', 'b', 'c'].map((c) => c.repeat(64)).join('\n');
    expect(ref).toEqual({ count: 3, digest: createHash('sha256').update(text).digest('hex'), key: `rpr-select:q:excluded:${ref.digest}` });
    expect(store.data.get(ref.key!)).toBe(text);
    expect(await fetchExcluded(store, ref)).toEqual(ids);
    // Insertion order does not matter: the same ids give the same key.
    expect((await publishExcluded(store, 'rpr-select:q', new Set([...ids].reverse()))).key).toBe(ref.key);
  });

  it('stores nothing when no id is excluded', async () => {
    const store = memoryStore();
    const ref = await publishExcluded(store, 'ns', new Set());
    expect(ref).toEqual({ count: 0, digest: excludedSnapshot(new Set()).digest, key: null });
    expect(store.data.size).toBe(0);
    expect(await fetchExcluded(store, ref)).toEqual(new Set());
  });

  it('refuses a snapshot that is gone or was altered', async () => {
    const store = memoryStore();
    const ref = await publishExcluded(store, 'ns', ids);
    store.data.set(ref.key!, `${store.data.get(ref.key!)}\n${'d'.repeat(64)}`);
    await expect(fetchExcluded(store, ref)).rejects.toThrow(/does not match its digest/);
    store.data.clear();
    await expect(fetchExcluded(store, ref)).rejects.toThrow(/is gone from Redis/);
  });
});
