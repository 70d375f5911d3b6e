/**
 * Paging through a project's tasks with GET /api/tasks and a Data Manager filter, in task-id order so
 * that tasks created while paging only ever land on later pages. Data comes back raw
 * (`resolve_uri=false`), exactly as it was imported.
 */
import { RprError } from '../../errors/index.js';
import type { LabelStudioClient } from './client.js';

/** The task data key that carries rpr-select's sample id. */
export const SAMPLE_ID_FIELD = 'rpr_sample_id';

export interface TaskFilterItem {
  /** e.g. `filter:tasks:data.rpr_sample_id`, `filter:tasks:total_annotations`. */
  readonly filter: string;
  readonly operator: 'equal' | 'not_equal' | 'greater' | 'less' | 'contains' | 'empty';
  readonly type: 'String' | 'Number' | 'Boolean';
  readonly value: string | number | boolean;
}

export interface TaskFilters {
  readonly conjunction: 'and' | 'or';
  readonly items: readonly TaskFilterItem[];
}

export interface RawAnnotation {
  readonly id: number;
  readonly result?: readonly unknown[];
  readonly was_cancelled?: boolean;
  /** A user id, or an expanded user on some versions. */
  readonly completed_by?: number | { readonly id?: number; readonly email?: string } | null;
  readonly created_at?: string;
}

export interface RawTask {
  readonly id: number;
  readonly data: Readonly<Record<string, unknown>>;
  readonly annotations?: readonly RawAnnotation[];
  readonly total_annotations?: number;
  readonly cancelled_annotations?: number;
}

interface TaskPage {
  readonly tasks?: readonly RawTask[];
  readonly total?: number;
}

export interface TaskPagesOptions {
  readonly filters?: TaskFilters;
  /** `task_only` is light; `all` adds annotations and predictions. @defaultValue 'task_only' */
  readonly fields?: 'task_only' | 'all';
  /** @defaultValue 100 */
  readonly pageSize?: number;
  readonly signal?: AbortSignal;
}

export async function* taskPages(
  client: LabelStudioClient,
  projectId: number,
  options: TaskPagesOptions = {},
): AsyncGenerator<readonly RawTask[]> {
  const pageSize = options.pageSize ?? 100;
  const query = JSON.stringify({
    filters: options.filters ?? { conjunction: 'and', items: [] },
    ordering: ['tasks:id'],
  });
  for (let page = 1; ; page++) {
    let answer: TaskPage;
    try {
      answer = await client.json<TaskPage>('GET', '/api/tasks', {
        query: {
          project: projectId,
          page,
          page_size: pageSize,
          fields: options.fields ?? 'task_only',
          resolve_uri: false,
          query,
        },
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      // Django's paginator answers 404 for a page past the end, which a shrinking project can cause.
      if (page > 1 && error instanceof RprError && error.code === 'RPR_SINK_NOT_FOUND') return;
      throw error;
    }
    const tasks = answer.tasks ?? [];
    if (tasks.length > 0) yield tasks;
    const total = answer.total ?? 0;
    if (tasks.length < pageSize || page * pageSize >= total) return;
  }
}

/** Tasks whose data carries any of `sampleIds` (an OR of exact matches). */
export function sampleIdFilters(sampleIds: readonly string[]): TaskFilters {
  return dataEqualsAny(SAMPLE_ID_FIELD, sampleIds);
}

/** Tasks whose `data[field]` is one of `values` (an OR of exact matches). */
export function dataEqualsAny(field: string, values: readonly string[]): TaskFilters {
  return {
    conjunction: 'or',
    items: values.map((value) => ({ filter: `filter:tasks:data.${field}`, operator: 'equal', type: 'String', value })),
  };
}

/** Tasks with at least one annotation, submitted or skipped. */
export const FINISHED_TASKS: TaskFilters = {
  conjunction: 'or',
  items: [
    { filter: 'filter:tasks:total_annotations', operator: 'greater', type: 'Number', value: 0 },
    { filter: 'filter:tasks:cancelled_annotations', operator: 'greater', type: 'Number', value: 0 },
  ],
};

/** Tasks nobody has annotated or skipped yet. */
export const UNFINISHED_TASKS: TaskFilters = {
  conjunction: 'and',
  items: [
    { filter: 'filter:tasks:total_annotations', operator: 'equal', type: 'Number', value: 0 },
    { filter: 'filter:tasks:cancelled_annotations', operator: 'equal', type: 'Number', value: 0 },
  ],
};

/** The sample id a task carries, or null for tasks rpr-select did not create. */
export function sampleIdOf(task: RawTask): string | null {
  const id = task.data[SAMPLE_ID_FIELD];
  return typeof id === 'string' && id !== '' ? id : null;
}
