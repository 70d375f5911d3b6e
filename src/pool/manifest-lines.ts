import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { errorMessage } from './error-message.js';
import { splitCsvLine } from './split-csv-line.js';

/** How a manifest's lines are read: JSON objects or strings, CSV with or without a header, bare paths. */
export type ManifestFormat = 'jsonl' | 'csv' | 'txt';

/** One manifest line: the reference it names (a path or URL, unresolved) or why it is unusable. */
export type ManifestLine =
  | { readonly line: number; readonly ref: string }
  | { readonly line: number; readonly error: string };

/** Fields and CSV columns that name an image, in order of preference. */
const REF_FIELDS = ['path', 'uri', 'url'] as const;

/**
 * Streams the references in a manifest, one line at a time (1-based line numbers; blank lines are
 * ignored). A CSV whose first line has a path/uri/url column is read by that column; otherwise each
 * line is one path, as in a .txt manifest.
 */
export async function* manifestLines(
  path: string,
  format: ManifestFormat,
): AsyncGenerator<ManifestLine, void, undefined> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNumber = 0;
  let csvColumn: number | null | undefined = format === 'csv' ? undefined : null;
  try {
    for await (const raw of lines) {
      lineNumber++;
      const text = (lineNumber === 1 ? raw.replace(/^\uFEFF/, '') : raw).trim();
      if (text === '') continue;
      if (format === 'jsonl') {
        yield jsonLine(lineNumber, text);
        continue;
      }
      if (csvColumn === undefined) {
        csvColumn = headerColumn(text);
        if (csvColumn !== null) continue;
      }
      yield csvColumn === null ? bareLine(lineNumber, text) : csvLine(lineNumber, text, csvColumn);
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}

function jsonLine(line: number, text: string): ManifestLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { line, error: `not valid JSON (${errorMessage(error)})` };
  }
  if (typeof value === 'string') return nonEmpty(line, value);
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    for (const field of REF_FIELDS) {
      if (typeof record[field] === 'string') return nonEmpty(line, record[field]);
    }
  }
  return { line, error: `expected a JSON string or an object with a string '${REF_FIELDS.join("', '")}' field` };
}

/** The index of the header's path/uri/url column, or null when the first line is not a header. */
function headerColumn(text: string): number | null {
  const cells = (splitCsvLine(text) ?? []).map((cell) => cell.trim().toLowerCase());
  for (const field of REF_FIELDS) {
    const index = cells.indexOf(field);
    if (index >= 0) return index;
  }
  return null;
}

function csvLine(line: number, text: string, column: number): ManifestLine {
  const cells = splitCsvLine(text);
  if (cells === null) return { line, error: 'unterminated quoted CSV field' };
  const cell = cells[column];
  if (cell === undefined) {
    return { line, error: `has ${cells.length} CSV field(s), the path column is number ${column + 1}` };
  }
  return nonEmpty(line, cell.trim());
}

/** A line that is a whole path; a path wrapped in CSV quotes is unwrapped. */
function bareLine(line: number, text: string): ManifestLine {
  if (!text.startsWith('"')) return { line, ref: text };
  const cells = splitCsvLine(text);
  return cells?.length === 1 ? nonEmpty(line, cells[0] ?? '') : { line, error: 'not a single path (stray quotes)' };
}

function nonEmpty(line: number, ref: string): ManifestLine {
  return ref.trim() === '' ? { line, error: 'empty path' } : { line, ref };
}
