/**
 * The evaluation's segmentation network, a small encoder–decoder (28×28×1 → 28×28×1 logits), and its
 * seeded training: seeded initializers, a seeded shuffle per epoch, TF.js's own shuffle off.
 */
import { errors } from '../errors/index.js';
import { initBackend, tf, tfl, type BackendChoice } from '../model/tf-runtime.js';
import { createRng, shuffleInPlace } from '../util/rng.js';
import type { SegmentationImage } from './cluttered-digits.js';

const SIDE = 28;

export interface TrainSegmenterOptions {
  /** @defaultValue 8 */
  readonly epochs?: number;
  /** @defaultValue 1 */
  readonly seed?: number;
  /** @defaultValue 32 */
  readonly batchSize?: number;
  /** @defaultValue 0.003 */
  readonly learningRate?: number;
  /**
   * @defaultValue 'wasm' (sound here: every max-pool follows a ReLU, see trainDigitClassifier on wasm's
   * MaxPoolGrad)
   */
  readonly backend?: BackendChoice;
  readonly onEpoch?: (epoch: number, loss: number) => void;
}

/** Conv 8 → pool → conv 16 → upsample → conv 8 → 1×1 conv to one logit per pixel (sigmoid in training). */
export function buildSegmenter(seed: number): tfl.Sequential {
  const init = (offset: number) => tfl.initializers.glorotUniform({ seed: seed * 16 + offset });
  const conv = (name: string, filters: number, kernelSize: number, activation: 'relu' | 'sigmoid', offset: number) =>
    tfl.layers.conv2d({ name, filters, kernelSize, padding: 'same', activation, kernelInitializer: init(offset) });
  return tfl.sequential({
    name: 'digit_segmenter',
    layers: [
      tfl.layers.conv2d({
        name: 'enc1',
        inputShape: [SIDE, SIDE, 1],
        filters: 8,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: init(1),
      }),
      tfl.layers.maxPooling2d({ name: 'down', poolSize: 2 }),
      conv('enc2', 16, 3, 'relu', 2),
      tfl.layers.upSampling2d({ name: 'up', size: [2, 2] }),
      conv('dec1', 8, 3, 'relu', 3),
      conv('mask', 1, 1, 'sigmoid', 4),
    ],
  });
}

function stack(images: readonly SegmentationImage[], order: readonly number[], field: 'pixels' | 'mask'): tf.Tensor4D {
  const data = new Float32Array(order.length * SIDE * SIDE);
  order.forEach((index, i) => data.set(images[index]![field], i * SIDE * SIDE));
  return tf.tensor4d(data, [order.length, SIDE, SIDE, 1]);
}

export async function trainSegmenter(images: readonly SegmentationImage[], options: TrainSegmenterOptions = {}): Promise<tfl.Sequential> {
  const { epochs = 8, seed = 1, batchSize = 32, learningRate = 0.003 } = options;
  if (images.length === 0) throw errors.usage('cannot train a segmenter on zero images');
  if (!Number.isInteger(epochs) || epochs < 1) throw errors.usage(`segmenter epochs is ${epochs}; it must be an integer ≥ 1`);
  await initBackend(options.backend ?? 'wasm');
  const model = buildSegmenter(seed);
  model.compile({ optimizer: tf.train.adam(learningRate), loss: 'binaryCrossentropy' });
  const rng = createRng(seed);
  const order = images.map((_, i) => i);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    shuffleInPlace(order, rng);
    const x = stack(images, order, 'pixels');
    const y = stack(images, order, 'mask');
    try {
      const history = await model.fit(x, y, { epochs: 1, batchSize, shuffle: false, verbose: 0 });
      options.onEpoch?.(epoch, Number(history.history['loss']![0]));
    } finally {
      tf.dispose([x, y]);
    }
  }
  return model;
}
