/**
 * The SVD of A[x] for each image of a linearized batch: exact from the dense Jacobian when the output is
 * small (classification), randomized or Lanczos through the matrix-free operator when it is large
 * (segmentation: one output per pixel).
 */
import { errors } from '../errors/index.js';
import { lanczosSvd, projectionNorms, randomizedSvd, rightCoordinates, svdFromGram } from '../linalg/index.js';
import type { GramSvd } from '../linalg/index.js';
import { chunkedGramians } from '../model/chunked-gramians.js';
import type { Executor } from '../model/executor.js';
import { sizeOf } from '../model/ir.js';

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

/** What scoring needs of one image's A[x]: σ, U, and the coordinates V_rᵀp of its probe p. */
export interface ImageSpectrum extends GramSvd {
  /** ⟨vⱼ, p⟩ for j < rank. */
  readonly coords: Float64Array;
}

export interface SpectraOptions extends IterativeSvdOptions {
  /**
   * Exact path: cotangent rows per adjoint pass (metrics/batch-plan.ts); null or absent for the
   * executor's fused gramians, all m rows at once.
   */
  readonly rowsPerPass?: number | null;
}

/**
 * The spectrum of A[x_b] for each image of a batch, and the network outputs. Exact: one
 * Executor.gramians call (the engine reduces the Jacobians to A·Aᵀ and A·p), or its row-chunked
 * equivalent, then σ, U and V_rᵀp from the m × m Gram matrix. Randomized / Lanczos: through the
 * matrix-free operator, V formed.
 * @param probes - what each image's right vectors are projected on (the image, or the image minus a centre), count × n.
 */
export async function spectraOfBatch(
  executor: Executor,
  images: Float32Array,
  probes: Float32Array,
  count: number,
  method: Exclude<SvdMethod, 'auto'>,
  k: number,
  options: SpectraOptions = {},
): Promise<{ readonly outputs: Float32Array; readonly spectra: ImageSpectrum[] }> {
  const rows = executor.ir.outputSize;
  const cols = sizeOf(executor.ir.inputShape);
  if (method === 'exact') {
    const rowsPerPass = options.rowsPerPass ?? null;
    const g =
      rowsPerPass === null
        ? await executor.gramians(images, count, probes)
        : await chunkedGramians(executor, images, count, probes, rowsPerPass);
    const spectra = Array.from({ length: count }, (_, b) => {
      const svd = svdFromGram(g.gram.subarray(b * rows * rows, (b + 1) * rows * rows), rows, cols);
      return { ...svd, coords: rightCoordinates(svd, g.products, b * rows) };
    });
    return { outputs: g.outputs, spectra };
  }
  const rank = Math.min(k, rows, cols);
  if (rank < 1) throw errors.usage(`cannot compute a rank-${k} SVD of a ${rows} × ${cols} operator`);
  const lin = await executor.linearize(images, count);
  try {
    const spectra: ImageSpectrum[] = [];
    for (let b = 0; b < count; b++) {
      const op = lin.operator(b);
      const svd =
        method === 'randomized'
          ? await randomizedSvd(op, rank, {
              oversampling: options.oversampling ?? 10,
              powerIterations: options.powerIterations ?? 2,
              seed: options.seed ?? 0,
            })
          : await lanczosSvd(op, rank);
      spectra.push({ sigma: svd.sigma, u: svd.u, rank: svd.rank, coords: projectionNorms(svd.v, svd.rank, probes.subarray(b * cols, (b + 1) * cols), []).coords });
    }
    return { outputs: lin.outputs, spectra };
  } finally {
    lin.dispose();
  }
}
