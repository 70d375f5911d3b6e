/**
 * Reference mode: one basis per model — the top right singular vectors of the operator stacked over a
 * reference set, S = [A[x₁]; …; A[x_N]] (the eigenvectors of SᵀS = Σᵢ A[xᵢ]ᵀA[xᵢ]) — so that scoring a
 * pool image is one projection and no network pass.
 *
 * The path comes from the sizes (linalg's planTopRight): while the Gram matrix on the smaller side has
 * order ≤ 1024 and fits the memory budget, 'exact' forms it in float64 from the Jacobians, one batch of
 * images at a time, and takes its top k eigenvectors; beyond, 'lanczos' runs block Lanczos on SᵀS
 * matrix-free and reports its residuals. Either way at most one batch of images is linearized at once:
 * an iterative pass re-linearizes every batch rather than keep N linearizations alive.
 */
import { createHash } from 'node:crypto';
import { RprError } from '../errors/index.js';
import { DEFAULT_RESIDUAL_TOL, addNormalProduct, planTopRight, topRightSingularVectors } from '../linalg/index.js';
import type { ResolvedTopRightMethod, StackedRows, TopRightOptions, TopRightPlan } from '../linalg/index.js';
import type { Executor, Linearization } from '../model/executor.js';
import { sizeOf } from '../model/ir.js';
import type { Sample } from '../pool/types.js';
import type { SvdMethod } from './svd-of-image.js';

/** How an iterative basis converged, as the run summary reports it. */
export interface BasisConvergence {
  /** ‖SᵀS vⱼ − σⱼ² vⱼ‖/σ₁² per basis vector: the angle to the true vector is at most this over the relative gap. */
  readonly residuals: readonly number[];
  /** The residual each vector had to reach. */
  readonly tol: number;
  /** Every vector reached it. */
  readonly converged: boolean;
  /** Passes over the reference set: each linearizes every reference image once. */
  readonly passes: number;
}

export interface ReferenceBasis {
  /** Vᵀ, rank × n row-major. */
  readonly v: Float64Array;
  readonly rank: number;
  readonly sigma: Float64Array;
  /** Number of reference images used. */
  readonly images: number;
  /** How it was computed. */
  readonly method: ResolvedTopRightMethod;
  /** How an iterative method converged; null for 'exact', which is exact to rounding. */
  readonly convergence: BasisConvergence | null;
  /** sha256 of the basis: part of the cache key of reference-mode scores. */
  readonly digest: string;
}

/** How to compute the basis; the names are per-sample scoring's (`scoring.svd`, `--svd`). */
export interface ReferenceBasisOptions {
  /**
   * 'auto' takes 'exact' while the Gram matrix has order ≤ 1024 and the exact path fits `memoryBytes`,
   * else 'lanczos'. 'exact' past the budget is refused. 'randomized' is subspace iteration with
   * `oversampling` and `powerIterations`, unconverged on flat spectra more often than Lanczos.
   * @defaultValue 'auto'
   */
  readonly method?: SvdMethod;
  /** Randomized probes beyond k. @defaultValue 10 */
  readonly oversampling?: number;
  /** Randomized power iterations. @defaultValue 2 */
  readonly powerIterations?: number;
  /** Seed of the random start vectors. @defaultValue 0 */
  readonly seed?: number;
  /** Memory the exact path, or the Lanczos basis, may take. @defaultValue 256 MiB */
  readonly memoryBytes?: number;
  /**
   * Jacobians an iterative path keeps between its passes (float32 bytes), so that those batches are
   * linearized once instead of once a pass; 0 linearizes every batch on every pass.
   * @defaultValue 256 MiB ({@link DEFAULT_HELD_JACOBIAN_BYTES})
   */
  readonly heldJacobianBytes?: number;
}

/**
 * Jacobians kept between Lanczos passes by default. Measured on the 64×64×3 benchmark CNN with 1,000
 * reference images (9 passes): with every batch linearized again on every pass the basis took 174 s,
 * 128 s of it in the engine; keeping the first half of the Jacobians (256 of 491 MB), 103 s, for 254 MB
 * more peak RSS. A digit set's Jacobians (31 MB for 1,000) are all kept.
 */
