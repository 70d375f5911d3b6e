/**
 * Importing tasks into one project so that each sample ends with exactly one task. The import POST is not
 * idempotent, so it is never resent blindly: after a failure whose outcome is unknown the importer asks
 * the project what it holds and sends only the rest. Imports into the project go one at a time: Label
 * Studio 1.23 (SQLite) silently drops the predictions of one of two imports running at once, and the
 * import's own prediction count is checked so that what another writer may still cause gets repaired.
 */
import { RprError } from '../../errors/index.js';
import { isTransient, type LabelStudioClient } from './client.js';
import { keepOldest, tasksBySampleId, type LookupOptions } from './task-lookup.js';

export interface PredictionBody {
  readonly model_version: string;
  readonly result: readonly unknown[];
  readonly score?: number;
}

export interface ImportItem {
  readonly sampleId: string;
  /** For messages. */
  readonly uri: string;
  readonly task: { readonly data: Readonly<Record<string, unknown>>; readonly predictions: readonly PredictionBody[] };
}

export interface TaskImporterOptions extends LookupOptions {
  /** Longest wait for an asynchronous (Enterprise) import to finish. */
  readonly importWaitMs: number;
}

interface ImportAnswer {
  readonly task_ids?: readonly number[];
  readonly prediction_count?: number;
  /** The spelling in older generated schemas. */
  readonly predictions_count?: number;
  /** Enterprise and Cloud import in the background and answer with the import's id. */
  readonly import?: number;
}

interface PredictionJson {
  readonly model_version?: string;
}

export class TaskImporter {
  readonly #client: LabelStudioClient;
  readonly #projectId: number;
  readonly #options: TaskImporterOptions;
  #importChain: Promise<unknown> = Promise.resolve();

  constructor(client: LabelStudioClient, projectId: number, options: TaskImporterOptions) {
    this.#client = client;
    this.#projectId = projectId;
    this.#options = options;
  }

  /** Records in `taskIds` the tasks the project holds for `items` and returns the items it does not hold. */
  async reconcile(items: readonly ImportItem[], taskIds: Map<string, string>): Promise<readonly ImportItem[]> {
    const found = await tasksBySampleId(
      this.#client,
      this.#projectId,
      items.map((item) => item.sampleId),
      this.#options,
    );
    const kept = await keepOldest(this.#client, found);
    for (const [id, taskId] of kept) taskIds.set(id, taskId);
    return items.filter((item) => !kept.has(item.sampleId));
  }

  /** Makes the project hold one task per item of `batch`, recording sample id → task id in `taskIds`. */
  async importBatch(batch: readonly ImportItem[], reconcileFirst: boolean, taskIds: Map<string, string>): Promise<void> {
    const client = this.#client;
    let pending = reconcileFirst ? await this.#reconcileWithPredictions(batch, taskIds) : batch;
    let unsettled = false;
    for (let retry = 0; pending.length > 0; retry++) {
      const sent = pending;
      let answer: ImportAnswer;
      try {
        answer = await this.#exclusive(() =>
          client.json<ImportAnswer>('POST', `/api/projects/${this.#projectId}/import`, {
            query: { return_task_ids: true },
            json: sent.map((item) => item.task),
            retry: false,
          }),
        );
      } catch (error) {
        if (!isTransient(error) || retry >= client.retryOptions.retries) throw error;
        // A dropped or timed-out request may still be running on the server: give it as long again
        // before looking, so that its tasks are seen rather than imported a second time.
        const lost = error.context['mayStillRun'] === true;
        unsettled ||= lost;
        const retryAfter = error.context['retryAfterMs'];
        await client.backoff(retry, typeof retryAfter === 'number' ? retryAfter : null, lost ? client.timeoutMs : 0);
        pending = await this.#reconcileWithPredictions(pending, taskIds);
        continue;
      }
      await this.#record(sent, answer, taskIds);
      pending = [];
    }
    if (unsettled) {
      // A lost request that commits even later leaves copies; one more look removes those that landed by now.
      await client.backoff(0, null, client.timeoutMs);
      await this.#reconcileWithPredictions(batch, taskIds);
    }
  }

