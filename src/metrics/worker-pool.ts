/**
 * A pool of scoring worker threads, so per-sample scoring uses every core: TF.js's wasm backend is
 * single-threaded in Node. Each worker loads the model once; batches go to the least busy worker.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { RprError } from '../errors/index.js';
import type { BackendChoice } from '../model/tf-runtime.js';
import type { EngineChoice } from '../model/load-model.js';
import type { Sample } from '../pool/types.js';
import { packageRoot } from '../util/package-root.js';
import type { PerSampleOptions } from './per-sample.js';
import type { ScoreResult } from './types.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

interface Pending {
  resolve(results: ScoreResult[]): void;
  reject(error: Error): void;
}

interface PoolWorker {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  passes: number;
}

/** The compiled worker script (workers run built JavaScript, also under the TypeScript test runner). */
function workerScript(): string {
  const script = join(packageRoot(), 'dist', 'src', 'metrics', 'score-worker.js');
  if (!existsSync(script)) {
    throw new RprError('RPR_INTERNAL', `scoring workers need the built package (${script} is missing): run npm run build`);
  }
  return script;
}

export class ScoringWorkerPool {
  readonly #workers: PoolWorker[];
  #nextId = 0;

  private constructor(workers: PoolWorker[]) {
    this.#workers = workers;
  }

  static async start(
    count: number,
    setup: { modelPath: string; backend: BackendChoice; engine?: EngineChoice; keepFinalActivation: boolean; options: PerSampleOptions },
  ): Promise<ScoringWorkerPool> {
    const script = workerScript();
    const workers = await Promise.all(
      Array.from({ length: count }, async () => {
        const worker = new Worker(script, { workerData: setup });
        const entry: PoolWorker = { worker, pending: new Map(), passes: 0 };
        await new Promise<void>((resolve, reject) => {
          const onMessage = (reply: WorkerReply) => {
            if (reply.kind === 'ready') {
              worker.off('message', onMessage);
              resolve();
            } else if (reply.kind === 'error') reject(new RprError(reply.code, reply.message));
          };
          worker.on('message', onMessage);
          worker.once('error', reject);
        });
        worker.on('message', (reply: WorkerReply) => {
          if (reply.kind === 'ready') return;
          const p = entry.pending.get(reply.id);
          if (!p) return;
          entry.pending.delete(reply.id);
          if (reply.kind === 'results') {
            entry.passes = reply.passes;
            p.resolve(reply.results);
          } else p.reject(new RprError(reply.code, reply.message));
        });
        worker.on('error', (error) => {
          for (const p of entry.pending.values()) p.reject(error);
          entry.pending.clear();
        });
        return entry;
      }),
    );
    return new ScoringWorkerPool(workers);
  }

  get size(): number {
    return this.#workers.length;
  }

  /** Network passes made by all workers. */
  get passes(): number {
    return this.#workers.reduce((s, w) => s + w.passes, 0);
  }

  score(samples: readonly Sample[]): Promise<ScoreResult[]> {
    const target = this.#workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.#nextId++;
    const request: WorkerRequest = { id, samples };
    return new Promise((resolve, reject) => {
      target.pending.set(id, { resolve, reject });
      target.worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.worker.terminate()));
  }
}
