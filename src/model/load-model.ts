/**
 * Opens a model file for scoring: the frontend turns it into the IR (TF.js LayersModel or GraphModel
 * directories, or an .onnx file), the executor runs it on the chosen engine. The optional metadata.json
 * beside the model names classes and input scaling.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { errors } from '../errors/index.js';
import type { Executor } from './executor.js';
import { OnnxExecutor } from './executors/onnx/onnx-executor.js';
import { tryLoadOrt } from './executors/onnx/ort-runtime.js';
import { TfjsExecutor } from './executors/tfjs/tfjs-executor.js';
import { graphModelToIR } from './frontends/graph-model-frontend.js';
import { layersModelToIR } from './frontends/layers-model-frontend.js';
import { loadOnnxModel } from './frontends/onnx-frontend.js';
import type { ModelIR } from './ir.js';
import type { BackendChoice } from './tf-runtime.js';
import { initBackend, tfconv } from './tf-runtime.js';
import { loadGraphModelFromDir, loadLayersModelFromDir, readModelJson } from './tfjs-file-io.js';

/** What metadata.json may say about a model; every field optional. */
export interface ModelMetadata {
  readonly classNames?: readonly string[];
  readonly input?: { readonly scale?: number; readonly mean?: readonly number[]; readonly std?: readonly number[] };
  readonly heldOutAccuracy?: number;
}

export interface LoadedModel {
  readonly path: string;
  readonly ir: ModelIR;
  readonly executor: Executor;
  /** The engine `auto` resolved to, for worker threads that must run the same one. */
  readonly engine: Exclude<EngineChoice, 'auto'>;
  readonly backend: string;
  readonly metadata: ModelMetadata | null;
}

/** Engines that run the IR: `auto` takes ONNX Runtime when onnxruntime-node loads here, else TF.js. */
export const ENGINE_CHOICES = ['auto', 'onnxruntime', 'tfjs'] as const;
export type EngineChoice = (typeof ENGINE_CHOICES)[number];

export function isEngineChoice(name: string): name is EngineChoice {
  return (ENGINE_CHOICES as readonly string[]).includes(name);
}

export interface LoadModelOptions {
  /** @defaultValue 'auto' */
  readonly engine?: EngineChoice;
  /** TF.js backend, when the engine is TF.js (and to read TF.js model files). @defaultValue 'auto' */
  readonly backend?: BackendChoice;
  /** Keep a final softmax/sigmoid instead of working on logits. @defaultValue false */
  readonly keepFinalActivation?: boolean;
}

async function readMetadata(modelJsonPath: string): Promise<ModelMetadata | null> {
  try {
    return JSON.parse(await readFile(join(dirname(modelJsonPath), 'metadata.json'), 'utf8')) as ModelMetadata;
  } catch {
    return null;
  }
}

function isOnnxPath(path: string): boolean {
  return path.toLowerCase().endsWith('.onnx');
}

/** metadata.json beside a model (a directory, its model.json, or an .onnx file), without loading the model; null when absent. */
export async function readModelMetadata(path: string): Promise<ModelMetadata | null> {
  return readMetadata(isOnnxPath(path) ? resolve(path) : (await readModelJson(path)).path);
}

/**
 * The executor of an IR on the chosen engine; `auto` takes ONNX Runtime when onnxruntime-node loads.
 * Exported for IRs derived from a loaded model (a sub-network): pass the loaded model's `engine` to run them alike.
 */
export async function createExecutor(ir: ModelIR, options: LoadModelOptions): Promise<Executor> {
  const engine = options.engine ?? 'auto';
  if (!isEngineChoice(engine)) throw errors.unknownName('engine', String(engine), ENGINE_CHOICES);
  if (engine === 'onnxruntime' || (engine === 'auto' && (await tryLoadOrt()) !== null)) return OnnxExecutor.create(ir);
  return new TfjsExecutor(ir, await initBackend(options.backend ?? 'auto'));
}

async function tfjsModelToIR(path: string, options: LoadModelOptions): Promise<{ ir: ModelIR; file: string }> {
  const file = await readModelJson(path);
  await initBackend(options.backend ?? 'auto');
  const frontend = { keepFinalActivation: options.keepFinalActivation ?? false };
  const model = file.format === 'graph-model' ? await loadGraphModelFromDir(path) : await loadLayersModelFromDir(path);
  try {
    const ir = model instanceof tfconv.GraphModel ? await graphModelToIR(model, frontend) : layersModelToIR(model, frontend);
    return { ir, file: file.path };
  } finally {
    model.dispose();
  }
}

export async function loadModel(path: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const { ir, file } = isOnnxPath(path)
    ? { ir: await loadOnnxModel(resolve(path), { keepFinalActivation: options.keepFinalActivation ?? false }), file: resolve(path) }
    : await tfjsModelToIR(path, options);
  const executor = await createExecutor(ir, options);
  const engine = executor instanceof OnnxExecutor ? 'onnxruntime' : 'tfjs';
  return { path: file, ir, executor, engine, backend: executor.backend, metadata: await readMetadata(file) };
}
