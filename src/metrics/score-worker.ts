/**
 * Worker-thread entry: loads the model on its own TF.js backend and scores batches of images per
 * sample. The main thread decodes and orders; each worker keeps one core busy with the network.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RprError } from '../errors/index.js';
import { loadModel } from '../model/load-model.js';
import type { EngineChoice } from '../model/load-model.js';
import type { BackendChoice } from '../model/tf-runtime.js';
import type { PerSampleOptions } from './per-sample.js';
import { scorePerSample } from './per-sample.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

interface WorkerSetup {
  readonly modelPath: string;
  readonly backend: BackendChoice;
  readonly engine?: EngineChoice;
  readonly keepFinalActivation: boolean;
  readonly options: PerSampleOptions;
}

const setup = workerData as WorkerSetup;
const port = parentPort!;

const post = (reply: WorkerReply) => port.postMessage(reply);

try {
  const model = await loadModel(setup.modelPath, { backend: setup.backend, engine: setup.engine, keepFinalActivation: setup.keepFinalActivation });
  port.on('message', (request: WorkerRequest) => {
    scorePerSample(model.executor, request.samples, setup.options).then(
      (results) => post({ kind: 'results', id: request.id, results, passes: model.executor.passes }),
      (error: unknown) =>
        post({
          kind: 'error',
          id: request.id,
          code: error instanceof RprError ? error.code : 'RPR_INTERNAL',
          message: error instanceof Error ? error.message : String(error),
        }),
    );
  });
  post({ kind: 'ready', backend: model.backend });
} catch (error: unknown) {
  post({
    kind: 'error',
    id: -1,
    code: error instanceof RprError ? error.code : 'RPR_INTERNAL',
    message: error instanceof Error ? error.message : String(error),
  });
}
