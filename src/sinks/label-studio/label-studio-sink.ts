/**
 * The Label Studio sink: selected images become tasks (with the model's prediction and score) in one
 * project, imported in batches. Label Studio does not de-duplicate imports, so before the first import of
 * a batch (when the round may have been partly pushed) and before any retry, the project is asked which
 * sample ids it already holds and only the rest is sent (task-import.ts). An image given by URL that a
 * task of the project already shows (a pool read from the same project) is attached to that task: it gets
 * the sample id and the prediction, not a second task (task-attach.ts). Every item ends with exactly one
 * task.
 */
import PQueue from 'p-queue';
import { RprError } from '../../errors/index.js';
import type { HeldTask, LabelRecord, Sink, SinkItem, SinkTarget } from '../sink.js';
import { LabelStudioClient, type LabelStudioClientOptions } from './client.js';
import { imageRefFor, storageDirectories, type ImageRef } from './image-url.js';
import { annotatorId, labelRecordOf } from './label-records.js';
import { choicesResult } from './labeling-config.js';
import { ensureLocalFilesStorage, resolveProject, type ResolvedProject } from './project.js';
import { attachToExistingTasks } from './task-attach.js';
import { TaskImporter, type ImportItem, type PredictionBody } from './task-import.js';
import type { LookupOptions } from './task-lookup.js';
import { FINISHED_TASKS, SAMPLE_ID_FIELD, sampleIdOf, taskPages, type RawAnnotation } from './task-pages.js';

export interface LabelStudioSinkOptions extends LabelStudioClientOptions {
  /** Project id, or a title: the project with exactly that title, created when there is none. */
  readonly project: number | string;
  /**
   * Create the project when `project` is a title no project has. Off for commands that only read back
   * what earlier rounds pushed (`sync`): a mistyped title must not leave an empty project behind.
   * @defaultValue true
   */
  readonly createProject?: boolean;
  /** The model's class names in class-index order: the project's choices and the predictions' labels. */
  readonly classNames: readonly string[];
  /** Digest of the model that scored the images; each prediction's `model_version`. */
  readonly modelVersion: string;
  /**
   * Tasks per import request.
   * @defaultValue 100
   */
  readonly batchSize?: number;
  /**
   * Batches in progress at once. Their lookups run in parallel; the import requests themselves go one
   * at a time per project (see task-import.ts).
   * @defaultValue 2
   */
  readonly concurrency?: number;
  /**
   * The server's LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT: local image paths are sent relative to it.
   * @defaultValue '/'
   */
  readonly documentRoot?: string;
  /**
   * Before the first import of each batch, look up which items the project already holds. Turn off only
   * when the caller knows nothing of this round was pushed yet; retries always reconcile.
   * @defaultValue true
   */
  readonly reconcileFirst?: boolean;
  /**
   * Sample ids per lookup request (an OR filter on `data.rpr_sample_id`; kept small so the URL stays short).
   * @defaultValue 25
   */
  readonly lookupChunkSize?: number;
  /**
   * Tasks per page when listing.
   * @defaultValue 100
   */
  readonly pageSize?: number;
  /**
   * Longest wait for an asynchronous (Enterprise) import to finish before reconciling.
   * @defaultValue 300000
   */
  readonly importWaitMs?: number;
}

export interface PushOptions {
  /** Overrides `reconcileFirst` for this call. */
  readonly reconcile?: boolean;
}

export const SINK_DEFAULTS = {
  batchSize: 100,
  concurrency: 2,
  documentRoot: '/',
  reconcileFirst: true,
  lookupChunkSize: 25,
  pageSize: 100,
  importWaitMs: 300_000,
  createProject: true,
} as const;

export class LabelStudioSink implements Sink {
  readonly name = 'label-studio';
  readonly client: LabelStudioClient;
  readonly #options: Required<Omit<LabelStudioSinkOptions, keyof LabelStudioClientOptions>>;
  #project: Promise<{ readonly project: ResolvedProject; readonly importer: TaskImporter }> | null = null;
  readonly #storages = new Map<string, Promise<void>>();
  readonly #users = new Map<number, Promise<string | null>>();