  /**
   * reconcile, then the predictions of the tasks it found: a task seen there may come from an import this
   * importer lost track of (timed out, dropped), which ran beside a later one, and Label Studio may have
   * dropped that import's predictions.
   */
  async #reconcileWithPredictions(items: readonly ImportItem[], taskIds: Map<string, string>): Promise<readonly ImportItem[]> {
    const missing = await this.reconcile(items, taskIds);
    const absent = new Set(missing);
    const found = items.filter((item) => !absent.has(item));
    if (found.length > 0) await this.ensurePredictions(found, taskIds);
    return missing;
  }

  async #record(sent: readonly ImportItem[], answer: ImportAnswer, taskIds: Map<string, string>): Promise<void> {
    const ids = answer?.task_ids;
    if (Array.isArray(ids) && ids.length === sent.length) {
      sent.forEach((item, i) => taskIds.set(item.sampleId, String(ids[i])));
      const expected = sent.reduce((n, item) => n + item.task.predictions.length, 0);
      const made = answer.prediction_count ?? answer.predictions_count;
      if (typeof made === 'number' && made < expected) await this.ensurePredictions(sent, taskIds);
      return;
    }
    if (typeof answer?.import === 'number') await this.#waitForImport(answer.import);
    const missing = await this.reconcile(sent, taskIds);
    if (missing.length > 0) {
      throw new RprError(
        'RPR_SINK_REFUSED',
        `Label Studio at ${this.#client.baseUrl} accepted an import of ${sent.length} tasks into project ${this.#projectId} but holds no task for ${missing.length} of them (first: ${missing[0]!.uri}); check the server log`,
        { url: this.#client.baseUrl, project: this.#projectId },
      );
    }
  }

  /**
   * Gives each item's task (in `taskIds`) the item's predictions it lacks, one per model version, each
   * created at most once.
   */
  async ensurePredictions(items: readonly ImportItem[], taskIds: ReadonlyMap<string, string>): Promise<void> {
    for (const item of items) {
      const task = Number(taskIds.get(item.sampleId));
      for (const prediction of item.task.predictions) {
        const held = async () => {
          const existing = await this.#client.json<readonly PredictionJson[]>('GET', '/api/predictions/', { query: { task } });
          return existing.some((p) => p.model_version === prediction.model_version);
        };
        await this.#createOnce(held, () =>
          this.#exclusive(() => this.#client.json('POST', '/api/predictions/', { json: { task, ...prediction }, retry: false })),
        );
      }
    }
  }

  /** Runs `create` unless `held` says it is done; after a failure of unknown outcome, asks again first. */
  async #createOnce(held: () => Promise<boolean>, create: () => Promise<unknown>): Promise<void> {
    for (let retry = 0; ; retry++) {
      if (await held()) return;
      try {
        await create();
        return;
      } catch (error) {
        if (!isTransient(error) || retry >= this.#client.retryOptions.retries) throw error;
        const lost = error.context['mayStillRun'] === true;
        await this.#client.backoff(retry, null, lost ? this.#client.timeoutMs : 0);
      }
    }
  }

  async #waitForImport(importId: number): Promise<void> {
    const deadline = Date.now() + this.#options.importWaitMs;
    for (let poll = 0; Date.now() < deadline; poll++) {
      const status = await this.#client.json<{ status?: string; error?: string | null }>(
        'GET',
        `/api/projects/${this.#projectId}/imports/${importId}/`,
      );
      if (status.status === 'completed') return;
      if (status.status === 'failed') {
        throw new RprError(
          'RPR_SINK_REFUSED',
          `Label Studio at ${this.#client.baseUrl} failed import ${importId} into project ${this.#projectId}: ${status.error ?? 'no reason given'}`,
          { url: this.#client.baseUrl, project: this.#projectId },
        );
      }
      await this.#client.backoff(Math.min(poll, 3), null);
    }
    throw new RprError(
      'RPR_SINK_UNREACHABLE',
      `Label Studio at ${this.#client.baseUrl} did not finish import ${importId} into project ${this.#projectId} within ${this.#options.importWaitMs} ms; run again later (pushing is safe to repeat)`,
      { url: this.#client.baseUrl, project: this.#projectId },
    );
  }

  /** One import (or prediction write) into the project at a time. */
  #exclusive<T>(run: () => Promise<T>): Promise<T> {
    const next = this.#importChain.then(run, run);
    this.#importChain = next.catch(() => undefined);
    return next;
  }
}
