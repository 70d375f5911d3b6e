/** @jest-environment ./test/fixtures/onnx/ort-jest-environment.cjs */
/**
 * The reference basis against an independent dense computation — ml-matrix's SVD of the stacked
 * Jacobians — on real digits through the bundled model and on a test architecture with an image output
 * (whose normal products go through the matrix-free operator); the iterative paths forced on small
 * problems within stated tolerances; and at most one batch of images linearized at a time, counted
 * through a wrapper executor.
 */
import type { DenseMatrix } from '../../src/linalg/index.js';
import { denseTopRight, subspaceDistance } from '../../src/linalg/test-matrices.js';
import { buildReferenceBasis, maxReferenceImages, planReferenceBasis } from '../../src/metrics/reference-basis.js';
import type { ReferenceBasis } from '../../src/metrics/reference-basis.js';
import type { Executor, Linearization } from '../../src/model/executor.js';
import { TfjsExecutor } from '../../src/model/executors/tfjs/tfjs-executor.js';
import { layersModelToIR } from '../../src/model/frontends/layers-model-frontend.js';
import { sizeOf } from '../../src/model/ir.js';
import { loadModel } from '../../src/model/load-model.js';
import { initBackend } from '../../src/model/tf-runtime.js';
import { mnistPart } from '../../src/pool/mnist-digits.js';
import type { Sample } from '../../src/pool/types.js';
import { bundledModelPath } from '../../src/util/package-root.js';
import { ARCHITECTURES, randomImages } from '../fixtures/architectures.js';

/** An executor that counts linearizations made and alive at once. */
interface CountedExecutor extends Executor {
  readonly counts: { linearized: number; live: number; maxLive: number };
}

function counted(inner: Executor): CountedExecutor {
  const counts = { linearized: 0, live: 0, maxLive: 0 };
  return {
    backend: inner.backend,
    ir: inner.ir,
    counts,
    get passes() {
      return inner.passes;
    },
    forward: (images, count) => inner.forward(images, count),
    gramians: (images, count, probes) => inner.gramians(images, count, probes),
    async linearize(images, count): Promise<Linearization> {
      const lin = await inner.linearize(images, count);
      counts.linearized++;
      counts.live++;
      counts.maxLive = Math.max(counts.maxLive, counts.live);
      let disposed = false;
      return {
        count: lin.count,
        outputs: lin.outputs,
        jacobians: () => lin.jacobians(),
        offsets: () => lin.offsets(),
        operator: (b) => lin.operator(b),
        dispose() {
          if (!disposed) counts.live--;
          disposed = true;
          lin.dispose();
        },
      };
    },
    dispose: () => inner.dispose(),
  };
}

function digits(count: number, offset = 0): Sample[] {
  return mnistPart('train')
    .slice(offset, offset + count)
    .map((d) => ({ id: `digit-${d.index}`, uri: `mnist:${d.index}`, pixels: d.pixels }));
}

/** S = [A[x₁]; …; A[x_N]] built densely: one linearization of every image, all the Jacobian rows. */
async function denseStack(executor: Executor, samples: readonly Sample[]): Promise<DenseMatrix> {
  const n = sizeOf(executor.ir.inputShape);
  const images = new Float32Array(samples.length * n);
  samples.forEach((s, b) => images.set(s.pixels, b * n));
  const lin = await executor.linearize(images, samples.length);
  try {
    const jac = await lin.jacobians();
    return { rows: samples.length * executor.ir.outputSize, cols: n, data: Float64Array.from(jac) };
  } finally {
    lin.dispose();
  }
}

/** σ to `sigmaTol`·σ₁ and ‖V_kV_kᵀ − W_kW_kᵀ‖_F to `subspaceTol` against ml-matrix's SVD of S. */
function expectMatchesDense(basis: ReferenceBasis, stacked: DenseMatrix, k: number, sigmaTol: number, subspaceTol: number) {
  const dense = denseTopRight(stacked, k);
  expect(basis.rank).toBe(k);
  for (let j = 0; j < k; j++) expect(Math.abs(basis.sigma[j]! - dense.sigma[j]!)).toBeLessThan(sigmaTol * dense.sigma[0]!);
  expect(subspaceDistance(basis.v, dense.v, k, stacked.cols)).toBeLessThan(subspaceTol);
}

