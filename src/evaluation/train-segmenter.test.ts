import { TfjsExecutor } from '../model/executors/tfjs/tfjs-executor.js';
import { layersModelToIR } from '../model/frontends/layers-model-frontend.js';
import { initBackend, tf } from '../model/tf-runtime.js';
import { mnistPart } from '../pool/index.js';
import { createRng } from '../util/rng.js';
import { clutteredSet } from './cluttered-digits.js';
import { buildSegmenter, trainSegmenter } from './train-segmenter.js';

describe('the evaluation segmenter', () => {
  const images = clutteredSet(mnistPart('train').slice(0, 48), createRng(2));

  it('linearizes: the IR executor outputs the logits whose sigmoid TF.js predicts, one per pixel', async () => {
    const backend = await initBackend('wasm');
    const model = buildSegmenter(3);
    const executor = new TfjsExecutor(layersModelToIR(model), backend);
    const x = new Float32Array(2 * 784);
    x.set(images[0]!.pixels, 0);
    x.set(images[1]!.pixels, 784);
    const logits = await executor.forward(x, 2);
    const probabilities = tf.tidy(() => (model.predict(tf.tensor4d(x, [2, 28, 28, 1])) as tf.Tensor).dataSync());
    expect(logits).toHaveLength(2 * 784);
    for (let i = 0; i < logits.length; i++) expect(1 / (1 + Math.exp(-logits[i]!))).toBeCloseTo(probabilities[i]!, 5);
    executor.dispose();
    model.dispose();
  });

  it('trains reproducibly from the seed and lowers the loss', async () => {
    const losses: number[] = [];
    const a = await trainSegmenter(images, { epochs: 2, seed: 5, onEpoch: (_, loss) => losses.push(loss) });
    const b = await trainSegmenter(images, { epochs: 2, seed: 5 });
    const wa = a.getWeights().map((w) => Array.from(w.dataSync()));
    const wb = b.getWeights().map((w) => Array.from(w.dataSync()));
    expect(wa).toEqual(wb);
    expect(losses[1]!).toBeLessThan(losses[0]!);
    a.dispose();
    b.dispose();
  });

  it('refuses an empty training set and a bad epoch count', async () => {
    await expect(trainSegmenter([])).rejects.toMatchObject({ code: 'RPR_USAGE' });
    await expect(trainSegmenter(images, { epochs: 0 })).rejects.toMatchObject({ code: 'RPR_USAGE' });
  });
});
