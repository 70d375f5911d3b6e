/**
 * A labeled evaluation set: a directory with one folder per class (the folder's name is a class name or
 * index; images may sit in sub-folders of it), or a JSONL manifest of {"path", "label"} lines (paths relative to the manifest). Used by
 * diagnostics, which need the true label of each image.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { RprError } from '../errors/index.js';
import { createDirectorySource } from './directory-source.js';
import { readImageFile } from './read-image-file.js';
import { streamSamples } from './stream-samples.js';
import type { PoolEntry, PoolSource, Preprocessing, Sample, Skipped } from './types.js';

export interface LabeledSamples {
  readonly samples: Sample[];
  /** Class index of each sample. */
  readonly labels: number[];
  readonly skipped: Skipped[];
}

function classIndex(name: string, classNames: readonly string[], where: string): number {
  const byName = classNames.indexOf(name);
  if (byName >= 0) return byName;
  const n = Number(name);
  if (Number.isInteger(n) && n >= 0 && (classNames.length === 0 || n < classNames.length)) return n;
  throw new RprError(
    'RPR_USAGE',
    `${where}: label '${name}' is neither a class name (${classNames.join(', ') || 'none in metadata.json'}) nor a class index`,
    { label: name },
  );
}

async function* manifestEntries(path: string, labelOf: Map<string, number>, classNames: readonly string[]): AsyncGenerator<PoolEntry> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const raw of lines) {
    n++;
    if (raw.trim() === '') continue;
    let record: { path?: unknown; label?: unknown };
    try {
      record = JSON.parse(raw) as { path?: unknown; label?: unknown };
    } catch {
      throw new RprError('RPR_USAGE', `${path}:${n}: not a JSON object with "path" and "label"`, { line: n });
    }
    if (typeof record.path !== 'string' || (typeof record.label !== 'string' && typeof record.label !== 'number')) {
      throw new RprError('RPR_USAGE', `${path}:${n}: each line needs a string "path" and a "label" (class name or index)`, { line: n });
    }
    const uri = resolve(dirname(path), record.path);
    labelOf.set(uri, classIndex(String(record.label), classNames, `${path}:${n}`));
    yield readImageFile(uri);
  }
}

/** Reads a labeled set, at most `limit` images, preprocessed for the model. */
export async function loadLabeledSet(
  spec: string,
  pre: Preprocessing,
  classNames: readonly string[],
  limit = Number.POSITIVE_INFINITY,
): Promise<LabeledSamples> {
  const info = await stat(spec).catch(() => null);
  if (!info) throw new RprError('RPR_POOL_NOT_FOUND', `evaluation set not found: ${spec}`, { path: spec });
  const labelOf = new Map<string, number>();
  let source: PoolSource;
  if (info.isDirectory()) {
    const root = resolve(spec);
    for (const entry of await readdir(root, { withFileTypes: true })) {
      if (entry.isDirectory()) classIndex(entry.name, classNames, join(root, entry.name));
    }
    const dirSource = createDirectorySource(root);
    source = {
      description: root,
      async *entries(signal) {
        for await (const e of dirSource.entries(signal)) {
          const parts = relative(root, e.uri).split(sep);
          if (parts.length < 2) {
            yield { kind: 'skipped', uri: e.uri, reason: 'not inside a class folder (expected DIR/<class>/…/<image>)' };
            continue;
          }
          labelOf.set(e.uri, classIndex(parts[0]!, classNames, join(root, parts[0]!)));
          yield e;
        }
      },
    };
  } else {
    const path = resolve(spec);
    source = { description: path, entries: () => manifestEntries(path, labelOf, classNames) };
  }
  const samples: Sample[] = [];
  const labels: number[] = [];
  const skipped: Skipped[] = [];
  for await (const event of streamSamples(source, pre)) {
    if (event.kind === 'skipped') {
      skipped.push(event.skipped);
      continue;
    }
    samples.push(event.sample);
    labels.push(labelOf.get(event.sample.uri)!);
    if (samples.length >= limit) break;
  }
  return { samples, labels, skipped };
}
