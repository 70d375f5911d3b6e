/**
 * "SVD neurons" of a small CNN with known (seeded) weights on real MNIST digits, end to end through the
 * IR and the TF.js executor, against an independent computation: each layer's pre-activations from
 * TF.js itself (fixtures/layer-pre-activation.ts), its left singular vectors from the eigendecomposition
 * of W̄W̄ᵀ (ml-matrix; W̄ = the kernel reshaped to out × (kh·kw·in), built here from the TF.js weights),
 * and the excitation mean_p |uᵢᵀy_p| with its ranking computed in float64.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { diagnose } from '../../src/diagnostics/diagnose.js';
import type { SvdNeuronsReport } from '../../src/diagnostics/svd-neurons-report.js';
import { TfjsExecutor } from '../../src/model/executors/tfjs/tfjs-executor.js';
import { layersModelToIR } from '../../src/model/frontends/layers-model-frontend.js';
import type { ModelIR } from '../../src/model/ir.js';
import { initBackend, tf, tfl } from '../../src/model/tf-runtime.js';
import { mnistPart } from '../../src/pool/mnist-digits.js';
import { seedWeights } from '../fixtures/architectures.js';
import { layerPreActivation, WEIGHT_LAYER_CLASSES } from '../fixtures/layer-pre-activation.js';

const IMAGES = 40;
const DIRECTIONS = 3;
const TOP = 5;

function digitCnn(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 5, kernelSize: 3, activation: 'relu' }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.conv2d({ filters: 7, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }));
  m.add(tfl.layers.flatten());
  m.add(tfl.layers.dense({ units: 6 }));
  return seedWeights(m, 12);
}

/** W̄ (out × rest) from a kernel whose last axis is the output: conv [kh,kw,in,out] and dense [in,out]. */
function unfolded(kernel: tf.Tensor): Matrix {
  const out = kernel.shape[kernel.shape.length - 1]!;
  const flat = kernel.dataSync();
  const cols = flat.length / out;
  return Matrix.from1DArray(cols, out, Array.from(flat)).transpose();
}

/** Left singular pairs of W̄ from the symmetric eigenproblem W̄W̄ᵀ = U Σ² Uᵀ, largest first. */
function leftSingularPairs(w: Matrix): { sigma: number; u: number[] }[] {
  const eig = new EigenvalueDecomposition(w.mmul(w.transpose()), { assumeSymmetric: true });
  const vectors = eig.eigenvectorMatrix;
  return eig.realEigenvalues
    .map((lambda, j) => ({ sigma: Math.sqrt(Math.max(0, lambda)), u: vectors.getColumn(j) }))
    .sort((a, b) => b.sigma - a.sigma);
}

let model: tfl.LayersModel;
let ir: ModelIR;
let report: SvdNeuronsReport;
const digits = mnistPart('test').slice(0, IMAGES);

beforeAll(async () => {
  await initBackend('cpu');
  model = digitCnn();
  ir = layersModelToIR(model);
  const result = await diagnose(ir, {
    svdNeurons: {
      images: digits.map((d) => ({ id: `digit-${d.index}`, uri: `mnist:${d.index}`, input: d.pixels })),
      runnerFor: async (sub) => new TfjsExecutor(sub, 'cpu'),
      directions: DIRECTIONS,
      topN: TOP,
      batchSize: 16,
    },
  });
  report = result.svdNeurons!;
});
afterAll(() => model.dispose());

it('has one entry per weight layer, in execution order, with the leading directions', () => {
  const layers = model.layers.filter((l) => WEIGHT_LAYER_CLASSES.includes(l.getClassName()));
  expect(report.layers.map((l) => l.name)).toEqual(layers.map((l) => l.name));
  expect(report.images).toBe(IMAGES);
  expect(report.layers.map((l) => l.preActivationShape)).toEqual([[26, 26, 5], [7, 7, 7], [6]]);
  for (const layer of report.layers) {
    expect(layer.directions.map((d) => d.direction)).toEqual([0, 1, 2]);
    for (const d of layer.directions) {
      expect(d.top).toHaveLength(TOP);
      expect(d.summary.n).toBe(IMAGES);
    }
  }
});

it('projects each layer’s pre-activations on its left singular vectors and ranks the digits like a float64 reference', () => {
  const x = tf.tensor(Float32Array.from(digits.flatMap((d) => Array.from(d.pixels))), [IMAGES, 28, 28, 1]);
  try {
    for (const entry of report.layers) {
      const layer = model.getLayer(entry.name);
      const kernel = layer.getWeights()[0]!;
      const pairs = leftSingularPairs(unfolded(kernel));
      const out = kernel.shape[kernel.shape.length - 1]!;
      const y = layerPreActivation(model, layer, x);
      const positions = y.length / IMAGES / out;
      entry.directions.forEach((d, i) => {
        const { sigma, u } = pairs[i]!;
        expect(d.singularValue).toBeCloseTo(sigma, 4);
        const excitation = digits.map((_, b) => {
          let sum = 0;
          for (let p = 0; p < positions; p++) {
            const base = (b * positions + p) * out;
            sum += Math.abs(u.reduce((s, uo, o) => s + uo * y[base + o]!, 0));
          }
          return sum / positions;
        });
        const order = excitation.map((_, b) => b).sort((a, b) => excitation[b]! - excitation[a]!);
        expect(d.top.map((t) => t.id)).toEqual(order.slice(0, TOP).map((b) => `digit-${digits[b]!.index}`));
        expect(d.top.map((t) => t.uri)).toEqual(order.slice(0, TOP).map((b) => `mnist:${digits[b]!.index}`));
        d.top.forEach((t, r) => expect(Math.abs(t.activation - excitation[order[r]!]!)).toBeLessThan(1e-4 * excitation[order[0]!]!));
        expect(d.summary.max).toBeCloseTo(excitation[order[0]!]!, 4);
        expect(d.summary.min).toBeCloseTo(excitation[order[IMAGES - 1]!]!, 4);
      });
    }
  } finally {
    x.dispose();
  }
});

it('separates the digits: the top images differ between directions of a layer', () => {
  // A sanity check that the ranking carries information: not every direction picks the same digits.
  for (const layer of report.layers) {
    const tops = new Set(layer.directions.map((d) => d.top.map((t) => t.id).join(',')));
    expect(tops.size).toBeGreaterThan(1);
  }
});
