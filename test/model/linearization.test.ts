/**
 * The core contract: the IR executed on TF.js reproduces the model's forward pass, A[x] equals the
 * input→output Jacobian (tf.grad, an independent implementation, and central finite differences), the
 * explicit adjoint passes the adjoint test, and f(x) = A[x]x + c[x] for the piecewise-linear networks.
 */
import { adjointTest } from '../../src/linalg/index.js';
import { layersModelToIR } from '../../src/model/frontends/layers-model-frontend.js';
import { TfjsExecutor } from '../../src/model/executors/tfjs/tfjs-executor.js';
import type { ModelIR } from '../../src/model/ir.js';
import { sizeOf } from '../../src/model/ir.js';
import { initBackend, tf, tfl } from '../../src/model/tf-runtime.js';
import { createRng } from '../../src/util/rng.js';
import { ARCHITECTURES, biasFreeCnn, randomImages } from '../fixtures/architectures.js';
import { autogradVjps, dot, maxAbs, maxAbsDiff, rowsTimes, unitRows } from '../helpers/compare.js';

/** Activations with a piecewise-linear graph; any other (or an inner softmax) makes a network smooth. */
const PIECEWISE_LINEAR = new Set(['relu', 'relu6', 'leakyRelu', 'prelu', 'linear']);

function predict(model: tfl.LayersModel, x: Float32Array, shape: readonly number[], count: number): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor(x, [count, ...shape])) as tf.Tensor).dataSync() as Float32Array);
}

