/**
 * Acceptance (issue 4, DESIGN.md §6): each user mistake, one at a time, through the real CLI: one clear
 * line on stderr naming the file, key, layer or value (never a stack trace), the exit status of the
 * README's table (2 usage/config, 3 budget spent), and no partial ledger — the ledger
 * absent or holding no round, and nothing queued. A pool with bad files scores the rest and lists them.
 * (An unreachable annotation server, exit 5, is in sink-unreachable.test.ts: its retries take a while.)
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tfl } from '../../src/model/tf-runtime.js';
import { saveLayersModelToDir } from '../../src/model/tfjs-file-io.js';
import { bundledModelPath } from '../../src/util/package-root.js';
import { assertBuilt, jsonOut, killAllCli, runCli, stackLines } from '../helpers/cli-process.js';
import { expectNoRound, expectRoundsConsistent, readLedger, statePaths } from './helpers/round-state.js';
import { fileId, writeTestPool, zeroPng, type TestPool } from './helpers/test-pool.js';

let root: string;
let pool: TestPool;
let models: string;

/** Models the frontend must refuse, each saved as a TF.js LayersModel directory. */
async function writeBadModels(dir: string): Promise<void> {
  await initBackend('cpu');
  const input = tfl.input({ shape: [28, 28, 1] });
  const flat = tfl.layers.flatten().apply(input) as tfl.SymbolicTensor;
  const left = tfl.layers.dense({ units: 10, name: 'left' }).apply(flat) as tfl.SymbolicTensor;
  const right = tfl.layers.dense({ units: 10, name: 'right' }).apply(flat) as tfl.SymbolicTensor;
  const gated = tfl.layers.multiply({ name: 'gate' }).apply([left, right]) as tfl.SymbolicTensor;
  await saveLayersModelToDir(tfl.model({ inputs: input, outputs: gated }), join(dir, 'multiply'));
  await saveLayersModelToDir(
    tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [8, 8, 4] }), tfl.layers.dense({ units: 10 })] }),
    join(dir, 'four-channels'),
  );
  await saveLayersModelToDir(tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [784], units: 10 })] }), join(dir, 'flat-input'));
  // The bundled model without its weights file.
  mkdirSync(join(dir, 'no-weights'));
  for (const file of ['model.json', 'metadata.json']) copyFileSync(join(bundledModelPath(), file), join(dir, 'no-weights', file));
}

beforeAll(async () => {
  assertBuilt();
  root = mkdtempSync(join(tmpdir(), 'rpr-e2e-bad-'));
  pool = await writeTestPool(join(root, 'pool'), { digits: 20 });
  models = join(root, 'models');
  await writeBadModels(models);
  mkdirSync(join(root, 'empty-pool'));
  mkdirSync(join(root, 'zero-pool'));
  writeFileSync(join(root, 'zero-pool', 'blank.png'), await zeroPng());
  writeFileSync(join(root, 'unknown-key.yaml'), 'scoring:\n  modes: reference\n');
  writeFileSync(join(root, 'wrong-type.yaml'), 'budget:\n  total: lots\n');
  writeFileSync(join(root, 'not-a-ledger.txt'), 'these are notes, not an SQLite database\n'.repeat(200));
}, 60_000);

afterAll(async () => {
  await killAllCli();
  rmSync(root, { recursive: true, force: true });
});

let workdirs = 0;
function workdir(): string {
  const cwd = join(root, `work-${++workdirs}`);
  mkdirSync(cwd);
  return cwd;
}

interface BadCase {
  readonly name: string;
  readonly args: () => string[];
  readonly code: number;
  readonly message: () => RegExp;
  /** Further checks on what the run left in `cwd`. */
  readonly check?: (cwd: string) => void;
}

