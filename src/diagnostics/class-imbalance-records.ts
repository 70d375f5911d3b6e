/**
 * The per-image inputs of the class-imbalance analysis, for a batch of labeled images: RPR_k, LPR_k of
 * the true label, and the LPR curve of every class's one-hot label at the image. One Executor.gramians
 * call for the batch, then per image σ and U from the m × m Gram matrix and V_rᵀx from A·x, as exact
 * per-sample scoring does (no n-long right vectors formed). It does not go through scorePerSample
 * because that returns LPR for the true label only, and the verdict needs every label's LPR measured
 * at the same images.
 */
import { RprError } from '../errors/index.js';
import { rightCoordinates, svdFromGram } from '../linalg/index.js';
import { EXACT_MAX_OUTPUTS, leftProjectionRatios, projectedInput, ratiosFromCoordinates } from '../metrics/index.js';
import type { Executor } from '../model/executor.js';
import { sizeOf } from '../model/ir.js';
import type { Sample } from '../pool/types.js';
import type { EvalRecord } from './class-imbalance.js';

export interface ImbalanceRecordOptions {
  /** Ranks of the RPR_k and LPR_k distributions. */
  readonly ks: readonly number[];
  /** Name of class index i; the index itself where absent. */
  readonly classNames?: readonly string[];
}

function oneHot(m: number, c: number): number[] {
  return Array.from({ length: m }, (_, i) => (i === c ? 1 : 0));
}

/**
 * One record per image of the batch whose RPR is defined (an all-zero image has none and is left out;
 * `skipped` counts those). `labels` are class indices in [0, m).
 */
export async function classImbalanceRecords(
  executor: Executor,
  samples: readonly Sample[],
  labels: readonly number[],
  options: ImbalanceRecordOptions,
): Promise<{ readonly records: EvalRecord[]; readonly skipped: number }> {
  const m = executor.ir.outputSize;
  const n = sizeOf(executor.ir.inputShape);
  if (m > EXACT_MAX_OUTPUTS) {
    throw new RprError(
      'RPR_USAGE',
      `class imbalance needs a classifier with at most ${EXACT_MAX_OUTPUTS} outputs; this model has ${m}: leave out --eval`,
      { outputs: m },
    );
  }
  if (labels.length !== samples.length) {
    throw new RprError('RPR_INTERNAL', `class imbalance: ${samples.length} images but ${labels.length} labels`);
  }
  const bad = labels.findIndex((l) => !Number.isInteger(l) || l < 0 || l >= m);
  if (bad >= 0) {
    throw new RprError('RPR_USAGE', `image ${samples[bad]!.uri} has label ${labels[bad]}; this model has classes 0…${m - 1}`, {
      uri: samples[bad]!.uri,
    });
  }
  const names = Array.from({ length: m }, (_, c) => options.classNames?.[c] ?? String(c));
  const allKs = Array.from({ length: m }, (_, i) => i + 1);
  const images = new Float32Array(samples.length * n);
  samples.forEach((s, b) => images.set(s.pixels, b * n));
  const g = await executor.gramians(images, samples.length, images);
  const records: EvalRecord[] = [];
  samples.forEach((sample, b) => {
    const input = projectedInput(sample.pixels, null);
    if (!input.ok) return;
    const svd = svdFromGram(g.gram.subarray(b * m * m, (b + 1) * m * m), m, n);
    const rpr = ratiosFromCoordinates(rightCoordinates(svd, g.products, b * m), input.norm, options.ks);
    const curve = (c: number): number[] => {
      const l = leftProjectionRatios(svd.u, svd.rank, oneHot(m, c), allKs);
      return l.ok ? allKs.map((k) => l.ratios[String(k)]!) : [];
    };
    const labelLpr: Record<string, number[]> = {};
    names.forEach((name, c) => {
      labelLpr[name] = curve(c);
    });
    const own = labelLpr[names[labels[b]!]!]!;
    const lpr: Record<string, number> = {};
    for (const k of options.ks) lpr[String(k)] = own[Math.min(k, m) - 1]!;
    records.push({ label: names[labels[b]!]!, rpr: rpr.ratios, lpr, labelLpr });
  });
  return { records, skipped: samples.length - records.length };
}
