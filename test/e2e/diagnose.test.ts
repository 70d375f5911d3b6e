/**
 * Acceptance (issue 6): `rpr-select diagnose` as a user runs it — the real CLI on the bundled model, a
 * labeled evaluation directory of real test digits (DIR/<class>/…) and a directory of three checkpoints
 * (a tiny network trained here for 1, 2 and 3 epochs). report.json holds every weight layer with its
 * spectrum (the last layer's singular values checked against an independent dense SVD of its kernel),
 * the class-imbalance section with one entry per class, and one gain curve per checkpoint; report.html
 * is self-contained. Bad input exits 2 with one line.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import type { ClassImbalanceReport, DiagnosticsReport } from '../../src/diagnostics/index.js';
import { loadLayersModelFromDir, saveLayersModelToDir } from '../../src/model/tfjs-file-io.js';
import { trainDigitClassifier } from '../../src/model/train-classifier.js';
import { mnistPart, writeDigitPngs } from '../../src/pool/index.js';
import { bundledModelPath } from '../../src/util/package-root.js';
import { assertBuilt, jsonOut, killAllCli, runCli, stackLines, type CliResult } from '../helpers/cli-process.js';

const PER_CLASS = 10;
const EPOCHS = [1, 2, 3];

interface DiagnoseJson {
  readonly files: { readonly json: string; readonly html: string };
  readonly underRepresented: readonly string[];
  readonly againstBaseline?: readonly string[];
}

let root: string;
let evalDir: string;
let checkpointsDir: string;
let run: CliResult;
let out: DiagnoseJson;
let report: DiagnosticsReport;

beforeAll(async () => {
  assertBuilt();
  root = mkdtempSync(join(tmpdir(), 'rpr-e2e-diagnose-'));
  evalDir = join(root, 'eval');
  const test = mnistPart('test');
  for (let c = 0; c < 10; c++) {
    await writeDigitPngs(join(evalDir, String(c)), test.filter((d) => d.label === c).slice(0, PER_CLASS), { concurrency: 4 });
  }
  checkpointsDir = join(root, 'checkpoints');
  const train = mnistPart('train').slice(0, 300);
  for (const epochs of EPOCHS) {
    const tiny = await trainDigitClassifier(train, { epochs, seed: 3, backend: 'wasm', architecture: { convFilters: [2, 4], denseUnits: 8 } });
    await saveLayersModelToDir(tiny, join(checkpointsDir, `epoch-${epochs}`));
    tiny.dispose();
  }
  const cwd = join(root, 'work');
  mkdirSync(cwd);
  run = await runCli(['diagnose', '--eval', evalDir, '--checkpoints', checkpointsDir, '--out', join(root, 'report'), '--json'], {
    cwd,
    timeoutMs: 240_000,
  });
  expect({ code: run.code, stack: stackLines(run.stderr) }).toEqual({ code: 0, stack: [] });
  out = jsonOut<DiagnoseJson>(run);
  report = JSON.parse(readFileSync(out.files.json, 'utf8')) as DiagnosticsReport;
}, 300_000);

afterAll(async () => {
  await killAllCli();
  rmSync(root, { recursive: true, force: true });
});

it('prints one JSON object naming report.json and report.html', () => {
  expect(run.stdout.trimEnd().split('\n')).toHaveLength(1);
  expect(out.files.json).toBe(join(root, 'report', 'report.json'));
  expect(out.files.html).toBe(join(root, 'report', 'report.html'));
  expect(out.underRepresented).toEqual(report.classImbalance!.underRepresented);
});

it('lists every conv and dense layer with its spectrum, Marchenko–Pastur fit, α and verdict', async () => {
  expect(report.layers.map((l) => [l.name, l.className, l.kernelShape])).toEqual([
    ['conv1', 'Conv2D', [3, 3, 1, 16]],
    ['conv2', 'Conv2D', [3, 3, 16, 32]],
    ['dense1', 'Dense', [1568, 64]],
    ['logits', 'Dense', [64, 10]],
  ]);
  for (const layer of report.layers) {
    for (const key of ['name', 'className', 'kernelShape', 'singularValues', 'mp', 'alpha', 'verdict']) expect(layer).toHaveProperty(key);
    const s = layer.singularValues;
    expect(s.length).toBe(Math.min(...layer.matrixShape));
    expect(s.every((v, i) => i === 0 || v <= s[i - 1]!)).toBe(true);
    expect(layer.mp.lambdaPlus).toBeGreaterThan(0);
    expect(layer.alpha === null || Number.isFinite(layer.alpha)).toBe(true);
    expect(typeof layer.verdict).toBe('string');
  }
  // The 64×10 logit kernel's singular values from an independent dense SVD of the saved weights.
  const model = await loadLayersModelFromDir(bundledModelPath());
  try {
    const kernel = model.getLayer('logits').getWeights()[0]!;
    const rows = kernel.arraySync() as number[][];
    const reference = new SingularValueDecomposition(new Matrix(rows), { autoTranspose: true }).diagonal;
    const reported = report.layers[3]!.singularValues;
    reference.forEach((v, i) => expect(reported[i]).toBeCloseTo(v, 4));
  } finally {
    model.dispose();
  }
});

it('has a class-imbalance entry per class, each with its images and its label strength', () => {
  const ci = report.classImbalance as ClassImbalanceReport;
  expect(ci.classes.map((c) => c.label)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  for (const c of ci.classes) {
    expect(c.n).toBe(PER_CLASS);
    expect(c.strength!.summary.n).toBe(10 * PER_CLASS);
    expect(c.strength!.ratio).toBeGreaterThan(0);
    expect(c.results.map((r) => `${r.metric}_${r.k}`)).toEqual(['rpr_1', 'rpr_5', 'rpr_9', 'lpr_1', 'lpr_5', 'lpr_9']);
    expect(c.underRepresented).toBe(ci.underRepresented.includes(c.label));
  }
  expect(ci.strengthKs).toEqual([5, 6, 7, 8]);
  expect(ci.verdict.length).toBeGreaterThan(0);
  expect(ci.baseline).toBeUndefined();
});

it('has one gain curve per checkpoint, oldest first', () => {
  const gain = report.gain!;
  expect(gain.curves.map((c) => c.name)).toEqual(EPOCHS.map((e) => `epoch-${e}`));
  for (const { curve } of gain.curves) {
    expect(curve.radii.length).toBeGreaterThan(3);
    expect(curve.gain).toHaveLength(curve.radii.length);
    expect(curve.gain.every((g) => Number.isFinite(g) && g > 0)).toBe(true);
  }
  expect(typeof gain.trend.kind).toBe('string');
});

it('writes a self-contained report.html: inline SVG plots, nothing fetched from anywhere', () => {
  const html = readFileSync(out.files.html, 'utf8');
  expect(html.startsWith('<!doctype html>')).toBe(true);
  expect((html.match(/<figure class="plot"/g) ?? []).length).toBeGreaterThanOrEqual(4 + 1 + 6 + 2);
  expect(html.match(/<svg/g)?.length).toBeGreaterThan(0);
  expect(html.match(/(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//gi)).toBeNull();
  expect(html.match(/<script|<link|<img|@import/gi)).toBeNull();
});

it('compares with a baseline model on the same images: the model against itself changes nothing', async () => {
  const dir = join(root, 'against-itself');
  const result = await runCli(['diagnose', '--eval', evalDir, '--baseline', bundledModelPath(), '--probes', '1', '--out', dir, '--json'], {
    cwd: root,
    timeoutMs: 240_000,
  });
  expect({ code: result.code, stack: stackLines(result.stderr) }).toEqual({ code: 0, stack: [] });
  expect(jsonOut<DiagnoseJson>(result).againstBaseline).toEqual([]);
  const baseline = (JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as DiagnosticsReport).classImbalance!.baseline!;
  expect(baseline.classes).toHaveLength(10);
  for (const c of baseline.classes) {
    expect(c.n).toBe(PER_CLASS);
    expect(c.lprArea.median).toBe(0);
    expect(c.flagged).toBe(false);
  }
}, 300_000);

describe('bad input: exit 2 and one line naming what to fix', () => {
  const oneLine = (r: CliResult) => r.stderr.trimEnd().split('\n');

  it('without --out', async () => {
    const r = await runCli(['diagnose', '--eval', evalDir], { cwd: root });
    expect(r.code).toBe(2);
    expect(oneLine(r)).toHaveLength(1);
    expect(r.stderr).toMatch(/out/);
    expect(stackLines(r.stderr)).toEqual([]);
  });

  it('with an evaluation directory that does not exist', async () => {
    const missing = join(root, 'no-such-eval');
    const r = await runCli(['diagnose', '--eval', missing, '--out', join(root, 'never')], { cwd: root });
    expect(r.code).toBe(2);
    expect(oneLine(r)).toHaveLength(1);
    expect(r.stderr).toContain(missing);
    expect(existsSync(join(root, 'never', 'report.json'))).toBe(false);
  });

  it('with a checkpoints directory that holds no checkpoints', async () => {
    const r = await runCli(['diagnose', '--checkpoints', evalDir, '--out', join(root, 'never')], { cwd: root });
    expect(r.code).toBe(2);
    expect(oneLine(r)).toHaveLength(1);
    expect(r.stderr).toContain(`${evalDir} holds no checkpoints`);
  });

  it('with --baseline but no --eval', async () => {
    const r = await runCli(['diagnose', '--baseline', bundledModelPath(), '--out', join(root, 'never')], { cwd: root });
    expect(r.code).toBe(2);
    expect(oneLine(r)).toHaveLength(1);
    expect(r.stderr).toMatch(/--baseline needs --eval/);
  });
});