const poolArgs = () => ['--pool', pool.dir];
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const CASES: readonly BadCase[] = [
  {
    name: 'a missing model directory',
    args: () => [...poolArgs(), '--model', join(root, 'no-such-model')],
    code: 2,
    message: () => new RegExp(`model path '${escape(join(root, 'no-such-model'))}' does not exist; give a TF\\.js model directory or its model\\.json$`),
  },
  {
    name: 'a model with an unsupported layer (named, with its class)',
    args: () => [...poolArgs(), '--model', join(models, 'multiply')],
    code: 2,
    message: () => /layer 'gate' of class Multiply cannot be linearized$/,
  },
  {
    name: 'a model whose weights shard is missing',
    args: () => [...poolArgs(), '--model', join(models, 'no-weights')],
    code: 2,
    message: () => new RegExp(`weight shard 'weights\\.bin' listed in '${escape(join(models, 'no-weights', 'model.json'))}' is missing`),
  },
  {
    name: 'a model that takes 4 channels',
    args: () => [...poolArgs(), '--model', join(models, 'four-channels')],
    code: 2,
    message: () => /the model takes 4 channels; rpr-select decodes images to 1 or 3$/,
  },
  {
    name: 'a model whose input is not an image (1-D)',
    args: () => [...poolArgs(), '--model', join(models, 'flat-input')],
    code: 2,
    message: () => /the model's input shape \[null,784\] is not an image \[batch, height, width, channels\]/,
  },
  {
    name: 'a config file with an unknown key',
    args: () => [...poolArgs(), '--config', join(root, 'unknown-key.yaml')],
    code: 2,
    message: () => /config .*unknown-key\.yaml: unknown key 'scoring\.modes'; valid keys in 'scoring': mode, ks, svd, referenceDir, center$/,
  },
  {
    name: 'a config file with a wrong type',
    args: () => [...poolArgs(), '--config', join(root, 'wrong-type.yaml')],
    code: 2,
    message: () => /config .*wrong-type\.yaml: key 'budget\.total' is "lots" \(string\); expected a number$/,
  },
  {
    name: 'a ledger path that is a directory',
    args: () => [...poolArgs(), '--ledger', root],
    code: 2,
    message: () => new RegExp(`cannot open the ledger ${escape(root)}: .*; pass another --ledger path$`),
  },
  {
    name: 'a ledger path that is another kind of file',
    args: () => [...poolArgs(), '--ledger', join(root, 'not-a-ledger.txt')],
    code: 2,
    message: () => new RegExp(`cannot open the ledger ${escape(join(root, 'not-a-ledger.txt'))}: .*; pass another --ledger path$`),
  },
  {
    name: 'a pool of zero images (an empty directory)',
    args: () => ['--pool', join(root, 'empty-pool')],
    code: 2,
    message: () => new RegExp(`the pool \\(directory ${escape(join(root, 'empty-pool'))}\\) has no images; add images or pass another --pool$`),
  },
  {
    name: 'a pool directory that does not exist',
    args: () => ['--pool', join(root, 'no-such-pool')],
    code: 2,
    message: () => new RegExp(`pool '${escape(join(root, 'no-such-pool'))}' does not exist`),
  },
  {
    name: 'a pool whose only image is all zeros (reported, not selected)',
    args: () => ['--pool', join(root, 'zero-pool')],
    code: 2,
    message: () => /no image in the pool .* could be used: 1 skipped \(first: .*blank\.png: zero image: ‖x‖ = 0, so the RPR is undefined/,
    // Reported in the ledger as failed with its reason, never as a candidate.
    check: (cwd) => {
      const blank = join(root, 'zero-pool', 'blank.png');
      const sample = readLedger(statePaths(cwd).ledger, [fileId(blank)])?.samples.get(fileId(blank));
      expect(sample).toMatchObject({ state: 'failed', uri: blank, reason: expect.stringMatching(/^zero image/) });
    },
  },
  {
    name: 'a budget already spent',
    args: () => [...poolArgs(), '--budget', '0'],
    code: 3,
    message: () => /labeling budget spent: 0 of 0 samples used; raise budget\.total \(--budget\) to select more$/,
  },
];

it.concurrent.each(CASES.map((c) => [c.name, c] as const))('%s: one line, exit code, no round recorded', async (_name, bad) => {
  const cwd = workdir();
  const run = await runCli(['select', '--workers', '1', '--quiet', ...bad.args()], { cwd });
  expect(stackLines(run.stderr)).toEqual([]);
  expect({ code: run.code, stdout: run.stdout, lines: run.stderr.trimEnd().split('\n').length }).toEqual({ code: bad.code, stdout: '', lines: 1 });
  expect(run.stderr).toMatch(/^rpr-select: error: /);
  expect(run.stderr.trimEnd()).toMatch(bad.message());
  expectNoRound(cwd);
  bad.check?.(cwd);
}, 90_000);

it('a pool with corrupt, truncated and all-zero files: the rest is scored and selected, the bad ones listed as skipped', async () => {
  const cwd = workdir();
  const run = await runCli(['select', '--workers', '1', '--json', '--round-size', '100', ...poolArgs()], { cwd });
  expect({ code: run.code, stack: stackLines(run.stderr) }).toEqual({ code: 0, stack: [] });
  const out = jsonOut<{ selected: { uri: string }[]; skipped: { uri: string; reason: string }[] }>(run);
  expect(out.selected.map((s) => s.uri).sort()).toEqual([...pool.digits].sort());
  expect(out.skipped.map((s) => s.uri).sort()).toEqual([pool.corrupt, pool.truncated, pool.zero].sort());
  const bad = [pool.corrupt, pool.truncated, pool.zero];
  const state = expectRoundsConsistent(cwd, { total: 1000, perRound: 100 });
  const samples = readLedger(statePaths(cwd).ledger, bad.map(fileId))!.samples;
  for (const file of bad) {
    const reason = out.skipped.find((s) => s.uri === file)!.reason;
    expect(samples.get(fileId(file))).toMatchObject({ state: 'failed', uri: file, reason });
  }
  expect(state.selections).toHaveLength(pool.digits.length);
}, 90_000);
