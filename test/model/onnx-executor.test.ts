/** @jest-environment ./test/fixtures/onnx/ort-jest-environment.cjs */
/**
 * The ONNX Runtime engine against two independent references on every architecture of the core's
 * tests: TF.js running the same IR (forward, A v, Aᵀu, c[x], per-sample RPR) and tf.grad on the
 * original TF.js model (A[x] row by row), and the fused exact path (Gram matrices and probe products)
 * against the same reductions of those Jacobians. Its own adjoint must pass the adjoint test, and its max-pool
 * switches must follow the first-maximum rule on a real digit whose flat background makes ties common.
 */
import { scorePerSample } from '../../src/metrics/per-sample.js';
import { OnnxExecutor } from '../../src/model/executors/onnx/onnx-executor.js';
import { TfjsExecutor } from '../../src/model/executors/tfjs/tfjs-executor.js';
import { layersModelToIR } from '../../src/model/frontends/layers-model-frontend.js';
import type { ModelIR } from '../../src/model/ir.js';
import { sizeOf } from '../../src/model/ir.js';
import { initBackend, tf, tfl } from '../../src/model/tf-runtime.js';
import { mnistPart } from '../../src/pool/mnist-digits.js';
import type { Sample } from '../../src/pool/types.js';
import { createRng } from '../../src/util/rng.js';
import { ARCHITECTURES, randomImages, seedWeights } from '../fixtures/architectures.js';
import { autogradVjps, dot, relativeError, rowsTimes, unitRows } from '../helpers/compare.js';

const TOLERANCE = 1e-4;

/**
 * Activations whose derivative a max-pool records at its switches (pattern-specs.ts) that cannot be read
 * off the pooled output: ELU before a tiling pool, ReLU6 and PReLU before overlapping ones.
 */
function absorbedActivations(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.conv2d({ inputShape: [12, 12, 2], filters: 4, kernelSize: 3, padding: 'same' }));
  m.add(tfl.layers.elu({}));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same', activation: 'relu6' }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }));
  m.add(tfl.layers.conv2d({ filters: 6, kernelSize: 2, padding: 'valid' }));
  m.add(tfl.layers.prelu({}));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 1 }));
  m.add(tfl.layers.flatten());
  m.add(tfl.layers.dense({ units: 6 }));
  return seedWeights(m, 61);
}

/**
 * Tiling max-pools after few-channel convs, whose adjoints fuse into one strided ConvTranspose
 * (emit-pool-conv.ts): a column no window reads (a 'valid' pool on an odd width), a 'same' pool that pads
 * after, a pool straight on a conv (no activation between).
 */
