/** @jest-environment ./test/fixtures/onnx/ort-jest-environment.cjs */
/**
 * runDiagnose's inputs beyond the model. Where the gain probes come from when no --eval is given:
 * --pool when given, else held-out MNIST test digits for a 28×28×1 model, else --checkpoints is a usage
 * error naming the flag to add (the MNIST case is checked against the gain computed here on those
 * digits). And the checks of --pool and --svd-neurons.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gainOverCheckpoints } from '../../src/diagnostics/gain.js';
import { runDiagnose } from '../../src/diagnostics/run-diagnose.js';
import { loadModel } from '../../src/model/load-model.js';
import { initBackend, tfl } from '../../src/model/tf-runtime.js';
import { saveLayersModelToDir } from '../../src/model/tfjs-file-io.js';
import { mnistPart, writeDigitPngs } from '../../src/pool/index.js';
import { bundledModelPath } from '../../src/util/package-root.js';
import { seedWeights } from '../fixtures/architectures.js';

let root: string;

beforeAll(async () => {
  await initBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'rpr-gain-probes-'));
  for (const name of ['a', 'b']) cpSync(bundledModelPath(), join(root, 'mnist-checkpoints', name), { recursive: true });
  const small = tfl.sequential();
  small.add(tfl.layers.conv2d({ inputShape: [12, 12, 1], filters: 3, kernelSize: 3, activation: 'relu' }));
  small.add(tfl.layers.flatten());
  small.add(tfl.layers.dense({ units: 4 }));
  await saveLayersModelToDir(seedWeights(small, 4), join(root, 'small-checkpoints', 'only'));
  small.dispose();
  await writeDigitPngs(join(root, 'pool'), mnistPart('pool').slice(0, 8));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('probes a 28×28×1 model with held-out MNIST digits when neither --eval nor --pool is given', async () => {
  const checkpointsDir = join(root, 'mnist-checkpoints');
  const { report } = await runDiagnose({ modelPath: bundledModelPath(), checkpointsDir, probes: 3, outDir: join(root, 'out-mnist') });
  expect(report.notes).toContain('gain probes: 3 image(s) from held-out MNIST test digits (bundled)');
  const gain = report.gain!;
  expect(gain.curves.map((c) => c.name)).toEqual(['a', 'b']);
  // The reference: the same checkpoints' gain on the first three MNIST test digits, as 8-bit pixels.
  const probes = mnistPart('test')
    .slice(0, 3)
    .map((d) => Float32Array.from(d.pixels, (v) => Math.round(255 * v) / 255));
  const model = await loadModel(bundledModelPath());
  try {
    const expected = await gainOverCheckpoints(
      [{ name: 'a', forward: (x, n) => model.executor.forward(x, n) }],
      probes,
      { height: 28, width: 28, channels: 1 },
    );
    const ours = gain.curves[0]!.curve;
    expect(ours.probes).toBe(3);
    expected.curves[0]!.curve.gain.forEach((g, i) => expect(Math.abs(ours.gain[i]! - g)).toBeLessThan(1e-3 * g));
  } finally {
    model.executor.dispose();
  }
});

it('probes with the pool when one is given', async () => {
  const checkpointsDir = join(root, 'small-checkpoints');
  const { report } = await runDiagnose({
    modelPath: join(checkpointsDir, 'only'),
    checkpointsDir,
    poolSpec: join(root, 'pool'),
    probes: 5,
    outDir: join(root, 'out-pool'),
  });
  expect(report.notes).toContain('gain probes: 5 image(s) from --pool');
  expect(report.gain!.curves[0]!.curve.probes).toBe(5);
  expect(report.svdNeurons!.images).toBe(8);
});

it('stops with a message naming --pool when checkpoints have no probes and no bundled digits fit', async () => {
  const checkpointsDir = join(root, 'small-checkpoints');
  const run = runDiagnose({ modelPath: join(checkpointsDir, 'only'), checkpointsDir, outDir: join(root, 'never') });
  await expect(run).rejects.toMatchObject({ code: 'RPR_USAGE', message: expect.stringMatching(/add --pool DIR/) as string });
});

it('without checkpoints or probes, writes the report and says why it has no gain section', async () => {
  const { report } = await runDiagnose({ modelPath: join(root, 'small-checkpoints', 'only'), outDir: join(root, 'out-none') });
  expect(report.gain).toBeNull();
  expect(report.notes).toContain('no gain curves: pass --eval or --pool to give probe images');
});

it('names a pool that does not exist, before loading any model', async () => {
  const missing = join(root, 'no-such-pool');
  const run = runDiagnose({ modelPath: join(root, 'no-such-model'), poolSpec: missing, outDir: join(root, 'never') });
  await expect(run).rejects.toMatchObject({ code: 'RPR_POOL_NOT_FOUND', message: expect.stringContaining(missing) as string });
});

it('refuses --svd-neurons without --pool', async () => {
  const run = runDiagnose({ modelPath: bundledModelPath(), svdNeurons: 4, outDir: join(root, 'never') });
  await expect(run).rejects.toMatchObject({ code: 'RPR_USAGE', message: expect.stringMatching(/--svd-neurons needs --pool/) as string });
});
