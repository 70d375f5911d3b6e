/**
 * Gramians (executor.ts) from dense Jacobians, in float64 on the calling thread: what an engine without
 * a fused Gram graph hands back.
 */
import type { Gramians } from './executor.js';

/**
 * @param jacobians - B × m × n, as Linearization.jacobians returns them.
 * @param probes - B × n.
 */
export function gramiansFromJacobians(
  outputs: Float32Array,
  jacobians: Float32Array,
  count: number,
  m: number,
  n: number,
  probes: Float32Array,
): Gramians {
  const gram = new Float64Array(count * m * m);
  const products = new Float64Array(count * m);
  for (let b = 0; b < count; b++) {
    const a = b * m * n;
    const g = b * m * m;
    for (let i = 0; i < m; i++) {
      const ri = a + i * n;
      for (let j = i; j < m; j++) {
        const rj = a + j * n;
        let acc = 0;
        for (let c = 0; c < n; c++) acc += jacobians[ri + c]! * jacobians[rj + c]!;
        gram[g + i * m + j] = acc;
        gram[g + j * m + i] = acc;
      }
      let ap = 0;
      for (let c = 0; c < n; c++) ap += jacobians[ri + c]! * probes[b * n + c]!;
      products[b * m + i] = ap;
    }
  }
  return { outputs, gram, products };
}
