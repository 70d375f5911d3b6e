/**
 * Which of a set of sample ids a project already holds, and clean-up of copies: if an import the client
 * gave up on commits after it was sent again, a sample has two tasks. The oldest is the one kept (every
 * lookup agrees on it); newer copies nobody has worked on are deleted whenever a lookup sees them.
 */
import { debuglog } from 'node:util';
import { RprError } from '../../errors/index.js';
import type { LabelStudioClient } from './client.js';
import { sampleIdFilters, sampleIdOf, taskPages, type RawTask } from './task-pages.js';

const debug = debuglog('rpr');

export interface LookupOptions {
  /** Sample ids per filtered request. */
  readonly chunkSize: number;
  /** Tasks per page. */
  readonly pageSize: number;
}

/** sample id → the tasks carrying it, oldest first, for those of `sampleIds` the project holds. */
export async function tasksBySampleId(
  client: LabelStudioClient,
  projectId: number,
  sampleIds: readonly string[],
  options: LookupOptions,
): Promise<Map<string, RawTask[]>> {
  const found = new Map<string, RawTask[]>();
  for (let start = 0; start < sampleIds.length; start += options.chunkSize) {
    const chunk = sampleIds.slice(start, start + options.chunkSize);
    const wanted = new Set(chunk);
    const pages = taskPages(client, projectId, { filters: sampleIdFilters(chunk), pageSize: options.pageSize });
    for await (const tasks of pages) {
      for (const task of tasks) {
        // The server's string filter may be looser than equality; only exact ids count.
        const id = sampleIdOf(task);
        if (id !== null && wanted.has(id)) found.set(id, [...(found.get(id) ?? []), task]);
      }
    }
  }
  for (const copies of found.values()) copies.sort((a, b) => a.id - b.id);
  return found;
}

/**
 * Keeps the oldest task of each sample and deletes the newer copies that have no annotation; returns
 * sample id → kept task id.
 */
export async function keepOldest(client: LabelStudioClient, found: ReadonlyMap<string, readonly RawTask[]>): Promise<Map<string, string>> {
  const kept = new Map<string, string>();
  for (const [id, [oldest, ...copies]] of found) {
    kept.set(id, String(oldest!.id));
    for (const copy of copies) {
      if ((copy.total_annotations ?? 0) > 0 || (copy.cancelled_annotations ?? 0) > 0) {
        debug('label-studio: sample %s has an annotated second task %d; left in place', id, copy.id);
        continue;
      }
      debug('label-studio: deleting task %d, a late copy of task %d (sample %s)', copy.id, oldest!.id, id);
      try {
        await client.json('DELETE', `/api/tasks/${copy.id}/`, { retry: true });
      } catch (error) {
        if (!(error instanceof RprError && error.code === 'RPR_SINK_NOT_FOUND')) throw error;
      }
    }
  }
  return kept;
}
