/**
 * Executor.gramians with the engine's memory bounded: the batch is linearized once, then its unit
 * cotangents go through the adjoint `rowsPerPass` rows at a time, so the engine holds the activations
 * of B·rowsPerPass cotangents instead of B·m. The Jacobians are assembled on the host (float32,
 * B × m × n) and reduced in float64. For networks too large for the fused path at one image.
 */
import { errors } from '../errors/index.js';
import type { Executor, Gramians } from './executor.js';
import { gramiansFromJacobians } from './gramians-from-jacobians.js';
import { sizeOf } from './ir.js';

export async function chunkedGramians(
  executor: Executor,
  images: Float32Array,
  count: number,
  probes: Float32Array,
  rowsPerPass: number,
): Promise<Gramians> {
  const m = executor.ir.outputSize;
  const n = sizeOf(executor.ir.inputShape);
  if (!Number.isInteger(rowsPerPass) || rowsPerPass < 1) {
    throw errors.internal(`chunkedGramians: rowsPerPass must be a positive integer, got ${rowsPerPass}`);
  }
  const lin = await executor.linearize(images, count);
  try {
    const jacobians = new Float32Array(count * m * n);
    for (let start = 0; start < m; start += rowsPerPass) {
      const rows = Math.min(rowsPerPass, m - start);
      const part = await lin.jacobians({ start, count: rows });
      for (let b = 0; b < count; b++) jacobians.set(part.subarray(b * rows * n, (b + 1) * rows * n), (b * m + start) * n);
    }
    return gramiansFromJacobians(lin.outputs, jacobians, count, m, n, probes);
  } finally {
    lin.dispose();
  }
}
