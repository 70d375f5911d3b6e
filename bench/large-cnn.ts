/**
 * The benchmark's larger CNN: 64×64×3 input, about 1M parameters, seeded Glorot weights (untrained: the
 * benchmark measures cost, not accuracy), saved as a TF.js LayersModel like any user model.
 */
import { saveLayersModelToDir } from '../src/model/tfjs-file-io.js';
import { initBackend, tfl } from '../src/model/tf-runtime.js';

export const LARGE_CNN_NAME = 'cnn-64x64x3';

export function buildLargeCnn(seed = 7): tfl.Sequential {
  const init = (offset: number) => tfl.initializers.glorotUniform({ seed: seed * 16 + offset });
  const conv = (name: string, filters: number, offset: number, inputShape?: number[]) =>
    tfl.layers.conv2d({
      name,
      filters,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(offset),
      biasInitializer: 'zeros',
      ...(inputShape ? { inputShape } : {}),
    });
  return tfl.sequential({
    name: 'large_cnn',
    layers: [
      conv('conv1', 32, 1, [64, 64, 3]),
      tfl.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }),
      conv('conv2', 64, 2),
      tfl.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }),
      conv('conv3', 128, 3),
      tfl.layers.maxPooling2d({ name: 'pool3', poolSize: 2 }),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dense({ name: 'dense1', units: 112, activation: 'relu', kernelInitializer: init(4) }),
      tfl.layers.dense({ name: 'logits', units: 10, activation: 'softmax', kernelInitializer: init(5) }),
    ],
  });
}

/** Builds, saves to `dir` and returns the parameter count. */
export async function saveLargeCnn(dir: string): Promise<number> {
  await initBackend('wasm');
  const model = buildLargeCnn();
  try {
    await saveLayersModelToDir(model, dir);
    return model.countParams();
  } finally {
    model.dispose();
  }
}
