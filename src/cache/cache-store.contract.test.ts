import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScoreResult } from '../metrics/types.js';
import type { BasisKey, CacheKey, CacheScope, CacheStore, CachedBasis, CachedScore } from './cache-store.js';
import { MemoryCacheStore } from './memory-cache-store.js';
import { SqliteCacheStore } from './sqlite-cache-store.js';

/**
 * Floats a lossy encoding would change: −0, NaN, infinities, a subnormal, values with no short decimal
 * form. toEqual compares numbers with Object.is, so −0 ≠ 0 and NaN = NaN.
 */
const TRICKY = [0.1 + 0.2, -0, Number.NaN, Infinity, -Infinity, 5e-324, Number.MAX_VALUE, 1 / 3, Math.fround(0.7)];

const scope: CacheScope = {
  modelDigest: 'a'.repeat(64),
  preprocessingDigest: 'b'.repeat(64),
  mode: 'per-sample',
  ranks: '1,5,10',
  optionsDigest: 'c'.repeat(64),
};
const keyOf = (sampleId: string): CacheKey => ({ ...scope, sampleId });

function score(seed: number): CachedScore {
  return {
    rpr: { '1': 0.1 * seed, '5': 0.5 + seed / 7, '10': 1 / (seed + 3) },
    sigma: [10 + seed, 5.5, 1e-7, 0],
    predicted: seed % 10,
    logits: Array.from({ length: 10 }, (_, i) => Math.sin(seed + i)),
    coords: [Math.cos(seed), -Math.sin(seed)],
  };
}

const basisKey: BasisKey = {
  modelDigest: 'a'.repeat(64),
  preprocessingDigest: 'b'.repeat(64),
  referenceDigest: 'd'.repeat(64),
  k: 10,
  settings: '{"method":"exact"}',
};

function basis(seed: number, rank = 3, n = 5): CachedBasis {
  return {
    v: Float64Array.from({ length: rank * n }, (_, i) => Math.sin(seed + i) / 3),
    rank,
    sigma: Float64Array.from({ length: rank }, (_, i) => 10 / (i + 1) + seed),
    images: 4 + seed,
    method: 'lanczos',
    convergence: { residuals: Array.from({ length: rank }, (_, i) => 1e-6 / (i + seed)), tol: 1e-5, converged: true, passes: 7 + seed },
  };
}

