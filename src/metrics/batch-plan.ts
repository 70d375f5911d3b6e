/**
 * How per-sample scoring cuts its work so that the engine's memory stays under a budget whatever the
 * network: how many images one linearization takes, and on the exact path whether the m cotangent rows
 * of an image go through the adjoint at once (the fused Executor.gramians) or in chunks. Decided from the
 * IR before anything runs.
 *
 * The model: linearizing B images with r cotangent rows each, an engine holds at most
 * 4 bytes × activationSize(ir) × B × (1 + r), as if every node's output were kept for the recording
 * pass and for each row of the adjoint. Measured peaks (VmHWM growth over one gramians call, B = 1 to 64)
 * stay under it on both executors and on four architectures (plain 28×28 and 64×64×3 CNNs, a 96×96×3
 * residual network with batch norm, a depthwise/separable network with upsampling): ONNX Runtime at
 * 0.2–0.5 of it (its planner frees a tensor after its last use), TF.js wasm at 0.1–0.85 (the adjoint
 * frees each node's cotangent once used; the wasm heap grows in steps and never shrinks).
 */
import { errors } from '../errors/index.js';
import { activationSize, sizeOf } from '../model/ir.js';
import type { Executor } from '../model/executor.js';
import type { ModelIR } from '../model/ir.js';
import type { IterativeSvdOptions, SvdMethod } from './svd-of-image.js';
import { resolveSvdMethod } from './svd-of-image.js';

/** @see BatchPlanOptions.batchMemoryMB */
export const DEFAULT_BATCH_MEMORY_MB = 256;

/** More images per batch buys no speed on either engine (measured flat from ~8 up), only memory. */
const MAX_BATCH_IMAGES = 64;
const FLOAT32_BYTES = 4;
const FLOAT64_BYTES = 8;
/** The fused Gram graph keeps each Jacobian entry in float32, in float64, and transposed in float64 (emit-gram.ts). */
const FUSED_JACOBIAN_ENTRY_BYTES = FLOAT32_BYTES + 2 * FLOAT64_BYTES;
/**
 * Copies of one image's activations the iterative path holds per image of its batch: the recording
 * pass's values, the patterns, and the per-image patterns the matrix-free operator takes.
 */
const ITERATIVE_COPIES = 3;

export interface BatchPlanOptions extends IterativeSvdOptions {
  /** The ranks scored; the randomized SVD's block of probes is max(ks) + oversampling rows. */
  readonly ks: readonly number[];
  /** @defaultValue 'auto' (exact up to 256 outputs, randomized above) */
  readonly svd?: SvdMethod;
  /**
   * Most memory, in MB (2²⁰ bytes), that the engine may hold for one batch: the images linearized at
   * once and their adjoint rows. At least one image is linearized whatever the budget; on the exact path
   * an image that does not fit runs its cotangent rows in chunks.
   * @defaultValue 256
   */
  readonly batchMemoryMB?: number;
}

export interface BatchPlan {
  /** Images linearized at once. */
  readonly images: number;
  /**
   * Exact path: cotangent rows per adjoint pass when an image's m rows at once exceed the budget (the
   * Jacobians are then assembled on the host); null for the fused gramians, and on the iterative paths.
   */
  readonly rowsPerPass: number | null;
  /** The model's estimate of what a full batch holds, in bytes. */
  readonly estimatedBytes: number;
}

/** Whole numbers from 1 to `max`, a fractional count rounded down. */
function clampCount(value: number, max: number): number {
  return Math.max(1, Math.min(max, Math.floor(value)));
}

/** The budget in MB, checked: a positive finite number (the default when absent). */
export function checkBatchMemoryMB(mb: number = DEFAULT_BATCH_MEMORY_MB): number {
  if (!(Number.isFinite(mb) && mb > 0)) {
    throw errors.usage(`batchMemoryMB must be a positive number of megabytes, e.g. ${DEFAULT_BATCH_MEMORY_MB} (got ${mb})`, { option: 'batchMemoryMB' });
  }
  return mb;
}

export function planPerSampleBatch(ir: ModelIR, options: BatchPlanOptions): BatchPlan {
  const budget = checkBatchMemoryMB(options.batchMemoryMB) * 2 ** 20;
  const m = ir.outputSize;
  const n = sizeOf(ir.inputShape);
  const row = FLOAT32_BYTES * activationSize(ir);
  const method = resolveSvdMethod(options.svd ?? 'auto', m);
  if (method !== 'exact') {
    // The operator of one image at a time runs a block of probes: the randomized SVD's k + p, Lanczos's one.
    const block = method === 'randomized' ? Math.min(Math.max(...options.ks), m, n) + (options.oversampling ?? 10) : 1;
    const operator = row * (1 + block);
    const perImage = ITERATIVE_COPIES * row;
    const images = clampCount((budget - operator) / perImage, MAX_BATCH_IMAGES);
    return { images, rowsPerPass: null, estimatedBytes: operator + images * perImage };
  }
  const fused = row * (1 + m) + FUSED_JACOBIAN_ENTRY_BYTES * m * n + FLOAT64_BYTES * m * m;
  if (fused <= budget) {
    const images = clampCount(budget / fused, MAX_BATCH_IMAGES);
    return { images, rowsPerPass: null, estimatedBytes: images * fused };
  }
  const host = FLOAT32_BYTES * m * n + FLOAT64_BYTES * m * m;
  const rowsPerPass = clampCount((budget - host) / row - 1, m);
  return { images: 1, rowsPerPass, estimatedBytes: host + row * (1 + rowsPerPass) };
}

/** The exact path's plan, for callers that only ask how many images to hand over at once. */
const EXACT: BatchPlanOptions = { ks: [1], svd: 'exact' };

/** Images per batch: what planPerSampleBatch gives for these options (the exact path under the default budget when absent). */
export function perSampleBatchSize(executor: Executor, options: BatchPlanOptions = EXACT): number {
  return planPerSampleBatch(executor.ir, options).images;
}
