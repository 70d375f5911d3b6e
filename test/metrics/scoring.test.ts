/**
 * RPR/LPR scoring checked against independent dense computations: ml-matrix's SVD of the explicitly
 * built Jacobian (per-sample), of the stacked Jacobians (reference mode), and the properties every
 * ratio must have (in [0, 1], non-decreasing in k, LPR_m = 1 at full rank).
 */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { layersModelToIR } from '../../src/model/frontends/layers-model-frontend.js';
import { TfjsExecutor } from '../../src/model/executors/tfjs/tfjs-executor.js';
import { sizeOf } from '../../src/model/ir.js';
import { initBackend, tfl } from '../../src/model/tf-runtime.js';
import { leftProjectionRatios } from '../../src/metrics/ratios.js';
import { scorePerSample } from '../../src/metrics/per-sample.js';
import { buildReferenceBasis } from '../../src/metrics/reference-basis.js';
import { rightProjectionRatios } from '../../src/metrics/ratios.js';
import { thinSvd } from '../../src/linalg/thin-svd.js';
import { mnistPart } from '../../src/pool/mnist-digits.js';
import type { Sample } from '../../src/pool/types.js';
import { ARCHITECTURES, digitCnn, randomImages, seedWeights } from '../fixtures/architectures.js';

function digitSamples(count: number): Sample[] {
  return mnistPart('test')
    .slice(0, count)
    .map((d) => ({ id: `digit-${d.index}`, uri: `mnist:${d.index}`, pixels: d.pixels }));
}

/** Dense reference: ‖P_k x‖/‖x‖ with P_k from ml-matrix's SVD of A (its top-k right vectors). */
function denseRpr(a: Matrix, x: Float32Array, k: number): number {
  const svd = new SingularValueDecomposition(a.transpose(), { autoTranspose: true });
  const v = svd.leftSingularVectors; // n × r: columns are right singular vectors of A
  const tol = svd.diagonal[0]! * Math.max(a.rows, a.columns) * 2 ** -23;
  const rank = svd.diagonal.filter((s) => s > tol).length;
  let sq = 0;
  let xx = 0;
  for (let i = 0; i < x.length; i++) xx += x[i]! * x[i]!;
  for (let j = 0; j < Math.min(k, rank); j++) {
    let c = 0;
    for (let i = 0; i < x.length; i++) c += v.get(i, j) * x[i]!;
    sq += c * c;
  }
  return Math.sqrt(sq / xx);
}

describe('per-sample RPR on real digits', () => {
  let executor: TfjsExecutor;
  beforeAll(async () => {
    await initBackend('cpu');
    executor = new TfjsExecutor(layersModelToIR(digitCnn()), 'cpu');
  });
  afterAll(() => executor.dispose());

  it('matches a dense SVD of the explicitly built A[x], for σ and RPR_k', async () => {
    const samples = digitSamples(4);
    const ks = [1, 3, 5, 10];
    const results = await scorePerSample(executor, samples, { ks, svd: 'exact' });
    const n = 784;
    const lin = await executor.linearize(
      Float32Array.from(samples.flatMap((s) => Array.from(s.pixels))),
      samples.length,
    );
    const jac = await lin.jacobians();
    lin.dispose();
    samples.forEach((s, b) => {
      const a = new Matrix(10, n);
      for (let i = 0; i < 10; i++) for (let c = 0; c < n; c++) a.set(i, c, jac[(b * 10 + i) * n + c]!);
      const dense = new SingularValueDecomposition(a, { autoTranspose: true }).diagonal;
      const r = results[b]!;
      dense.forEach((sigma, i) => expect(Math.abs(r.sigma![i]! - sigma)).toBeLessThan(1e-9 * dense[0]! + 1e-12));
      for (const k of ks) expect(Math.abs(r.rpr![String(k)]! - denseRpr(a, s.pixels, k))).toBeLessThan(1e-6);
      // Ratios are fractions and grow with k.
      const values = ks.map((k) => r.rpr![String(k)]!);
      values.forEach((v) => expect(v >= 0 && v <= 1).toBe(true));
      for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThanOrEqual(values[i - 1]! - 1e-12);
      expect(r.predicted).toBe(r.logits!.indexOf(Math.max(...r.logits!)));
    });
  });

  it('LPR_k of a one-hot label reaches 1 at full rank m and grows with k', async () => {
    const samples = digitSamples(2);
    const lin = await executor.linearize(Float32Array.from(samples.flatMap((s) => Array.from(s.pixels))), 2);
    const jac = await lin.jacobians();
    lin.dispose();
    const svd = thinSvd({ rows: 10, cols: 784, data: Float64Array.from(jac.subarray(0, 7840)) });
    expect(svd.rank).toBe(10);
    const label = mnistPart('test')[0]!.label;
    const y = Array.from({ length: 10 }, (_, i) => (i === label ? 1 : 0));
    const lpr = leftProjectionRatios(svd.u, svd.rank, y, [1, 5, 9, 10]);
    if (!lpr.ok) throw new Error(lpr.error);
    expect(lpr.ratios['10']).toBeCloseTo(1, 9);
    expect(lpr.ratios['9']!).toBeLessThanOrEqual(lpr.ratios['10']! + 1e-12);
    expect(lpr.ratios['1']!).toBeLessThanOrEqual(lpr.ratios['5']! + 1e-12);
    expect(lpr.ratios['1']!).toBeLessThan(1);
  });

  it('gives a zero image no score and a reason', async () => {
    const zero: Sample = { id: 'zero', uri: 'zero.png', pixels: new Float32Array(784) };
    const [r] = await scorePerSample(executor, [zero], { ks: [1, 10] });
    expect(r!.rpr).toBeNull();
    expect(r!.error).toMatch(/zero image/);
  });

  it('centred: an image equal to the centre has no score and says why; an all-zero image has none either', async () => {
    const [s] = digitSamples(1);
    const [same] = await scorePerSample(executor, [s!], { ks: [1], center: s!.pixels });
    expect(same!.rpr).toBeNull();
    expect(same!.error).toMatch(/equals the centre/);
    const zero: Sample = { id: 'zero', uri: 'zero.png', pixels: new Float32Array(784) };
    const [blank] = await scorePerSample(executor, [zero], { ks: [1], center: s!.pixels });
    expect(blank!.error).toMatch(/zero image/);
  });

  it('squared and complement options are the energy and the nullspace part', async () => {
    const [s] = digitSamples(1);
    const [plain] = await scorePerSample(executor, [s!], { ks: [5] });
    const [sq] = await scorePerSample(executor, [s!], { ks: [5], squared: true });
    const [comp] = await scorePerSample(executor, [s!], { ks: [5], complement: true });
    const r = plain!.rpr!['5']!;
    expect(sq!.rpr!['5']).toBeCloseTo(r * r, 10);
    expect(comp!.rpr!['5']).toBeCloseTo(Math.sqrt(1 - r * r), 10);
  });

  it('reference mode equals the top right singular vectors of the stacked Jacobians, computed densely', async () => {
    // More images than the basis linearizes at once (8), the last batch partial: stacked in order.
    const refs = digitSamples(11);
    const k = 8;
    const basis = await buildReferenceBasis(executor, refs, k);
    const lin = await executor.linearize(Float32Array.from(refs.flatMap((s) => Array.from(s.pixels))), refs.length);
    const jac = await lin.jacobians();
    lin.dispose();
    const rows = refs.length * 10;
    const stacked = new Matrix(rows, 784);
    for (let i = 0; i < rows; i++) for (let c = 0; c < 784; c++) stacked.set(i, c, jac[i * 784 + c]!);
    const pool = mnistPart('pool').slice(0, 5);
    for (const d of pool) {
      const ours = rightProjectionRatios(basis.v, basis.rank, d.pixels, [k]);
      if (!ours.ok) throw new Error(ours.error);
      expect(Math.abs(ours.ratios[String(k)]! - denseRpr(stacked, d.pixels, k))).toBeLessThan(1e-6);
    }
  });
});