const root = mkdtempSync(join(tmpdir(), 'rpr-cache-contract-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let files = 0;
/** Every CacheStore runs this one suite: a new store is one more line here, opening a fresh, empty store. */
const implementations: [string, () => CacheStore][] = [
  ['MemoryCacheStore', () => new MemoryCacheStore()],
  ['SqliteCacheStore', () => new SqliteCacheStore(join(root, `cache-${++files}.sqlite`))],
];

describe.each(implementations)('CacheStore contract: %s', (_name, open) => {
  let store: CacheStore;
  beforeEach(() => {
    store = open();
  });
  afterEach(() => store.close());

  it('misses on an empty store and counts the miss', () => {
    expect(store.get(keyOf('x'))).toBeUndefined();
    expect(store.stats()).toEqual({ hits: 0, misses: 1, writes: 0 });
  });

  it('gives back every float bit, nulls, empty arrays and the error text as stored', () => {
    const exact: CachedScore = {
      rpr: Object.fromEntries(TRICKY.map((v, i) => [`${i + 1}`, v])),
      sigma: TRICKY,
      predicted: 7,
      logits: [...TRICKY].reverse(),
      coords: [],
    };
    const empty: CachedScore = {
      rpr: null,
      sigma: null,
      predicted: null,
      logits: null,
      coords: null,
      error: 'zero image: ‖x‖ = 0',
    };
    store.put(keyOf('exact'), exact);
    store.put(keyOf('empty'), empty);
    expect(store.get(keyOf('exact'))).toEqual(exact);
    expect(store.get(keyOf('empty'))).toEqual(empty);
    expect(store.stats()).toEqual({ hits: 2, misses: 0, writes: 2 });
  });

  it('misses when any one key part changes', () => {
    store.put(keyOf('s1'), score(1));
    const key = keyOf('s1');
    for (const part of Object.keys(key) as (keyof CacheKey)[]) {
      expect(store.get({ ...key, [part]: `${key[part]}-changed` })).toBeUndefined();
    }
    expect(store.get(key)).toEqual(score(1));
  });

  it('replaces the value stored under the same key', () => {
    store.put(keyOf('s'), score(1));
    store.put(keyOf('s'), score(2));
    expect(store.get(keyOf('s'))).toEqual(score(2));
  });

  it('putMany stores ScoreResults by id; getMany returns the hits only, counting each id once', () => {
    const results: ScoreResult[] = Array.from({ length: 1500 }, (_, i) => ({ id: `id-${i}`, uri: `/pool/${i}.png`, ...score(i) }));
    store.putMany(scope, results);
    const wanted = ['id-3', 'nope', 'id-1499', 'id-3', 'id-0'];
    const found = store.getMany(scope, wanted);
    expect([...found.keys()].sort()).toEqual(['id-0', 'id-1499', 'id-3']);
    expect(found.get('id-1499')).toEqual(score(1499));
    expect(found.get('id-0')).not.toHaveProperty('uri');
    expect(store.stats()).toEqual({ hits: 3, misses: 1, writes: 1500 });
    expect(store.getMany(scope, results.map((r) => r.id)).size).toBe(1500);
    expect(store.getMany(scope, []).size).toBe(0);
    expect(store.getMany({ ...scope, ranks: '1' }, ['id-0']).size).toBe(0);
  });

  it('putMany is atomic: a bad value in the batch stores none of it', () => {
    const batch = [
      { id: 'ok-1', ...score(1) },
      { id: 'ok-2', ...score(2) },
      { id: 'bad', ...score(3), predicted: 2.5 },
      { id: 'ok-4', ...score(4) },
    ];
    expect(() => store.putMany(scope, batch)).toThrow(
      expect.objectContaining({ code: 'RPR_CACHE', message: expect.stringContaining("'bad'") }),
    );
    expect(store.getMany(scope, ['ok-1', 'ok-2', 'bad', 'ok-4']).size).toBe(0);
    expect(store.stats().writes).toBe(0);
  });

  it('keeps its own copy: changing the stored or returned arrays changes nothing inside', () => {
    const value = { ...score(5), sigma: [3, 2, 1], rpr: { '1': 0.25 } };
    store.put(keyOf('m'), value);
    value.sigma[0] = 99;
    value.rpr['1'] = 99;
    const got = store.get(keyOf('m'));
    expect(got?.sigma).toEqual([3, 2, 1]);
    (got?.sigma as number[])[1] = 99;
    expect(store.get(keyOf('m'))?.sigma).toEqual([3, 2, 1]);
    expect(store.get(keyOf('m'))?.rpr).toEqual({ '1': 0.25 });
  });

  it('fails with RPR_CACHE after close()', () => {
    store.close();
    expect(() => store.get(keyOf('x'))).toThrow(expect.objectContaining({ code: 'RPR_CACHE' }));
    expect(() => store.put(keyOf('x'), score(1))).toThrow(expect.objectContaining({ code: 'RPR_CACHE' }));
    expect(() => store.getBasis(basisKey)).toThrow(expect.objectContaining({ code: 'RPR_CACHE' }));
    expect(() => store.putBasis(basisKey, basis(1))).toThrow(expect.objectContaining({ code: 'RPR_CACHE' }));
  });

  it('gives back a reference basis to the bit, misses when any key part changes, and keeps scores apart', () => {
    expect(store.getBasis(basisKey)).toBeUndefined();
    const exact: CachedBasis = { v: Float64Array.from([...TRICKY, 0]), rank: 2, sigma: Float64Array.from([3, 5e-324]), images: 7, method: 'exact', convergence: null };
    store.putBasis(basisKey, exact);
    expect(store.getBasis(basisKey)).toEqual(exact);
    const iterative: CachedBasis = { ...basis(3, 2, 4), convergence: { residuals: [1 / 3, 2 ** -1074], tol: 1e-5, converged: false, passes: 40 } };
    store.putBasis({ ...basisKey, settings: '{"method":"lanczos","seed":1}' }, iterative);
    expect(store.getBasis({ ...basisKey, settings: '{"method":"lanczos","seed":1}' })).toEqual(iterative);
    expect(store.getBasis(basisKey)).toEqual(exact);
    for (const part of ['modelDigest', 'preprocessingDigest', 'referenceDigest', 'settings'] as const) {
      expect(store.getBasis({ ...basisKey, [part]: `${basisKey[part]}-changed` })).toBeUndefined();
    }
    expect(store.getBasis({ ...basisKey, k: 11 })).toBeUndefined();
    // Bases are not scores: they neither answer score lookups nor count in the score statistics.
    expect(store.get(keyOf('x'))).toBeUndefined();
    expect(store.stats()).toEqual({ hits: 0, misses: 1, writes: 0 });
  });

  it('replaces a basis stored under the same key, and keeps its own copy of the arrays', () => {
    store.putBasis(basisKey, basis(1));
    const second = basis(2, 4, 6);
    store.putBasis(basisKey, second);
    second.v[0] = 99;
    second.sigma[0] = 99;
    const got = store.getBasis(basisKey)!;
    expect(got).toEqual(basis(2, 4, 6));
    got.v[1] = 99;
    expect(store.getBasis(basisKey)).toEqual(basis(2, 4, 6));
  });

  it('rejects a basis it could not give back as it was, storing nothing', () => {
    const bad: [string, CachedBasis][] = [
      ['rank', { ...basis(1), rank: 1.5 }],
      ['v', { ...basis(1), v: new Float64Array(7) }],
      ['images', { ...basis(1), images: -1 }],
      ['method', { ...basis(1), method: 'dense' as CachedBasis['method'] }],
      ['convergence', { ...basis(1), convergence: { residuals: [1e-6], tol: 1e-5, converged: true, passes: 1.5 } }],
    ];
    for (const [field, value] of bad) {
      expect(() => store.putBasis(basisKey, value)).toThrow(expect.objectContaining({ code: 'RPR_CACHE', message: expect.stringContaining(field) }));
    }
    expect(store.getBasis(basisKey)).toBeUndefined();
  });
});
