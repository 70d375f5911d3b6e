/**
 * The labels for training, as JSON lines, one per labeled image:
 *   {"id": "<sha256>", "uri": …, "label": …, "annotator": …, "time": …, "round": 1, "taskId": "…"}
 * The file only grows and never holds an id twice: each export appends the ledger's labeled images the
 * file does not hold yet. So a sync killed between the ledger write and the export catches up on the
 * next one, and an export with nothing new appends nothing.
 */
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RprError } from '../errors/index.js';
import type { Ledger } from './ledger.js';

/** One line of the labels file. */
export interface LabelLine {
  readonly id: string;
  readonly uri: string;
  readonly label: unknown;
  readonly annotator: string | null;
  /** ISO-8601 time of the annotation (as the platform gave it). */
  readonly time: string | null;
  readonly round: number;
  readonly taskId: string | null;
}

export interface LabelExport {
  readonly path: string;
  /** Lines appended by this export. */
  readonly appended: number;
}

/** Appends to `path` every labeled image of the ledger that the file does not hold yet. */
export async function exportLabels(ledger: Ledger, path: string): Promise<LabelExport> {
  const { held, validBytes, size } = await heldIds(path);
  const lines: string[] = [];
  for (const round of ledger.rounds()) {
    for (const selection of ledger.selections(round.id)) {
      if (selection.state !== 'labeled' || held.has(selection.id)) continue;
      const sample = ledger.sample(selection.id);
      const line: LabelLine = {
        id: selection.id,
        uri: selection.uri,
        label: sample?.label ?? null,
        annotator: sample?.annotator ?? null,
        time: sample?.labeledAt ?? null,
        round: round.id,
        taskId: selection.taskId,
      };
      lines.push(`${JSON.stringify(line)}\n`);
      held.add(selection.id);
    }
  }
  if (lines.length === 0 && validBytes === size) return { path, appended: 0 };
  try {
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(path, 'a+');
    try {
      // A line torn by a crash during the last export is cut off; its image is appended again below.
      if (validBytes < size) await handle.truncate(validBytes);
      if (lines.length > 0) await handle.appendFile(lines.join(''));
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw cannotWrite(path, error);
  }
  return { path, appended: lines.length };
}

/** The ids the file holds, and how many of its bytes are whole lines (the rest is a torn tail). */
async function heldIds(path: string): Promise<{ held: Set<string>; validBytes: number; size: number }> {
  let text: Buffer;
  try {
    text = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { held: new Set(), validBytes: 0, size: 0 };
    throw cannotWrite(path, error);
  }
  const validBytes = text.lastIndexOf(0x0a) + 1;
  const held = new Set<string>();
  let lineNumber = 0;
  for (const line of text.subarray(0, validBytes).toString('utf8').split('\n')) {
    lineNumber++;
    if (line.trim() === '') continue;
    let id: unknown;
    try {
      id = (JSON.parse(line) as { id?: unknown }).id;
    } catch {
      id = undefined;
    }
    if (typeof id !== 'string') {
      throw new RprError(
        'RPR_CONFIG',
        `labels file ${path} line ${lineNumber} is not a label line ({"id": …}); fix or remove that line, or pass another --labels-out`,
        { path, line: lineNumber },
      );
    }
    held.add(id);
  }
  return { held, validBytes, size: text.length };
}

function cannotWrite(path: string, error: unknown): RprError {
  const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
  return new RprError('RPR_CONFIG', `cannot write the labels file ${path} (${reason}); check --labels-out`, { path }, { cause: error });
}
