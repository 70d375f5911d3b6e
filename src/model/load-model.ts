/**
 * Opens a model file for scoring: the frontend turns it into the IR, the executor runs it on the
 * chosen backend. The optional metadata.json beside the model names classes and input scaling.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Executor } from './executor.js';
import { TfjsExecutor } from './executors/tfjs/tfjs-executor.js';
import { graphModelToIR } from './frontends/graph-model-frontend.js';
import { layersModelToIR } from './frontends/layers-model-frontend.js';
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
  readonly backend: string;
  readonly metadata: ModelMetadata | null;
}

export interface LoadModelOptions {
  /** @defaultValue 'auto' */
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

/** metadata.json beside a model (a directory or its model.json), without loading the model; null when absent. */
export async function readModelMetadata(path: string): Promise<ModelMetadata | null> {
  return readMetadata((await readModelJson(path)).path);
}

export async function loadModel(path: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const file = await readModelJson(path);
  const backend = await initBackend(options.backend ?? 'auto');
  const frontend = { keepFinalActivation: options.keepFinalActivation ?? false };
  const model = file.format === 'graph-model' ? await loadGraphModelFromDir(path) : await loadLayersModelFromDir(path);
  try {
    const ir = model instanceof tfconv.GraphModel ? await graphModelToIR(model, frontend) : layersModelToIR(model, frontend);
    const executor = new TfjsExecutor(ir, backend);
    return { path: file.path, ir, executor, backend: executor.backend, metadata: await readMetadata(file.path) };
  } finally {
    model.dispose();
  }
}
