/**
 * Acceptance (issue 4): the `select --json` object — its documented keys and their meaning — from the
 * real CLI and scorer on a small pool with bad files. Each selected image's score is its RPR_k as
 * `rpr-select score` computes it on the same pool (no cache), and as a dense tf.grad Jacobian computes it
 * here; the round holds exactly the images with the lowest RPR_k; the bad files are listed as skipped.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledModelPath } from '../../src/util/package-root.js';
import { assertBuilt, jsonOut, killAllCli, runCli, stackLines } from '../helpers/cli-process.js';
import { denseRpr, grayPixels, loadLogitModel } from './helpers/dense-rpr.js';
import { fileId, writeTestPool, type TestPool } from './helpers/test-pool.js';

const ROUND = 20;

interface SelectJson {
  readonly round: unknown;
  readonly selected: readonly Record<string, unknown>[];
  readonly skipped: readonly Record<string, unknown>[];
  readonly budget: Record<string, unknown>;
}

interface ScoreLine {
  readonly id: string;
  readonly uri: string;
  readonly rpr?: Readonly<Record<string, number>>;
  readonly error?: string;
}

let root: string;
let pool: TestPool;
let out: SelectJson;
let scores: ScoreLine[];

beforeAll(async () => {
  assertBuilt();
  root = mkdtempSync(join(tmpdir(), 'rpr-e2e-json-'));
  const cwd = join(root, 'work');
  mkdirSync(cwd);
  pool = await writeTestPool(join(root, 'pool'), { digits: 60 });
  const select = await runCli(['select', '--pool', pool.dir, '--workers', '1', '--round-size', String(ROUND), '--json'], { cwd });
  expect({ code: select.code, stack: stackLines(select.stderr) }).toEqual({ code: 0, stack: [] });
  expect(select.stdout.trimEnd().split('\n')).toHaveLength(1);
  out = jsonOut<SelectJson>(select);
  const scoresFile = join(root, 'scores.jsonl');
  const score = await runCli(['score', '--pool', pool.dir, '--k', '1,5,10', '--no-cache', '--workers', '1', '--out', scoresFile, '--quiet'], { cwd });
  expect({ code: score.code, stderr: score.stderr }).toEqual({ code: 0, stderr: '' });
  scores = readFileSync(scoresFile, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as ScoreLine);
}, 120_000);

afterAll(async () => {
  await killAllCli();
  rmSync(root, { recursive: true, force: true });
});

it('has the documented keys: round, selected [{id, uri, rank, score}], skipped [{uri, reason}], budget {total, spent, left}', () => {
  expect(out.round).toBe(1);
  expect(out.selected).toHaveLength(ROUND);
  out.selected.forEach((s, i) => {
    expect(s).toEqual(
      expect.objectContaining({ id: expect.stringMatching(/^[0-9a-f]{64}$/), uri: expect.any(String), rank: i + 1, score: expect.any(Number) }),
    );
    expect(pool.digits).toContain(s['uri']);
    expect(s['id']).toBe(fileId(s['uri'] as string));
  });
  for (const s of out.skipped) expect(s).toEqual(expect.objectContaining({ uri: expect.any(String), reason: expect.any(String) }));
  expect(out.budget).toEqual(expect.objectContaining({ total: 1000, spent: ROUND, left: 1000 - ROUND }));
});

it('lists the corrupt, truncated and all-zero files as skipped with their reasons, and selects none of them', () => {
  const reasons = new Map(out.skipped.map((s) => [s['uri'], s['reason'] as string]));
  expect([...reasons.keys()].sort()).toEqual([pool.corrupt, pool.truncated, pool.zero].sort());
  expect(reasons.get(pool.corrupt)).toMatch(/^cannot decode image/);
  expect(reasons.get(pool.truncated)).toMatch(/^cannot decode image/);
  expect(reasons.get(pool.zero)).toMatch(/zero image/);
  const uris = new Set(out.selected.map((s) => s['uri']));
  expect([pool.corrupt, pool.truncated, pool.zero].filter((u) => uris.has(u))).toEqual([]);
  // `score` reports the same three as errors.
  expect(scores.filter((l) => l.error !== undefined).map((l) => l.uri).sort()).toEqual([pool.corrupt, pool.truncated, pool.zero].sort());
});

it('scores are RPR_10 as `rpr-select score` computes them, and the round is the 20 lowest of the pool', () => {
  const byId = new Map(scores.map((l) => [l.id, l]));
  for (const s of out.selected) {
    const line = byId.get(s['id'] as string);
    expect(line?.rpr).toBeDefined();
    expect(s['score']).toBeCloseTo(line!.rpr!['10']!, 6);
    expect(s['scores']).toEqual(expect.objectContaining({ 'rpr@1': expect.closeTo(line!.rpr!['1']!, 6), 'rpr@5': expect.closeTo(line!.rpr!['5']!, 6) }));
  }
  const lowest = scores
    .filter((l) => l.rpr !== undefined)
    .sort((a, b) => a.rpr!['10']! - b.rpr!['10']! || (a.id < b.id ? -1 : 1))
    .slice(0, ROUND)
    .map((l) => l.id);
  expect(out.selected.map((s) => s['id'])).toEqual(lowest);
});

it('scores agree with a dense tf.grad Jacobian of the model computed independently (first, middle and last pick)', async () => {
  const model = await loadLogitModel(bundledModelPath());
  for (const s of [out.selected[0]!, out.selected[ROUND / 2]!, out.selected[ROUND - 1]!]) {
    const x = await grayPixels(s['uri'] as string, 1 / 255);
    const reference = denseRpr(model, x, [28, 28, 1], [1, 5, 10]);
    const reported = s['scores'] as Record<string, number>;
    expect(s['score']).toBeCloseTo(reference.get(10)!, 6);
    expect(reported['rpr@1']).toBeCloseTo(reference.get(1)!, 6);
    expect(reported['rpr@5']).toBeCloseTo(reference.get(5)!, 6);
  }
  model.dispose();
}, 60_000);
