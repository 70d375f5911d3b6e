/**
 * Reference mode: one basis per model — the top right singular vectors of the operator stacked over a
 * reference set (the eigenvectors of Σᵢ A[xᵢ]ᵀA[xᵢ]) — so that scoring a pool image is one projection
 * and no network pass.
 */
import { createHash } from 'node:crypto';
import { RprError } from '../errors/index.js';
import { thinSvd } from '../linalg/index.js';
import type { Executor } from '../model/executor.js';
import { sizeOf } from '../model/ir.js';
import type { Sample } from '../pool/types.js';

export interface ReferenceBasis {
  /** Vᵀ, rank × n row-major. */
  readonly v: Float64Array;
  readonly rank: number;
  readonly sigma: Float64Array;
  /** Number of reference images used. */
  readonly images: number;
  /** sha256 of the basis: part of the cache key of reference-mode scores. */
  readonly digest: string;
}

/** Most Jacobian entries held at once for the dense reference SVD (float64: 8 bytes each). */
export const MAX_REFERENCE_ENTRIES = 2.5e7;

/**
 * Reference images linearized at once. The engine holds the activations of batch × m adjoint rows: at
 * per-sample scoring's batch (64 digits) that is ~170 MB on the demo model, against ~35 MB for 8, in the
 * same time, and it would set the peak RSS of a whole reference-mode run, whose pool images need no
 * network pass.
 */
const REFERENCE_BATCH = 8;

/** Largest reference set the dense path takes for this model; larger sets are subsampled by the caller. */
export function maxReferenceImages(executor: Executor): number {
  return Math.max(1, Math.floor(MAX_REFERENCE_ENTRIES / (executor.ir.outputSize * sizeOf(executor.ir.inputShape))));
}

export async function buildReferenceBasis(executor: Executor, samples: readonly Sample[], k: number): Promise<ReferenceBasis> {
  const n = sizeOf(executor.ir.inputShape);
  const m = executor.ir.outputSize;
  if (samples.length === 0) {
    throw new RprError('RPR_POOL_EMPTY', 'the reference set has no usable images; point --reference at a directory of images');
  }
  if (samples.length > maxReferenceImages(executor)) {
    throw new RprError(
      'RPR_USAGE',
      `the reference set has ${samples.length} images; at most ${maxReferenceImages(executor)} fit for this model — use a smaller --reference set`,
    );
  }
  const stacked = new Float64Array(samples.length * m * n);
  for (let start = 0; start < samples.length; start += REFERENCE_BATCH) {
    const part = samples.slice(start, start + REFERENCE_BATCH);
    const images = new Float32Array(part.length * n);
    part.forEach((s, b) => images.set(s.pixels, b * n));
    const lin = await executor.linearize(images, part.length);
    try {
      stacked.set(await lin.jacobians(), start * m * n);
    } finally {
      lin.dispose();
    }
  }
  const svd = thinSvd({ rows: samples.length * m, cols: n, data: stacked });
  const rank = Math.min(k, svd.rank);
  const v = svd.v.slice(0, rank * n);
  return { v, rank, sigma: svd.sigma.slice(0, Math.min(svd.sigma.length, Math.max(rank, 1))), images: samples.length, digest: basisDigest(v) };
}

/** sha256 of a basis's Vᵀ bytes: a basis read back from the cache has the digest it was built with. */
export function basisDigest(v: Float64Array): string {
  return createHash('sha256').update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)).digest('hex');
}