function fusedPoolEdges(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.conv2d({ inputShape: [12, 11, 3], filters: 4, kernelSize: 3, activation: 'relu' }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same' }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2, padding: 'same' }));
  m.add(tfl.layers.flatten());
  m.add(tfl.layers.dense({ units: 6 }));
  return seedWeights(m, 62);
}

const CASES = [
  ...ARCHITECTURES,
  { name: 'activations recorded at max-pool switches', build: absorbedActivations },
  { name: 'max-pools fused with the conv before them', build: fusedPoolEdges },
];

describe.each(CASES)('$name on ONNX Runtime', (arch) => {
  let model: tfl.LayersModel;
  let ir: ModelIR;
  let reference: TfjsExecutor;
  let onnx: OnnxExecutor;

  beforeAll(async () => {
    await initBackend('cpu');
    model = arch.build();
    ir = layersModelToIR(model);
    reference = new TfjsExecutor(ir, 'cpu');
    onnx = await OnnxExecutor.create(ir);
  });
  afterAll(() => {
    onnx.dispose();
    reference.dispose();
  });

  it('reproduces the model forward pass', async () => {
    const x = randomImages(ir.inputShape, 3, 21);
    const expected = tf.tidy(() => (model.predict(tf.tensor(x, [3, ...ir.inputShape])) as tf.Tensor).dataSync() as Float32Array);
    expect(relativeError(await onnx.forward(x, 3), expected)).toBeLessThan(TOLERANCE);
    expect(onnx.backend).toBe('onnxruntime-cpu');
  });

  it('builds the Jacobians of a batch equal to the TF.js executor, and to tf.grad image by image', async () => {
    const count = 3;
    const n = sizeOf(ir.inputShape);
    const m = ir.outputSize;
    const x = randomImages(ir.inputShape, count, 22);
    const lin = await onnx.linearize(x, count);
    const ref = await reference.linearize(x, count);
    const jac = await lin.jacobians();
    expect(relativeError(lin.outputs, ref.outputs)).toBeLessThan(TOLERANCE);
    expect(relativeError(jac, await ref.jacobians())).toBeLessThan(TOLERANCE);
    if (!('noAutograd' in arch && arch.noAutograd)) {
      // Whole rows of A for classifiers, random cotangents for image outputs.
      const rng = createRng(26);
      const k = m <= 10 ? m : 3;
      const us = m <= 10 ? unitRows(m) : Float32Array.from({ length: k * m }, () => rng.normal());
      for (let b = 0; b < count; b++) {
        const grad = autogradVjps(model, x.slice(b * n, (b + 1) * n), ir.inputShape, us, k);
        expect(relativeError(rowsTimes(us, k, jac.subarray(b * m * n, (b + 1) * m * n), m, n), grad)).toBeLessThan(TOLERANCE);
      }
    }
    expect(relativeError(await lin.offsets(), await ref.offsets())).toBeLessThan(TOLERANCE);
    lin.dispose();
    ref.dispose();
  });

  it('fuses the exact path: outputs, Gram matrices A·Aᵀ and probe products A·p equal those of the TF.js Jacobians', async () => {
    const count = 3;
    const n = sizeOf(ir.inputShape);
    const m = ir.outputSize;
    const x = randomImages(ir.inputShape, count, 27);
    const probes = randomImages(ir.inputShape, count, 28);
    const before = onnx.passes;
    const got = await onnx.gramians(x, count, probes);
    expect(onnx.passes - before).toBe(count * (1 + m));
    const ref = await reference.linearize(x, count);
    const jac = await ref.jacobians();
    expect(relativeError(got.outputs, ref.outputs)).toBeLessThan(TOLERANCE);
    const gram = new Float64Array(count * m * m);
    const products = new Float64Array(count * m);
    for (let b = 0; b < count; b++) {
      const row = (i: number) => (b * m + i) * n;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < m; j++) gram[(b * m + i) * m + j] = dot(jac, jac, row(i), row(j), n);
        products[b * m + i] = dot(jac, probes, row(i), b * n, n);
      }
    }
    expect(got.gram).toBeInstanceOf(Float64Array);
    expect(relativeError(got.gram, gram)).toBeLessThan(TOLERANCE);
    expect(relativeError(got.products, products)).toBeLessThan(TOLERANCE);
    ref.dispose();
    // The TF.js executor's own (unfused) gramians reduce the same Jacobians in JavaScript.
    const unfused = await reference.gramians(x, count, probes);
    expect(relativeError(unfused.gram, gram)).toBeLessThan(1e-12);
    expect(relativeError(unfused.products, products)).toBeLessThan(1e-12);
  });

  it('gives the per-image operator: A v and Aᵀu equal the TF.js executor and pass the adjoint test', async () => {
    const n = sizeOf(ir.inputShape);
    const m = ir.outputSize;
    const x = randomImages(ir.inputShape, 2, 23);
    const lin = await onnx.linearize(x, 2);
    const ref = await reference.linearize(x, 2);
    const rng = createRng(24);
    const k = 3;
    for (let b = 0; b < 2; b++) {
      const op = lin.operator(b);
      const refOp = ref.operator(b);
      const v = Float64Array.from({ length: k * n }, () => rng.normal());
      const u = Float64Array.from({ length: k * m }, () => rng.normal());
      const av = await op.matvec(v, k);
      const atu = await op.rmatvec(u, k);
      expect(relativeError(av, await refOp.matvec(v, k))).toBeLessThan(TOLERANCE);
      expect(relativeError(atu, await refOp.rmatvec(u, k))).toBeLessThan(TOLERANCE);
      for (let j = 0; j < k; j++) {
        const lhs = dot(av, u, j * m, j * m, m);
        const rhs = dot(v, atu, j * n, j * n, n);
        const scale = Math.sqrt(dot(av, av, j * m, j * m, m) * dot(u, u, j * m, j * m, m));
        expect(Math.abs(lhs - rhs)).toBeLessThan(1e-5 * Math.max(scale, 1e-12));
      }
    }
    lin.dispose();
    ref.dispose();
  });

  it('scores per-sample RPR like the TF.js executor', async () => {
    const count = 2;
    const n = sizeOf(ir.inputShape);
    const x = randomImages(ir.inputShape, count, 25);
    const samples: Sample[] = Array.from({ length: count }, (_, b) => ({ id: `s${b}`, uri: `s${b}`, pixels: x.slice(b * n, (b + 1) * n) }));
    const options = { ks: [1, 2, 5], svd: 'exact' as const };
    const ours = await scorePerSample(onnx, samples, options);
    const theirs = await scorePerSample(reference, samples, options);
    ours.forEach((r, b) => {
      for (const k of ['1', '2', '5']) expect(Math.abs(r.rpr![k]! - theirs[b]!.rpr![k]!)).toBeLessThan(1e-3);
      expect(relativeError(r.sigma!, theirs[b]!.sigma!)).toBeLessThan(TOLERANCE);
    });
  });
});

/** Max-pools straight after a linear conv: on a flat background every window is a tie of equal values. */
function tieProneCnn(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 3, kernelSize: 3, padding: 'same' }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }));
  m.add(tfl.layers.flatten());
  m.add(tfl.layers.dense({ units: 10 }));
  return seedWeights(m, 51);
}

describe('max-pool switches on a real digit', () => {
  it('route Aᵀu like tf.grad (the first maximum of each window wins ties), in the fused Gram graph too', async () => {
    await initBackend('cpu');
    const model = tieProneCnn();
    const ex = await OnnxExecutor.create(layersModelToIR(model));
    const digits = mnistPart('test').slice(2, 4);
    for (const digit of digits) {
      const lin = await ex.linearize(digit.pixels, 1);
      const jac = await lin.jacobians();
      lin.dispose();
      const grad = autogradVjps(model, digit.pixels, [28, 28, 1], unitRows(10), 10);
      expect(relativeError(jac, grad)).toBeLessThan(1e-5);
      const fused = await ex.gramians(digit.pixels, 1, digit.pixels);
      for (let i = 0; i < 10; i++) {
        for (let j = 0; j < 10; j++) expect(Math.abs(fused.gram[i * 10 + j]! - dot(grad, grad, i * 784, j * 784, 784))).toBeLessThan(1e-5 * fused.gram[0]!);
        expect(Math.abs(fused.products[i]! - dot(grad, digit.pixels, i * 784, 0, 784))).toBeLessThan(1e-5 * Math.sqrt(fused.gram[i * 11]! * 784));
      }
    }
    ex.dispose();
  });
});
