/**
 * Acceptance (issue 4): `rpr-select select`, the real CLI with the real scorer, SIGKILLed (kill -9) at
 * each step of a round — while scoring, after scoring, after the ledger write, after the push (with the
 * queue's last lines torn), after the round is queued — then run again. After every step the ledger and
 * the queue agree, no image is selected or queued twice, and the budget holds.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertBuilt, jsonOut, killAllCli, pausedAt, runCli, startCli } from '../helpers/cli-process.js';
import { expectNoRound, expectRoundsConsistent, readLedger, readQueue, statePaths, type Limits } from './helpers/round-state.js';
import { fileId, writeTestPool, type TestPool } from './helpers/test-pool.js';

/** More digits than the ledger's batch of scored samples (512), so a run records some while still scoring. */
const DIGITS = 600;
const LIMITS: Limits = { total: 150, perRound: 50 };

interface SelectJson {
  readonly round: number;
  readonly resumed: boolean;
  readonly selected: readonly { readonly id: string; readonly rank: number }[];
  readonly budget: { readonly total: number; readonly spent: number; readonly left: number };
}

let root: string;
let cwd: string;
let pool: TestPool;

beforeAll(async () => {
  assertBuilt();
  root = mkdtempSync(join(tmpdir(), 'rpr-e2e-kill-'));
  cwd = join(root, 'work');
  mkdirSync(cwd);
  pool = await writeTestPool(join(root, 'pool'), { digits: DIGITS });
});

afterAll(async () => {
  await killAllCli();
  rmSync(root, { recursive: true, force: true });
});

const selectArgs = () => ['select', '--pool', pool.dir, '--workers', '1', '--budget', String(LIMITS.total), '--round-size', String(LIMITS.perRound), '--json'];

async function killPausedAt(point: string): Promise<void> {
  const run = await pausedAt(point, selectArgs(), { cwd });
  const end = await run.kill();
  expect(end.signal).toBe('SIGKILL');
}

function idsOfRound(round: number): string[] {
  return (readLedger(statePaths(cwd).ledger)?.selections ?? []).filter((s) => s.round === round).map((s) => s.id);
}

it('survives SIGKILL at every step of three rounds and never selects, queues or counts an image twice', async () => {
  const { ledger, queue } = statePaths(cwd);
  const digitIds = pool.digits.map(fileId);

  // 1. Killed while scoring (cold cache): once the ledger has recorded the first batch of scored samples.
  const scoring = startCli(selectArgs(), { cwd });
  await scoring.waitUntil('the ledger records scored samples', () => {
    const state = readLedger(ledger, digitIds);
    return state !== null && [...state.samples.values()].some((s) => s?.state === 'scored');
  });
  expect((await scoring.kill()).signal).toBe('SIGKILL');
  expectNoRound(cwd);

  // 2. Killed after scoring, before anything was chosen or written: the next run takes the dead run's lease.
  const afterScore = await pausedAt('after-score', selectArgs(), { cwd });
  expect(afterScore.stderr()).toContain(`took over the ledger from pid ${scoring.pid}`);
  expect((await afterScore.kill()).signal).toBe('SIGKILL');
  expectNoRound(cwd);

  // 3. Killed once round 1 is queued: it is complete.
  await killPausedAt('after-queued');
  let state = expectRoundsConsistent(cwd, LIMITS);
  expect(state.rounds.map((r) => [r.id, r.status, r.selected])).toEqual([[1, 'queued', 50]]);
  expect(readQueue(queue)).toHaveLength(50);

  // 4. Killed between the ledger write and the queue append: round 2 is open, nothing of it is queued.
  await killPausedAt('after-ledger-write');
  state = expectRoundsConsistent(cwd, LIMITS);
  expect(state.open).toMatchObject({ id: 2, selected: 50 });
  expect(readQueue(queue)).toHaveLength(50);
  const round2 = idsOfRound(2);

  // 5. The next run finishes round 2 as recorded (nothing re-scored or re-chosen) and starts nothing else.
  const resumed2 = await runCli(selectArgs(), { cwd });
  expect(resumed2.code).toBe(0);
  const out2 = jsonOut<SelectJson>(resumed2);
  expect(out2).toMatchObject({ round: 2, resumed: true });
  expect(out2.selected.map((s) => s.id)).toEqual(round2);
  expectRoundsConsistent(cwd, LIMITS);
  expect(readQueue(queue)).toHaveLength(100);

  // 6. Killed after the push, before the round is marked queued; then the queue loses its last lines
  //    and is left torn in the middle of a line, as a crash during the append would leave it.
  await killPausedAt('after-push');
  state = expectRoundsConsistent(cwd, LIMITS);
  expect(state.open).toMatchObject({ id: 3, selected: 50 });
  const round3 = idsOfRound(3);
  const lines = readFileSync(queue, 'utf8').split('\n');
  expect(lines).toHaveLength(151);
  const keep = lines.slice(0, 124).join('\n').length + 1 + Math.floor(lines[124]!.length / 2);
  truncateSync(queue, keep);
  expect(() => readQueue(queue)).toThrow(/torn line/);

  // 7. The next run repairs the queue and appends exactly the missing images of round 3.
  const resumed3 = await runCli(selectArgs(), { cwd });
  expect(resumed3.code).toBe(0);
  const out3 = jsonOut<SelectJson>(resumed3);
  expect(out3).toMatchObject({ round: 3, resumed: true, budget: { total: 150, spent: 150, left: 0 } });
  expect(out3.selected.map((s) => s.id)).toEqual(round3);
  state = expectRoundsConsistent(cwd, LIMITS);
  const entries = readQueue(queue);
  expect(entries).toHaveLength(150);
  expect(entries.slice(100).map((e) => [e.round, e.id])).toEqual(round3.map((id) => [3, id]));

  // 8. The budget is spent: one line, exit 3, nothing written.
  const spent = await runCli(selectArgs(), { cwd });
  expect(spent.code).toBe(3);
  expect(spent.stdout).toBe('');
  expect(spent.stderr).toBe('rpr-select: error: labeling budget spent: 150 of 150 samples used; raise budget.total (--budget) to select more\n');

  state = expectRoundsConsistent(cwd, LIMITS);
  expect(state.rounds.map((r) => [r.id, r.status, r.selected])).toEqual([
    [1, 'queued', 50],
    [2, 'queued', 50],
    [3, 'queued', 50],
  ]);
  const unusable = [pool.corrupt, pool.truncated, pool.zero].map(fileId);
  const selected = new Set(state.selections.map((s) => s.id));
  expect(unusable.filter((id) => selected.has(id))).toEqual([]);
  expect([...selected].every((id) => digitIds.includes(id))).toBe(true);
}, 240_000);
