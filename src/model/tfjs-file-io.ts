/**
 * TF.js models on disk (a `model.json` beside its weight shards) without tfjs-node: files are read
 * with node:fs and handed to TF.js through an in-memory IOHandler, so loading works on every backend.
 * Every bad input becomes an RprError naming the file: a missing model is RPR_MODEL_NOT_FOUND; a file
 * that is not a TF.js model, or whose weight shards are missing or short, is RPR_MODEL_INVALID.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { RprError } from '../errors/index.js';
import { tf, tfconv, tfl } from './tf-runtime.js';

export type ModelFormat = 'layers-model' | 'graph-model';

/** A parsed, structurally checked model.json. */
export interface ModelJsonFile {
  /** Absolute path of model.json. */
  readonly path: string;
  /** Its directory: weight shard paths are relative to it. */
  readonly dir: string;
  readonly json: tf.io.ModelJSON;
  readonly format: ModelFormat;
}

/** File names `saveLayersModelToDir` writes; weight paths in a manifest are relative to model.json. */
const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

const FORMATS: readonly ModelFormat[] = ['layers-model', 'graph-model'];

const weightEntrySchema = z.looseObject({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.enum(['float32', 'int32', 'bool', 'string', 'complex64']),
  quantization: z.looseObject({ dtype: z.enum(['uint8', 'uint16', 'float16']) }).optional(),
});

const modelJsonSchema = z.looseObject({
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z
    .array(z.looseObject({ paths: z.array(z.string().min(1)), weights: z.array(weightEntrySchema) }))
    .default([]),
  format: z.string().optional(),
});

type WeightEntry = z.infer<typeof weightEntrySchema>;

const BYTES_PER_VALUE: Record<Exclude<WeightEntry['dtype'], 'string'>, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
};
const BYTES_PER_QUANTIZED_VALUE: Record<NonNullable<WeightEntry['quantization']>['dtype'], number> = {
  uint8: 1,
  uint16: 2,
  float16: 2,
};

function invalid(path: string, why: string): RprError {
  return new RprError('RPR_MODEL_INVALID', `model '${path}' ${why}`, { path });
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n', 1)[0]!.trim();
}

/** The model.json a path names: the file itself, or `model.json` inside a directory. */
async function resolveModelJsonPath(pathOrDir: string): Promise<string> {
  const given = resolve(pathOrDir);
  const info = await stat(given).catch(() => null);
  if (info === null) {
    throw new RprError(
      'RPR_MODEL_NOT_FOUND',
      `model path '${given}' does not exist; give a TF.js model directory or its model.json`,
      { path: given },
    );
  }
  if (!info.isDirectory()) return given;
  const file = join(given, MODEL_JSON);
  if ((await stat(file).catch(() => null))?.isFile() !== true) {
    throw new RprError(
      'RPR_MODEL_NOT_FOUND',
      `model directory '${given}' has no ${MODEL_JSON}; give a TF.js model directory or its model.json`,
      { path: given },
    );
  }
  return file;
}

function detectFormat(path: string, json: z.infer<typeof modelJsonSchema>): ModelFormat {
  if (json.format !== undefined) {
    if ((FORMATS as readonly string[]).includes(json.format)) return json.format as ModelFormat;
    throw invalid(path, `has format '${json.format}'; expected one of ${FORMATS.join(', ')}`);
  }
  // Files written before the `format` field existed: tell them apart by the topology's shape.
  const topology = json.modelTopology;
  if (Array.isArray(topology['node'])) return 'graph-model';
  if (typeof topology['class_name'] === 'string' || typeof topology['model_config'] === 'object') {
    return 'layers-model';
  }
  throw invalid(path, 'has a modelTopology that is neither a Keras layers topology nor a TensorFlow graph');
}