describe('iterative SVDs on the segmentation-like network (m = output pixels)', () => {
  it('randomized and Lanczos top-k σ and RPR agree with the dense SVD', async () => {
    await initBackend('cpu');
    const arch = ARCHITECTURES.find((a) => a.imageOutput)!;
    const ex = new TfjsExecutor(layersModelToIR(arch.build()), 'cpu');
    const n = sizeOf(ex.ir.inputShape);
    const m = ex.ir.outputSize;
    expect(m).toBeGreaterThan(10);
    const x = randomImages(ex.ir.inputShape, 1, 41);
    const sample: Sample = { id: 'x', uri: 'x', pixels: x };
    const ks = [1, 4, 8];
    const exact = (await scorePerSample(ex, [sample], { ks, svd: 'exact' }))[0]!;
    const lin = await ex.linearize(x, 1);
    const jac = await lin.jacobians();
    lin.dispose();
    const a = new Matrix(m, n);
    for (let i = 0; i < m; i++) for (let c = 0; c < n; c++) a.set(i, c, jac[i * n + c]!);
    const dense = new SingularValueDecomposition(a, { autoTranspose: true }).diagonal;
    for (const method of ['randomized', 'lanczos'] as const) {
      const r = (await scorePerSample(ex, [sample], { ks, svd: method, powerIterations: 4, oversampling: 10 }))[0]!;
      // Stated tolerances: top-8 σ to 1e-3 relative, RPR_k to 1e-3 absolute.
      for (let i = 0; i < 8; i++) expect(Math.abs(r.sigma![i]! - dense[i]!)).toBeLessThan(1e-3 * dense[0]!);
      for (const k of ks) {
        expect(Math.abs(r.rpr![String(k)]! - denseRpr(a, x, k))).toBeLessThan(1e-3);
        expect(Math.abs(exact.rpr![String(k)]! - denseRpr(a, x, k))).toBeLessThan(1e-6);
      }
    }
    ex.dispose();
  });
});

describe('predicted', () => {
  it('is the argmax for one vector of class scores ([C] or [1, 1, C]), null for an image output', async () => {
    await initBackend('cpu');
    const fullyConvolutional = tfl.sequential();
    fullyConvolutional.add(tfl.layers.conv2d({ inputShape: [6, 6, 1], filters: 4, kernelSize: 3, strides: 3, activation: 'relu' }));
    fullyConvolutional.add(tfl.layers.conv2d({ filters: 5, kernelSize: 2 }));
    const cases = [
      { name: 'dense classifier', model: digitCnn(), classes: true },
      { name: '1×1×C conv head', model: seedWeights(fullyConvolutional, 43), classes: true },
      { name: 'segmentation', model: ARCHITECTURES.find((a) => a.imageOutput)!.build(), classes: false },
    ];
    for (const { name, model, classes } of cases) {
      const ex = new TfjsExecutor(layersModelToIR(model), 'cpu');
      const samples = [0, 1, 2].map((i) => ({ id: `${i}`, uri: `${i}`, pixels: randomImages(ex.ir.inputShape, 1, 50 + i) }));
      for (const r of await scorePerSample(ex, samples, { ks: [1] })) {
        const logits = r.logits!;
        expect({ name, predicted: r.predicted }).toEqual({ name, predicted: classes ? logits.indexOf(Math.max(...logits)) : null });
      }
      ex.dispose();
    }
  });
});
