/**
 * A small but complete diagnostics report for the report tests: four kinds of weight layers (one with
 * a hostile name), planted class imbalance, three gain checkpoints, and SVD neurons over six images
 * whose pre-activations are seeded noise (one image with a hostile uri).
 */
import type { EvalRecord } from './class-imbalance.js';
import { diagnose } from './diagnose.js';
import type { BatchForward } from './gain.js';
import type { ModelIR } from '../model/ir.js';
import type { DiagnosticsReport } from './report.js';
import { conv2dOp, denseOp, depthwiseOp, modelOf, randomTensor, weightNode } from './test-fixtures.js';
import { createRng } from '../util/rng.js';

export const HOSTILE_NAME = '<script>alert("x")</script> & co';
export const HOSTILE_URI = '/pool/<img src=x onerror=alert(1)>.png';
export const FIXTURE_IMAGE_IDS = ['a1', 'b2', 'c3', 'd4', 'e5', 'f6'];

/** The runner of a cut IR: seeded noise of the cut layer's output size, so the ranking is arbitrary but fixed. */
const noiseRunner = async (sub: ModelIR) => {
  const rng = createRng(sub.output);
  return {
    forward: async (_batch: Float32Array, n: number) => Float32Array.from({ length: n * sub.outputSize }, () => rng.normal()),
    dispose: () => undefined,
  };
};

export async function fixtureReport(): Promise<DiagnosticsReport> {
  const ir = modelOf(
    [
      { ...weightNode('conv1', conv2dOp(randomTensor([3, 3, 1, 16], 1)), 'Conv2D'), shape: [8, 8, 16] },
      { ...weightNode(HOSTILE_NAME, conv2dOp(randomTensor([3, 3, 16, 24], 2)), 'Conv2D'), shape: [8, 8, 24] },
      { ...weightNode('dw', depthwiseOp(randomTensor([3, 3, 24, 1], 3)), 'DepthwiseConv2D'), shape: [8, 8, 24] },
      { ...weightNode('fc', denseOp(randomTensor([64, 12], 4)), 'Dense'), shape: [12] },
    ],
    [8, 8, 1],
  );
  const rng = createRng(5);
  const evalRecords: EvalRecord[] = [];
  for (const label of [0, 1, 2]) {
    for (let i = 0; i < 30; i++) {
      const shift = label === 1 ? -0.25 : 0;
      // Class 1's label is weak on every image (m = 3: its LPR_2 is low), which is what the verdict reads.
      const curve = (level: number) => [level / 2, level + 0.05 * rng.normal(), 1];
      evalRecords.push({
        label,
        rpr: { '5': 0.6 + shift + 0.05 * rng.normal() },
        lpr: { '5': 0.7 + 0.05 * rng.normal() },
        labelLpr: { '0': curve(0.9), '1': curve(0.4), '2': curve(0.9) },
      });
    }
  }
  const scaled =
    (k: number): BatchForward =>
    async (batch, n) =>
      Float32Array.from(batch.subarray(0, n * 64), (v) => k * v);
  const probes = [Float32Array.from({ length: 64 }, () => rng.next())];
  return diagnose(ir, {
    evalRecords,
    gain: {
      checkpoints: [
        { name: 'epoch 1', forward: scaled(1) },
        { name: 'epoch 2', forward: scaled(2) },
        { name: 'epoch 3', forward: scaled(2.02) },
      ],
      probes,
      options: { orientations: 2, phases: 2 },
    },
    operatorSpectrum: { topK: 5 },
    svdNeurons: {
      images: FIXTURE_IMAGE_IDS.map((id, i) => ({ id, uri: i === 0 ? HOSTILE_URI : `/pool/${id}.png`, input: new Float32Array(64) })),
      runnerFor: noiseRunner,
      directions: 2,
      topN: 3,
    },
  });
}
