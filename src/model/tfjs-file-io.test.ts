import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RprError } from '../errors/index.js';
import { mnistPart } from '../pool/mnist-digits.js';
import { initBackend, tf, tfl } from './tf-runtime.js';
import {
  loadGraphModelFromDir,
  loadLayersModelFromDir,
  modelFileDigest,
  readModelJson,
  saveLayersModelToDir,
} from './tfjs-file-io.js';
import { rprRejection } from '../../test/helpers/rpr-rejection.js';

const DEMO_MODEL = fileURLToPath(new URL('../../models/mnist-cnn', import.meta.url));

let scratch: string;

beforeAll(async () => {
  await initBackend('wasm');
  scratch = await mkdtemp(join(tmpdir(), 'rpr-tfjs-file-io-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

let dirCount = 0;
function freshDir(): string {
  return join(scratch, `case-${++dirCount}`);
}

/** A small conv net with every weight (biases too) drawn from fixed seeds. */
function smallModel(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [5, 5, 2],
        filters: 3,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }),
        biasInitializer: tfl.initializers.randomNormal({ seed: 4 }),
      }),
      tfl.layers.flatten(),
      tfl.layers.dense({
        units: 4,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }),
        biasInitializer: tfl.initializers.randomNormal({ seed: 6 }),
      }),
    ],
  });
}

const probeInput = () => tf.tensor4d(Array.from({ length: 3 * 5 * 5 * 2 }, (_, i) => Math.sin(i)), [3, 5, 5, 2]);

function predict(model: tfl.LayersModel): Float32Array {
  return tf.tidy(() => (model.predict(probeInput()) as tf.Tensor).dataSync() as Float32Array);
}

async function savedSmallModel(): Promise<{ dir: string; model: tfl.Sequential }> {
  const dir = freshDir();
  const model = smallModel();
  await saveLayersModelToDir(model, dir);
  return { dir, model };
}

async function failure(promise: Promise<unknown>): Promise<RprError> {
  const error = await rprRejection(promise);
  expect(error.message).not.toContain('\n');
  return error;
}

/** The parts of a saved layers model.json (or a graph model.json, for `format`) the tests edit. */
interface EditableModelJson {
  format?: string;
  weightsManifest: { paths: string[]; weights: { shape: unknown }[] }[];
  modelTopology: { config: { layers: { class_name: string }[] } };
}

async function editJson(path: string, edit: (json: EditableModelJson) => void): Promise<void> {
  const json = JSON.parse(await readFile(path, 'utf8')) as EditableModelJson;
  edit(json);
  await writeFile(path, JSON.stringify(json));
}

describe('saveLayersModelToDir / loadLayersModelFromDir', () => {
  it('round-trips a model: same weights, same predictions, from the directory or its model.json', async () => {
    const { dir, model } = await savedSmallModel();
    expect((await readdir(dir)).sort()).toEqual(['model.json', 'weights.bin']);
    // Every parameter is one float32 in the single shard.
    expect((await readFile(join(dir, 'weights.bin'))).byteLength).toBe(model.countParams() * 4);

    for (const path of [dir, join(dir, 'model.json')]) {
      const loaded = await loadLayersModelFromDir(path);
      expect(Array.from(predict(loaded))).toEqual(Array.from(predict(model)));
      const saved = model.getWeights().map((w) => Array.from(w.dataSync()));
      expect(loaded.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(saved);
    }
  });

  it('replaces an existing model in place and leaves no temporary files', async () => {
    const { dir } = await savedSmallModel();
    const other = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [2], units: 1, kernelInitializer: 'ones', biasInitializer: 'ones' })],
    });
    await saveLayersModelToDir(other, dir);
    expect((await readdir(dir)).sort()).toEqual(['model.json', 'weights.bin']);
    const loaded = await loadLayersModelFromDir(dir);
    const y = tf.tidy(() => (loaded.predict(tf.tensor2d([[2, 3]])) as tf.Tensor).dataSync()[0]);
    expect(y).toBe(2 + 3 + 1);
  });

  it('loads weights split over several shards, in manifest order', async () => {
    const { dir, model } = await savedSmallModel();
    const bytes = await readFile(join(dir, 'weights.bin'));
    const cut = 52; // inside the first kernel, so a wrong order or gap changes the weights
    await writeFile(join(dir, 'part-b.bin'), bytes.subarray(cut));
    await writeFile(join(dir, 'part-a.bin'), bytes.subarray(0, cut));
    await rm(join(dir, 'weights.bin'));
    await editJson(join(dir, 'model.json'), (json) => {
      json.weightsManifest[0]!.paths = ['part-a.bin', 'part-b.bin'];
    });
    const loaded = await loadLayersModelFromDir(dir);
    expect(Array.from(predict(loaded))).toEqual(Array.from(predict(model)));
  });
});