export const DEFAULT_HELD_JACOBIAN_BYTES = 256 * 2 ** 20;

/** The path a basis will take and the settings that decide its result (a part of its cache key). */
export interface ReferenceBasisPlan {
  readonly plan: TopRightPlan;
  /** Canonical JSON of the resolved method and its settings: a basis built otherwise is another basis. */
  readonly settings: string;
}

/**
 * Most bytes of reference pixels held while the basis is built (float32, the images stay in memory for
 * the passes over them): 1 GiB.
 */
export const REFERENCE_PIXEL_BYTES = 2 ** 30;

/**
 * Reference images linearized at once. The engine holds the activations of batch × m adjoint rows: at
 * per-sample scoring's batch (64 digits) that is ~170 MB on the demo model, against ~35 MB for 8, in the
 * same time, and it would set the peak RSS of a whole reference-mode run, whose pool images need no
 * network pass.
 */
const REFERENCE_BATCH = 8;

/** Largest reference set this model takes: the images held in memory, at most REFERENCE_PIXEL_BYTES of them. */
export function maxReferenceImages(executor: Executor): number {
  return Math.max(1, Math.floor(REFERENCE_PIXEL_BYTES / (4 * sizeOf(executor.ir.inputShape))));
}

/** The path and settings for a basis of rank k over `images` reference images. */
export function planReferenceBasis(executor: Executor, images: number, k: number, options: ReferenceBasisOptions = {}): ReferenceBasisPlan {
  const rows = images * executor.ir.outputSize;
  const cols = sizeOf(executor.ir.inputShape);
  const topRight = topRightOptions(options);
  const plan = planTopRight(rows, cols, Math.min(k, rows, cols), topRight);
  if (plan.method === 'exact' && plan.bytes > plan.budget) {
    throw new RprError(
      'RPR_USAGE',
      `the exact reference basis for ${images} images of ${cols} values needs ${mib(plan.bytes)}, over its ${mib(plan.budget)} budget; ` +
        'set scoring.svd (--svd) to lanczos or auto, or use fewer reference images',
      { bytes: plan.bytes, budget: plan.budget },
    );
  }
  return { plan, settings: JSON.stringify(resultSettings(plan, topRight)) };
}

export async function buildReferenceBasis(
  executor: Executor,
  samples: readonly Sample[],
  k: number,
  options: ReferenceBasisOptions = {},
): Promise<ReferenceBasis> {
  if (samples.length === 0) {
    throw new RprError('RPR_POOL_EMPTY', 'the reference set has no usable images; point --reference at a directory of images');
  }
  if (samples.length > maxReferenceImages(executor)) {
    throw new RprError(
      'RPR_USAGE',
      `the reference set has ${samples.length} images; at most ${maxReferenceImages(executor)} fit in memory for this model (${mib(REFERENCE_PIXEL_BYTES)} of pixels) — use a smaller --reference set`,
    );
  }
  // Refuses a forced exact path past its budget before any network pass, in scoring.svd's words.
  planReferenceBasis(executor, samples.length, k, options);
  const rank = Math.min(k, samples.length * executor.ir.outputSize, sizeOf(executor.ir.inputShape));
  const held = options.heldJacobianBytes ?? DEFAULT_HELD_JACOBIAN_BYTES;
  const found = await topRightSingularVectors(stackedReference(executor, samples, held), rank, topRightOptions(options));
  const { report } = found;
  return {
    v: found.v,
    rank: found.rank,
    sigma: found.sigma.slice(0, Math.max(found.rank, 1)),
    images: samples.length,
    method: found.method,
    convergence: report && {
      residuals: Array.from(report.residuals),
      tol: report.tol,
      converged: report.allConverged,
      passes: report.passes,
    },
    digest: basisDigest(found.v),
  };
}

/** sha256 of a basis's Vᵀ bytes: a basis read back from the cache has the digest it was built with. */
export function basisDigest(v: Float64Array): string {
  return createHash('sha256').update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)).digest('hex');
}

