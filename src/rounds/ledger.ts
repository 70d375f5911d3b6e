/**
 * The ledger: one SQLite file (WAL) that remembers every round, every selection and each sample's
 * state, so a crash, a retry or a second run never loses or repeats work. Every state change is one
 * transaction, and every write first checks that this run still holds the lease (a fencing token):
 * a run that stalled past its lease and was taken over cannot write any more.
 *
 * All SQL lives here; statements are prepared once in the constructor.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { debuglog } from 'node:util';
import Database from 'better-sqlite3';
import { errors, RprError } from '../errors/index.js';
import type { LabelRecord } from '../sinks/sink.js';
import type {
  LabelOutcome,
  LeaseHolder,
  NewRound,
  NewSelection,
  RoundRecord,
  RoundStatus,
  SampleRecord,
  SampleState,
  SelectionRecord,
} from './ledger-types.js';
import { processAlive } from './process-alive.js';

const debug = debuglog('rpr');

/** Stored as PRAGMA user_version; a ledger written by another version is refused, never migrated blindly. */
export const LEDGER_SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE rounds (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  status TEXT NOT NULL CHECK (status IN ('open', 'queued', 'closed')),
  policy TEXT NOT NULL,
  sink TEXT NOT NULL,
  config_digest TEXT NOT NULL,
  model_digest TEXT NOT NULL,
  budget_unit TEXT NOT NULL CHECK (budget_unit IN ('samples', 'cost')),
  spent REAL NOT NULL,
  details TEXT NOT NULL,
  created_at TEXT NOT NULL,
  queued_at TEXT,
  closed_at TEXT
);
CREATE UNIQUE INDEX rounds_one_open ON rounds (status) WHERE status = 'open';
CREATE TABLE samples (
  id TEXT PRIMARY KEY,
  uri TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('scored', 'selected', 'queued', 'labeled', 'failed')),
  reason TEXT,
  label TEXT,
  annotator TEXT,
  labeled_at TEXT,
  first_seen TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE selections (
  round INTEGER NOT NULL REFERENCES rounds (id),
  id TEXT NOT NULL UNIQUE REFERENCES samples (id),
  rank INTEGER NOT NULL,
  score REAL,
  cost REAL NOT NULL,
  scores TEXT NOT NULL,
  predicted INTEGER,
  uri TEXT NOT NULL,
  task_id TEXT,
  PRIMARY KEY (round, rank)
);
CREATE TABLE lease (
  name TEXT PRIMARY KEY CHECK (name = 'ledger'),
  token TEXT NOT NULL,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  acquired_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
`;

export interface LedgerOptions {
  /** Clock in epoch milliseconds (injectable for lease tests). @defaultValue Date.now */
  readonly now?: () => number;
  /** Refuse to create the file (read-only commands on a ledger that should exist). @defaultValue false */
  readonly mustExist?: boolean;
}

export interface AcquireLeaseOptions {
  /** A lease not renewed for this long is stale; it is renewed every ttlMs / 3. @defaultValue 60000 */
  readonly ttlMs?: number;
  /** How long to wait for a lease held by a live run before RPR_LEDGER_BUSY. @defaultValue 0 */
  readonly waitMs?: number;
  /** @defaultValue 250 */
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
  /** Told when a stale lease (dead process, or expired) is taken over. */
  readonly onTakeover?: (previous: LeaseHolder, why: string) => void;
}

/** This run's hold on the ledger. */
export interface Lease {
  readonly token: string;
  /** Gives the ledger up (idempotent). */
  release(): void;
}

interface LeaseRow {
  token: string;
  pid: number;
  host: string;
  acquired_at: number;
  heartbeat_at: number;
  expires_at: number;
}

interface RoundRow {
  id: number;
  status: RoundStatus;
  policy: string;
  sink: string;
  config_digest: string;
  model_digest: string;
  budget_unit: 'samples' | 'cost';
  spent: number;
  details: string;
  created_at: string;
  queued_at: string | null;
  closed_at: string | null;
  selected: number;
}

interface SelectionRow {
  round: number;
  id: string;
  rank: number;
  score: number | null;
  cost: number;
  scores: string;
  predicted: number | null;
  uri: string;
  task_id: string | null;
  state: SampleState;
}

interface SampleRow {
  id: string;
  uri: string;
  state: SampleState;
  reason: string | null;
  label: string | null;
  annotator: string | null;
  labeled_at: string | null;
  first_seen: string;
  updated_at: string;
}

type TakeOutcome =
  | { readonly kind: 'taken'; readonly previous: LeaseHolder | null; readonly why: string }
  | { readonly kind: 'busy'; readonly holder: LeaseHolder };

type Statement<P extends unknown[] = unknown[], R = unknown> = Database.Statement<P, R>;

const ROUND_COLUMNS = `r.*, (SELECT COUNT(*) FROM selections s WHERE s.round = r.id) AS selected`;
const SELECTION_COLUMNS = `s.*, p.state AS state`;

export class Ledger {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #now: () => number;
  #lease: { token: string; ttlMs: number; timer: NodeJS.Timeout } | null = null;

  readonly #leaseGet: Statement<[], LeaseRow>;
  readonly #leasePut: Statement<[string, number, string, number, number, number]>;
  readonly #leaseRenew: Statement<[number, number, string]>;
  readonly #leaseDelete: Statement<[string]>;
  readonly #roundInsert: Statement<[string, string, string, string, string, number, string, string]>;
  readonly #roundGet: Statement<[number], RoundRow>;
  readonly #roundAll: Statement<[], RoundRow>;
  readonly #roundOpen: Statement<[], RoundRow>;
  readonly #roundQueue: Statement<[string, number]>;
  readonly #roundsClose: Statement<[string], { id: number }>;
  readonly #selectionInsert: Statement<[number, string, number, number | null, number, string, number | null, string]>;
  readonly #selectionsOfRound: Statement<[number], SelectionRow>;
  readonly #selectionById: Statement<[string], SelectionRow>;
  readonly #selectionSetTask: Statement<[string, number, string]>;
  readonly #selectedIds: Statement<[], string>;
  readonly #spent: Statement<[], number>;
  readonly #sampleSeen: Statement<[string, string, string, string | null, string, string]>;
  readonly #sampleSelect: Statement<[string, string, string, string]>;
  readonly #sampleQueueRound: Statement<[string, number]>;
  readonly #sampleLabel: Statement<[string, string | null, string, string, string]>;
  readonly #sampleFail: Statement<[string, string, string]>;
  readonly #sampleGet: Statement<[string], SampleRow>;

  readonly #write: <T>(fn: () => T) => T;
  readonly #take: Database.Transaction<(token: string, ttlMs: number) => TakeOutcome>;

  private constructor(path: string, db: Database.Database, now: () => number) {
    this.path = path;
    this.#db = db;
    this.#now = now;
    this.#leaseGet = db.prepare(`SELECT * FROM lease WHERE name = 'ledger'`);
    this.#leasePut = db.prepare(
      `INSERT INTO lease (name, token, pid, host, acquired_at, heartbeat_at, expires_at) VALUES ('ledger', ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET token = excluded.token, pid = excluded.pid, host = excluded.host,
         acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at`,
    );
    this.#leaseRenew = db.prepare(`UPDATE lease SET heartbeat_at = ?, expires_at = ? WHERE name = 'ledger' AND token = ?`);
    this.#leaseDelete = db.prepare(`DELETE FROM lease WHERE name = 'ledger' AND token = ?`);
    this.#roundInsert = db.prepare(
      `INSERT INTO rounds (status, policy, sink, config_digest, model_digest, budget_unit, spent, details, created_at)
       VALUES ('open', ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#roundGet = db.prepare(`SELECT ${ROUND_COLUMNS} FROM rounds r WHERE r.id = ?`);
    this.#roundAll = db.prepare(`SELECT ${ROUND_COLUMNS} FROM rounds r ORDER BY r.id`);
    this.#roundOpen = db.prepare(`SELECT ${ROUND_COLUMNS} FROM rounds r WHERE r.status = 'open'`);
    this.#roundQueue = db.prepare(`UPDATE rounds SET status = 'queued', queued_at = ? WHERE id = ? AND status = 'open'`);
    this.#roundsClose = db.prepare(
      `UPDATE rounds SET status = 'closed', closed_at = ? WHERE status = 'queued' AND NOT EXISTS (
         SELECT 1 FROM selections s JOIN samples p ON p.id = s.id
         WHERE s.round = rounds.id AND p.state IN ('selected', 'queued')) RETURNING id`,
    );
    this.#selectionInsert = db.prepare(
      `INSERT INTO selections (round, id, rank, score, cost, scores, predicted, uri) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#selectionsOfRound = db.prepare(
      `SELECT ${SELECTION_COLUMNS} FROM selections s JOIN samples p ON p.id = s.id WHERE s.round = ? ORDER BY s.rank`,
    );
    this.#selectionById = db.prepare(`SELECT ${SELECTION_COLUMNS} FROM selections s JOIN samples p ON p.id = s.id WHERE s.id = ?`);
    this.#selectionSetTask = db.prepare(`UPDATE selections SET task_id = ? WHERE round = ? AND id = ?`);
    this.#selectedIds = db.prepare<[], string>(`SELECT id FROM selections`).pluck();
    this.#spent = db.prepare<[], number>(`SELECT COALESCE(SUM(cost), 0) FROM selections`).pluck();
    this.#sampleSeen = db.prepare(
      `INSERT INTO samples (id, uri, state, reason, first_seen, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET uri = excluded.uri, state = excluded.state, reason = excluded.reason,
         updated_at = excluded.updated_at
       WHERE samples.state IN ('scored', 'failed')`,
    );
    this.#sampleSelect = db.prepare(
      `INSERT INTO samples (id, uri, state, first_seen, updated_at) VALUES (?, ?, 'selected', ?, ?)
       ON CONFLICT (id) DO UPDATE SET uri = excluded.uri, state = 'selected', reason = NULL, updated_at = excluded.updated_at`,
    );
    this.#sampleQueueRound = db.prepare(
      `UPDATE samples SET state = 'queued', updated_at = ?
       WHERE state = 'selected' AND id IN (SELECT id FROM selections WHERE round = ?)`,
    );
    this.#sampleLabel = db.prepare(
      `UPDATE samples SET state = 'labeled', label = ?, annotator = ?, labeled_at = ?, reason = NULL, updated_at = ? WHERE id = ?`,
    );
    this.#sampleFail = db.prepare(`UPDATE samples SET state = 'failed', reason = ?, updated_at = ? WHERE id = ?`);
    this.#sampleGet = db.prepare(`SELECT * FROM samples WHERE id = ?`);
    const write = db.transaction((fn: () => unknown) => {
      this.#assertLease();
      return fn();
    });
    this.#write = <T>(fn: () => T): T => write.immediate(fn) as T;
    this.#take = db.transaction((token: string, ttlMs: number) => this.#tryTake(token, ttlMs));
  }

  /** Opens (creating when allowed) the ledger at `path`. */
  static open(path: string, options: LedgerOptions = {}): Ledger {
    if (options.mustExist && !existsSync(path)) {
      throw new RprError('RPR_USAGE', `no ledger at ${path} yet; run \`rpr-select select\` first, or pass --ledger PATH`, { path });
    }
    let db: Database.Database | null = null;
    try {
      mkdirSync(dirname(path), { recursive: true });
      db = new Database(path, { timeout: 5000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      initSchema(db, path);
    } catch (error) {
      db?.close();
      if (error instanceof RprError) throw error;
      // A path that cannot hold a ledger (a directory, another kind of file, no permission) is the user's to fix.
      throw new RprError('RPR_USAGE', `cannot open the ledger ${path}: ${(error as Error).message}; pass another --ledger path`, { path }, { cause: error });
    }
    return new Ledger(path, db, options.now ?? Date.now);
  }

  /** Runs `read` on the existing ledger at `path` (RPR_USAGE when there is none), then closes it; no lease is taken. */
  static async read<T>(path: string, read: (ledger: Ledger) => T | Promise<T>): Promise<T> {
    const ledger = Ledger.open(path, { mustExist: true });
    try {
      return await read(ledger);
    } finally {
      ledger.close();
    }
  }

  /**
   * Takes the ledger for this run. A lease held by a live run makes this wait up to `waitMs`, then
   * throw RPR_LEDGER_BUSY; a stale one (its process gone, or not renewed within its ttl) is taken over.
   */
  async acquireLease(options: AcquireLeaseOptions = {}): Promise<Lease> {
    if (this.#lease !== null) throw errors.internal(`this run already holds the lease on ${this.path}`);
    const ttlMs = options.ttlMs ?? 60_000;
    const deadline = this.#now() + (options.waitMs ?? 0);
    const token = randomUUID();
    for (;;) {
      options.signal?.throwIfAborted();
      const taken = this.#take.immediate(token, ttlMs);
      if (taken.kind === 'taken') {
        if (taken.previous !== null) options.onTakeover?.(taken.previous, taken.why);
        const timer = setInterval(() => this.#renew(), Math.max(1, Math.floor(ttlMs / 3)));
        timer.unref();
        this.#lease = { token, ttlMs, timer };
        return { token, release: () => this.#release(token) };
      }
      const left = deadline - this.#now();
      if (left <= 0) {
        const h = taken.holder;
        throw new RprError(
          'RPR_LEDGER_BUSY',
          `ledger ${this.path} is in use by another run (pid ${h.pid} on ${h.host}, since ${h.acquiredAt}, lease until ${h.expiresAt}); wait for it to finish or pass --wait SECONDS`,
          { path: this.path, pid: h.pid, host: h.host },
        );
      }
      await sleep(Math.min(options.pollMs ?? 250, left), undefined, options.signal ? { signal: options.signal } : {});
    }
  }

  /** The holder of the lease, or null when the ledger is free. */
  leaseHolder(): LeaseHolder | null {
    const row = this.#leaseGet.get();
    return row === undefined ? null : holderOf(row);
  }

  openRound(): RoundRecord | null {
    const row = this.#roundOpen.get();
    return row === undefined ? null : roundOf(row);
  }

  round(id: number): RoundRecord | null {
    const row = this.#roundGet.get(id);
    return row === undefined ? null : roundOf(row);
  }

  rounds(): RoundRecord[] {
    return this.#roundAll.all().map(roundOf);
  }

  /** A round's selections in rank order, with each sample's current state. */
  selections(round: number): SelectionRecord[] {
    return this.#selectionsOfRound.all(round).map(selectionOf);
  }

  sample(id: string): SampleRecord | null {
    const row = this.#sampleGet.get(id);
    return row === undefined ? null : sampleOf(row);
  }

  /** Every id ever selected (selected, queued, labeled or skipped by an annotator): never selected again. */
  selectedIds(): Set<string> {
    return new Set(this.#selectedIds.all());
  }

  /** Budget spent over all rounds, open ones included, in budget units. */
  spent(): number {
    return this.#spent.get() ?? 0;
  }

  /** Records images seen and scored in a round (state `scored`, unless they were selected before). */
  recordScored(samples: readonly { readonly id: string; readonly uri: string }[]): void {
    this.#recordSeen(samples.map((s) => ({ ...s, state: 'scored' as const, reason: null })));
  }

  /** Records images that could not be scored (state `failed` with the reason). */
  recordFailed(samples: readonly { readonly id: string; readonly uri: string; readonly reason: string }[]): void {
    this.#recordSeen(samples.map((s) => ({ ...s, state: 'failed' as const })));
  }

  /**
   * Writes a round and its selections in one transaction (samples become `selected`). Refuses a second
   * open round, a sample selected before, and a round over the budget left.
   */
  createRound(round: NewRound, selections: readonly NewSelection[], limits: { readonly total: number; readonly perRound: number }): RoundRecord {
    return this.#write(() => {
      const open = this.#roundOpen.get();
      if (open !== undefined) throw errors.internal(`round ${open.id} is still open in ${this.path}; finish it before starting another`);
      const spentBefore = this.#spent.get() ?? 0;
      const cost = selections.reduce((sum, s) => sum + s.cost, 0);
      const allowed = Math.min(limits.perRound, limits.total - spentBefore);
      if (cost > allowed + 1e-9) {
        throw errors.internal(`round would spend ${cost}, over the ${allowed} its budget allows`, { cost, allowed });
      }
      const at = this.#iso();
      const { lastInsertRowid } = this.#roundInsert.run(
        round.policy,
        round.sink,
        round.configDigest,
        round.modelDigest,
        round.budgetUnit,
        cost,
        JSON.stringify(round.details ?? {}),
        at,
      );
      const id = Number(lastInsertRowid);
      for (const s of selections) {
        const earlier = this.#selectionById.get(s.id);
        if (earlier !== undefined) {
          throw errors.internal(`sample ${s.id} (${s.uri}) was already selected in round ${earlier.round}`, { id: s.id });
        }
        this.#sampleSelect.run(s.id, s.uri, at, at);
        this.#selectionInsert.run(id, s.id, s.rank, s.score, s.cost, JSON.stringify(s.scores), s.predicted, s.uri);
      }
      return roundOf(this.#roundGet.get(id)!);
    });
  }

  /**
   * Records the sink's task ids and marks an open round `queued`, in one transaction. Every selection
   * must have been acknowledged; otherwise nothing changes and the round stays open for a retry.
   */
  markQueued(round: number, taskIds: ReadonlyMap<string, string>): RoundRecord {
    return this.#write(() => {
      const row = this.#roundGet.get(round);
      if (row === undefined) throw errors.internal(`no round ${round} in ${this.path}`);
      if (row.status !== 'open') return roundOf(row);
      const selections = this.#selectionsOfRound.all(round);
      const missing = selections.filter((s) => !taskIds.has(s.id));
      if (missing.length > 0) {
        throw new RprError(
          'RPR_SINK_REFUSED',
          `the ${row.sink} sink did not acknowledge ${missing.length} of round ${round}'s ${selections.length} images (first: ${missing[0]!.uri}); round ${round} stays open and the next run retries`,
          { round, missing: missing.length },
        );
      }
      for (const s of selections) this.#selectionSetTask.run(taskIds.get(s.id)!, round, s.id);
      const at = this.#iso();
      this.#sampleQueueRound.run(at, round);
      this.#roundQueue.run(at, round);
      return roundOf(this.#roundGet.get(round)!);
    });
  }

  /** Applies labels read back from the sink: `labeled`, or `failed` when the annotator skipped. */
  recordLabels(records: readonly LabelRecord[]): LabelOutcome {
    return this.#write(() => {
      let labeled = 0;
      let skipped = 0;
      let unchanged = 0;
      const unknown: string[] = [];
      const at = this.#iso();
      for (const record of records) {
        const selection = this.#selectionById.get(record.id);
        if (selection === undefined) {
          unknown.push(record.id);
        } else if (record.status === 'labeled') {
          if (selection.state === 'labeled') unchanged++;
          else {
            this.#sampleLabel.run(JSON.stringify(record.label ?? null), record.annotator, record.time ?? at, at, record.id);
            labeled++;
          }
        } else if (selection.state === 'labeled' || selection.state === 'failed') {
          unchanged++;
        } else {
          this.#sampleFail.run('skipped by the annotator', at, record.id);
          skipped++;
        }
      }
      return { labeled, skipped, unchanged, unknown };
    });
  }

  /** Closes queued rounds whose every sample is labeled or failed; returns their ids. */
  closeFinishedRounds(): number[] {
    return this.#write(() => this.#roundsClose.all(this.#iso()).map((r) => r.id));
  }

  close(): void {
    if (this.#lease !== null) this.#release(this.#lease.token);
    this.#db.close();
  }

  #recordSeen(samples: readonly { id: string; uri: string; state: SampleState; reason: string | null }[]): void {
    if (samples.length === 0) return;
    this.#write(() => {
      const at = this.#iso();
      for (const s of samples) this.#sampleSeen.run(s.id, s.uri, s.state, s.reason, at, at);
    });
  }

  #tryTake(token: string, ttlMs: number): TakeOutcome {
    const now = this.#now();
    const row = this.#leaseGet.get();
    let why = '';
    if (row !== undefined) {
      if (row.expires_at <= now) why = `its lease expired at ${new Date(row.expires_at).toISOString()}`;
      else if (row.host === hostname() && !processAlive(row.pid)) why = `process ${row.pid} is gone`;
      else return { kind: 'busy', holder: holderOf(row) };
    }
    this.#leasePut.run(token, process.pid, hostname(), now, now, now + ttlMs);
    return { kind: 'taken', previous: row === undefined ? null : holderOf(row), why };
  }

  #renew(): void {
    const lease = this.#lease;
    if (lease === null) return;
    const now = this.#now();
    try {
      this.#leaseRenew.run(now, now + lease.ttlMs, lease.token);
    } catch (error) {
      // A missed heartbeat is not fatal: every write re-checks the lease token, and renews it.
      debug('lease heartbeat on %s failed: %s', this.path, (error as Error).message);
    }
  }

  #assertLease(): void {
    const lease = this.#lease;
    if (lease === null) throw errors.internal(`write to ${this.path} without holding its lease`);
    const row = this.#leaseGet.get();
    if (row === undefined || row.token !== lease.token) {
      const by = row === undefined ? 'nobody' : `pid ${row.pid} on ${row.host}`;
      throw new RprError(
        'RPR_LEDGER_BUSY',
        `this run lost its lease on ledger ${this.path} (now held by ${by}): it stalled longer than ledger.leaseSeconds; nothing more was written`,
        { path: this.path },
      );
    }
    const now = this.#now();
    this.#leaseRenew.run(now, now + lease.ttlMs, lease.token);
  }

  #release(token: string): void {
    if (this.#lease?.token !== token) return;
    clearInterval(this.#lease.timer);
    this.#lease = null;
    if (this.#db.open) this.#leaseDelete.run(token);
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }
}

function initSchema(db: Database.Database, path: string): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version === LEDGER_SCHEMA_VERSION) return;
    const tables = db.prepare<[], number>(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'`).pluck().get() ?? 0;
    if (version === 0 && tables === 0) {
      db.exec(SCHEMA);
      db.pragma(`user_version = ${LEDGER_SCHEMA_VERSION}`);
      return;
    }
    throw new RprError(
      'RPR_USAGE',
      version === 0
        ? `${path} is an SQLite file but not an rpr-select ledger; pass another --ledger path`
        : `ledger ${path} has schema version ${version}; this rpr-select reads version ${LEDGER_SCHEMA_VERSION}: use the matching rpr-select release`,
      { path, version },
    );
  }).immediate();
}