describe('bad model files', () => {
  it('a missing directory or a directory without model.json is RPR_MODEL_NOT_FOUND naming the path', async () => {
    const missing = join(scratch, 'no-such-model');
    const error = await failure(loadLayersModelFromDir(missing));
    expect(error.code).toBe('RPR_MODEL_NOT_FOUND');
    expect(error.message).toContain(missing);

    const empty = freshDir();
    await mkdir(empty);
    const noJson = await failure(readModelJson(empty));
    expect(noJson.code).toBe('RPR_MODEL_NOT_FOUND');
    expect(noJson.message).toContain('model.json');
  });

  it('a missing weight shard is RPR_MODEL_INVALID naming the shard', async () => {
    const { dir } = await savedSmallModel();
    await rm(join(dir, 'weights.bin'));
    const error = await failure(loadLayersModelFromDir(dir));
    expect(error.code).toBe('RPR_MODEL_INVALID');
    expect(error.message).toContain('weights.bin');
    expect(error.context['shard']).toBe('weights.bin');
  });

  it('a truncated weight shard is RPR_MODEL_INVALID naming the shard', async () => {
    const { dir } = await savedSmallModel();
    const bytes = await readFile(join(dir, 'weights.bin'));
    await writeFile(join(dir, 'weights.bin'), bytes.subarray(0, bytes.byteLength - 4));
    const error = await failure(loadLayersModelFromDir(dir));
    expect(error.code).toBe('RPR_MODEL_INVALID');
    expect(error.message).toContain('weights.bin');
    expect(error.message).toContain(String(bytes.byteLength));
  });

  it('JSON that is not a TF.js model, or not JSON at all, is RPR_MODEL_INVALID naming the file', async () => {
    const dir = freshDir();
    await mkdir(dir);
    const file = join(dir, 'model.json');
    for (const text of ['{"name": "some-package", "version": "1.0.0"}', '[1, 2, 3]', '{"modelTopology": {', '']) {
      await writeFile(file, text);
      const error = await failure(loadLayersModelFromDir(file));
      expect(error.code).toBe('RPR_MODEL_INVALID');
      expect(error.message).toContain(file);
    }
  });

  it('a malformed weightsManifest names the field', async () => {
    const { dir } = await savedSmallModel();
    await editJson(join(dir, 'model.json'), (json) => {
      json.weightsManifest[0]!.weights[1]!.shape = 'three';
    });
    const error = await failure(readModelJson(dir));
    expect(error.code).toBe('RPR_MODEL_INVALID');
    expect(error.message).toContain('weightsManifest[0].weights[1].shape');
  });

  it('a layer class TF.js does not know is RPR_UNSUPPORTED_LAYER naming the class', async () => {
    const { dir } = await savedSmallModel();
    await editJson(join(dir, 'model.json'), (json) => {
      json.modelTopology.config.layers[1]!.class_name = 'FancyFlatten';
    });
    const error = await failure(loadLayersModelFromDir(dir));
    expect(error.code).toBe('RPR_UNSUPPORTED_LAYER');
    expect(error.message).toContain('FancyFlatten');
  });
});

/** A TensorFlow graph y = x·W, written by hand in the GraphDef JSON a converted model holds. */
async function writeMatMulGraph(dir: string, weights: number[]): Promise<void> {
  const float = { type: 'DT_FLOAT' };
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'hand',
    convertedBy: null,
    modelTopology: {
      node: [
        {
          name: 'x',
          op: 'Placeholder',
          attr: { dtype: float, shape: { shape: { dim: [{ size: '-1' }, { size: '3' }] } } },
        },
        {
          name: 'w',
          op: 'Const',
          attr: {
            dtype: float,
            value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '3' }, { size: '2' }] } } },
          },
        },
        {
          name: 'y',
          op: 'MatMul',
          input: ['x', 'w'],
          attr: { T: float, transpose_a: { b: false }, transpose_b: { b: false } },
        },
      ],
      library: {},
      versions: { producer: 1 },
    },
    weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'w', shape: [3, 2], dtype: 'float32' }] }],
  };
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.json'), JSON.stringify(modelJson));
  await writeFile(join(dir, 'w.bin'), new Uint8Array(Float32Array.from(weights).buffer));
}