  constructor(options: LabelStudioSinkOptions) {
    this.client = new LabelStudioClient(options);
    this.#options = {
      project: options.project,
      classNames: options.classNames,
      modelVersion: options.modelVersion,
      batchSize: positiveInteger('batchSize', options.batchSize ?? SINK_DEFAULTS.batchSize),
      concurrency: positiveInteger('concurrency', options.concurrency ?? SINK_DEFAULTS.concurrency),
      documentRoot: options.documentRoot ?? SINK_DEFAULTS.documentRoot,
      reconcileFirst: options.reconcileFirst ?? SINK_DEFAULTS.reconcileFirst,
      lookupChunkSize: positiveInteger('lookupChunkSize', options.lookupChunkSize ?? SINK_DEFAULTS.lookupChunkSize),
      pageSize: positiveInteger('pageSize', options.pageSize ?? SINK_DEFAULTS.pageSize),
      importWaitMs: options.importWaitMs ?? SINK_DEFAULTS.importWaitMs,
      createProject: options.createProject ?? SINK_DEFAULTS.createProject,
    };
    if (options.modelVersion.trim() === '') {
      throw new RprError('RPR_CONFIG', 'modelVersion is empty: pass the model digest the scores came from', {
        field: 'modelVersion',
      });
    }
  }

  /** The target project, looked up (or created) on first use. */
  async project(): Promise<ResolvedProject> {
    return (await this.#target()).project;
  }

  /** The project by id: a title may be renamed in Label Studio, the id stays. */
  async target(): Promise<SinkTarget> {
    return { labelStudio: { project: (await this.project()).id } };
  }

  async push(items: readonly SinkItem[], options: PushOptions = {}): Promise<Map<string, string>> {
    const { project, importer } = await this.#target();
    const unique = [...new Map(items.map((item) => [item.id, item])).values()];
    // Every item is checked before anything is imported, so a bad item cannot leave a half-pushed batch.
    const prepared = unique.map((item) => this.#prepare(item, project));
    await this.#ensureStorages(project, prepared.map((p) => p.ref));
    const taskIds = new Map<string, string>();
    const reconcile = options.reconcile ?? this.#options.reconcileFirst;
    const queue = new PQueue({ concurrency: this.#options.concurrency });
    let failure: { readonly error: unknown } | null = null;
    const attach = { client: this.client, projectId: project.id, imageField: project.config.imageField, importer, lookup: this.#lookupOptions() };
    for (let start = 0; start < prepared.length; start += this.#options.batchSize) {
      const batch = prepared.slice(start, start + this.#options.batchSize);
      void queue.add(async () => {
        if (failure) return;
        try {
          // Images given by URL may already be tasks of the project (e.g. a pool read from it): attach those.
          const remote = batch.filter((p) => p.ref.kind === 'remote').map((p) => p.item);
          const left = new Set(remote.length > 0 ? await attachToExistingTasks(attach, remote, taskIds) : remote);
          const toImport = batch.filter((p) => p.ref.kind !== 'remote' || left.has(p.item)).map((p) => p.item);
          await importer.importBatch(toImport, reconcile, taskIds);
        } catch (error) {
          failure ??= { error };
        }
      });
    }
    await queue.onIdle();
    if (failure) throw (failure as { readonly error: unknown }).error;
    return new Map(unique.map((item) => [item.id, taskIds.get(item.id)!]));
  }

  async *list(): AsyncIterable<HeldTask> {
    const project = await this.project();
    for await (const tasks of taskPages(this.client, project.id, { pageSize: this.#options.pageSize })) {
      for (const task of tasks) {
        const id = sampleIdOf(task);
        if (id === null) continue;
        const round = task.data['round'];
        yield { id, taskId: String(task.id), round: typeof round === 'number' ? round : null };
      }
    }
  }

  async *fetchLabels(): AsyncIterable<LabelRecord> {
    const project = await this.project();
    const pages = taskPages(this.client, project.id, {
      filters: FINISHED_TASKS,
      fields: 'all',
      pageSize: this.#options.pageSize,
    });
    for await (const tasks of pages) {
      const userIds = tasks.flatMap((task) => (task.annotations ?? []).map(annotatorId));
      const emails = new Map<number, string | null>();
      for (const userId of new Set(userIds)) {
        if (userId !== null) emails.set(userId, await this.#userEmail(userId));
      }
      const annotator = (annotation: RawAnnotation): string | null => {
        const userId = annotatorId(annotation);
        return userId === null ? null : (emails.get(userId) ?? String(userId));
      };
      for (const task of tasks) {
        const record = labelRecordOf(task, annotator);
        if (record !== null) yield record;
      }
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  #target(): Promise<{ readonly project: ResolvedProject; readonly importer: TaskImporter }> {
    this.#project ??= resolveProject(this.client, this.#options.project, this.#options.classNames, {
      create: this.#options.createProject,
    }).then(
      (project) => ({
        project,
        importer: new TaskImporter(this.client, project.id, { ...this.#lookupOptions(), importWaitMs: this.#options.importWaitMs }),
      }),
      (error: unknown) => {
        this.#project = null;
        throw error;
      },
    );
    return this.#project;
  }

  #lookupOptions(): LookupOptions {
    return { chunkSize: this.#options.lookupChunkSize, pageSize: this.#options.pageSize };
  }

  #prepare(item: SinkItem, project: ResolvedProject): { readonly ref: ImageRef; readonly item: ImportItem } {
    const ref = imageRefFor(item.uri, this.#options.documentRoot);
    const data: Record<string, unknown> = {
      [project.config.imageField]: ref.url,
      [SAMPLE_ID_FIELD]: item.id,
      uri: item.uri,
      round: item.round,
      rank: item.rank,
      score: item.score,
    };
    const predictions: PredictionBody[] = [];
    if (item.predicted !== null || item.score !== null) {
      const result = item.predicted === null ? [] : [choicesResult(project.config, this.#className(item))];
      predictions.push({
        model_version: this.#options.modelVersion,
        result,
        ...(item.score !== null ? { score: item.score } : {}),
      });
    }
    return { ref, item: { sampleId: item.id, uri: item.uri, task: { data, predictions } } };
  }

  #className(item: SinkItem): string {
    const names = this.#options.classNames;
    const predicted = item.predicted!;
    if (!Number.isInteger(predicted) || predicted < 0 || predicted >= names.length) {
      throw new RprError(
        'RPR_CONFIG',
        `sample ${item.id} (${item.uri}) has predicted class ${predicted}, but only ${names.length} class names are configured: give the model's full classNames`,
        { field: 'classNames', uri: item.uri, value: predicted },
      );
    }
    return names[predicted]!;
  }

  async #ensureStorages(project: ResolvedProject, refs: readonly ImageRef[]): Promise<void> {
    const directories = storageDirectories(
      refs.flatMap((ref) => (ref.kind === 'local' ? [ref.directory] : [])),
      this.#options.documentRoot,
    );
    await Promise.all(
      directories.map((directory) => {
        let ensured = this.#storages.get(directory);
        if (!ensured) {
          ensured = ensureLocalFilesStorage(this.client, project.id, directory).catch((error: unknown) => {
            this.#storages.delete(directory);
            throw error;
          });
          this.#storages.set(directory, ensured);
        }
        return ensured;
      }),
    );
  }

  async #userEmail(userId: number): Promise<string | null> {
    let email = this.#users.get(userId);
    if (!email) {
      email = this.client
        .json<{ email?: unknown }>('GET', `/api/users/${userId}`)
        .then((user) => (typeof user?.email === 'string' && user.email !== '' ? user.email : null))
        // Annotators may not be allowed to read other users; the id is still a name.
        .catch((error: unknown) => {
          if (error instanceof RprError && error.code !== 'RPR_SINK_UNREACHABLE') return null;
          this.#users.delete(userId);
          throw error;
        });
      this.#users.set(userId, email);
    }
    return email;
  }
}

export function createLabelStudioSink(options: LabelStudioSinkOptions): LabelStudioSink {
  return new LabelStudioSink(options);
}

function positiveInteger(name: string, value: number): number {
  if (!(Number.isInteger(value) && value > 0)) {
    throw new RprError('RPR_CONFIG', `Label Studio sink option ${name} must be a positive integer, got ${value}`, {
      field: name,
      value,
    });
  }
  return value;
}