describe.each(ARCHITECTURES)('$name', (arch) => {
  let model: tfl.LayersModel;
  let ir: ModelIR;
  let executor: TfjsExecutor;

  beforeAll(async () => {
    await initBackend('cpu');
    model = arch.build();
    ir = layersModelToIR(model);
    executor = new TfjsExecutor(ir, 'cpu');
  });
  afterAll(() => executor.dispose());

  it('reproduces the model forward pass', async () => {
    const x = randomImages(ir.inputShape, 3, 11);
    const ours = await executor.forward(x, 3);
    const ref = predict(model, x, ir.inputShape, 3);
    expect(maxAbsDiff(ours, ref)).toBeLessThan(1e-4 * Math.max(1, maxAbs(ref)));
  });

  const autogradIt = arch.noAutograd ? it.skip : it;
  autogradIt('A[x]ᵀu equals tf.grad for every output direction, image by image within a batch', async () => {
    const count = 3;
    const n = sizeOf(ir.inputShape);
    const m = ir.outputSize;
    const x = randomImages(ir.inputShape, count, 12);
    const lin = await executor.linearize(x, count);
    const jac = await lin.jacobians();
    const rng = createRng(13);
    for (let b = 0; b < count; b++) {
      const xb = x.slice(b * n, (b + 1) * n);
      // Unit cotangents for classifiers (whole rows of A), random ones for image outputs.
      const k = m <= 10 ? m : 4;
      const us = m <= 10 ? unitRows(m) : Float32Array.from({ length: k * m }, () => rng.normal());
      const ref = autogradVjps(model, xb, ir.inputShape, us, k);
      const ours = rowsTimes(us, k, jac.subarray(b * m * n, (b + 1) * m * n), m, n);
      for (let j = 0; j < k; j++) {
        const row = ref.subarray(j * n, (j + 1) * n);
        expect(maxAbsDiff(ours.subarray(j * n, (j + 1) * n), row)).toBeLessThan(1e-4 * Math.max(1, maxAbs(row)));
      }
    }
    lin.dispose();
  });

  it('passes the adjoint test ⟨Av, u⟩ = ⟨v, Aᵀu⟩ on batched vectors', async () => {
    const x = randomImages(ir.inputShape, 2, 14);
    const lin = await executor.linearize(x, 2);
    for (let b = 0; b < 2; b++) {
      const { maxRelError } = await adjointTest(lin.operator(b), { trials: 3, seed: 15 + b });
      expect(maxRelError).toBeLessThan(1e-5);
    }
    lin.dispose();
  });

  it('A[x]v equals a central finite difference of f', async () => {
    const x = randomImages(ir.inputShape, 1, 16);
    const n = sizeOf(ir.inputShape);
    const lin = await executor.linearize(x, 1);
    const rng = createRng(17);
    const v = Float64Array.from({ length: n }, () => rng.normal() / Math.sqrt(n));
    const av = await lin.operator(0).matvec(v, 1);
    const h = 1e-3;
    const plus = await executor.forward(Float32Array.from(x, (xi, i) => xi + h * v[i]!), 1);
    const minus = await executor.forward(Float32Array.from(x, (xi, i) => xi - h * v[i]!), 1);
    const fd = Float64Array.from(plus, (p, i) => (p - minus[i]!) / (2 * h));
    expect(maxAbsDiff(av, fd)).toBeLessThan(2e-2 * Math.max(1e-3, maxAbs(fd)));
    lin.dispose();
  });

  it('A[x] equals the full central-difference Jacobian', async () => {
    const n = sizeOf(ir.inputShape);
    const m = ir.outputSize;
    // Away from kinks: a smooth-ish random image and a small step.
    const x = randomImages(ir.inputShape, 1, 20);
    const lin = await executor.linearize(x, 1);
    const jac = await lin.jacobians();
    const h = 1e-3;
    const probes = new Float32Array(2 * n * n);
    for (let c = 0; c < n; c++) {
      probes.set(x, 2 * c * n);
      probes.set(x, (2 * c + 1) * n);
      probes[2 * c * n + c]! += h;
      probes[(2 * c + 1) * n + c]! -= h;
    }
    const f = await executor.forward(probes, 2 * n);
    let worst = 0;
    let size = 0;
    for (let c = 0; c < n; c++) {
      for (let i = 0; i < m; i++) {
        const fd = (f[2 * c * m + i]! - f[(2 * c + 1) * m + i]!) / (2 * h);
        worst = Math.max(worst, Math.abs(fd - jac[i * n + c]!));
        size = Math.max(size, Math.abs(jac[i * n + c]!));
      }
    }
    expect(worst).toBeLessThan(2e-2 * size);
    lin.dispose();
  });

  // The identity below holds only where f is affine around x. For smooth networks f(x) ≠ A[x]x + c[x]:
  // there A[x] is only the derivative, which the finite-difference tests above check on every network.
  it(arch.piecewiseLinear ? 'is piecewise linear, as its fixture says' : 'has a smooth activation, as its fixture says', () => {
    const smooth = ir.nodes.some((node) => node.op.kind === 'softmax' || (node.op.kind === 'activation' && !PIECEWISE_LINEAR.has(node.op.fn)));
    expect(smooth).toBe(!arch.piecewiseLinear);
  });

  if (arch.piecewiseLinear) {
    it('f(x) = A[x]x + c[x] with c[x] the frozen network with biases at 0', async () => {
      const count = 2;
      const n = sizeOf(ir.inputShape);
      const m = ir.outputSize;
      const x = randomImages(ir.inputShape, count, 18);
      const lin = await executor.linearize(x, count);
      const jac = await lin.jacobians();
      const c = await lin.offsets();
      for (let b = 0; b < count; b++) {
        for (let i = 0; i < m; i++) {
          const ax = dot(jac, x, (b * m + i) * n, b * n, n);
          const f = lin.outputs[b * m + i]!;
          expect(Math.abs(ax + c[b * m + i]! - f)).toBeLessThan(1e-4 * Math.max(1, Math.abs(f)));
        }
      }
      lin.dispose();
    });
  }
});

describe('bias-free ReLU network', () => {
  it('f(x) = A[x]x exactly', async () => {
    await initBackend('cpu');
    const model = biasFreeCnn();
    const ir = layersModelToIR(model);
    const ex = new TfjsExecutor(ir, 'cpu');
    const n = sizeOf(ir.inputShape);
    const x = randomImages(ir.inputShape, 2, 19);
    const lin = await ex.linearize(x, 2);
    const jac = await lin.jacobians();
    for (let b = 0; b < 2; b++) {
      for (let i = 0; i < 10; i++) {
        const ax = dot(jac, x, (b * 10 + i) * n, b * n, n);
        expect(Math.abs(ax - lin.outputs[b * 10 + i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ax)));
      }
    }
    const c = await lin.offsets();
    expect(maxAbs(c)).toBe(0);
    lin.dispose();
    ex.dispose();
  });
});
