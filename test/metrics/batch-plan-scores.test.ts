/** @jest-environment ./test/fixtures/onnx/ort-jest-environment.cjs */
/**
 * The memory budget changes how per-sample scoring cuts its work (images per linearization, cotangent
 * rows per adjoint pass), never the scores: on both engines, real digits scored under a large budget, a
 * budget of one image, and a budget that splits an image's rows into chunks give the same σ, RPR_k,
 * LPR_k and logits, and the chunked path agrees with a dense SVD of the explicitly built Jacobian.
 */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { planPerSampleBatch } from '../../src/metrics/batch-plan.js';
import type { PerSampleOptions } from '../../src/metrics/per-sample.js';
import { scorePerSample } from '../../src/metrics/per-sample.js';
import type { Executor } from '../../src/model/executor.js';
import { OnnxExecutor } from '../../src/model/executors/onnx/onnx-executor.js';
import { TfjsExecutor } from '../../src/model/executors/tfjs/tfjs-executor.js';
import { layersModelToIR } from '../../src/model/frontends/layers-model-frontend.js';
import type { ModelIR } from '../../src/model/ir.js';
import { activationSize, sizeOf } from '../../src/model/ir.js';
import { initBackend } from '../../src/model/tf-runtime.js';
import { mnistPart } from '../../src/pool/mnist-digits.js';
import type { Sample } from '../../src/pool/types.js';
import { digitCnn } from '../fixtures/architectures.js';

const MB = 2 ** 20;
const KS = [1, 3, 5, 10];

/** Budgets (MB) that make the plan take the whole batch, one image at a time, and one image in chunks of 3 rows. */
function budgets(ir: ModelIR): { readonly large: number; readonly oneImage: number; readonly rowChunks: number } {
  const m = ir.outputSize;
  const n = sizeOf(ir.inputShape);
  const perImage = planPerSampleBatch(ir, { ks: KS, svd: 'exact', batchMemoryMB: 1024 }).estimatedBytes / 64;
  // The host's Jacobian and Gram matrix, then the recording pass and 3 rows of activations.
  const chunked = 4 * m * n + 8 * m * m + 4 * activationSize(ir) * (1 + 3);
  return { large: 1024, oneImage: (1.5 * perImage) / MB, rowChunks: chunked / MB };
}

function expectSameScores(actual: Awaited<ReturnType<typeof scorePerSample>>, expected: typeof actual): void {
  expect(actual.map((r) => r.id)).toEqual(expected.map((r) => r.id));
  actual.forEach((r, b) => {
    const e = expected[b]!;
    expect(r.predicted).toBe(e.predicted);
    r.logits!.forEach((v, i) => expect(Math.abs(v - e.logits![i]!)).toBeLessThan(1e-5));
    r.sigma!.forEach((s, i) => expect(Math.abs(s - e.sigma![i]!)).toBeLessThan(1e-6 * e.sigma![0]!));
    for (const k of KS) {
      expect(Math.abs(r.rpr![String(k)]! - e.rpr![String(k)]!)).toBeLessThan(1e-7);
      expect(Math.abs(r.lpr![String(k)]! - e.lpr![String(k)]!)).toBeLessThan(1e-7);
    }
  });
}

/** ‖V_kᵀx‖/‖x‖ from ml-matrix's SVD of the dense m × n Jacobian. */
function denseRpr(jacobian: Float32Array, m: number, n: number, x: Float32Array, k: number): number {
  const a = new Matrix(m, n);
  for (let i = 0; i < m; i++) for (let c = 0; c < n; c++) a.set(i, c, jacobian[i * n + c]!);
  const v = new SingularValueDecomposition(a.transpose(), { autoTranspose: true }).leftSingularVectors;
  let sq = 0;
  let xx = 0;
  for (let c = 0; c < n; c++) xx += x[c]! * x[c]!;
  for (let j = 0; j < k; j++) {
    let dot = 0;
    for (let c = 0; c < n; c++) dot += v.get(c, j) * x[c]!;
    sq += dot * dot;
  }
  return Math.sqrt(sq / xx);
}

describe.each(['tfjs', 'onnxruntime'] as const)('per-sample scores under any memory budget (%s)', (engine) => {
  let executor: Executor;
  const digits = mnistPart('test').slice(0, 5);
  const samples: Sample[] = digits.map((d) => ({ id: `digit-${d.index}`, uri: `mnist:${d.index}`, pixels: d.pixels }));
  const labels = digits.map((d) => d.label);

  beforeAll(async () => {
    await initBackend('cpu');
    const ir = layersModelToIR(digitCnn());
    executor = engine === 'tfjs' ? new TfjsExecutor(ir, 'cpu') : await OnnxExecutor.create(ir);
  });
  afterAll(() => executor.dispose());

  it('one image per linearization, or its rows in chunks of 3, give what one batch of all images gives', async () => {
    const b = budgets(executor.ir);
    const options = (batchMemoryMB: number): PerSampleOptions => ({ ks: KS, svd: 'exact', batchMemoryMB });
    expect(planPerSampleBatch(executor.ir, options(b.large))).toMatchObject({ images: 64, rowsPerPass: null });
    expect(planPerSampleBatch(executor.ir, options(b.oneImage))).toMatchObject({ images: 1, rowsPerPass: null });
    // m = 10 rows in chunks of 3, 3, 3 and 1.
    expect(planPerSampleBatch(executor.ir, options(b.rowChunks))).toMatchObject({ images: 1, rowsPerPass: 3 });

    const whole = await scorePerSample(executor, samples, options(b.large), labels);
    const passes = executor.passes;
    const single = await scorePerSample(executor, samples, options(b.oneImage), labels);
    // Each image linearized once: its recording pass and its 10 adjoint rows.
    expect(executor.passes - passes).toBe(samples.length * 11);
    expectSameScores(single, whole);
    expectSameScores(await scorePerSample(executor, samples, options(b.rowChunks), labels), whole);
  });

  it('the row-chunked path agrees with a dense SVD of the explicitly built Jacobian', async () => {
    const [sample] = samples;
    const [chunked] = await scorePerSample(executor, [sample!], { ks: KS, svd: 'exact', batchMemoryMB: budgets(executor.ir).rowChunks });
    const lin = await executor.linearize(sample!.pixels, 1);
    const jacobian = await lin.jacobians();
    lin.dispose();
    for (const k of KS) expect(Math.abs(chunked!.rpr![String(k)]! - denseRpr(jacobian, 10, 784, sample!.pixels, k))).toBeLessThan(1e-6);
  });
});
