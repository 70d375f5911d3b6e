/**
 * The local labeling queue: an append-only JSON-lines file, one line per selected image (see
 * `queue-format.ts`), fsync'd after each batch. The task id of an image is its 1-based line number.
 *
 * Labels come back through a second file the labeling team writes, `<queue>.labels.jsonl` beside the
 * queue (queue.jsonl → queue.labels.jsonl), one line per finished image:
 *   {"id": "<sample sha256>", "label": <any JSON>, "annotator": "ana", "time": "2025-03-01T10:00:00Z"}
 * `annotator` and `time` are optional; `"status": "skipped"` (and no label) marks an image the
 * annotator skipped. `rpr-select sync` reads it.
 *
 * Only one run writes the queue at a time: the ledger's lease guards it.
 */
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RprError } from '../../errors/index.js';
import type { HeldTask, LabelRecord, Sink, SinkItem } from '../sink.js';
import { readJsonLines, truncateTornTail } from './json-lines.js';
import { formatQueueLine } from './queue-format.js';

export interface JsonlSinkOptions {
  /** The queue file (created with its directory when missing). */
  readonly path: string;
  /** @defaultValue the queue path with `.jsonl` replaced by `.labels.jsonl` */
  readonly labelsPath?: string;
  /** Clock for the `queuedAt` field. @defaultValue Date.now */
  readonly now?: () => number;
}

interface Held {
  readonly taskId: string;
  readonly round: number | null;
  readonly uri: string;
}

export class JsonlSink implements Sink {
  readonly name = 'jsonl';
  readonly path: string;
  readonly labelsPath: string;
  /** Bytes of a torn last line cut off when the queue was opened (0 when the file was whole). */
  readonly recoveredBytes: number;
  readonly #held: Map<string, Held>;
  readonly #now: () => number;
  #lines: number;

  private constructor(options: JsonlSinkOptions, recoveredBytes: number, held: Map<string, Held>, lines: number) {
    this.path = options.path;
    this.labelsPath = options.labelsPath ?? labelsPathFor(options.path);
    this.recoveredBytes = recoveredBytes;
    this.#held = held;
    this.#lines = lines;
    this.#now = options.now ?? Date.now;
  }

  /** Opens the queue: repairs a torn last line, then learns which sample ids it already holds. */
  static async open(options: JsonlSinkOptions): Promise<JsonlSink> {
    try {
      const recovered = await truncateTornTail(options.path);
      const held = new Map<string, Held>();
      let lines = 0;
      for await (const { line, value } of readJsonLines(options.path)) {
        const entry = queueEntry(value, options.path, line);
        if (!held.has(entry.id)) held.set(entry.id, { taskId: String(line), round: entry.round, uri: entry.uri });
        lines = line;
      }
      return new JsonlSink(options, recovered, held, lines);
    } catch (error) {
      if (error instanceof RprError) throw error;
      throw new RprError('RPR_SINK_REFUSED', `cannot open the queue ${options.path}: ${fsReason(error)}; check sink.jsonl.path (--queue)`, { path: options.path }, { cause: error });
    }
  }

  async push(items: readonly SinkItem[]): Promise<Map<string, string>> {
    const fresh = new Map<string, SinkItem>();
    for (const item of items) if (!this.#held.has(item.id) && !fresh.has(item.id)) fresh.set(item.id, item);
    if (fresh.size > 0) await this.#append([...fresh.values()]);
    return new Map(items.map((item) => [item.id, this.#held.get(item.id)!.taskId]));
  }

  async *list(): AsyncIterable<HeldTask> {
    for await (const { line, value } of readJsonLines(this.path)) {
      const entry = queueEntry(value, this.path, line);
      yield { id: entry.id, taskId: String(line), round: entry.round };
    }
  }

  async *fetchLabels(): AsyncIterable<LabelRecord> {
    for await (const { line, value } of readJsonLines(this.labelsPath)) {
      const record = labelLine(value, this.labelsPath, line);
      const held = this.#held.get(record.id);
      yield { ...record, taskId: held?.taskId ?? '', uri: held?.uri ?? '' };
    }
  }

  async close(): Promise<void> {}

  async #append(items: readonly SinkItem[]): Promise<void> {
    const queuedAt = new Date(this.#now()).toISOString();
    const text = items.map((item) => `${formatQueueLine(item, queuedAt)}\n`).join('');
    await mkdir(dirname(this.path), { recursive: true });
    let handle;
    try {
      handle = await open(this.path, 'a');
      await handle.write(text);
      await handle.sync();
    } catch (error) {
      throw new RprError('RPR_SINK_REFUSED', `cannot append to the queue ${this.path}: ${fsReason(error)}`, { path: this.path }, { cause: error });
    } finally {
      await handle?.close();
    }
    for (const item of items) {
      this.#lines++;
      this.#held.set(item.id, { taskId: String(this.#lines), round: item.round, uri: item.uri });
    }
  }
}

function fsReason(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  return code ?? message;
}

/** queue.jsonl → queue.labels.jsonl (any other name: name + .labels.jsonl). */
export function labelsPathFor(queuePath: string): string {
  return queuePath.endsWith('.jsonl') ? `${queuePath.slice(0, -'.jsonl'.length)}.labels.jsonl` : `${queuePath}.labels.jsonl`;
}

function queueEntry(value: unknown, path: string, line: number): { id: string; uri: string; round: number | null } {
  const record = value as Partial<Record<string, unknown>> | null;
  if (typeof record !== 'object' || record === null || typeof record.id !== 'string' || typeof record.uri !== 'string') {
    throw new RprError('RPR_SINK_REFUSED', `${path} line ${line} is not a queue entry (needs "id" and "uri"); fix or remove that line`, { path, line });
  }
  return { id: record.id, uri: record.uri, round: typeof record.round === 'number' ? record.round : null };
}

function labelLine(value: unknown, path: string, line: number): Omit<LabelRecord, 'taskId' | 'uri'> {
  const fail = (why: string): never => {
    throw new RprError('RPR_SINK_REFUSED', `${path} line ${line}: ${why}; each line is {"id", "label", "annotator"?, "time"?, "status"?}`, { path, line });
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('not a JSON object');
  const record = value as Partial<Record<string, unknown>>;
  if (typeof record.id !== 'string' || record.id === '') return fail('"id" must be the sample id string');
  const status = record.status ?? 'labeled';
  if (status !== 'labeled' && status !== 'skipped') return fail(`"status" must be "labeled" or "skipped", not ${JSON.stringify(status)}`);
  if (status === 'labeled' && record.label === undefined) return fail('"label" is missing');
  if (record.annotator !== undefined && record.annotator !== null && typeof record.annotator !== 'string') return fail('"annotator" must be a string');
  if (record.time !== undefined && record.time !== null && typeof record.time !== 'string') return fail('"time" must be an ISO-8601 string');
  return {
    id: record.id,
    status,
    label: record.label ?? null,
    annotator: (record.annotator as string | null | undefined) ?? null,
    time: (record.time as string | null | undefined) ?? null,
  };
}