/** The line a user sees when an iterative basis did not converge; null when it did or was exact. */
export function convergenceWarning(basis: Pick<ReferenceBasis, 'method' | 'convergence' | 'images'>): string | null {
  const c = basis.convergence;
  if (c === null || c.converged) return null;
  const worst = Math.max(...c.residuals);
  return (
    `the reference basis (${basis.method}, ${c.passes} passes over ${basis.images} images) did not converge: ` +
    `largest relative residual ${worst.toExponential(1)} > ${c.tol}; scores use it as it is` +
    (basis.method === 'randomized' ? '; set scoring.svd (--svd) to lanczos or auto for a converged one' : '')
  );
}

function topRightOptions(options: ReferenceBasisOptions): TopRightOptions {
  return {
    method: options.method ?? 'auto',
    ...(options.oversampling !== undefined ? { oversampling: options.oversampling } : {}),
    ...(options.powerIterations !== undefined ? { powerIterations: options.powerIterations } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.memoryBytes !== undefined ? { memoryBytes: options.memoryBytes } : {}),
  };
}

/** What decides the vectors beyond rounding: the exact path's answer does not depend on its start vectors. */
function resultSettings(plan: TopRightPlan, options: TopRightOptions): Record<string, string | number> {
  const seed = options.seed ?? 0;
  if (plan.method === 'exact') return { method: 'exact' };
  if (plan.method === 'randomized') return { method: 'randomized', oversampling: options.oversampling ?? 10, powerIterations: options.powerIterations ?? 2, seed };
  return { method: 'lanczos', maxPasses: plan.maxPasses ?? 0, tol: DEFAULT_RESIDUAL_TOL, seed };
}

/**
 * S over the reference images, read a batch of images at a time: its rows are the batch's Jacobians; its
 * normal product Σ Aᵢᵀ(Aᵢ·V) linearizes each batch again. Per image that costs m adjoint rows through
 * the Jacobians, or 2k frozen-forward and adjoint products through the operator: the cheaper of the two
 * is taken (a classifier's few logits: the Jacobians, then the products in float64). The Jacobians of
 * the first batches are kept for the later passes, up to `heldBytes`; the other batches are linearized
 * again on every pass, one at a time.
 */
function stackedReference(executor: Executor, samples: readonly Sample[], heldBytes: number): StackedRows {
  const n = sizeOf(executor.ir.inputShape);
  const m = executor.ir.outputSize;
  const linearized = async <T>(start: number, use: (lin: Linearization) => Promise<T>): Promise<T> => {
    const part = samples.slice(start, start + REFERENCE_BATCH);
    const images = new Float32Array(part.length * n);
    part.forEach((s, b) => images.set(s.pixels, b * n));
    const lin = await executor.linearize(images, part.length);
    try {
      return await use(lin);
    } finally {
      lin.dispose();
    }
  };
  const held = new Map<number, Float32Array>();
  let holding = 0;
  const heldJacobians = async (start: number): Promise<Float32Array> => {
    const kept = held.get(start);
    if (kept) return kept;
    const jac = await linearized(start, (lin) => lin.jacobians());
    if (holding + jac.byteLength <= heldBytes) {
      held.set(start, jac);
      holding += jac.byteLength;
    }
    return jac;
  };
  const rowsIn = (start: number) => Math.min(REFERENCE_BATCH, samples.length - start) * m;
  return {
    rows: samples.length * m,
    cols: n,
    async eachPart(visit) {
      for (let start = 0; start < samples.length; start += REFERENCE_BATCH) {
        visit(await linearized(start, (lin) => lin.jacobians()), rowsIn(start));
      }
    },
    async apply(v, k) {
      const out = new Float64Array(k * n);
      for (let start = 0; start < samples.length; start += REFERENCE_BATCH) {
        if (m <= 2 * k) {
          addNormalProduct(out, await heldJacobians(start), rowsIn(start), n, v, k);
          continue;
        }
        await linearized(start, async (lin) => {
          for (let b = 0; b < lin.count; b++) {
            const op = lin.operator(b);
            const z = await op.rmatvec(await op.matvec(v, k), k);
            for (let i = 0; i < z.length; i++) out[i] += z[i]!;
          }
        });
      }
      return out;
    },
  };
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}
