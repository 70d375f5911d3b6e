import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { initBackend, tf, type BackendChoice } from './tf-runtime.js';
import { rprRejection } from '../../test/helpers/rpr-rejection.js';

function tfjsNodeInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

describe('initBackend', () => {
  it("picks tfjs-node for 'auto' when it loads, else wasm", async () => {
    const expected = tfjsNodeInstalled() ? 'tensorflow' : 'wasm';
    await expect(initBackend('auto')).resolves.toBe(expected);
    await expect(initBackend()).resolves.toBe(expected);
    expect(tf.getBackend()).toBe(expected);
  });

  it("switches to 'cpu' and computes there", async () => {
    await expect(initBackend('cpu')).resolves.toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    const y = tf.relu(tf.tensor1d([-2, 0.5, 3]));
    expect(Array.from(y.dataSync())).toEqual([0, 0.5, 3]);
    y.dispose();
  });

  it('is idempotent and serializes concurrent calls in call order', async () => {
    await expect(Promise.all([initBackend('wasm'), initBackend('wasm')])).resolves.toEqual(['wasm', 'wasm']);
    await expect(Promise.all([initBackend('wasm'), initBackend('cpu')])).resolves.toEqual(['wasm', 'cpu']);
    expect(tf.getBackend()).toBe('cpu');
  });

  it("names the package to install when 'tensorflow' cannot load, and keeps the working backend", async () => {
    if (tfjsNodeInstalled()) return;
    await initBackend('wasm');
    const error = await rprRejection(initBackend('tensorflow'));
    expect(error.code).toBe('RPR_BACKEND');
    expect(error.message).toContain("backend 'tensorflow' could not be loaded");
    expect(error.message).toContain('@tensorflow/tfjs-node');
    expect(error.message).not.toContain('\n');
    expect(tf.getBackend()).toBe('wasm');
    const y = tf.add(tf.scalar(1), tf.scalar(2));
    expect(y.dataSync()[0]).toBe(3);
    y.dispose();
  });

  it('rejects an unknown backend name, listing the valid ones', async () => {
    const error = await rprRejection(initBackend('webgpu' as BackendChoice));
    expect(error.code).toBe('RPR_UNKNOWN_NAME');
    expect(error.message).toContain("'webgpu'");
    expect(error.message).toContain('wasm');
  });

  it('computes conv filter gradients on wasm as the cpu kernel does', async () => {
    // tfjs's own cpu kernel is the reference for the kernel tf-runtime adds to wasm.
    const gradient = async (backend: BackendChoice): Promise<Float32Array> => {
      await initBackend(backend);
      return tf.tidy(() => {
        const x = tf.tensor4d(Array.from({ length: 2 * 7 * 6 * 3 }, (_, i) => Math.sin(i * 0.7)), [2, 7, 6, 3]);
        const w0 = tf.tensor4d(Array.from({ length: 3 * 2 * 3 * 4 }, (_, i) => Math.cos(i * 0.3)), [3, 2, 3, 4]);
        const dy = tf.tensor4d(Array.from({ length: 2 * 4 * 3 * 4 }, (_, i) => Math.cos(i * 1.1)), [2, 4, 3, 4]);
        const loss = (w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, 2, 'same'), dy));
        return tf.grad(loss)(w0).dataSync() as Float32Array;
      });
    };
    const onCpu = await gradient('cpu');
    const onWasm = await gradient('wasm');
    expect(onWasm.length).toBe(onCpu.length);
    onWasm.forEach((v, i) => expect(v).toBeCloseTo(onCpu[i]!, 4));
  });

  it('loads the wasm backend from the compiled dist/ files', () => {
    const compiled = fileURLToPath(new URL('../../dist/src/model/tf-runtime.js', import.meta.url));
    if (!existsSync(compiled)) return; // `npm test` builds dist/ first
    const script = `import(${JSON.stringify(compiled)}).then((m) => m.initBackend('wasm')).then((b) => console.log(b))`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(out.trim()).toBe('wasm');
  });
});
