/**
 * A pool of images read from a Label Studio project: the tasks nobody has annotated or skipped yet, in
 * task-id order, each image downloaded through the API. An image that cannot be read (missing file,
 * refused URL) is yielded as skipped with the reason; a server that is down or refuses the key stops the
 * stream with its RprError.
 */
import { RprError } from '../../errors/index.js';
import type { PoolEntry, PoolSource } from '../../pool/types.js';
import { LabelStudioClient, type LabelStudioClientOptions } from './client.js';
import { DEFAULT_CHOICES_CONFIG, parseChoicesConfig } from './labeling-config.js';
import { findProject } from './project.js';
import { fetchTaskImage, imageReference } from './task-image.js';
import { taskPages, UNFINISHED_TASKS } from './task-pages.js';

export interface LabelStudioPoolSourceOptions extends LabelStudioClientOptions {
  /** Project id or exact title. */
  readonly project: number | string;
  /**
   * The task data key holding the image URL.
   * @defaultValue the <Image> variable of the project's labeling config, else 'image'
   */
  readonly imageField?: string;
  /**
   * Tasks per page.
   * @defaultValue 100
   */
  readonly pageSize?: number;
}

/** Errors that say something about one image rather than about the server or the key. */
const PER_IMAGE_CODES: ReadonlySet<string> = new Set(['RPR_SINK_NOT_FOUND', 'RPR_SINK_REFUSED', 'RPR_FETCH']);

export class LabelStudioPoolSource implements PoolSource {
  readonly description: string;
  readonly #options: LabelStudioPoolSourceOptions;

  constructor(options: LabelStudioPoolSourceOptions) {
    this.#options = options;
    this.description = `Label Studio project ${String(options.project)} at ${options.url}`;
  }

  async *entries(signal?: AbortSignal): AsyncIterable<PoolEntry> {
    const client = new LabelStudioClient(this.#options);
    try {
      const project = await findProject(client, this.#options.project);
      const field =
        this.#options.imageField ??
        parseChoicesConfig(project.label_config)?.imageField ??
        DEFAULT_CHOICES_CONFIG.imageField;
      const pages = taskPages(client, project.id, {
        filters: UNFINISHED_TASKS,
        pageSize: this.#options.pageSize ?? 100,
        ...(signal ? { signal } : {}),
      });
      for await (const tasks of pages) {
        for (const task of tasks) {
          signal?.throwIfAborted();
          const reference = imageReference(task, field);
          if (reference === null) {
            yield { kind: 'skipped', uri: `${client.baseUrl}/tasks/${task.id}`, reason: `task has no '${field}' in its data` };
            continue;
          }
          try {
            const image = await fetchTaskImage(client, task.id, reference, field, signal);
            yield { kind: 'image', uri: image.uri, bytes: image.bytes };
          } catch (error) {
            if (!(error instanceof RprError) || !PER_IMAGE_CODES.has(error.code)) throw error;
            yield { kind: 'skipped', uri: reference.startsWith('/') ? client.urlFor(reference) : reference, reason: error.message };
          }
        }
      }
    } finally {
      await client.close();
    }
  }
}
