import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { RprError } from '../errors/index.js';
import type { BasisKey, CacheKey, CacheScope, CacheStats, CacheStore, CachedBasis, CachedScore, IdentifiedScore } from './cache-store.js';
import { checkCachedBasis, checkCachedScore } from './cached-score.js';

/** Schema version, part of the table names: a new layout starts empty beside the old one. */
const VERSION = 1;
const SCOPES = `scopes_v${VERSION}`;
const SCORES = `scores_v${VERSION}`;
/** The bases' own version: v2 keys them by the method's settings too and stores how they converged. */
const BASES_VERSION = 2;
const BASES = `bases_v${BASES_VERSION}`;

export interface SqliteCacheStoreOptions {
  /**
   * How long a write waits for another process holding the file's write lock.
   * @defaultValue 5000
   */
  readonly busyTimeoutMs?: number;
}

interface ScoreRow {
  readonly sample: string;
  readonly rpr_keys: string | null;
  readonly rpr_values: Buffer | null;
  readonly sigma: Buffer | null;
  readonly predicted: number | null;
  readonly logits: Buffer | null;
  readonly coords: Buffer | null;
  readonly error: string | null;
}

interface BasisRow {
  readonly rank: number;
  readonly images: number;
  readonly method: CachedBasis['method'];
  /** JSON of CachedBasis.convergence, or null. */
  readonly convergence: string | null;
  readonly sigma: Buffer;
  readonly v: Buffer;
}

type ScopeParams = [string, string, string, string, string];
type BasisKeyParams = [string, string, string, number, string];
/** rpr_keys, rpr_values, sigma, predicted, logits, coords, error. */
type Blob = Buffer | null;
type ValueParams = [string | null, Blob, Blob, number | null, Blob, Blob, string | null];

/**
 * The score cache in one SQLite file (WAL, so readers do not block the writer). The five shared key
 * parts are stored once per scope row and referenced by an integer, so a row costs the sample id and
 * the values; arrays are little-endian float64 blobs, exact to the bit (JSON would lose −0 and NaN).
 * A reference basis is one row of its own table, its Vᵀ one blob.
 */
export class SqliteCacheStore implements CacheStore {
  readonly location: string;
  #db: Database.Database;
  #findScope: Database.Statement<ScopeParams, { id: number }>;
  #insertScope: Database.Statement<ScopeParams>;
  #selectMany: Database.Statement<[number, string], ScoreRow>;
  #upsert: Database.Statement<[number, string, ...ValueParams]>;
  #writeBatch: (scope: CacheScope, scores: readonly IdentifiedScore[]) => void;
  #selectBasis: Database.Statement<BasisKeyParams, BasisRow>;
  #upsertBasis: Database.Statement<[...BasisKeyParams, number, number, string, string | null, Buffer, Buffer]>;
  #hits = 0;
  #misses = 0;
  #writes = 0;

