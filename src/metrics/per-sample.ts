/**
 * Per-sample scoring (the paper's mode): linearize the network at each image, take the SVD of A[x],
 * and measure how much of the image lies in the span of its top right singular vectors. The exact
 * path never forms those vectors: V_rᵀx comes from A·x and the Gram matrix (svd-of-image.ts).
 */
import type { Executor } from '../model/executor.js';
import { outputIsClassVector, sizeOf } from '../model/ir.js';
import type { Sample } from '../pool/types.js';
import type { RatioOptions } from './ratios.js';
import { leftProjectionRatios, projectedInput, ratiosFromCoordinates } from './ratios.js';
import type { BatchPlanOptions } from './batch-plan.js';
import { planPerSampleBatch } from './batch-plan.js';
import { resolveSvdMethod, spectraOfBatch } from './svd-of-image.js';
import type { ScoreResult } from './types.js';

export interface PerSampleOptions extends RatioOptions, BatchPlanOptions {
  /** Subtracted from each image before projecting (mean-centred RPR); null for none. */
  readonly center?: Float32Array | null;
}

function argmax(values: ArrayLike<number>, start: number, length: number): number {
  let best = 0;
  for (let i = 1; i < length; i++) if (values[start + i]! > values[start + best]!) best = i;
  return best;
}

/**
 * Scores a batch. With `labels` (class indices, for a labeled evaluation set), each result also carries
 * LPR_k of its one-hot label on the left singular vectors. The batch is linearized in parts of the
 * size planPerSampleBatch gives for `options.batchMemoryMB`, so a caller's batch never sets the memory.
 */
export async function scorePerSample(
  executor: Executor,
  samples: readonly Sample[],
  options: PerSampleOptions,
  labels?: readonly number[],
): Promise<ScoreResult[]> {
  const plan = planPerSampleBatch(executor.ir, options);
  const results: ScoreResult[] = [];
  for (let start = 0; start < samples.length; start += plan.images) {
    const end = Math.min(start + plan.images, samples.length);
    results.push(...(await scoreLinearized(executor, samples.slice(start, end), options, plan.rowsPerPass, labels?.slice(start, end))));
  }
  return results;
}

async function scoreLinearized(
  executor: Executor,
  samples: readonly Sample[],
  options: PerSampleOptions,
  rowsPerPass: number | null,
  labels: readonly number[] | undefined,
): Promise<ScoreResult[]> {
  const ir = executor.ir;
  const n = sizeOf(ir.inputShape);
  const m = ir.outputSize;
  const images = new Float32Array(samples.length * n);
  samples.forEach((s, b) => images.set(s.pixels, b * n));
  const inputs = samples.map((s) => projectedInput(s.pixels, options.center ?? null));
  const probes = options.center ? new Float32Array(samples.length * n) : images;
  inputs.forEach((input, b) => {
    if (options.center && input.ok) probes.set(input.x, b * n);
  });
  const method = resolveSvdMethod(options.svd ?? 'auto', m);
  const { outputs, spectra } = await spectraOfBatch(executor, images, probes, samples.length, method, Math.max(...options.ks), {
    ...options,
    rowsPerPass,
  });
  const classifies = outputIsClassVector(ir);
  return samples.map((sample, b) => {
    const spectrum = spectra[b]!;
    const logits = Array.from(outputs.subarray(b * m, (b + 1) * m));
    const predicted = classifies ? argmax(outputs, b * m, m) : null;
    const base = { id: sample.id, uri: sample.uri, predicted, logits };
    const input = inputs[b]!;
    if (!input.ok) return { ...base, rpr: null, sigma: null, coords: null, error: input.error };
    const r = ratiosFromCoordinates(spectrum.coords, input.norm, options.ks, options);
    const scored = { ...base, rpr: r.ratios, sigma: Array.from(spectrum.sigma), coords: r.coords };
    if (!labels) return scored;
    const y = Array.from({ length: m }, (_, i) => (i === labels[b] ? 1 : 0));
    const l = leftProjectionRatios(spectrum.u, spectrum.rank, y, options.ks, options);
    return l.ok ? { ...scored, lpr: l.ratios } : scored;
  });
}
