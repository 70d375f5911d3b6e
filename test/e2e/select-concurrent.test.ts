/**
 * Acceptance (issue 4): two `select` runs at once on one ledger. The first holds the ledger (paused
 * after scoring); a second exits 4 with one clear line, or with --wait waits for the first to finish
 * and then runs its own round. No image is selected twice.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertBuilt, hasFileOpen, jsonOut, killAllCli, pausedAt, runCli, stackLines, startCli, type CliProcess } from '../helpers/cli-process.js';
import { expectRoundsConsistent, readLedger, readQueue, statePaths } from './helpers/round-state.js';
import { writeTestPool, type TestPool } from './helpers/test-pool.js';

interface SelectJson {
  readonly round: number;
  readonly resumed: boolean;
  readonly selected: readonly { readonly id: string }[];
  readonly counts: { readonly alreadySelected: number };
}

const LIMITS = { total: 1000, perRound: 40 };

let root: string;
let pool: TestPool;
let cache: string;

beforeAll(async () => {
  assertBuilt();
  root = mkdtempSync(join(tmpdir(), 'rpr-e2e-concurrent-'));
  pool = await writeTestPool(join(root, 'pool'), { digits: 120, bad: false });
  // One score cache for every run of this file: what is under test is the ledger, not scoring.
  cache = join(root, 'cache.sqlite');
});

afterAll(async () => {
  await killAllCli();
  rmSync(root, { recursive: true, force: true });
});

function selectArgs(...extra: string[]): string[] {
  return ['select', '--pool', pool.dir, '--workers', '1', '--cache', cache, '--round-size', String(LIMITS.perRound), '--json', ...extra];
}

/** A run that took the ledger and stopped after scoring, until `resume()`. */
async function holdingRun(cwd: string): Promise<{ run: CliProcess; resume: () => void }> {
  const resumeFile = join(cwd, 'resume-first-run');
  const run = await pausedAt('after-score', selectArgs(), { cwd, resumeFile });
  return { run, resume: () => writeFileSync(resumeFile, '') };
}

function workdir(name: string): string {
  const cwd = join(root, name);
  mkdirSync(cwd);
  return cwd;
}

it('a second run exits 4 with one line naming the holder, and changes nothing', async () => {
  const cwd = workdir('exit');
  const first = await holdingRun(cwd);

  const second = await runCli(selectArgs(), { cwd });
  expect(second.code).toBe(4);
  expect(second.stdout).toBe('');
  expect(stackLines(second.stderr)).toEqual([]);
  const lines = second.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    new RegExp(`^rpr-select: error: ledger .*ledger\\.sqlite is in use by another run \\(pid ${first.run.pid} on .*\\); wait for it to finish or pass --wait SECONDS$`),
  );
  expect(readLedger(statePaths(cwd).ledger)?.rounds).toEqual([]);

  first.resume();
  const done = await first.run.exited();
  expect(done.code).toBe(0);
  const out = jsonOut<SelectJson>(done);
  expect(out).toMatchObject({ round: 1, resumed: false });
  expect(out.selected).toHaveLength(LIMITS.perRound);
  const state = expectRoundsConsistent(cwd, LIMITS);
  expect(state.rounds).toHaveLength(1);
  expect(readQueue(statePaths(cwd).queue).map((q) => q.id)).toEqual(out.selected.map((s) => s.id));
}, 120_000);

it('with --wait the second run waits for the first, then selects a round of its own, disjoint from it', async () => {
  const cwd = workdir('wait');
  const first = await holdingRun(cwd);

  const second = startCli(selectArgs('--wait', '120'), { cwd });
  // It has opened the ledger and tried for its lease while the first run still holds it.
  const ledgerPath = statePaths(cwd).ledger;
  await second.waitUntil('the second run opens the ledger', () => hasFileOpen(second.pid, ledgerPath));
  expect(readLedger(ledgerPath)?.rounds).toEqual([]);

  first.resume();
  const [firstEnd, secondEnd] = await Promise.all([first.run.exited(), second.exited()]);
  expect([firstEnd.code, secondEnd.code]).toEqual([0, 0]);
  const one = jsonOut<SelectJson>(firstEnd);
  const two = jsonOut<SelectJson>(secondEnd);
  expect([one.round, two.round]).toEqual([1, 2]);
  expect(two.resumed).toBe(false);
  // The second run scored after the first had committed: it passed over exactly the first's images.
  expect(two.counts.alreadySelected).toBe(one.selected.length);
  const firstIds = new Set(one.selected.map((s) => s.id));
  expect(two.selected).toHaveLength(LIMITS.perRound);
  expect(two.selected.filter((s) => firstIds.has(s.id))).toEqual([]);

  const state = expectRoundsConsistent(cwd, LIMITS);
  expect(state.rounds.map((r) => [r.id, r.status, r.selected])).toEqual([
    [1, 'queued', LIMITS.perRound],
    [2, 'queued', LIMITS.perRound],
  ]);
  expect(readQueue(statePaths(cwd).queue).map((q) => q.id)).toEqual([...one.selected, ...two.selected].map((s) => s.id));
}, 120_000);
