/**
 * Trains the embedded demo model, models/mnist-cnn/, on the `train` part of the project's fixed MNIST
 * split, and records in metadata.json its accuracy on the `test` part, measured on the saved files.
 * Deterministic: trained on the wasm backend from fixed seeds, a rerun writes the same weights.
 * Run after `npm run build`:
 *
 *   node dist/scripts/train-demo-model.js [output-dir]
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitCodeFor } from '../src/errors/index.js';
import { initBackend } from '../src/model/tf-runtime.js';
import { loadLayersModelFromDir, saveLayersModelToDir } from '../src/model/tfjs-file-io.js';
import {
  DEFAULT_ARCHITECTURE,
  DEFAULT_TRAINING,
  classifierAccuracy,
  describeArchitecture,
  trainDigitClassifier,
} from '../src/model/train-classifier.js';
import { mnistPart } from '../src/pool/mnist-digits.js';

// Pinned rather than 'auto', so the committed weights do not depend on whether tfjs-node is installed.
const BACKEND = 'wasm';

async function main(): Promise<void> {
  // From dist/scripts/ back to the repository root.
  const outDir = resolve(process.argv[2] ?? fileURLToPath(new URL('../../models/mnist-cnn', import.meta.url)));
  await initBackend(BACKEND);
  const train = mnistPart('train');
  const test = mnistPart('test');
  const { epochs, seed, batchSize, learningRate, maxShiftPixels } = DEFAULT_TRAINING;
  process.stderr.write(`training on ${train.length} digits: ${epochs} epochs, seed ${seed}, ${BACKEND} backend\n`);
  const trained = await trainDigitClassifier(train, {
    backend: BACKEND,
    onEpoch: (r) =>
      process.stderr.write(
        `epoch ${r.epoch}/${r.epochs}: loss ${r.loss.toFixed(4)}, train accuracy ${r.accuracy.toFixed(4)}\n`,
      ),
  });
  await saveLayersModelToDir(trained, outDir);

  const saved = await loadLayersModelFromDir(outDir);
  const heldOutAccuracy = classifierAccuracy(saved, test);
  process.stderr.write(
    `held-out accuracy of the saved model on ${test.length} test digits: ${heldOutAccuracy.toFixed(4)}\n`,
  );
  const [height, width, channels] = DEFAULT_ARCHITECTURE.inputShape;
  const metadata = {
    heldOutAccuracy,
    testImages: test.length,
    trainImages: train.length,
    epochs,
    seed,
    architecture: describeArchitecture(),
    classNames: Array.from({ length: DEFAULT_ARCHITECTURE.numClasses }, (_, i) => String(i)),
    input: { height, width, channels, scale: 1 / 255 },
    training: { optimizer: 'adam', learningRate, batchSize, maxShiftPixels, split: 'mnistPart("train")' },
    trainedWith: `tfjs-layers 4.22 ${BACKEND} backend`,
    createdBy: 'scripts/train-demo-model.ts',
  };
  await writeFile(join(outDir, 'metadata.json'), `${JSON.stringify(metadata, null, 2)}\n`);
  process.stderr.write(`wrote ${outDir}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`train-demo-model: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = exitCodeFor(error);
});
