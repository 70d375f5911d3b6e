/**
 * "SVD neurons" (Praggastis et al. 2022, DeepDataProfiler's SVDProfiler): the pre-activation output y_p
 * of a layer at each position p projected on the left singular vectors uᵢ of its unfolded kernel,
 * uᵢᵀy_p = σᵢ·vᵢᵀx_p when the bias is excluded. An image's excitation of direction i is the mean over
 * positions of |uᵢᵀy_p| (the L1 aggregation DDP ranks neurons by); each direction's exemplars are the
 * images with the largest excitation.
 *
 * Pre-activations come from an injected function so this module needs no engine: the executor should
 * return the conv (or dense) output before bias and activation — or with the bias, which then adds
 * the constant uᵢᵀb to every position — and before any following batch norm (model/pre-activation-ir.ts
 * cuts a model so that any executor does exactly that).
 */
import { RprError } from '../errors/index.js';
import { positiveInteger } from './check-option.js';
import { summarize, type Summary } from './summary-stats.js';

export interface ExemplarImage<T> {
  readonly id: string;
  /** Where the image came from (path or URL), for the report. */
  readonly uri: string;
  readonly input: T;
}

export interface Exemplar {
  readonly id: string;
  readonly uri: string;
  /** The image's excitation of the direction: mean over positions of |uᵢᵀy_p|. */
  readonly activation: number;
}

export interface SvdNeuronOptions<T> {
  /** Unit vectors in output-channel space (length = the layer's output channels), strongest first. */
  readonly leftSingularVectors: readonly Float64Array[];
  readonly singularValues?: readonly number[];
  readonly images: readonly ExemplarImage<T>[];
  /** Pre-activations per image: [H, W, out] row-major for conv layers, [out] for dense ones. */
  readonly preActivations: (inputs: readonly T[]) => Promise<Float32Array[]>;
  /**
   * Exemplars kept per direction.
   * @defaultValue 9 (the DeepDataProfiler demo's default)
   */
  readonly topN?: number;
  /**
   * How many leading directions to rank.
   * @defaultValue all of them
   */
  readonly directions?: number;
  /**
   * Images per call to `preActivations`.
   * @defaultValue 32
   */
  readonly batchSize?: number;
}

export interface SvdNeuronExemplars {
  /** 0 = the largest singular value's direction. */
  readonly direction: number;
  readonly singularValue: number | null;
  /** Highest excitation first; ties by image order. */
  readonly top: readonly Exemplar[];
  /** The excitation over all the images, for telling exemplars that stand out from a flat direction. */
  readonly summary: Summary;
}

/** Mean over positions of |uᵢᵀy_p| for each of the first `k` directions. */
export function directionExcitation(preActivation: Float32Array, vectors: readonly Float64Array[], k: number): Float64Array {
  const out = vectors[0]?.length ?? 0;
  const positions = out > 0 ? preActivation.length / out : 0;
  if (!Number.isInteger(positions) || positions < 1) {
    throw new RprError(
      'RPR_INPUT_SHAPE',
      `SVD neurons: a pre-activation of ${preActivation.length} values is not a whole number of ${out}-channel positions; pass [H, W, ${out}] or [${out}]`,
      { values: preActivation.length, channels: out },
    );
  }
  const score = new Float64Array(k);
  for (let p = 0; p < positions; p++) {
    const base = p * out;
    for (let i = 0; i < k; i++) {
      const u = vectors[i]!;
      let dot = 0;
      for (let o = 0; o < out; o++) dot += u[o]! * preActivation[base + o]!;
      score[i] += Math.abs(dot);
    }
  }
  for (let i = 0; i < k; i++) score[i] = score[i]! / positions;
  return score;
}

/** For each leading singular direction, the `topN` images that excite it most. */
export async function svdNeuronExemplars<T>(options: SvdNeuronOptions<T>): Promise<SvdNeuronExemplars[]> {
  const vectors = options.leftSingularVectors;
  const requested = positiveInteger('SVD neurons', 'directions', options.directions ?? Math.max(vectors.length, 1));
  const k = Math.min(vectors.length, requested);
  const topN = positiveInteger('SVD neurons', 'topN', options.topN ?? 9);
  const batchSize = positiveInteger('SVD neurons', 'batchSize', options.batchSize ?? 32);
  const images = options.images;
  if (images.length === 0) throw new RprError('RPR_POOL_EMPTY', 'SVD neurons: no images to rank; give a pool with at least one usable image');
  const scores = Array.from({ length: k }, () => new Float64Array(images.length));
  for (let start = 0; start < images.length; start += batchSize) {
    const batch = images.slice(start, start + batchSize);
    const outputs = await options.preActivations(batch.map((b) => b.input));
    if (outputs.length !== batch.length) {
      throw new RprError(
        'RPR_BACKEND',
        `SVD neurons: the pre-activation function returned ${outputs.length} arrays for ${batch.length} images`,
        { returned: outputs.length, expected: batch.length },
      );
    }
    outputs.forEach((y, b) => {
      const s = directionExcitation(y, vectors, k);
      for (let i = 0; i < k; i++) scores[i]![start + b] = s[i]!;
    });
  }
  return scores.map((s, direction) => {
    const order = [...s.keys()].sort((a, b) => s[b]! - s[a]! || a - b).slice(0, topN);
    return {
      direction,
      singularValue: options.singularValues?.[direction] ?? null,
      top: order.map((i) => ({ id: images[i]!.id, uri: images[i]!.uri, activation: s[i]! })),
      summary: summarize([...s])!,
    };
  });
}