function holderOf(row: LeaseRow): LeaseHolder {
  return {
    pid: row.pid,
    host: row.host,
    acquiredAt: new Date(row.acquired_at).toISOString(),
    expiresAt: new Date(row.expires_at).toISOString(),
  };
}

function roundOf(row: RoundRow): RoundRecord {
  return {
    id: row.id,
    status: row.status,
    policy: row.policy,
    sink: row.sink,
    configDigest: row.config_digest,
    modelDigest: row.model_digest,
    budgetUnit: row.budget_unit,
    spent: row.spent,
    selected: row.selected,
    details: JSON.parse(row.details) as Record<string, unknown>,
    createdAt: row.created_at,
    queuedAt: row.queued_at,
    closedAt: row.closed_at,
  };
}

function selectionOf(row: SelectionRow): SelectionRecord {
  return {
    round: row.round,
    id: row.id,
    uri: row.uri,
    rank: row.rank,
    score: row.score,
    cost: row.cost,
    scores: JSON.parse(row.scores) as Record<string, number>,
    predicted: row.predicted,
    taskId: row.task_id,
    state: row.state,
  };
}

function sampleOf(row: SampleRow): SampleRecord {
  return {
    id: row.id,
    uri: row.uri,
    state: row.state,
    reason: row.reason,
    label: row.label === null ? null : (JSON.parse(row.label) as unknown),
    annotator: row.annotator,
    labeledAt: row.labeled_at,
    firstSeen: row.first_seen,
    updatedAt: row.updated_at,
  };
}
