/**
 * On the wasm backend (the default one here): the explicit adjoint matches tf.grad on a real digit
 * whose flat background makes max-pool ties common, and passes the adjoint test on every architecture —
 * depthwise included, which wasm cannot differentiate at all.
 *
 * The reference gradient is always taken on the cpu backend: wasm's own MaxPoolGrad kernel (4.22)
 * starts its running max at the smallest positive float and breaks ties towards the last position, so
 * windows of negative values send their gradient to the wrong place.
 */
import { layersModelToIR } from '../../src/model/frontends/layers-model-frontend.js';
import { TfjsExecutor } from '../../src/model/executors/tfjs/tfjs-executor.js';
import { sizeOf } from '../../src/model/ir.js';
import { initBackend, tf, tfl } from '../../src/model/tf-runtime.js';
import { mnistPart } from '../../src/pool/mnist-digits.js';
import { createRng } from '../../src/util/rng.js';
import { ARCHITECTURES, randomImages, seedWeights } from '../fixtures/architectures.js';

/** Max-pool straight after a linear conv: on a flat background every window is a tie of equal values. */
function tieProneCnn(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 3, kernelSize: 3, padding: 'same' }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 3, strides: 2 }));
  m.add(tfl.layers.flatten());
  m.add(tfl.layers.dense({ units: 10 }));
  return seedWeights(m, 51);
}

describe.each(['wasm', 'cpu'] as const)('max-pool ties on a real digit (%s)', (backend) => {
  it('A[x]ᵀu equals tf.grad (cpu) row by row', async () => {
    await initBackend(backend);
    const model = tieProneCnn();
    const ex = new TfjsExecutor(layersModelToIR(model), backend);
    const digit = mnistPart('test')[3]!;
    const lin = await ex.linearize(digit.pixels, 1);
    const jac = await lin.jacobians();
    lin.dispose();
    ex.dispose();
    await initBackend('cpu');
    let worst = 0;
    let size = 0;
    for (let i = 0; i < 10; i++) {
      const ref = tf.tidy(() => {
        const x = tf.tensor(digit.pixels, [1, 28, 28, 1]);
        const u = tf.oneHot(tf.tensor1d([i], 'int32'), 10);
        return tf.grad((z: tf.Tensor) => tf.sum(tf.mul(model.apply(z) as tf.Tensor, u)))(x).dataSync();
      });
      for (let c = 0; c < 784; c++) {
        worst = Math.max(worst, Math.abs(ref[c]! - jac[i * 784 + c]!));
        size = Math.max(size, Math.abs(ref[c]!));
      }
    }
    expect(size).toBeGreaterThan(0);
    expect(worst).toBeLessThan(1e-5 * size);
  });
});

describe('adjoint test on the wasm backend', () => {
  it.each(ARCHITECTURES.map((a) => [a.name, a] as const))('%s', async (_name, arch) => {
    await initBackend('wasm');
    const ex = new TfjsExecutor(layersModelToIR(arch.build()), 'wasm');
    const n = sizeOf(ex.ir.inputShape);
    const m = ex.ir.outputSize;
    const lin = await ex.linearize(randomImages(ex.ir.inputShape, 1, 52), 1);
    const op = lin.operator(0);
    const rng = createRng(53);
    const v = Float64Array.from({ length: n }, () => rng.normal());
    const u = Float64Array.from({ length: m }, () => rng.normal());
    const av = await op.matvec(v, 1);
    const atu = await op.rmatvec(u, 1);
    let lhs = 0;
    let rhs = 0;
    let avNorm = 0;
    let uNorm = 0;
    for (let i = 0; i < m; i++) {
      lhs += av[i]! * u[i]!;
      avNorm += av[i]! ** 2;
      uNorm += u[i]! ** 2;
    }
    for (let c = 0; c < n; c++) rhs += v[c]! * atu[c]!;
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-5 * Math.sqrt(avNorm * uNorm));
    lin.dispose();
    ex.dispose();
  });
});
