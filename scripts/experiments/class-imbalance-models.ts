/**
 * What the class-imbalance experiment and its acceptance test share: cutting one digit of the training
 * digits down to a few percent of its share, and training a digit classifier then scoring labeled test
 * digits with the class-imbalance records (RPR_k, LPR_k, every label's LPR curve).
 */
import { classImbalanceRecords } from '../../src/diagnostics/class-imbalance-records.js';
import type { EvalRecord } from '../../src/diagnostics/class-imbalance.js';
import { RprError } from '../../src/errors/index.js';
import { perSampleBatchSize } from '../../src/metrics/index.js';
import { initBackend, layersModelToIR, TfjsExecutor } from '../../src/model/index.js';
import {
  classifierAccuracy,
  trainDigitClassifier,
  type ClassifierArchitecture,
  type LabeledImage,
} from '../../src/model/train-classifier.js';
import type { Digit } from '../../src/pool/index.js';

/** Training is pinned to wasm: each backend gives reproducible weights, but not the same ones. */
const BACKEND = 'wasm';

export interface TrainAndScoreOptions {
  readonly seed: number;
  readonly epochs: number;
  readonly architecture?: Partial<ClassifierArchitecture>;
  readonly learningRate?: number;
  /** RPR_k / LPR_k ranks of the records. */
  readonly ks: readonly number[];
  readonly numClasses?: number;
}

export interface TrainedAndScored {
  readonly records: EvalRecord[];
  /** Held-out accuracy on all evaluation digits. */
  readonly accuracy: number;
  /** Held-out accuracy on the evaluation digits of each class (index = class). */
  readonly classAccuracy: readonly number[];
}

/**
 * The training digits with `digit` cut to `share` of its count: its first round(share·count) images (at
 * least one) in the fixed order are kept, every other digit untouched.
 */
export function cutDigit(train: readonly Digit[], digit: number, share: number): Digit[] {
  if (!(share > 0 && share <= 1)) throw new RprError('RPR_USAGE', `--share must be in (0, 1], got ${share}`);
  const ofDigit = train.filter((d) => d.label === digit);
  if (ofDigit.length === 0) throw new RprError('RPR_USAGE', `the training digits hold no ${digit}; choose --digit in 0…9`);
  const kept = new Set(ofDigit.slice(0, Math.max(1, Math.round(share * ofDigit.length))));
  return train.filter((d) => d.label !== digit || kept.has(d));
}

/** Trains a classifier on `train` (wasm, seeded) and scores `evalDigits` for the class-imbalance analysis. */
export async function trainAndScore(
  train: readonly LabeledImage[],
  evalDigits: readonly Digit[],
  options: TrainAndScoreOptions,
): Promise<TrainedAndScored> {
  const model = await trainDigitClassifier(train, {
    seed: options.seed,
    epochs: options.epochs,
    backend: BACKEND,
    ...(options.architecture ? { architecture: options.architecture } : {}),
    ...(options.learningRate !== undefined ? { learningRate: options.learningRate } : {}),
  });
  const executor = new TfjsExecutor(layersModelToIR(model), await initBackend(BACKEND));
  try {
    const numClasses = options.numClasses ?? 10;
    const classAccuracy = Array.from({ length: numClasses }, (_, c) =>
      classifierAccuracy(
        model,
        evalDigits.filter((d) => d.label === c),
      ),
    );
    const accuracy = classifierAccuracy(model, evalDigits);
    const samples = evalDigits.map((d) => ({ id: `mnist-${d.index}`, uri: `mnist:${d.index}`, pixels: d.pixels }));
    const records: EvalRecord[] = [];
    const batch = perSampleBatchSize(executor);
    for (let i = 0; i < samples.length; i += batch) {
      const part = await classImbalanceRecords(
        executor,
        samples.slice(i, i + batch),
        evalDigits.slice(i, i + batch).map((d) => d.label),
        { ks: options.ks },
      );
      records.push(...part.records);
    }
    return { records, accuracy, classAccuracy };
  } finally {
    executor.dispose();
    model.dispose();
  }
}