describe('graph models', () => {
  it('reads the format and runs the graph: y = x·W', async () => {
    const dir = freshDir();
    const w = [1, 2, 3, 4, 5, 6]; // rows [1,2], [3,4], [5,6]
    await writeMatMulGraph(dir, w);
    expect((await readModelJson(dir)).format).toBe('graph-model');

    const model = await loadGraphModelFromDir(dir);
    const y = tf.tidy(() => (model.predict(tf.tensor2d([[1, 0, -1], [0.5, 1, 2]])) as tf.Tensor).arraySync());
    expect(y).toEqual([
      [1 - 5, 2 - 6],
      [0.5 + 3 + 10, 1 + 4 + 12],
    ]);
  });

  it('tells the format from the topology when the format field is absent', async () => {
    const graphDir = freshDir();
    await writeMatMulGraph(graphDir, [0, 0, 0, 0, 0, 0]);
    await editJson(join(graphDir, 'model.json'), (json) => delete json.format);
    expect((await readModelJson(graphDir)).format).toBe('graph-model');

    const { dir } = await savedSmallModel();
    await editJson(join(dir, 'model.json'), (json) => delete json.format);
    expect((await readModelJson(dir)).format).toBe('layers-model');
  });

  it('refuses to load one format as the other, naming the right loader', async () => {
    const graphDir = freshDir();
    await writeMatMulGraph(graphDir, [0, 0, 0, 0, 0, 0]);
    const asLayers = await failure(loadLayersModelFromDir(graphDir));
    expect(asLayers.code).toBe('RPR_MODEL_INVALID');
    expect(asLayers.message).toContain('loadGraphModelFromDir');

    const { dir } = await savedSmallModel();
    const asGraph = await failure(loadGraphModelFromDir(dir));
    expect(asGraph.message).toContain('loadLayersModelFromDir');
  });
});

describe('modelFileDigest', () => {
  it('is the sha256 of model.json followed by the shards, and changes with one weight byte', async () => {
    const { dir } = await savedSmallModel();
    const json = await readFile(join(dir, 'model.json'));
    const weights = await readFile(join(dir, 'weights.bin'));
    const expected = createHash('sha256').update(Buffer.concat([json, weights])).digest('hex');
    expect(await modelFileDigest(dir)).toBe(expected);

    weights[weights.byteLength - 1] ^= 1;
    await writeFile(join(dir, 'weights.bin'), weights);
    expect(await modelFileDigest(join(dir, 'model.json'))).not.toBe(expected);
  });
});

describe('the committed demo model, models/mnist-cnn', () => {
  it('loads and its accuracy on the held-out test digits matches metadata.json', async () => {
    const metadata = JSON.parse(await readFile(join(DEMO_MODEL, 'metadata.json'), 'utf8')) as {
      heldOutAccuracy: number;
      testImages: number;
      classNames: string[];
      input: { height: number; width: number; channels: number };
    };
    const model = await loadLayersModelFromDir(DEMO_MODEL);
    const { height, width, channels } = metadata.input;
    expect(model.inputs[0]!.shape).toEqual([null, height, width, channels]);
    expect(model.outputs[0]!.shape).toEqual([null, metadata.classNames.length]);

    const test = mnistPart('test');
    expect(test.length).toBe(metadata.testImages);
    let correct = 0;
    for (let start = 0; start < test.length; start += 500) {
      const batch = test.slice(start, start + 500);
      const probabilities = tf.tidy(() => {
        const x = tf.tensor4d(
          batch.flatMap((d) => Array.from(d.pixels)),
          [batch.length, 28, 28, 1],
        );
        return (model.predict(x) as tf.Tensor).dataSync();
      });
      batch.forEach((digit, i) => {
        const row = Array.from(probabilities.subarray(i * 10, i * 10 + 10));
        if (row.indexOf(Math.max(...row)) === digit.label) correct++;
      });
    }
    const accuracy = correct / test.length;
    expect(accuracy).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(accuracy - metadata.heldOutAccuracy)).toBeLessThanOrEqual(0.002);
  });
});
