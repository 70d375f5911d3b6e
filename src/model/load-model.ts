/**
 * Opens a model file for scoring: the frontend turns it into the IR, the executor runs it on the
 * chosen backend. The optional metadata.json beside the model names classes and input scaling.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { RprError } from '../errors/index.js';
import type { Executor } from './executor.js';
import { TfjsExecutor } from './executors/tfjs/tfjs-executor.js';
import { layersModelToIR } from './frontends/layers-model-frontend.js';
import type { ModelIR } from './ir.js';
import type { BackendChoice } from './tf-runtime.js';
import { initBackend } from './tf-runtime.js';
import { loadLayersModelFromDir, readModelJson } from './tfjs-file-io.js';

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

export async function loadModel(path: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const file = await readModelJson(path);
  if (file.format === 'graph-model') {
    throw new RprError(
      'RPR_MODEL_INVALID',
      `${file.path}: TF.js GraphModel files are not supported yet; export the model as a LayersModel (tfjs.converters.save_keras_model)`,
      { path: file.path },
    );
  }
  const backend = await initBackend(options.backend ?? 'auto');
  const model = await loadLayersModelFromDir(path);
  try {
    const ir = layersModelToIR(model, { keepFinalActivation: options.keepFinalActivation ?? false });
    const executor = new TfjsExecutor(ir, backend);
    return { path: file.path, ir, executor, backend: executor.backend, metadata: await readMetadata(file.path) };
  } finally {
    model.dispose();
  }
}
