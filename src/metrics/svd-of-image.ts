/**
 * The SVD of A[x] for each image of a linearized batch: exact from the dense Jacobian when the output is
 * small (classification), randomized or Lanczos through the matrix-free operator when it is large
 * (segmentation: one output per pixel).
 */
import { errors } from '../errors/index.js';
import { lanczosSvd, randomizedSvd, thinSvd } from '../linalg/index.js';
import type { SvdResult } from '../linalg/index.js';
import type { Linearization } from '../model/executor.js';

export const SVD_METHODS = ['auto', 'exact', 'randomized', 'lanczos'] as const;
export type SvdMethod = (typeof SVD_METHODS)[number];

/** Outputs up to this many get the exact SVD under `auto`. */
export const EXACT_MAX_OUTPUTS = 256;

export interface IterativeSvdOptions {
  /** Randomized SVD oversampling p. @defaultValue 10 */
  readonly oversampling?: number;
  /** Randomized SVD power iterations q. @defaultValue 2 */
  readonly powerIterations?: number;
  /** Seed of the random probes. @defaultValue 0 */
  readonly seed?: number;
}

export function resolveSvdMethod(method: SvdMethod, outputs: number): Exclude<SvdMethod, 'auto'> {
  if (method === 'auto') return outputs <= EXACT_MAX_OUTPUTS ? 'exact' : 'randomized';
  return method;
}

/** One SvdResult per image of the batch, with the top `k` triplets at least (all of them when exact). */
export async function svdOfBatch(
  lin: Linearization,
  rows: number,
  cols: number,
  method: Exclude<SvdMethod, 'auto'>,
  k: number,
  options: IterativeSvdOptions = {},
): Promise<SvdResult[]> {
  if (method === 'exact') {
    const jac = await lin.jacobians();
    const block = rows * cols;
    return Array.from({ length: lin.count }, (_, b) =>
      thinSvd({ rows, cols, data: Float64Array.from(jac.subarray(b * block, (b + 1) * block)) }),
    );
  }
  const rank = Math.min(k, rows, cols);
  if (rank < 1) throw errors.usage(`cannot compute a rank-${k} SVD of a ${rows} × ${cols} operator`);
  const results: SvdResult[] = [];
  for (let b = 0; b < lin.count; b++) {
    const op = lin.operator(b);
    results.push(
      method === 'randomized'
        ? await randomizedSvd(op, rank, {
            oversampling: options.oversampling ?? 10,
            powerIterations: options.powerIterations ?? 2,
            seed: options.seed ?? 0,
          })
        : await lanczosSvd(op, rank),
    );
  }
  return results;
}
