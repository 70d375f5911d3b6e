/** Sink items and their checks, shared by the fake-server and real-server tests. */
import { createHash } from 'node:crypto';
import type { SinkItem } from '../../../src/sinks/sink.js';

export const CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

/** Items whose ids are content hashes of `bytes[i]`, with scores and classes derived from i. */
export function itemsFor(uris: readonly string[], bytes: readonly Buffer[], round = 1): SinkItem[] {
  return uris.map((uri, i) => ({
    id: createHash('sha256').update(bytes[i]!).digest('hex'),
    uri,
    round,
    rank: i + 1,
    score: (i + 1) / (uris.length + 1),
    scores: { 'rpr@5': (i + 1) / (uris.length + 1) },
    predicted: i % CLASS_NAMES.length,
  }));
}

/** `n` distinct byte strings standing in for images (content only matters for the sample id). */
export function distinctBytes(n: number, tag = 'img'): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.from(`${tag}-${i}`));
}

export interface HeldTaskData {
  readonly id: number;
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * Fails unless every item has exactly one task, no other task carries a sample id, and `taskIds` maps each
 * item to its task.
 */
export function expectOneTaskPerItem(
  tasks: readonly HeldTaskData[],
  items: readonly SinkItem[],
  taskIds: ReadonlyMap<string, string>,
): void {
  const bySample = new Map<string, number[]>();
  for (const task of tasks) {
    const id = task.data['rpr_sample_id'];
    if (typeof id !== 'string') continue;
    bySample.set(id, [...(bySample.get(id) ?? []), task.id]);
  }
  const duplicates = [...bySample].filter(([, ids]) => ids.length > 1);
  expect(duplicates).toEqual([]);
  expect(new Set(bySample.keys())).toEqual(new Set(items.map((item) => item.id)));
  expect(taskIds.size).toBe(items.length);
  for (const item of items) expect(taskIds.get(item.id)).toBe(String(bySample.get(item.id)![0]));
}
