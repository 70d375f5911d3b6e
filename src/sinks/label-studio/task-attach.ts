/**
 * Selected images that already are tasks of the project (a pool read from this very project, or URLs the
 * team imported before) get the sample id and the prediction on their existing task instead of a second
 * task. Only tasks no sample id has claimed are attached. The prediction is written first and the data
 * update last, so an attach cut short by a crash is finished by the next push, and a finished one is found
 * by the sample-id lookup like any pushed task.
 */
import type { LabelStudioClient } from './client.js';
import type { ImportItem, TaskImporter } from './task-import.js';
import type { LookupOptions } from './task-lookup.js';
import { dataEqualsAny, sampleIdOf, taskPages, type RawTask } from './task-pages.js';

export interface AttachTarget {
  readonly client: LabelStudioClient;
  readonly projectId: number;
  /** The task data key holding the image (the project's <Image> variable). */
  readonly imageField: string;
  readonly importer: TaskImporter;
  readonly lookup: LookupOptions;
}

/**
 * Attaches the items whose image a task of the project already shows, recording their task ids in
 * `taskIds`; returns the items that still need a task of their own.
 */
export async function attachToExistingTasks(
  target: AttachTarget,
  items: readonly ImportItem[],
  taskIds: Map<string, string>,
): Promise<readonly ImportItem[]> {
  const { client, imageField } = target;
  const formsOf = new Map(items.map((item) => [item, imageForms(item.task.data[imageField], client.baseUrl)]));
  const tasksByImage = await tasksShowing(target, [...new Set([...formsOf.values()].flat())]);
  const attached: { readonly item: ImportItem; readonly task: RawTask }[] = [];
  for (const item of items) {
    const tasks = formsOf.get(item)!.flatMap((form) => tasksByImage.get(form) ?? []).sort((a, b) => a.id - b.id);
    // A task that already carries this sample is the importer's business (its lookup finds it).
    if (tasks.some((task) => sampleIdOf(task) === item.sampleId)) continue;
    const free = tasks.find((task) => sampleIdOf(task) === null);
    if (free) attached.push({ item, task: free });
  }
  if (attached.length === 0) return items;

  const found = new Map(attached.map(({ item, task }) => [item.sampleId, String(task.id)]));
  await target.importer.ensurePredictions(attached.map(({ item }) => item), found);
  for (const { item, task } of attached) {
    const rprFields = Object.fromEntries(Object.entries(item.task.data).filter(([key]) => key !== imageField));
    await client.json('PATCH', `/api/tasks/${task.id}/`, { json: { data: { ...task.data, ...rprFields } }, retry: true });
    taskIds.set(item.sampleId, String(task.id));
  }
  return items.filter((item) => !found.has(item.sampleId));
}

/**
 * The spellings a task's data may give an image in: as pushed, and for a URL on the server itself, the
 * server-relative path the server's own imports and storages write.
 */
function imageForms(value: unknown, baseUrl: string): string[] {
  if (typeof value !== 'string' || value === '') return [];
  const forms = [value];
  if (/^https?:\/\//i.test(value)) {
    const url = new URL(value);
    if (url.origin === new URL(baseUrl).origin) forms.push(`${url.pathname}${url.search}`);
  }
  return forms;
}

/** image value → the project's tasks whose image field holds it. */
async function tasksShowing(target: AttachTarget, images: readonly string[]): Promise<Map<string, RawTask[]>> {
  const found = new Map<string, RawTask[]>();
  const { chunkSize, pageSize } = target.lookup;
  for (let start = 0; start < images.length; start += chunkSize) {
    const chunk = images.slice(start, start + chunkSize);
    const wanted = new Set(chunk);
    const pages = taskPages(target.client, target.projectId, { filters: dataEqualsAny(target.imageField, chunk), pageSize });
    for await (const tasks of pages) {
      for (const task of tasks) {
        const image = task.data[target.imageField];
        if (typeof image === 'string' && wanted.has(image)) found.set(image, [...(found.get(image) ?? []), task]);
      }
    }
  }
  return found;
}