describe('reference basis on real digits through the bundled model (ONNX Runtime)', () => {
  let executor: CountedExecutor;
  beforeAll(async () => {
    executor = counted((await loadModel(bundledModelPath(), { engine: 'onnxruntime' })).executor);
  });
  afterAll(() => executor.dispose());

  it('exact with the Gram matrix on either side equals the dense SVD of the stacked Jacobians, one batch linearized at a time', async () => {
    // 30 digits: S is 300 × 784, SSᵀ is the smaller problem; 90 digits: 900 × 784, SᵀS is.
    for (const [count, gram] of [
      [30, 'rows'],
      [90, 'columns'],
    ] as const) {
      const samples = digits(count);
      expect(planReferenceBasis(executor, count, 10).plan).toMatchObject({ method: 'exact', gram });
      const before = executor.counts.linearized;
      const basis = await buildReferenceBasis(executor, samples, 10);
      expect(basis).toMatchObject({ method: 'exact', convergence: null, images: count });
      // One pass over the set in batches of 8, never two linearizations alive at once.
      expect(executor.counts.linearized - before).toBe(Math.ceil(count / 8));
      expect(executor.counts.maxLive).toBe(1);
      expectMatchesDense(basis, await denseStack(executor, samples), 10, 1e-8, 1e-6);
    }
  });

  it('lanczos, forced, agrees with the dense SVD within its stated tolerance; batches whose Jacobians are not held are linearized again each pass', async () => {
    const samples = digits(60, 200);
    // 60 digits are 8 batches of Jacobians (8 × 10 × 784 float32, the last one half); hold 3 of them.
    const batchBytes = 8 * 10 * 784 * 4;
    const before = executor.counts.linearized;
    const basis = await buildReferenceBasis(executor, samples, 10, { method: 'lanczos', heldJacobianBytes: 3 * batchBytes });
    expect(basis.method).toBe('lanczos');
    const c = basis.convergence!;
    expect(c.converged).toBe(true);
    expect(c.residuals).toHaveLength(10);
    expect(Math.max(...c.residuals)).toBeLessThanOrEqual(c.tol);
    expect(c.passes).toBeGreaterThan(1);
    expect(executor.counts.linearized - before).toBe(8 + (c.passes - 1) * 5);
    expect(executor.counts.maxLive).toBe(1);
    // Held or linearized again, the Jacobians are the same: so is the basis.
    const beforeAllHeld = executor.counts.linearized;
    const allHeld = await buildReferenceBasis(executor, samples, 10, { method: 'lanczos' });
    expect(executor.counts.linearized - beforeAllHeld).toBe(8);
    const noneHeld = await buildReferenceBasis(executor, samples, 10, { method: 'lanczos', heldJacobianBytes: 0 });
    expect(allHeld.v).toEqual(basis.v);
    expect(noneHeld.v).toEqual(basis.v);
    // Stated tolerance at residuals ≤ 1e-5·σ₁²: σ to 1e-6·σ₁ (σ errors are the square of the vectors'),
    // the subspace to 1e-3 (the residuals over the relative gaps of these σ², ~1e-2).
    expectMatchesDense(basis, await denseStack(executor, samples), 10, 1e-6, 1e-3);
  });

  it('randomized, forced, reports its residuals and whether they reached the tolerance', async () => {
    const samples = digits(40, 300);
    const rough = await buildReferenceBasis(executor, samples, 5, { method: 'randomized', powerIterations: 0, oversampling: 0 });
    expect(rough.method).toBe('randomized');
    expect(rough.convergence).toMatchObject({ converged: false, passes: 1 });
    const fine = await buildReferenceBasis(executor, samples, 5, { method: 'randomized', powerIterations: 12, oversampling: 10 });
    expect(fine.convergence?.passes).toBe(13);
    expect(Math.max(...fine.convergence!.residuals)).toBeLessThan(Math.max(...rough.convergence!.residuals));
    expectMatchesDense(fine, await denseStack(executor, samples), 5, 1e-6, 1e-2);
  });

  it('plans exact while it fits, lanczos past the budget, and refuses a forced exact past it naming scoring.svd', () => {
    expect(planReferenceBasis(executor, 1000, 10).plan.method).toBe('exact');
    expect(planReferenceBasis(executor, 1000, 10, { memoryBytes: 2 ** 20 }).plan.method).toBe('lanczos');
    expect(() => planReferenceBasis(executor, 1000, 10, { method: 'exact', memoryBytes: 2 ** 20 })).toThrow(
      expect.objectContaining({ code: 'RPR_USAGE', message: expect.stringContaining('scoring.svd (--svd)') }),
    );
    // The settings are part of the cache key: two methods, or two seeds, are two bases; exact has no seed.
    const settings = (options: Parameters<typeof planReferenceBasis>[3]) => planReferenceBasis(executor, 100, 10, options).settings;
    expect(settings({ method: 'lanczos' })).not.toBe(settings({ method: 'exact' }));
    expect(settings({ method: 'lanczos', seed: 1 })).not.toBe(settings({ method: 'lanczos' }));
    expect(settings({ method: 'exact', seed: 1 })).toBe(settings({}));
  });

  it('holds at most 1 GiB of reference pixels: 342,392 digits', () => {
    expect(maxReferenceImages(executor)).toBe(Math.floor(2 ** 30 / (4 * 784)));
  });
});

describe('reference basis on a test architecture with an image output (normal products through the operator)', () => {
  it('exact and lanczos agree with the dense SVD of the stacked Jacobians', async () => {
    await initBackend('cpu');
    const arch = ARCHITECTURES.find((a) => a.imageOutput)!;
    const executor = counted(new TfjsExecutor(layersModelToIR(arch.build()), 'cpu'));
    try {
      const m = executor.ir.outputSize;
      expect(m).toBeGreaterThan(2 * 6);
      const samples = Array.from({ length: 5 }, (_, i) => ({ id: `x${i}`, uri: `x${i}`, pixels: randomImages(executor.ir.inputShape, 1, 70 + i) }));
      const stacked = await denseStack(executor, samples);
      const exact = await buildReferenceBasis(executor, samples, 6, { method: 'exact' });
      expectMatchesDense(exact, stacked, 6, 1e-8, 1e-6);
      const lanczos = await buildReferenceBasis(executor, samples, 6, { method: 'lanczos' });
      expect(lanczos.convergence?.converged).toBe(true);
      expect(executor.counts.maxLive).toBe(1);
      expectMatchesDense(lanczos, stacked, 6, 1e-6, 1e-3);
    } finally {
      executor.dispose();
    }
  });
});
