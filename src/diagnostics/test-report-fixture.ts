/**
 * A small but complete diagnostics report for the report tests: four kinds of weight layers (one with
 * a hostile name), planted class imbalance and three gain checkpoints.
 */
import type { EvalRecord } from './class-imbalance.js';
import { diagnose } from './diagnose.js';
import type { BatchForward } from './gain.js';
import type { DiagnosticsReport } from './report.js';
import { conv2dOp, denseOp, depthwiseOp, modelOf, randomTensor, weightNode } from './test-fixtures.js';
import { createRng } from '../util/rng.js';

export const HOSTILE_NAME = '<script>alert("x")</script> & co';

export async function fixtureReport(): Promise<DiagnosticsReport> {
  const ir = modelOf(
    [
      weightNode('conv1', conv2dOp(randomTensor([3, 3, 1, 16], 1)), 'Conv2D'),
      weightNode(HOSTILE_NAME, conv2dOp(randomTensor([3, 3, 16, 24], 2)), 'Conv2D'),
      weightNode('dw', depthwiseOp(randomTensor([3, 3, 24, 1], 3)), 'DepthwiseConv2D'),
      weightNode('fc', denseOp(randomTensor([64, 12], 4)), 'Dense'),
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
  });
}
