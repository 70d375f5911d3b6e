import { RprError } from '../errors/index.js';
import { mnistPart } from '../pool/mnist-digits.js';
import { initBackend, tf } from './tf-runtime.js';
import {
  buildDigitClassifier,
  classifierAccuracy,
  describeArchitecture,
  trainDigitClassifier,
  translateImage,
  type EpochReport,
  type LabeledImage,
} from './train-classifier.js';

const NARROW = { convFilters: [4, 8], denseUnits: 16 } as const;
const digits = mnistPart('train');

beforeAll(async () => {
  await initBackend('wasm');
});

function weightsOf(model: { getWeights(): tf.Tensor[] }): number[][] {
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}

function trainingError(run: () => Promise<unknown>): Promise<RprError> {
  return run().then(
    () => {
      throw new Error('expected an RprError');
    },
    (e: unknown) => {
      expect(e).toBeInstanceOf(RprError);
      return e as RprError;
    },
  );
}

describe('buildDigitClassifier', () => {
  it('has the documented layers with the requested widths', () => {
    const model = buildDigitClassifier({ convFilters: [5, 6], denseUnits: 7 });
    expect(model.getWeights().map((w) => w.shape)).toEqual([
      [3, 3, 1, 5],
      [5],
      [3, 3, 5, 6],
      [6],
      [7 * 7 * 6, 7],
      [7],
      [7, 10],
      [10],
    ]);
    expect(model.outputs[0]!.shape).toEqual([null, 10]);
    expect(describeArchitecture()).toBe(
      'Input 28x28x1 -> Conv2D 16 3x3 same relu -> MaxPooling2D 2 -> Conv2D 32 3x3 same relu -> ' +
        'MaxPooling2D 2 -> Flatten -> Dense 64 relu -> Dense 10 softmax',
    );
  });

  it('draws the same weights from the same seed and different ones from another', () => {
    const a = weightsOf(buildDigitClassifier(NARROW, 11));
    expect(weightsOf(buildDigitClassifier(NARROW, 11))).toEqual(a);
    expect(weightsOf(buildDigitClassifier(NARROW, 12))[0]).not.toEqual(a[0]);
  });
});

describe('translateImage', () => {
  it('moves every pixel by (dy, dx) and fills with zeros, for every shift up to past the edges', () => {
    const [h, w, c] = [3, 4, 2];
    const pixels = Float32Array.from({ length: h * w * c }, (_, i) => i + 1);
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -5; dx <= 5; dx++) {
        const out = translateImage(pixels, [h, w, c], dy, dx);
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            for (let k = 0; k < c; k++) {
              const [sy, sx] = [y - dy, x - dx];
              const inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
              expect(out[(y * w + x) * c + k]).toBe(inside ? pixels[(sy * w + sx) * c + k] : 0);
            }
          }
        }
      }
    }
  });
});

describe('trainDigitClassifier', () => {
  it('gets the loss gradient on wasm that cpu gets (added filter kernel, ReLU before pooling)', async () => {
    const batch = digits.slice(0, 8);
    const gradients = async (backend: 'wasm' | 'cpu'): Promise<number[][]> => {
      await initBackend(backend);
      const model = buildDigitClassifier(NARROW, 3);
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      return tf.tidy(() => {
        const x = tf.tensor4d(
          batch.flatMap((d) => Array.from(d.pixels)),
          [batch.length, 28, 28, 1],
        );
        const y = tf.oneHot(
          tf.tensor1d(
            batch.map((d) => d.label),
            'int32',
          ),
          10,
        );
        const loss = () =>
          tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(model.predict(x) as tf.Tensor)), 1))) as tf.Scalar;
        const { grads } = tf.variableGrads(loss, variables);
        return variables.map((v) => Array.from(grads[v.name]!.dataSync()));
      });
    };
    const onCpu = await gradients('cpu');
    const onWasm = await gradients('wasm');
    onCpu.forEach((reference, i) => {
      const scale = Math.max(...reference.map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      onWasm[i]!.forEach((v, j) => expect(Math.abs(v - reference[j]!)).toBeLessThanOrEqual(1e-4 * scale));
    });
  });

  it('is reproducible from its seed', async () => {
    const subset = digits.slice(0, 96);
    const options = { epochs: 1, batchSize: 32, seed: 7, architecture: NARROW };
    const first = weightsOf(await trainDigitClassifier(subset, options));
    expect(weightsOf(await trainDigitClassifier(subset, options))).toEqual(first);
    expect(weightsOf(await trainDigitClassifier(subset, { ...options, seed: 8 }))[0]).not.toEqual(first[0]);
  });

  it('learns: the loss falls and the accuracy beats chance, counted independently', async () => {
    const subset = digits.slice(0, 400);
    const reports: EpochReport[] = [];
    const model = await trainDigitClassifier(subset, {
      epochs: 3,
      batchSize: 32,
      learningRate: 0.005,
      architecture: NARROW,
      onEpoch: (report) => reports.push(report),
    });
    expect(reports.map((r) => r.epoch)).toEqual([1, 2, 3]);
    expect(reports[2]!.loss).toBeLessThan(reports[0]!.loss);

    const heldOut = mnistPart('test').slice(0, 300);
    const probabilities = tf.tidy(() => {
      const x = tf.tensor4d(
        heldOut.flatMap((d) => Array.from(d.pixels)),
        [heldOut.length, 28, 28, 1],
      );
      return (model.predict(x) as tf.Tensor).arraySync() as number[][];
    });
    const correct = heldOut.filter((d, i) => {
      const row = probabilities[i]!;
      return row.indexOf(Math.max(...row)) === d.label;
    }).length;
    expect(correct / heldOut.length).toBeGreaterThan(0.5);
    expect(classifierAccuracy(model, heldOut, 64)).toBeCloseTo(correct / heldOut.length, 10);
  });

  it("trains on the requested backend and gives the caller's backend back", async () => {
    await initBackend('cpu');
    const model = await trainDigitClassifier(digits.slice(0, 32), { epochs: 1, architecture: NARROW, backend: 'wasm' });
    expect(tf.getBackend()).toBe('cpu');
    expect(classifierAccuracy(model, digits.slice(0, 32))).toBeGreaterThanOrEqual(0);
    await initBackend('wasm');
  });

  it('names the image with the wrong size or label, and refuses an empty set', async () => {
    const good = digits[0]!;
    const wrongSize: LabeledImage[] = [good, { pixels: new Float32Array(100), label: 1 }];
    const size = await trainingError(() => trainDigitClassifier(wrongSize, { epochs: 1 }));
    expect(size.code).toBe('RPR_INPUT_SHAPE');
    expect(size.message).toContain('image 1');

    const badLabel: LabeledImage[] = [{ pixels: good.pixels, label: 10 }];
    expect((await trainingError(() => trainDigitClassifier(badLabel, { epochs: 1 }))).message).toContain('label 10');

    expect((await trainingError(() => trainDigitClassifier([], { epochs: 1 }))).code).toBe('RPR_USAGE');

    const badOption = await trainingError(() => trainDigitClassifier([good], { epochs: 1, maxShiftPixels: 1.5 }));
    expect(badOption.code).toBe('RPR_USAGE');
    expect(badOption.message).toContain('maxShiftPixels is 1.5');
  });
});
