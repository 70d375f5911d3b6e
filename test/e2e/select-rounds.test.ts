/**
 * Acceptance (issue 4): three rounds in a row with a total budget of 250 and a round cap of 100 select
 * 100, 100 and 50 distinct images; the fourth run exits with the "budget spent" code (3) and one line.
 * The real CLI and scorer, one process per run, sharing the working directory as a nightly job would.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertBuilt, jsonOut, killAllCli, runCli, stackLines } from '../helpers/cli-process.js';
import { expectRoundsConsistent, readQueue, statePaths } from './helpers/round-state.js';
import { fileId, writeTestPool, type TestPool } from './helpers/test-pool.js';

interface SelectJson {
  readonly round: number;
  readonly selected: readonly { readonly id: string; readonly rank: number; readonly score: number }[];
  readonly budget: { readonly total: number; readonly spent: number; readonly left: number };
  readonly counts: { readonly alreadySelected: number };
}

let root: string;
let cwd: string;
let pool: TestPool;

beforeAll(async () => {
  assertBuilt();
  root = mkdtempSync(join(tmpdir(), 'rpr-e2e-rounds-'));
  cwd = join(root, 'work');
  mkdirSync(cwd);
  pool = await writeTestPool(join(root, 'pool'), { digits: 300 });
});

afterAll(async () => {
  await killAllCli();
  rmSync(root, { recursive: true, force: true });
});

it('three rounds select 100, 100, 50 distinct images; the fourth exits 3 with one clear line', async () => {
  const select = () => runCli(['select', '--pool', pool.dir, '--workers', '1', '--budget', '250', '--round-size', '100', '--json'], { cwd });
  const rounds: SelectJson[] = [];
  for (let i = 0; i < 3; i++) {
    const run = await select();
    expect({ code: run.code, stack: stackLines(run.stderr) }).toEqual({ code: 0, stack: [] });
    rounds.push(jsonOut<SelectJson>(run));
  }
  expect(rounds.map((r) => [r.round, r.selected.length])).toEqual([
    [1, 100],
    [2, 100],
    [3, 50],
  ]);
  expect(rounds.map((r) => r.budget)).toEqual([
    expect.objectContaining({ total: 250, spent: 100, left: 150 }),
    expect.objectContaining({ total: 250, spent: 200, left: 50 }),
    expect.objectContaining({ total: 250, spent: 250, left: 0 }),
  ]);
  // Each round passes over what the earlier rounds took.
  expect(rounds.map((r) => r.counts.alreadySelected)).toEqual([0, 100, 200]);

  const ids = rounds.flatMap((r) => r.selected.map((s) => s.id));
  expect(new Set(ids).size).toBe(250);
  const digitIds = new Set(pool.digits.map(fileId));
  expect(ids.every((id) => digitIds.has(id))).toBe(true);
  // lowest-rpr on a fixed pool: every image of a round scores no higher than any image of a later round.
  for (let i = 1; i < 3; i++) {
    expect(Math.max(...rounds[i - 1]!.selected.map((s) => s.score))).toBeLessThanOrEqual(Math.min(...rounds[i]!.selected.map((s) => s.score)));
  }

  const queue = readQueue(statePaths(cwd).queue);
  expect(queue.map((q) => q.id)).toEqual(ids);
  expect(queue.map((q) => q.round)).toEqual([...Array(100).fill(1), ...Array(100).fill(2), ...Array(50).fill(3)]);
  const state = expectRoundsConsistent(cwd, { total: 250, perRound: 100 });
  expect(state.rounds.map((r) => [r.id, r.status, r.selected])).toEqual([
    [1, 'queued', 100],
    [2, 'queued', 100],
    [3, 'queued', 50],
  ]);

  const fourth = await runCli(['select', '--pool', pool.dir, '--workers', '1', '--budget', '250', '--round-size', '100'], { cwd });
  expect({ code: fourth.code, stderr: fourth.stderr }).toEqual({ code: 3, stderr: expect.any(String) });
  expect(fourth.stdout).toBe('');
  expect(fourth.stderr).toBe('rpr-select: error: labeling budget spent: 250 of 250 samples used; raise budget.total (--budget) to select more\n');
  expect(readQueue(statePaths(cwd).queue)).toHaveLength(250);
  expect(expectRoundsConsistent(cwd, { total: 250, perRound: 100 }).rounds).toHaveLength(3);

  // The CLI's own view of the ledger agrees.
  const listed = await runCli(['rounds', 'list', '--json'], { cwd });
  expect(listed.code).toBe(0);
  expect(jsonOut<{ id: number; selected: number; spent: number }[]>(listed).map((r) => [r.id, r.selected, r.spent])).toEqual([
    [1, 100, 100],
    [2, 100, 100],
    [3, 50, 50],
  ]);
}, 180_000);
