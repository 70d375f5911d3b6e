import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { CacheScope, CachedBasis, CachedScore } from './cache-store.js';
import { MemoryCacheStore } from './memory-cache-store.js';
import { openCacheStore } from './open-cache-store.js';
import { SqliteCacheStore } from './sqlite-cache-store.js';

const root = mkdtempSync(join(tmpdir(), 'rpr-sqlite-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshPath = () => join(root, `cache-${++counter}.sqlite`);

const scope: CacheScope = { modelDigest: 'm', preprocessingDigest: 'p', mode: 'reference', ranks: '5', optionsDigest: 'o' };
const score = (seed: number): CachedScore => ({
  rpr: { '5': 1 / (seed + 2) },
  sigma: null,
  predicted: null,
  logits: null,
  coords: [-0, seed / 3, Number.NaN],
});

/** What only the SQLite store does; the behaviour all stores share is in cache-store.contract.test.ts. */
describe('SqliteCacheStore', () => {
  const key = { ...scope, sampleId: 'persisted' };

  it("is what openCacheStore opens for a path ('memory' opens a MemoryCacheStore)", () => {
    const memory = openCacheStore('memory');
    expect(memory).toBeInstanceOf(MemoryCacheStore);
    memory.close();
    const file = openCacheStore(freshPath());
    expect(file).toBeInstanceOf(SqliteCacheStore);
    file.close();
  });

  it('persists across close and reopen', () => {
    const path = join(root, 'nested', 'dir', 'cache.sqlite');
    const first = new SqliteCacheStore(path);
    first.put(key, score(3));
    first.putMany(scope, [{ id: 'batch', ...score(4) }]);
    const basis: CachedBasis = {
      v: Float64Array.from([0.5, -0, Number.NaN, 1 / 3]),
      rank: 2,
      sigma: Float64Array.from([2, 1]),
      images: 3,
      method: 'lanczos',
      convergence: { residuals: [1 / 3, 2e-7], tol: 1e-5, converged: false, passes: 40 },
    };
    const basisKey = { modelDigest: 'm', preprocessingDigest: 'p', referenceDigest: 'r', k: 2, settings: '{"method":"lanczos"}' };
    first.putBasis(basisKey, basis);
    first.close();
    const second = new SqliteCacheStore(path);
    expect(second.get(key)).toEqual(score(3));
    expect(second.get({ ...key, sampleId: 'batch' })).toEqual(score(4));
    expect(second.getBasis(basisKey)).toEqual(basis);
    second.close();
  });

  it('uses WAL and versioned table names, seen from an independent connection', () => {
    const path = freshPath();
    new SqliteCacheStore(path).close();
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
      expect(tables.map((t) => t.name)).toEqual(['bases_v2', 'scopes_v1', 'scores_v1']);
    } finally {
      db.close();
    }
  });

  it('sees writes made by another open store on the same file', () => {
    const path = freshPath();
    const writer = new SqliteCacheStore(path);
    const reader = new SqliteCacheStore(path);
    expect(reader.get(key)).toBeUndefined();
    writer.put(key, score(8));
    expect(reader.get(key)).toEqual(score(8));
    writer.close();
    reader.close();
  });

  it('rejects a corrupt file with RPR_CACHE naming the path, and leaves the file alone', () => {
    const path = freshPath();
    const garbage = Buffer.from('this is not a sqlite database, just text '.repeat(200));
    writeFileSync(path, garbage);
    expect(() => new SqliteCacheStore(path)).toThrow(
      expect.objectContaining({ code: 'RPR_CACHE', context: { path }, message: expect.stringContaining(path) }),
    );
    expect(readFileSync(path).equals(garbage)).toBe(true);
  });

  it('rejects an unwritable location with RPR_CACHE naming the path', () => {
    const blocker = join(root, 'a-file');
    writeFileSync(blocker, 'x');
    const path = join(blocker, 'cache.sqlite');
    expect(() => new SqliteCacheStore(path)).toThrow(
      expect.objectContaining({ code: 'RPR_CACHE', context: { path }, message: expect.stringContaining(path) }),
    );
  });

  // Root ignores file modes, so there a read-only file is writable and the case cannot be shown.
  const runsAsRoot = process.getuid?.() === 0;
  (runsAsRoot ? it.skip : it)(
    `rejects a read-only cache file with RPR_CACHE naming the path${runsAsRoot ? ' [skipped: root ignores file modes]' : ''}`,
    () => {
      const path = freshPath();
      new SqliteCacheStore(path).close();
      chmodSync(path, 0o444);
      try {
        const attempt = () => {
          const store = new SqliteCacheStore(path);
          try {
            store.put(key, score(1));
          } finally {
            store.close();
          }
        };
        expect(attempt).toThrow(expect.objectContaining({ code: 'RPR_CACHE', context: { path } }));
      } finally {
        chmodSync(path, 0o644);
      }
    },
  );
});
