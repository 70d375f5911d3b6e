/** @jest-environment ./test/fixtures/onnx/ort-jest-environment.cjs */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { loadModel } from '../model/load-model.js';
import { TfjsExecutor } from '../model/executors/tfjs/tfjs-executor.js';
import { layersModelToIR } from '../model/frontends/layers-model-frontend.js';
import { initBackend, tf, tfl } from '../model/tf-runtime.js';
import { mnistPart } from '../pool/mnist-digits.js';
import type { Sample } from '../pool/types.js';
import { bundledModelPath } from '../util/package-root.js';
import { createRng } from '../util/rng.js';
import { classImbalanceRecords } from './class-imbalance-records.js';

/** z = Wᵀx + b on a flattened 3×3 image: A[x] = Wᵀ at every x, so a dense SVD of Wᵀ is the reference. */
function linearClassifier(units: number, seed: number): { model: tfl.Sequential; w: number[][] } {
  const rng = createRng(seed);
  const w = Array.from({ length: 9 }, () => Array.from({ length: units }, () => rng.normal()));
  const model = tfl.sequential({
    layers: [tfl.layers.flatten({ inputShape: [3, 3, 1] }), tfl.layers.dense({ units, useBias: true })],
  });
  const kernel = tf.tensor2d(w);
  const bias = tf.tensor1d(Array.from({ length: units }, () => rng.normal()));
  model.layers[1]!.setWeights([kernel, bias]);
  tf.dispose([kernel, bias]);
  return { model, w };
}

function sample(pixels: number[], i: number): Sample {
  return { id: `s${i}`, uri: `mem:${i}`, pixels: Float32Array.from(pixels) };
}

describe('classImbalanceRecords', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('gives RPR_k, the true label\'s LPR_k and every label\'s LPR curve, as a dense SVD of the Jacobian does', async () => {
    const { model, w } = linearClassifier(4, 1);
    const executor = new TfjsExecutor(layersModelToIR(model), 'cpu');
    const rng = createRng(2);
    const images = Array.from({ length: 3 }, () => Array.from({ length: 9 }, () => rng.next()));
    const names = ['zero', 'one', 'two', 'three'];
    try {
      const { records, skipped } = await classImbalanceRecords(executor, images.map(sample), [2, 0, 3], { ks: [1, 3], classNames: names });
      expect(skipped).toBe(0);
      expect(records.map((r) => r.label)).toEqual(['two', 'zero', 'three']);
      const svd = new SingularValueDecomposition(new Matrix(w).transpose(), { autoTranspose: true });
      const u = svd.leftSingularVectors;
      const v = svd.rightSingularVectors;
      const lpr = (c: number, k: number) => Math.sqrt(Array.from({ length: k }, (_, j) => u.get(c, j) ** 2).reduce((a, b) => a + b, 0));
      records.forEach((r, b) => {
        expect(Object.keys(r.labelLpr!)).toEqual(names);
        names.forEach((name, c) => {
          r.labelLpr![name]!.forEach((value, i) => expect(value).toBeCloseTo(lpr(c, i + 1), 5));
          expect(r.labelLpr![name]![3]).toBeCloseTo(1, 6);
        });
        const own = [2, 0, 3][b]!;
        expect(r.lpr['1']).toBeCloseTo(lpr(own, 1), 5);
        expect(r.lpr['3']).toBeCloseTo(lpr(own, 3), 5);
        const x = images[b]!;
        const norm = Math.hypot(...x);
        for (const k of [1, 3]) {
          const proj = Array.from({ length: k }, (_, j) => x.reduce((s, xi, i) => s + xi * v.get(i, j), 0));
          expect(r.rpr[String(k)]).toBeCloseTo(Math.hypot(...proj) / norm, 5);
        }
      });
    } finally {
      executor.dispose();
      model.dispose();
    }
  });

  it('on real digits through the bundled model (ONNX Runtime, the fused Gram path) equals a dense SVD of each Jacobian', async () => {
    const { executor } = await loadModel(bundledModelPath(), { engine: 'onnxruntime' });
    try {
      const digits = mnistPart('test').slice(0, 3);
      const { records } = await classImbalanceRecords(executor, digits.map((d, i) => sample(Array.from(d.pixels), i)), digits.map((d) => d.label), { ks: [1, 5, 10] });
      const lin = await executor.linearize(Float32Array.from(digits.flatMap((d) => Array.from(d.pixels))), 3);
      const jac = await lin.jacobians();
      lin.dispose();
      records.forEach((r, b) => {
        const a = Matrix.from1DArray(10, 784, Float64Array.from(jac.subarray(b * 7840, (b + 1) * 7840)));
        const svd = new SingularValueDecomposition(a, { autoTranspose: true });
        const x = digits[b]!.pixels;
        const norm = Math.hypot(...x);
        for (const k of [1, 5, 10]) {
          const proj = Array.from({ length: k }, (_, j) => x.reduce((s, xi, i) => s + xi * svd.rightSingularVectors.get(i, j), 0));
          expect(Math.abs(r.rpr[String(k)]! - Math.hypot(...proj) / norm)).toBeLessThan(1e-6);
          const own = digits[b]!.label;
          const lpr = Math.sqrt(Array.from({ length: k }, (_, j) => svd.leftSingularVectors.get(own, j) ** 2).reduce((p, q) => p + q, 0));
          expect(Math.abs(r.lpr[String(k)]! - lpr)).toBeLessThan(1e-6);
        }
      });
    } finally {
      executor.dispose();
    }
  });

  it('leaves out an all-zero image, names classes by index without names, and rejects bad labels and wide outputs', async () => {
    const { model } = linearClassifier(3, 3);
    const executor = new TfjsExecutor(layersModelToIR(model), 'cpu');
    const wide = linearClassifier(257, 4);
    const wideExecutor = new TfjsExecutor(layersModelToIR(wide.model), 'cpu');
    try {
      const images = [sample(new Array(9).fill(0), 0), sample(new Array(9).fill(0.5), 1)];
      const { records, skipped } = await classImbalanceRecords(executor, images, [0, 1], { ks: [1] });
      expect(skipped).toBe(1);
      expect(records.map((r) => r.label)).toEqual(['1']);
      expect(Object.keys(records[0]!.labelLpr!)).toEqual(['0', '1', '2']);
      await expect(classImbalanceRecords(executor, images, [0, 3], { ks: [1] })).rejects.toMatchObject({
        code: 'RPR_USAGE',
        message: expect.stringContaining('mem:1 has label 3'),
      });
      await expect(classImbalanceRecords(wideExecutor, images, [0, 1], { ks: [1] })).rejects.toMatchObject({
        code: 'RPR_USAGE',
        message: expect.stringContaining('this model has 257'),
      });
    } finally {
      executor.dispose();
      wideExecutor.dispose();
      model.dispose();
      wide.model.dispose();
    }
  });
});