async function readModelJsonBytes(pathOrDir: string): Promise<{ file: ModelJsonFile; bytes: Buffer }> {
  const path = await resolveModelJsonPath(pathOrDir);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw invalid(path, `cannot be read: ${firstLine(error)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw invalid(path, `is not valid JSON (${firstLine(error)}); a TF.js model.json was expected`);
  }
  const parsed = modelJsonSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    throw issue.path[0] === 'modelTopology' || issue.path.length === 0
      ? invalid(path, 'is not a TF.js model: a model.json has a modelTopology object and a weightsManifest list')
      : invalid(path, `has an invalid field ${field.replace(/^\./, '')}: ${issue.message}`);
  }
  const format = detectFormat(path, parsed.data);
  const json = parsed.data as unknown as tf.io.ModelJSON;
  return { file: { path, dir: dirname(path), json, format }, bytes };
}

/**
 * Reads and checks a model.json (a directory holding one, or the file itself) and says whether it
 * is a layers model or a graph model. Weight shards are not read.
 */
export async function readModelJson(pathOrDir: string): Promise<ModelJsonFile> {
  return (await readModelJsonBytes(pathOrDir)).file;
}

/** Bytes a manifest group needs, or null when a string weight makes the size data-dependent. */
function expectedGroupBytes(weights: readonly WeightEntry[]): number | null {
  let total = 0;
  for (const w of weights) {
    if (w.dtype === 'string') return null;
    const size = w.shape.reduce((a, b) => a * b, 1);
    total += size * (w.quantization ? BYTES_PER_QUANTIZED_VALUE[w.quantization.dtype] : BYTES_PER_VALUE[w.dtype]);
  }
  return total;
}

/** Every shard of every manifest group, in manifest order, checked against the sizes the manifest implies. */
async function readWeightShards(file: ModelJsonFile): Promise<Buffer[]> {
  const shards: Buffer[] = [];
  for (const group of file.json.weightsManifest) {
    let held = 0;
    for (const shardPath of group.paths) {
      const full = resolve(file.dir, shardPath);
      try {
        const shard = await readFile(full);
        shards.push(shard);
        held += shard.byteLength;
      } catch (error) {
        const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : firstLine(error);
        throw new RprError(
          'RPR_MODEL_INVALID',
          `weight shard '${shardPath}' listed in '${file.path}' ${why} (looked for '${full}')`,
          { path: file.path, shard: shardPath },
        );
      }
    }
    const needed = expectedGroupBytes(group.weights as WeightEntry[]);
    if (needed !== null && held < needed) {
      const last = group.paths[group.paths.length - 1] ?? '(none)';
      throw new RprError(
        'RPR_MODEL_INVALID',
        `weight shard '${last}' of '${file.path}' is truncated: its weightsManifest needs ${needed} bytes ` +
          `from ${group.paths.map((p) => `'${p}'`).join(', ')} but they hold ${held}; re-export the model`,
        { path: file.path, shard: last },
      );
    }
  }
  return shards;
}

/** One fresh ArrayBuffer (Node Buffers may be views into a shared pool). */
function concatenate(shards: readonly Buffer[]): ArrayBuffer {
  const out = new Uint8Array(shards.reduce((n, s) => n + s.byteLength, 0));
  let offset = 0;
  for (const s of shards) {
    out.set(s, offset);
    offset += s.byteLength;
  }
  return out.buffer;
}

async function memoryHandler(file: ModelJsonFile): Promise<tf.io.IOHandler> {
  const weightData = concatenate(await readWeightShards(file));
  const artifacts = await tf.io.getModelArtifactsForJSON(file.json, async (manifest) => [
    tf.io.getWeightSpecs(manifest),
    weightData,
  ]);
  return { load: async () => artifacts };
}

/** The model's files in memory, after checking it has the format the caller can load. */
async function loadModelFile(
  pathOrDir: string,
  want: ModelFormat,
): Promise<{ path: string; handler: tf.io.IOHandler }> {
  const file = await readModelJson(pathOrDir);
  if (file.format !== want) {
    const use = file.format === 'graph-model' ? 'loadGraphModelFromDir' : 'loadLayersModelFromDir';
    throw invalid(file.path, `is a ${file.format}, not a ${want}; load it with ${use}`);
  }
  return { path: file.path, handler: await memoryHandler(file) };
}

/** A failure inside TF.js while building the model, as one line naming the file. */
function engineFailure(path: string, kind: ModelFormat, error: unknown): RprError {
  const message = firstLine(error);
  const unknownLayer = /^Unknown layer: (\w+)/.exec(message);
  if (unknownLayer) {
    return new RprError(
      'RPR_UNSUPPORTED_LAYER',
      `model '${path}' uses layer class ${unknownLayer[1]}, which TF.js layers cannot load; ` +
        'rebuild the model from built-in layers',
      { path, className: unknownLayer[1] },
    );
  }
  return invalid(path, `could not be loaded as a TF.js ${kind}: ${message}`);
}

/** Loads a TF.js LayersModel from a directory holding model.json, or from model.json itself. */
export async function loadLayersModelFromDir(pathOrModelJson: string): Promise<tfl.LayersModel> {
  const { path, handler } = await loadModelFile(pathOrModelJson, 'layers-model');
  try {
    return await tfl.loadLayersModel(handler);
  } catch (error) {
    throw engineFailure(path, 'layers-model', error);
  }
}

/** Loads a TF.js GraphModel (a converted TensorFlow graph) the same way. */
export async function loadGraphModelFromDir(pathOrModelJson: string): Promise<tfconv.GraphModel> {
  const { path, handler } = await loadModelFile(pathOrModelJson, 'graph-model');
  try {
    return await tfconv.loadGraphModel(handler);
  } catch (error) {
    throw engineFailure(path, 'graph-model', error);
  }
}

/** Writes `data` to `path` through a temporary file in the same directory and a rename. */
async function writeAtomically(path: string, data: string | Uint8Array): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Saves a LayersModel as `dir/model.json` and one `dir/weights.bin`, creating `dir` if needed. Each file
 * is replaced atomically, the weights first, so a model.json on disk never lists weights not yet written.
 */
export async function saveLayersModelToDir(model: tfl.LayersModel, dir: string): Promise<void> {
  const target = resolve(dir);
  const save = tf.io.withSaveHandler(async (artifacts) => {
    if (artifacts.modelTopology instanceof ArrayBuffer || artifacts.modelTopology === undefined) {
      throw new RprError('RPR_INTERNAL', 'TF.js produced a model without a JSON topology', { path: target });
    }
    const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0)));
    const { weightSpecs: _specs, weightData: _data, getWeightStream: _stream, ...fields } = artifacts;
    const json: tf.io.ModelJSON = {
      ...fields,
      modelTopology: artifacts.modelTopology,
      format: artifacts.format ?? 'layers-model',
      weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
    };
    await mkdir(target, { recursive: true });
    await writeAtomically(join(target, WEIGHTS_BIN), weights);
    await writeAtomically(join(target, MODEL_JSON), JSON.stringify(json));
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  });
  try {
    await model.save(save);
  } catch (error) {
    if (error instanceof RprError) throw error;
    throw new RprError('RPR_USAGE', `cannot write the model to '${target}': ${firstLine(error)}`, {
      path: target,
    });
  }
}

/**
 * sha256 (hex) over the bytes of model.json followed by every weight shard in manifest order: the
 * model's identity in cache keys and the ledger.
 */
export async function modelFileDigest(pathOrDir: string): Promise<string> {
  const { file, bytes } = await readModelJsonBytes(pathOrDir);
  const hash = createHash('sha256').update(bytes);
  for (const shard of await readWeightShards(file)) hash.update(shard);
  return hash.digest('hex');
}
