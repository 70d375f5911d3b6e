/**
 * The segmentation half of the evaluation: train the encoder–decoder on cluttered digits, then for each
 * held-out image compute its per-sample RPR (randomized SVD: the output has one logit per pixel) and the
 * Dice of its predicted mask, and report Spearman's correlation between the two.
 */
import { perSampleBatchSize, scorePerSample } from '../metrics/index.js';
import { layersModelToIR } from '../model/frontends/layers-model-frontend.js';
import { TfjsExecutor } from '../model/executors/tfjs/tfjs-executor.js';
import { initBackend } from '../model/tf-runtime.js';
import { mnistPart } from '../pool/index.js';
import type { Sample } from '../pool/index.js';
import { createRng } from '../util/rng.js';
import { clutteredSet } from './cluttered-digits.js';
import { dice } from './dice.js';
import { spearman, type RankCorrelation } from './spearman.js';
import { trainSegmenter } from './train-segmenter.js';

export interface SegmentationStudyOptions {
  /** Training images (from the MNIST `train` part). @defaultValue 1000 */
  readonly trainCount?: number;
  /** Held-out images scored (from the `test` part). @defaultValue 300 */
  readonly testCount?: number;
  /** @defaultValue 8 */
  readonly epochs?: number;
  /** The rank k of RPR_k. @defaultValue 10 */
  readonly k?: number;
  /** @defaultValue 1 */
  readonly seed?: number;
}

export interface SegmentationStudyResult {
  readonly trainImages: number;
  readonly epochs: number;
  readonly k: number;
  readonly svd: 'randomized';
  readonly outputs: number;
  readonly meanDice: number;
  readonly correlation: RankCorrelation;
  /** Per held-out image, for plots: RPR_k and Dice. */
  readonly points: readonly { readonly rpr: number; readonly dice: number }[];
  readonly trainSeconds: number;
  readonly scoreSeconds: number;
}

export async function runSegmentationStudy(options: SegmentationStudyOptions = {}): Promise<SegmentationStudyResult> {
  const { trainCount = 1000, testCount = 300, epochs = 8, k = 10, seed = 1 } = options;
  const rng = createRng(seed * 101 + 7);
  const train = clutteredSet(mnistPart('train').slice(0, trainCount), rng);
  const test = clutteredSet(mnistPart('test').slice(0, testCount), rng);
  let start = Date.now();
  const model = await trainSegmenter(train, { epochs, seed });
  const trainSeconds = (Date.now() - start) / 1000;
  const backend = await initBackend('wasm');
  const executor = new TfjsExecutor(layersModelToIR(model), backend);
  model.dispose();
  start = Date.now();
  const points: { rpr: number; dice: number }[] = [];
  try {
    const samples: Sample[] = test.map((image, i) => ({ id: `test-${i}`, uri: `test-${i}`, pixels: image.pixels }));
    const options = { ks: [k], svd: 'randomized' as const, seed };
    const batch = perSampleBatchSize(executor, options);
    for (let from = 0; from < samples.length; from += batch) {
      const results = await scorePerSample(executor, samples.slice(from, from + batch), options);
      results.forEach((result, b) => {
        const rpr = result.rpr?.[String(k)];
        if (rpr === undefined || result.logits === null) return;
        points.push({ rpr, dice: dice(result.logits, test[from + b]!.mask) });
      });
    }
  } finally {
    executor.dispose();
  }
  return {
    trainImages: train.length,
    epochs,
    k,
    svd: 'randomized',
    outputs: 28 * 28,
    meanDice: points.reduce((a, p) => a + p.dice, 0) / Math.max(1, points.length),
    correlation: spearman(
      points.map((p) => p.rpr),
      points.map((p) => p.dice),
    ),
    points,
    trainSeconds,
    scoreSeconds: (Date.now() - start) / 1000,
  };
}