  constructor(path: string, options: SqliteCacheStoreOptions = {}) {
    this.location = resolve(path);
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
      const message = `option busyTimeoutMs must be a non-negative integer, got ${busyTimeoutMs}`;
      throw new RprError('RPR_CACHE', message, { option: 'busyTimeoutMs' });
    }
    let db: Database.Database | null = null;
    try {
      mkdirSync(dirname(this.location), { recursive: true });
      db = new Database(this.location, { timeout: busyTimeoutMs });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(`
        CREATE TABLE IF NOT EXISTS ${SCOPES} (
          id INTEGER PRIMARY KEY,
          model TEXT NOT NULL, pre TEXT NOT NULL, mode TEXT NOT NULL, ranks TEXT NOT NULL, options TEXT NOT NULL,
          UNIQUE (model, pre, mode, ranks, options)
        );
        CREATE TABLE IF NOT EXISTS ${SCORES} (
          scope INTEGER NOT NULL REFERENCES ${SCOPES}(id),
          sample TEXT NOT NULL,
          rpr_keys TEXT, rpr_values BLOB, sigma BLOB, predicted INTEGER, logits BLOB, coords BLOB, error TEXT,
          PRIMARY KEY (scope, sample)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS ${BASES} (
          model TEXT NOT NULL, pre TEXT NOT NULL, reference TEXT NOT NULL, k INTEGER NOT NULL, settings TEXT NOT NULL,
          rank INTEGER NOT NULL, images INTEGER NOT NULL, method TEXT NOT NULL, convergence TEXT,
          sigma BLOB NOT NULL, v BLOB NOT NULL,
          UNIQUE (model, pre, reference, k, settings)
        );
      `);
      const scopeWhere = 'model = ? AND pre = ? AND mode = ? AND ranks = ? AND options = ?';
      this.#findScope = db.prepare(`SELECT id FROM ${SCOPES} WHERE ${scopeWhere}`);
      this.#insertScope = db.prepare(
        `INSERT INTO ${SCOPES} (model, pre, mode, ranks, options) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      );
      // One statement serves any batch size: the ids travel as one JSON array.
      this.#selectMany = db.prepare(
        `SELECT sample, rpr_keys, rpr_values, sigma, predicted, logits, coords, error FROM ${SCORES}
         WHERE scope = ? AND sample IN (SELECT value FROM json_each(?))`,
      );
      this.#upsert = db.prepare(
        `INSERT OR REPLACE INTO ${SCORES} (scope, sample, rpr_keys, rpr_values, sigma, predicted, logits, coords, error)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      this.#writeBatch = db.transaction((scope: CacheScope, scores: readonly IdentifiedScore[]) => {
        const params = scopeParams(scope);
        this.#insertScope.run(...params);
        const scopeId = (this.#findScope.get(...params) as { id: number }).id;
        for (const score of scores) {
          checkCachedScore(this.location, score.id, score);
          this.#upsert.run(scopeId, score.id, ...encodeScore(score));
        }
      });
      const basisWhere = 'model = ? AND pre = ? AND reference = ? AND k = ? AND settings = ?';
      this.#selectBasis = db.prepare(`SELECT rank, images, method, convergence, sigma, v FROM ${BASES} WHERE ${basisWhere}`);
      this.#upsertBasis = db.prepare(
        `INSERT OR REPLACE INTO ${BASES} (model, pre, reference, k, settings, rank, images, method, convergence, sigma, v)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      this.#db = db;
    } catch (error) {
      db?.close();
      throw this.#failure('open', error);
    }
  }

  get(key: CacheKey): CachedScore | undefined {
    return this.getMany(key, [key.sampleId]).get(key.sampleId);
  }

  getMany(scope: CacheScope, sampleIds: readonly string[]): Map<string, CachedScore> {
    const wanted = [...new Set(sampleIds)];
    const found = new Map<string, CachedScore>();
    this.#guard('read', () => {
      const scopeId = this.#findScope.get(...scopeParams(scope))?.id;
      if (scopeId === undefined || wanted.length === 0) return;
      for (const row of this.#selectMany.all(scopeId, JSON.stringify(wanted))) found.set(row.sample, decodeScore(row));
    });
    this.#hits += found.size;
    this.#misses += wanted.length - found.size;
    return found;
  }

  put(key: CacheKey, value: CachedScore): void {
    this.putMany(key, [{ ...value, id: key.sampleId }]);
  }

  putMany(scope: CacheScope, scores: readonly IdentifiedScore[]): void {
    this.#guard('write', () => this.#writeBatch(scope, scores));
    this.#writes += scores.length;
  }

  getBasis(key: BasisKey): CachedBasis | undefined {
    const row = this.#guard('read', () => this.#selectBasis.get(...basisKeyParams(key)));
    if (row === undefined) return undefined;
    return {
      rank: row.rank,
      images: row.images,
      method: row.method,
      convergence: row.convergence === null ? null : (JSON.parse(row.convergence) as CachedBasis['convergence']),
      sigma: decodeFloat64(row.sigma),
      v: decodeFloat64(row.v),
    };
  }

  putBasis(key: BasisKey, basis: CachedBasis): void {
    checkCachedBasis(this.location, key, basis);
    const convergence = basis.convergence === null ? null : JSON.stringify(basis.convergence);
    this.#guard('write', () =>
      this.#upsertBasis.run(...basisKeyParams(key), basis.rank, basis.images, basis.method, convergence, encodeFloats(basis.sigma)!, encodeFloats(basis.v)!),
    );
  }

  stats(): CacheStats {
    return { hits: this.#hits, misses: this.#misses, writes: this.#writes };
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  #guard<T>(action: string, run: () => T): T {
    try {
      return run();
    } catch (error) {
      throw this.#failure(action, error);
    }
  }

  #failure(action: string, error: unknown): RprError {
    if (error instanceof RprError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new RprError(
      'RPR_CACHE',
      `cache ${this.location}: cannot ${action}: ${message}; ` +
        'check the file and its folder, or delete the file to rebuild the cache',
      { path: this.location },
      { cause: error },
    );
  }
}

function scopeParams(scope: CacheScope): ScopeParams {
  return [scope.modelDigest, scope.preprocessingDigest, scope.mode, scope.ranks, scope.optionsDigest];
}

function basisKeyParams(key: BasisKey): BasisKeyParams {
  return [key.modelDigest, key.preprocessingDigest, key.referenceDigest, key.k, key.settings];
}

function encodeScore(score: CachedScore): ValueParams {
  const { rpr } = score;
  return [
    rpr === null ? null : JSON.stringify(Object.keys(rpr)),
    rpr === null ? null : encodeFloats(Object.values(rpr)),
    encodeFloats(score.sigma),
    score.predicted,
    encodeFloats(score.logits),
    encodeFloats(score.coords),
    score.error ?? null,
  ];
}

/** Parsed rpr_keys by their JSON: a cache holds a handful of rank lists, and a warm run reads one per row. */
const rprKeyLists = new Map<string, readonly string[]>();

function rprKeysOf(json: string): readonly string[] {
  let keys = rprKeyLists.get(json);
  if (keys === undefined) {
    if (rprKeyLists.size >= 64) rprKeyLists.clear();
    keys = JSON.parse(json) as string[];
    rprKeyLists.set(json, keys);
  }
  return keys;
}

function decodeScore(row: ScoreRow): CachedScore {
  let rpr: Record<string, number> | null = null;
  if (row.rpr_keys !== null) {
    const keys = rprKeysOf(row.rpr_keys);
    const values = decodeFloats(row.rpr_values) ?? [];
    rpr = Object.fromEntries(keys.map((k, i) => [k, values[i] ?? Number.NaN]));
  }
  return {
    rpr,
    sigma: decodeFloats(row.sigma),
    predicted: row.predicted,
    logits: decodeFloats(row.logits),
    coords: decodeFloats(row.coords),
    ...(row.error === null ? {} : { error: row.error }),
  };
}

function encodeFloats(values: ArrayLike<number> | null): Buffer | null {
  if (values === null) return null;
  const buffer = Buffer.alloc(8 * values.length);
  for (let i = 0; i < values.length; i++) buffer.writeDoubleLE(values[i]!, 8 * i);
  return buffer;
}

/** Straight into a plain array: going through a Float64Array and Array.from took ~5× as long. */
function decodeFloats(buffer: Buffer | null): number[] | null {
  if (buffer === null) return null;
  const values = new Array<number>(buffer.length / 8);
  for (let i = 0; i < values.length; i++) values[i] = buffer.readDoubleLE(8 * i);
  return values;
}

function decodeFloat64(buffer: Buffer): Float64Array {
  const values = new Float64Array(buffer.length / 8);
  for (let i = 0; i < values.length; i++) values[i] = buffer.readDoubleLE(8 * i);
  return values;
}
