/**
 * Downloading a task's image the way the labeling UI would see it: server paths (/data/local-files/…,
 * /data/upload/…) with the API key, other http(s) URLs as they are, and cloud URIs (s3://, gs://, …)
 * through the task's resolved data, which the server turns into a presigned or proxy URL.
 */
import { RprError } from '../../errors/index.js';
import type { LabelStudioClient } from './client.js';
import type { RawTask } from './task-pages.js';

export interface TaskImage {
  /** Absolute URL or cloud URI: where the image lives, for messages and ledgers. */
  readonly uri: string;
  readonly bytes: Buffer;
}

/** The image reference a task holds in `field`, or null when it has none. */
export function imageReference(task: RawTask, field: string): string | null {
  const value = task.data[field];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

export async function fetchTaskImage(
  client: LabelStudioClient,
  taskId: number,
  reference: string,
  field: string,
  signal?: AbortSignal,
): Promise<TaskImage> {
  if (isFetchable(reference)) {
    const { bytes } = await client.bytes(reference, signal);
    return { uri: client.urlFor(reference), bytes };
  }
  const resolved = await client.json<RawTask>('GET', `/api/tasks/${taskId}/`, {
    query: { resolve_uri: true },
    ...(signal ? { signal } : {}),
  });
  const url = imageReference(resolved, field) ?? reference;
  if (!isFetchable(url)) {
    throw new RprError(
      'RPR_FETCH',
      `Label Studio at ${client.baseUrl} cannot resolve task ${taskId}'s image '${reference}': connect the cloud storage it comes from to the project`,
      { url: client.baseUrl, task: taskId, uri: reference },
    );
  }
  const { bytes } = await client.bytes(url, signal);
  return { uri: reference, bytes };
}

function isFetchable(reference: string): boolean {
  return reference.startsWith('/') || /^https?:\/\//i.test(reference);
}
