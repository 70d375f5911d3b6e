import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Ledger, LEDGER_SCHEMA_VERSION } from './ledger.js';
import type { NewRound, NewSelection } from './ledger-types.js';
import { rprRejection, rprThrown } from '../../test/helpers/rpr-rejection.js';

const ROUND: NewRound = { policy: 'lowest-rpr', sink: 'jsonl', configDigest: 'c', modelDigest: 'm', budgetUnit: 'samples' };
const LIMITS = { total: 1000, perRound: 100 };

function tempLedgerPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'rpr-ledger-')), 'ledger.sqlite');
}

function selection(id: string, rank: number, cost = 1): NewSelection {
  return { id, uri: `/pool/${id}.png`, rank, score: 1 - rank / 100, cost, scores: { 'rpr@10': rank / 100 }, predicted: rank % 10 };
}

/** A pid that existed and has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
  return child.pid!;
}

describe('Ledger', () => {
  let ledger: Ledger;
  beforeEach(async () => {
    ledger = Ledger.open(tempLedgerPath());
    await ledger.acquireLease();
  });
  afterEach(() => ledger.close());

  it('is a WAL SQLite file with the schema version', () => {
    const raw = new Database(ledger.path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(LEDGER_SCHEMA_VERSION);
    raw.close();
  });

  it('walks a round through open → queued → closed and its samples through selected → queued → labeled/failed', () => {
    ledger.recordScored([{ id: 'a', uri: '/pool/a.png' }, { id: 'z', uri: '/pool/z.png' }]);
    expect(ledger.sample('a')?.state).toBe('scored');
    const round = ledger.createRound(ROUND, [selection('a', 1), selection('b', 2), selection('c', 3)], LIMITS);
    expect(round).toMatchObject({ id: 1, status: 'open', selected: 3, spent: 3 });
    expect(ledger.openRound()?.id).toBe(1);
    expect(ledger.selections(1).map((s) => [s.id, s.state, s.taskId])).toEqual([
      ['a', 'selected', null],
      ['b', 'selected', null],
      ['c', 'selected', null],
    ]);

    const partial = rprThrown(() => ledger.markQueued(1, new Map([['a', 't1']])));
    expect(partial.code).toBe('RPR_SINK_REFUSED');
    expect(ledger.round(1)?.status).toBe('open');
    expect(ledger.selections(1)[0]?.taskId).toBeNull();

    const queued = ledger.markQueued(1, new Map([['a', 't1'], ['b', 't2'], ['c', 't3']]));
    expect(queued.status).toBe('queued');
    expect(queued.queuedAt).not.toBeNull();
    expect(ledger.openRound()).toBeNull();
    expect(ledger.selections(1).map((s) => [s.state, s.taskId])).toEqual([
      ['queued', 't1'],
      ['queued', 't2'],
      ['queued', 't3'],
    ]);

    const first = ledger.recordLabels([
      { id: 'a', taskId: 't1', uri: '', status: 'labeled', label: 7, annotator: 'ann', time: '2025-01-01T00:00:00.000Z' },
      { id: 'b', taskId: 't2', uri: '', status: 'skipped', label: null, annotator: null, time: null },
      { id: 'nope', taskId: 'x', uri: '', status: 'labeled', label: 1, annotator: null, time: null },
    ]);
    expect(first).toEqual({ labeled: 1, skipped: 1, unchanged: 0, unknown: ['nope'] });
    expect(ledger.sample('a')).toMatchObject({ state: 'labeled', label: 7, annotator: 'ann', labeledAt: '2025-01-01T00:00:00.000Z' });
    expect(ledger.sample('b')).toMatchObject({ state: 'failed', reason: 'skipped by the annotator' });
    expect(ledger.closeFinishedRounds()).toEqual([]);

    const second = ledger.recordLabels([
      { id: 'a', taskId: 't1', uri: '', status: 'labeled', label: 7, annotator: 'ann', time: null },
      { id: 'c', taskId: 't3', uri: '', status: 'labeled', label: { box: [1, 2] }, annotator: null, time: null },
    ]);
    expect(second).toEqual({ labeled: 1, skipped: 0, unchanged: 1, unknown: [] });
    expect(ledger.closeFinishedRounds()).toEqual([1]);
    expect(ledger.round(1)?.status).toBe('closed');
    expect(ledger.round(1)?.closedAt).not.toBeNull();
  });

  it('never lets a later scoring pass regress a selected sample', () => {
    ledger.createRound(ROUND, [selection('a', 1)], LIMITS);
    ledger.recordScored([{ id: 'a', uri: '/moved/a.png' }]);
    ledger.recordFailed([{ id: 'a', uri: '/moved/a.png', reason: 'x' }]);
    expect(ledger.sample('a')).toMatchObject({ state: 'selected', uri: '/pool/a.png' });
    ledger.recordFailed([{ id: 'q', uri: '/pool/q.png', reason: 'all-zero image' }]);
    expect(ledger.sample('q')).toMatchObject({ state: 'failed', reason: 'all-zero image' });
    ledger.recordScored([{ id: 'q', uri: '/pool/q2.png' }]);
    expect(ledger.sample('q')).toMatchObject({ state: 'scored', reason: null, uri: '/pool/q2.png' });
  });

  it('sums spent budget over rounds and refuses a round over what is left', () => {
    ledger.createRound(ROUND, [selection('a', 1, 2.5), selection('b', 2, 4)], { total: 10, perRound: 7 });
    ledger.markQueued(1, new Map([['a', '1'], ['b', '2']]));
    expect(ledger.spent()).toBeCloseTo(6.5, 12);
    const over = rprThrown(() => ledger.createRound(ROUND, [selection('c', 1, 3.6)], { total: 10, perRound: 7 }));
    expect(over.code).toBe('RPR_INTERNAL');
    ledger.createRound(ROUND, [selection('c', 1, 3.5)], { total: 10, perRound: 7 });
    expect(ledger.spent()).toBeCloseTo(10, 12);
  });

  it('refuses a second open round and a sample selected twice, leaving nothing half-written', () => {
    ledger.createRound(ROUND, [selection('a', 1)], LIMITS);
    expect(rprThrown(() => ledger.createRound(ROUND, [selection('b', 1)], LIMITS)).message).toMatch(/round 1 is still open/);
    ledger.markQueued(1, new Map([['a', '1']]));
    const again = rprThrown(() => ledger.createRound(ROUND, [selection('b', 1), selection('a', 2)], LIMITS));
    expect(again.message).toMatch(/already selected in round 1/);
    expect(ledger.rounds().map((r) => r.id)).toEqual([1]);
    expect(ledger.sample('b')).toBeNull();
    expect([...ledger.selectedIds()]).toEqual(['a']);
  });

  it('writes nothing without the lease', () => {
    const reader = Ledger.open(ledger.path);
    expect(rprThrown(() => reader.recordScored([{ id: 'x', uri: 'x' }])).code).toBe('RPR_INTERNAL');
    expect(reader.sample('x')).toBeNull();
    reader.close();
  });
});

describe('Ledger lease', () => {
  it('makes a second holder fail with RPR_LEDGER_BUSY (exit 4), naming the holder', async () => {
    const path = tempLedgerPath();
    const first = Ledger.open(path);
    const second = Ledger.open(path);
    await first.acquireLease();
    const busy = await rprRejection(second.acquireLease());
    expect(busy.code).toBe('RPR_LEDGER_BUSY');
    expect(busy.exitCode).toBe(4);
    expect(busy.message).toContain(`pid ${process.pid} on ${hostname()}`);
    expect(busy.message).toContain('--wait');
    first.close();
    await second.acquireLease();
    expect(second.leaseHolder()?.pid).toBe(process.pid);
    second.close();
    expect(Ledger.open(path).leaseHolder()).toBeNull();
  });

  it('lets a waiting run in once the holder releases', async () => {
    const path = tempLedgerPath();
    const first = Ledger.open(path);
    const second = Ledger.open(path);
    const lease = await first.acquireLease();
    const waiting = second.acquireLease({ waitMs: 60_000, pollMs: 20 });
    setTimeout(() => lease.release(), 100);
    await expect(waiting).resolves.toHaveProperty('token');
    first.close();
    second.close();
  });

  it('takes over an expired lease, after which the stalled run can write nothing', async () => {
    const path = tempLedgerPath();
    let clock = 1_000_000;
    const stalled = Ledger.open(path, { now: () => clock });
    await stalled.acquireLease({ ttlMs: 1000 });
    const next = Ledger.open(path, { now: () => clock });
    expect((await rprRejection(next.acquireLease({ ttlMs: 1000 }))).code).toBe('RPR_LEDGER_BUSY');
    clock += 5000;
    const takeovers: string[] = [];
    await next.acquireLease({ ttlMs: 1000, onTakeover: (_, why) => takeovers.push(why) });
    expect(takeovers).toEqual([expect.stringMatching(/lease expired/)]);
    const lost = rprThrown(() => stalled.recordScored([{ id: 'x', uri: 'x' }]));
    expect(lost.code).toBe('RPR_LEDGER_BUSY');
    expect(lost.message).toMatch(/lost its lease/);
    expect(next.sample('x')).toBeNull();
    stalled.close();
    expect(next.leaseHolder()).not.toBeNull();
    next.close();
  });

  it('takes over the lease of a process that is gone, but not one on another host', async () => {
    const path = tempLedgerPath();
    Ledger.open(path).close();
    const raw = new Database(path);
    const far = Date.now() + 3_600_000;
    const put = raw.prepare(
      `INSERT OR REPLACE INTO lease (name, token, pid, host, acquired_at, heartbeat_at, expires_at) VALUES ('ledger', 't', ?, ?, 0, 0, ?)`,
    );
    put.run(deadPid(), hostname(), far);
    const ledger = Ledger.open(path);
    const why: string[] = [];
    await ledger.acquireLease({ onTakeover: (_, reason) => why.push(reason) });
    expect(why).toEqual([expect.stringMatching(/process \d+ is gone/)]);
    ledger.close();

    put.run(deadPid(), 'another-host.example', far);
    const other = Ledger.open(path);
    expect((await rprRejection(other.acquireLease())).message).toContain('another-host.example');
    other.close();
    raw.close();
  });
});

describe('Ledger.open', () => {
  it('refuses a missing ledger when it must exist, a foreign SQLite file, and another schema version', () => {
    const missing = rprThrown(() => Ledger.open(join(tmpdir(), 'no-such-dir-rpr', 'l.sqlite'), { mustExist: true }));
    expect(missing.code).toBe('RPR_USAGE');
    expect(missing.message).toMatch(/no ledger at .*run `rpr-select select` first/);

    const foreign = tempLedgerPath();
    const other = new Database(foreign);
    other.exec('CREATE TABLE t (x)');
    other.close();
    expect(rprThrown(() => Ledger.open(foreign)).message).toMatch(/not an rpr-select ledger/);

    const future = tempLedgerPath();
    Ledger.open(future).close();
    const raw = new Database(future);
    raw.pragma(`user_version = ${LEDGER_SCHEMA_VERSION + 1}`);
    raw.close();
    expect(rprThrown(() => Ledger.open(future)).message).toMatch(/schema version 2; this rpr-select reads version 1/);
  });
});
